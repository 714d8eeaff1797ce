"""The bot's own sub-commands: `aadbot demo`, `aadbot chat` and `aadbot serve`.

Each imports what it runs when it runs: `demo` and `chat` need neither Slack's nor the web server's
libraries."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings
from bot.slack import commands as slack_commands
from workflows.arguments import is_email

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.slack.serve import Persistence


def _email(value: str) -> str:
    if not is_email(value):
        raise argparse.ArgumentTypeError(f"takes an email address, not `{value}`: --as ann@fabrikam.com")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="play a whole migration of the bundled example organization")
    demo.set_defaults(run=_demo)
    chat = subparsers.add_parser("chat", help="chat with the bot in the console as a named person")
    chat.add_argument("--as", dest="email", type=_email, required=True, metavar="EMAIL", help="who you are")
    chat.add_argument(
        "--scenario", metavar="FILE", help="use the sandbox with this scenario (default: the bundled example)"
    )
    chat.add_argument(
        "--surface",
        choices=("console", "teams"),
        default="console",
        help="print messages as the console shows them, or as Teams cards (as text)",
    )
    chat.set_defaults(run=_chat)
    shared = _OneRuntime()
    slack_commands.register(
        subparsers,
        conversation_factory=lambda settings: shared(settings).conversation,
        health_factory=lambda settings: shared(settings).database.ping,
        persistence_factory=lambda settings: shared.persistence(settings),
        summary="run the bot: Slack, and Microsoft Teams when TEAMS_APP_ID is set",
    )
    # with TEAMS_APP_ID set, `serve` also (or only) serves Teams: see bot/serve.py
    serve = subparsers.choices["serve"]
    serve.description = (
        f"{serve.description} With TEAMS_APP_ID set, also Microsoft Teams at POST /api/messages"
        " (HTTP on HOST:PORT; Slack too when SLACK_BOT_TOKEN is set)."
    )
    slack_run = serve.get_default("run")

    def run_serve(args: argparse.Namespace) -> int:
        from bot.start_up import collector_off_while_starting

        with collector_off_while_starting():  # until it serves (`started()` in each mode's `serve`)
            from bot import serve as bot_serve

            try:
                return bot_serve.run(args, slack_run=slack_run, runtime=shared)
            finally:
                shared.close()  # its database, its Microsoft clients, its sandbox

    serve.set_defaults(run=run_serve)


class _OneRuntime:
    """`serve` asks for a conversation and a health probe; both come from one runtime, built on first use."""

    def __init__(self) -> None:
        self._runtime: Runtime | None = None

    def __call__(self, settings: Settings) -> Runtime:
        from bot.runtime import build_runtime

        if self._runtime is None:
            from bot.app_sign_in import check_app_sign_in

            self._runtime = build_runtime(settings, surface="slack")
            check_app_sign_in(self._runtime)
        return self._runtime

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()

    def persistence(self, settings: Settings) -> Persistence:
        """The database behind `serve`: request memory shared by processes, and the outbox worker."""
        from bot.runtime import utc_now
        from bot.slack.serve import Persistence

        runtime = self(settings)
        return Persistence(runtime.database, runtime.tracking, utc_now)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(sys.stdout)


def _chat(args: argparse.Namespace) -> int:
    from bot.console.chat import run_chat
    from bot.console.rehearsal import RehearsalClock
    from bot.demo import bundled_scenario
    from bot.runtime import build_runtime, utc_now

    settings = Settings.from_environment(os.environ)
    live = settings.sandbox_url or settings.microsoft_environment
    scenario = args.scenario or settings.sandbox_scenario or (None if live else str(bundled_scenario()))
    with tempfile.TemporaryDirectory(prefix="aadbot-chat-") as folder:
        if scenario:
            # A rehearsal never shares the bot's database (AADBOT_DATABASE_URL, as `serve` has it): what it
            # did there would block the real migration. And the in-process sandbox starts afresh every
            # time, so a database that outlived it would disagree with it anyway.
            settings = replace(
                settings, sandbox_scenario=scenario, database_url=f"sqlite:///{Path(folder) / 'chat.db'}"
            )
        # `:later` may move the clock of a database that ends with the chat, never of one that outlives it
        clock = RehearsalClock() if scenario else None
        runtime = build_runtime(settings, clock=clock or utc_now)
        try:
            print(_where_state_lives(runtime, shared=bool(os.environ.get("AADBOT_DATABASE_URL"))))
            if args.surface == "teams":
                from bot.teams.text import message_text

                return run_chat(
                    runtime, args.email, sys.stdin, sys.stdout, renderer=message_text, clock=clock
                )
            return run_chat(runtime, args.email, sys.stdin, sys.stdout, clock=clock)
        finally:
            runtime.close()


def _where_state_lives(runtime: Runtime, *, shared: bool) -> str:
    """The console's first line: which database and which Microsoft the chat acts on, so that nobody takes
    a rehearsal for the real thing or the other way round."""
    if runtime.sandbox is not None:
        untouched = (
            " AADBOT_DATABASE_URL is not used: the bot's own database stays untouched." if shared else ""
        )
        return (
            f"(sandbox: a database of its own, for this chat only.{untouched} To continue a rehearsal in"
            " another chat, run `aadbot sandbox --scenario FILE`, then chat with AADBOT_SANDBOX_URL set to"
            " the address it prints and AADBOT_DATABASE_URL to a database of the rehearsal's own.)"
        )
    database = runtime.database.url  # without its password
    if runtime.settings.sandbox_url:
        emulator = runtime.settings.sandbox_url
        return f"(database {database}; every Microsoft call goes to the emulator at {emulator})"
    return f"(database {database}; Microsoft: the live services, with the credentials of the environment)"
