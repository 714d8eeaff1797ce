"""`aadbot serve`: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on HOST:PORT."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.settings import Settings, SettingsError
from bot.slack.app import build_delivery, build_web_client, create_app
from bot.slack.http import HealthProbe, create_asgi
from bot.slack.people import People
from bot.slack.ports import Conversation
from bot.slack.state import InMemorySlackState
from bot.slack.watch import watch_forever

logger = logging.getLogger(__name__)


def serve(
    settings: Settings, conversation: Conversation, host: str, port: int, *, health: HealthProbe
) -> None:
    """Runs until interrupted; unusable settings raise SettingsError before anything starts."""
    token = check_settings(settings)
    client = build_web_client(token, base_url=settings.slack_api_url)
    state = InMemorySlackState()
    people = People(client)
    app = create_app(
        conversation=conversation,
        client=client,
        signing_secret=settings.slack_signing_secret or "",  # check_settings: required unless Socket Mode
        state=state,
        people=people,
    )
    watch = watch_forever(conversation, build_delivery(client, people, state), settings.poll_seconds)
    if settings.slack_app_token:
        print("connecting to Slack in Socket Mode", flush=True)
        handler = AsyncSocketModeHandler(app, settings.slack_app_token)
        asyncio.run(_alongside(watch, handler.start_async()))  # type: ignore[no-untyped-call]
    else:
        server = uvicorn.Server(uvicorn.Config(create_asgi(app, health=health), host=host, port=port))
        print(f"listening on http://{host}:{port}", flush=True)
        asyncio.run(_alongside(watch, server.serve()))


async def _alongside(watch: Coroutine[Any, Any, None], main: Coroutine[Any, Any, Any]) -> None:
    """Runs `main` to its end with the watch in the background."""
    watching = asyncio.create_task(watch)
    try:
        await main
    finally:
        watching.cancel()


def check_settings(settings: Settings) -> str:
    """The bot token, once the Slack variables are known to be usable; SettingsError names the fix."""
    token = settings.slack_bot_token
    if not token:
        raise SettingsError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your app's "
            "OAuth & Permissions page after installing it to the workspace."
        )
    if not token.startswith("xoxb-"):
        raise SettingsError(
            "SLACK_BOT_TOKEN must be a bot token starting with xoxb-; user tokens (xoxp-) won't do."
        )
    if settings.slack_app_token and not settings.slack_app_token.startswith("xapp-"):
        raise SettingsError(
            "SLACK_APP_TOKEN must be an app-level token starting with xapp-: create one with the "
            "connections:write scope under Basic Information > App-Level Tokens, or unset it to serve HTTP."
        )
    if not settings.slack_app_token and not settings.slack_signing_secret:
        raise SettingsError(
            "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from your app's Basic Information "
            "page, or set SLACK_APP_TOKEN to use Socket Mode instead of HTTP."
        )
    return token
