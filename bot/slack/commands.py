"""The `serve` sub-command of `aadbot`; the caller decides how a Conversation and a health probe are built."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:  # `serve`'s libraries (Slack's, the web server's) are imported when it runs
    from bot.slack.http import HealthProbe
    from bot.slack.ports import Conversation
    from bot.slack.serve import Persistence

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000


def register(
    subparsers: argparse._SubParsersAction[Any],
    *,
    conversation_factory: Callable[[Settings], Conversation],
    health_factory: Callable[[Settings], HealthProbe],
    persistence_factory: Callable[[Settings], Persistence] | None = None,
    summary: str = "run the Slack app",
) -> None:
    """`persistence_factory` gives `serve` its database: shared request memory and the outbox worker;
    `summary` is its line in `aadbot --help`, for a caller that serves more than Slack."""
    parser = subparsers.add_parser(
        "serve",
        help=summary,
        description="The Slack app: Socket Mode if SLACK_APP_TOKEN is set, else HTTP at POST /slack/events.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"HTTP mode: address to bind (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"HTTP mode: port to bind (default {DEFAULT_PORT})"
    )

    def run(args: argparse.Namespace) -> int:
        from bot.slack.serve import check_settings, serve

        settings = Settings.from_environment(os.environ)
        check_settings(settings)  # before building anything
        serve(
            settings,
            conversation_factory(settings),
            args.host,
            args.port,
            health=health_factory(settings),
            persistence=persistence_factory(settings) if persistence_factory else None,
        )
        return 0

    parser.set_defaults(run=run)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; use e.g. 3000") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside 0-65535; use e.g. 3000")
    return port
