"""`aadbot serve`: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on HOST:PORT."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.conversation import todo_views
from bot.delivery import DeliverySettings, NoticeOutbox, OutboxWorker
from bot.settings import Settings, SettingsError
from bot.slack.app import build_delivery, build_web_client, create_app
from bot.slack.delivery import Delivery
from bot.slack.http import HealthProbe, create_asgi
from bot.slack.people import People
from bot.slack.ports import Conversation
from bot.slack.sender import SlackSender
from bot.slack.state import DatabaseSlackState, InMemorySlackState, SlackState
from bot.slack.watch import watch_forever
from storage import Database
from workflows.errors import WorkflowError
from workflows.reminders import Tracking

logger = logging.getLogger(__name__)

OUTBOX_IDLE_SECONDS = 2.0


@dataclass(frozen=True)
class Persistence:
    """The database behind `serve`: shared request memory, the outbox worker and its delivery reports.

    Without it, `serve` remembers requests in memory (one process) and delivers no outbox.
    """

    database: Database
    tracking: Tracking
    clock: Callable[[], datetime]


def serve(
    settings: Settings,
    conversation: Conversation,
    host: str,
    port: int,
    *,
    health: HealthProbe,
    persistence: Persistence | None = None,
) -> None:
    """Runs until interrupted; unusable settings raise SettingsError before anything starts."""
    token = check_settings(settings)
    client = build_web_client(token, base_url=settings.slack_api_url)
    state: SlackState = (
        DatabaseSlackState(persistence.database, clock=persistence.clock)
        if persistence
        else InMemorySlackState()
    )
    people = People(client)
    outbox = NoticeOutbox(persistence.database, clock=persistence.clock) if persistence else None
    app = create_app(
        conversation=conversation,
        client=client,
        signing_secret=settings.slack_signing_secret or "",  # check_settings: required unless Socket Mode
        state=state,
        people=people,
        outbox=outbox,
    )
    delivery = build_delivery(client, people, state, outbox)
    background = [watch_forever(conversation, delivery, settings.poll_seconds)]
    if persistence is not None and outbox is not None:
        posting = build_web_client(token, base_url=settings.slack_api_url, retries=False)
        worker = outbox_worker(persistence, SlackSender(posting, people, state), delivery, settings.delivery)
        outbox.wake = worker.wake
        background.append(worker.run_forever(OUTBOX_IDLE_SECONDS))
    if settings.slack_app_token:
        print("connecting to Slack in Socket Mode", flush=True)
        handler = AsyncSocketModeHandler(app, settings.slack_app_token)
        asyncio.run(_alongside(background, handler.start_async()))  # type: ignore[no-untyped-call]
    else:
        listening = socket.create_server((host, port))  # bound first, so `--port 0` can say which port
        bound = listening.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_asgi(app, health=health), host=host, port=bound))
        print(f"listening on http://{host}:{bound}", flush=True)
        asyncio.run(_alongside(background, server.serve(sockets=[listening])))


def outbox_worker(
    persistence: Persistence, sender: SlackSender, delivery: Delivery, settings: DeliverySettings
) -> OutboxWorker:
    """The worker that sends the outbox to Slack, starts reminders and keeps the live reports current.

    `settings` are `Settings.delivery`, read from the environment: the notify benchmark runs `serve`
    itself, so it measures exactly these."""
    tracking = persistence.tracking

    async def report(organizations: set[str]) -> None:
        for organization in sorted(organizations):
            try:
                progress = await asyncio.to_thread(tracking.progress, organization)
            except WorkflowError as error:
                logger.info("no delivery report for %s: %s", organization, error)
                continue
            if progress.channel_id:
                await delivery.deliver([todo_views.delivery_update(progress)], None)

    return OutboxWorker(
        persistence.database,
        sender,
        clock=persistence.clock,
        settings=settings,
        on_delivered=lambda message, receipt: tracking.delivered(
            message.kind, message.payload, receipt.time_zone
        ),
        on_progress=report,
    )


async def _alongside(background: list[Coroutine[Any, Any, None]], main: Coroutine[Any, Any, Any]) -> None:
    """Runs `main` to its end with the background loops (watch, outbox) beside it."""
    tasks = [asyncio.create_task(loop) for loop in background]
    try:
        await main
    finally:
        for task in tasks:
            task.cancel()


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
