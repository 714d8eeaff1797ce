"""`aadbot serve`: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on HOST:PORT."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import operator_log
from bot.alongside import Loop, alongside
from bot.delivery.outboxes import NoticeOutbox
from bot.delivery.tracked import tracked_worker
from bot.routing import RoutingSender
from bot.settings import Settings, SettingsError
from bot.slack._errors import NOT_ANSWERED, REACHING_SLACK, error_code
from bot.slack._logs import without_bodies
from bot.slack.app import build_delivery, build_web_client, create_app, web_session
from bot.slack.memory import DatabaseMemory
from bot.slack.people import People
from bot.slack.ports import Conversation
from bot.slack.sender import SlackSender
from bot.slack.state import DatabaseSlackState, InMemorySlackState, SlackState
from bot.slack.watch import watch_forever
from bot.start_up import started
from bot.stopping import run_until_stopped
from storage import Database
from workflows.tracking import Tracking

if TYPE_CHECKING:  # each mode imports its own server when it runs: uvicorn over HTTP, the link in Socket Mode
    from bot.slack.http import HealthProbe


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
    """Runs until interrupted; unusable settings raise SettingsError before anything starts.

    Everything that holds connections (the Web API's pool, the Socket Mode link) is made inside the
    running event loop, which aiohttp requires.
    """
    token = check_settings(settings)
    operator_log.start_up(
        settings,
        database=persistence.database if persistence is not None else None,
        teams_app_id=None,
    )
    requests: Serving
    listening: socket.socket | None = None
    if settings.slack_app_token:
        print("connecting to Slack in Socket Mode", flush=True)
        requests = socket_mode(settings.slack_app_token)
    else:
        listening = socket.create_server((host, port))  # bound first, so `--port 0` can say which port
        bound = listening.getsockname()[1]
        requests = _http(listening, host, bound, health, settings)
        print(f"listening on http://{host}:{bound}", flush=True)
    started()
    try:
        run_until_stopped(
            lambda stopping: _serve(settings, token, conversation, persistence, requests, stopping),
            grace=settings.stop_seconds,
        )
    finally:
        if listening is not None:
            listening.close()


Serving = Callable[[AsyncApp, AsyncWebClient], Loop]
"""How requests reach the app (HTTP or Socket Mode): a loop that runs until it is stopped."""


async def _serve(
    settings: Settings,
    token: str,
    conversation: Conversation,
    persistence: Persistence | None,
    requests: Serving,
    stopping: asyncio.Event,
) -> None:
    async with web_session() as session:
        client = build_web_client(token, base_url=settings.slack_api_url, session=session)
        state: SlackState = (
            DatabaseSlackState(persistence.database, clock=persistence.clock)
            if persistence
            else InMemorySlackState()
        )
        outbox = NoticeOutbox(persistence.database, clock=persistence.clock) if persistence else None
        # the outbox's client hands a 429 back: a look-up's Retry-After then holds every send's look-ups
        posting = build_web_client(token, base_url=settings.slack_api_url, retries=False, session=session)
        memory = DatabaseMemory(persistence.database, clock=persistence.clock) if persistence else None
        people = People(client, lookups=posting if outbox is not None else None, memory=memory)
        app = create_app(
            conversation=conversation,
            client=client,
            signing_secret=settings.slack_signing_secret or "",  # check_settings: required unless Socket Mode
            state=state,
            people=people,
            outbox=outbox,
        )
        delivery = build_delivery(client, people, state, outbox)
        watch = watch_forever(conversation, delivery, settings.poll_seconds)
        background = [Loop("the connection watch", watch)]
        if persistence is not None and outbox is not None:
            sender = SlackSender(posting, people, state)
            # `Settings.delivery`, from the environment: the notify benchmark runs `serve` itself, so that
            # it measures exactly these. Through the router with Slack alone: its outages are logged as
            # beside Teams
            worker = tracked_worker(
                persistence.database,
                RoutingSender(persistence.database, {"slack": sender}),
                persistence.tracking,
                clock=persistence.clock,
                settings=settings.delivery,
                delivery_to=lambda _: delivery,
                surfaces=("Slack",),
            )
            outbox.wake = worker.wake
            sends = people.closed_after(worker.run_forever(OUTBOX_IDLE_SECONDS))
            background.append(Loop("the outbox worker", sends, worker.stop))
        # last: nothing left to fail before they run
        background.append(people.refreshing())
        background.append(Loop("Slack's auth.test", operator_log.slack_identity(client)))
        await alongside(background, requests(app, client), stopping=stopping, grace=settings.stop_seconds)


def _http(listening: socket.socket, host: str, port: int, health: HealthProbe, settings: Settings) -> Serving:
    from bot.slack.http import create_asgi
    from bot.web_server import web_server

    def serving(app: AsyncApp, _: AsyncWebClient) -> Loop:
        asgi = create_asgi(app, health=health, signing_secret=settings.slack_signing_secret or "")
        return web_server(asgi, listening, host=host, port=port, grace=settings.stop_seconds)

    return serving


def socket_mode(app_token: str) -> Serving:
    """The Socket Mode link: it runs until stopped, then acks the envelopes it took (`EnvelopesUnderWay`)
    and closes, so that Slack sends the next requests to the other processes at once."""

    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.slack.envelopes import EnvelopesUnderWay

    async def run(app: AsyncApp, client: AsyncWebClient, stopping: asyncio.Event) -> None:
        handler = AsyncSocketModeHandler(
            app, app_token, web_client=client, logger=without_bodies("slack_sdk.socket_mode")
        )
        under_way = EnvelopesUnderWay(handler.client)
        try:
            # the first link is asked for here, so that a refused token stops `serve` with the fix named
            # instead of the client retrying it forever; later links (refreshes, reconnects) are its own
            handler.client.wss_uri = await _first_link(client, app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            print("connected to Slack in Socket Mode", flush=True)
            await stopping.wait()
            await under_way.finish()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]

    def link(app: AsyncApp, client: AsyncWebClient) -> Loop:
        stopping = asyncio.Event()
        return Loop("the Socket Mode link", run(app, client, stopping), stopping.set)

    return link


async def _first_link(client: AsyncWebClient, app_token: str) -> str:
    try:
        response = await client.apps_connections_open(app_token=app_token)
    except SlackApiError as error:
        raise SettingsError(
            f"Slack refused SLACK_APP_TOKEN ({error_code(error)}): it must be an app-level token of this app"
            " with the connections:write scope, and Socket Mode must be on in the app's settings."
        ) from None
    except NOT_ANSWERED as error:
        raise SettingsError(
            f"Cannot reach Slack to open the Socket Mode link ({type(error).__name__}: {error}): "
            f"{REACHING_SLACK}."
        ) from None
    return str(response["url"])


def check_settings(settings: Settings) -> str:
    """The bot token, once the Slack variables are known to be usable; SettingsError names each fix."""
    problems = settings.slack_problems()
    if problems:
        raise SettingsError(*problems)
    return settings.slack_bot_token or ""  # never empty: slack_problems names a missing token
