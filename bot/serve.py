"""`aadbot serve` with Teams: Teams alone, or Slack and Teams in one process on one Starlette/uvicorn server.

Without `TEAMS_APP_ID` this hands over to the Slack app's own `serve` unchanged. With it, `POST
/api/messages` joins `/slack/events` and `/healthz`; Slack may still use Socket Mode (the HTTP server
then serves Teams alone). One connection watch and one outbox worker serve both surfaces: a message
goes to the surface its migration was started on (a Teams channel is `teams:ID`), a person not there
through the other surface (`bot.routing`), so nobody gets the same to-do list twice.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from bot import operator_log
from bot.alongside import Loop, alongside
from bot.conversation.messages import Channel, Outgoing
from bot.delivery.outboxes import NoticeOutbox
from bot.delivery.reports import Delivering
from bot.delivery.sender import Sender
from bot.delivery.settings import DeliverySettings
from bot.delivery.tracked import tracked_worker
from bot.routing import SURFACE_NAMES, RoutingSender, surface_of
from bot.settings import Settings, SettingsError
from bot.start_up import started
from bot.stopping import run_until_stopped
from bot.teams.settings import TeamsSettings
from storage import Database
from workflows.tracking import Tracking

if TYPE_CHECKING:
    # Imported only by the mode that uses them: the Teams surface and the web server when
    # Teams is configured, Slack's libraries when Slack is.
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from bot.slack.people import People
    from bot.teams.surface import TeamsSurface

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


class Runtime(Protocol):
    """What `serve` needs of `bot.runtime.Runtime`."""

    @property
    def database(self) -> Database: ...

    @property
    def tracking(self) -> Tracking: ...

    @property
    def conversation(self) -> Any: ...

    @property
    def sandbox(self) -> Any: ...


def run(
    args: argparse.Namespace,
    *,
    slack_run: Callable[[argparse.Namespace], int],
    runtime: Callable[[Settings], Runtime],
) -> int:
    """The `serve` command: Slack's own when Teams is not configured, else Teams (and Slack if configured)."""
    from bot.runtime import utc_now

    settings, teams = checked_settings(os.environ)
    if teams is None:
        return slack_run(args)
    from bot.teams.auth import load_validator
    from bot.teams.surface import build_surface

    load_validator()
    built = runtime(settings)
    operator_log.start_up(
        settings,
        database=built.database,
        teams_app_id=teams.app_id,
    )
    sandbox_url = built.sandbox.url if built.sandbox is not None else settings.sandbox_url
    surface = build_surface(
        replace(teams, sandbox_url=sandbox_url), built.conversation, built.database, clock=utc_now
    )
    serve(settings, built, surface, with_slack=bool(settings.slack_bot_token), host=args.host, port=args.port)
    return 0


def checked_settings(environ: Mapping[str, str]) -> tuple[Settings, TeamsSettings | None]:
    """Every setting `serve` needs, checked before anything starts; SettingsError names every problem at
    once. Slack's variables are checked when one is set, or when Teams is not configured either."""
    from msapi import environment_problems
    from storage.database import url_problem

    problems: list[str] = []
    settings = Settings.from_environment(environ, problems)
    if (database := url_problem(settings.database_url)) is not None:
        problems.append(database)
    teams = TeamsSettings.from_environment(environ, problems)
    slack_variables = (settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret)
    if any(slack_variables) or not environ.get("TEAMS_APP_ID", "").strip():
        problems.extend(settings.slack_problems())
    # the sandbox variables too: with one set, the credentials' absence is no problem
    microsoft = {
        **settings.microsoft_environment,
        **{n: v for n, v in environ.items() if n.startswith("AADBOT_SANDBOX")},
    }
    problems.extend(environment_problems(microsoft))
    if problems:
        raise SettingsError(*problems)
    return settings, teams


@dataclass
class SlackPart:
    """The Slack app's pieces when it runs beside Teams, made inside the running event loop (aiohttp's
    sessions and the Socket Mode link need one)."""

    routes: list[BaseRoute]
    delivery: Delivering
    sender: Sender
    outbox: NoticeOutbox
    link: Loop | None
    """The Socket Mode link, run beside the server; None over HTTP (`/slack/events` is in `routes`)."""
    client: AsyncWebClient
    """The Web API client: `auth.test` tells the operator which workspace and bot user serve acts as."""
    people: People
    """The workspace directory, read again beside the sends (`People.refreshing`)."""


@asynccontextmanager
async def _slack(settings: Settings, built: Runtime) -> AsyncIterator[SlackPart]:
    from bot.runtime import utc_now
    from bot.slack.app import build_delivery, build_web_client, create_app, web_session
    from bot.slack.http import create_asgi
    from bot.slack.memory import DatabaseMemory
    from bot.slack.people import People
    from bot.slack.sender import SlackSender
    from bot.slack.serve import socket_mode
    from bot.slack.state import DatabaseSlackState

    token = settings.slack_bot_token or ""
    async with web_session() as session:
        client = build_web_client(token, base_url=settings.slack_api_url, session=session)
        state = DatabaseSlackState(built.database, clock=utc_now)
        # the outbox's client hands a 429 back: a look-up's Retry-After then holds every send's look-ups, as
        # in Slack's own serve (bot/slack/serve.py)
        posting = build_web_client(token, base_url=settings.slack_api_url, retries=False, session=session)
        people = People(client, lookups=posting, memory=DatabaseMemory(built.database, clock=utc_now))
        outbox = NoticeOutbox(built.database, clock=utc_now)
        app = create_app(
            conversation=built.conversation,
            client=client,
            signing_secret=settings.slack_signing_secret or "",
            state=state,
            people=people,
            outbox=outbox,
        )
        routes: list[BaseRoute] = []
        link = None
        if settings.slack_app_token:
            link = socket_mode(settings.slack_app_token)(app, client)
        else:
            slack_asgi = create_asgi(
                app, health=lambda: True, signing_secret=settings.slack_signing_secret or ""
            )
            routes = [route for route in slack_asgi.routes if getattr(route, "path", "") != HEALTH_PATH]
        delivery = build_delivery(client, people, state, outbox)
        yield SlackPart(routes, delivery, SlackSender(posting, people, state), outbox, link, client, people)


def serve(
    settings: Settings,
    built: Runtime,
    surface: TeamsSurface,
    *,
    with_slack: bool,
    host: str,
    port: int,
) -> None:
    listening = socket.create_server((host, port))  # bound first, so `--port 0` can say which port
    bound = listening.getsockname()[1]
    print(f"listening on http://{host}:{bound}", flush=True)
    if surface.files.public_url is None:
        if host not in ("0.0.0.0", "::"):
            surface.files.public_url = f"http://{host}:{bound}"  # no AADBOT_PUBLIC_URL: links to this address
        operator_log.no_public_url(surface.files.public_url)
    started()
    try:
        run_until_stopped(
            lambda stopping: _serve(settings, built, surface, with_slack, listening, host, bound, stopping),
            grace=settings.stop_seconds,
        )
    finally:
        listening.close()


async def _serve(
    settings: Settings,
    built: Runtime,
    surface: TeamsSurface,
    with_slack: bool,
    listening: socket.socket,
    host: str,
    port: int,
    stopping: asyncio.Event,
) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Route

    from bot.runtime import utc_now
    from bot.teams.surface import OUTBOX_IDLE_SECONDS
    from bot.web_server import web_server

    async with AsyncExitStack() as stack:
        # closed once everything has stopped: the outbox worker sends through Teams' connections to the end
        stack.push_async_callback(surface.aclose)
        slack = await stack.enter_async_context(_slack(settings, built)) if with_slack else None
        routes: list[BaseRoute] = [
            *surface.routes(),
            Route(HEALTH_PATH, _health(built.database), methods=["GET"]),
        ]
        deliveries: dict[str, Delivering] = {"teams": surface.delivery}
        senders: dict[str, Sender] = {"teams": surface.sender}
        if slack is not None:
            routes.extend(slack.routes)
            deliveries["slack"], senders["slack"] = slack.delivery, slack.sender
        worker = tracked_worker(
            built.database,
            RoutingSender(built.database, senders),
            built.tracking,
            clock=utc_now,
            settings=_delivery_settings(settings, with_slack),
            delivery_to=lambda channel: deliveries.get(surface_of(channel)),
            surfaces=tuple(SURFACE_NAMES[name] for name in sorted(senders)),
        )
        watch = _watch_forever(
            built.conversation, deliveries, settings.poll_seconds, surface.store.forget_old_activities
        )
        sends = worker.run_forever(OUTBOX_IDLE_SECONDS)
        if slack is not None:
            sends = slack.people.closed_after(sends)
        background = [Loop("the connection watch", watch), Loop("the outbox worker", sends, worker.stop)]
        under_way = operator_log.migrations_under_way(built.database)
        background.append(
            Loop("the Teams bot's sign-in", operator_log.teams_identity(surface.api, under_way))
        )
        surface.delivery.wake = worker.wake
        if slack is not None:
            background.append(slack.people.refreshing())
            background.append(Loop("Slack's auth.test", operator_log.slack_identity(slack.client)))
            slack.outbox.wake = worker.wake
            if slack.link is not None:
                print("connecting to Slack in Socket Mode", flush=True)
                background.append(slack.link)
        app = Starlette(routes=routes)
        grace = settings.stop_seconds
        server = web_server(app, listening, host=host, port=port, grace=grace, log_level="warning")
        await alongside(background, server, stopping=stopping, grace=grace)


def _delivery_settings(settings: Settings, with_slack: bool) -> DeliverySettings:
    """Teams' pace alone; beside Slack, Slack's pacing (its ceiling and one message a second per channel,
    the stricter of the two) with enough messages in flight for Teams' longer round trips."""
    from bot.teams.surface import DELIVERY

    if not with_slack:
        return DELIVERY
    slack = settings.delivery
    return replace(
        slack,
        concurrency=max(slack.concurrency, DELIVERY.concurrency),
        batch=max(slack.batch, DELIVERY.batch),
    )


async def _watch_forever(
    conversation: Any, deliveries: dict[str, Delivering], interval: float, forget: Callable[[], None]
) -> None:
    """One connection watch for every surface: each announcement goes to its migration's surface; then
    `forget` what is past remembering (Teams' activities and their kept answers)."""
    while True:
        try:
            outgoings: list[Outgoing] = await asyncio.to_thread(conversation.watch)
            for name, delivery in deliveries.items():
                mine = [o for o in outgoings if surface_of(_channel(o)) == name]
                if mine:
                    await delivery.deliver(mine, None)
            await asyncio.to_thread(forget)
        except Exception:  # the watch must outlive a bad minute (database restart, Microsoft outage)
            logger.exception("the connection watch failed; trying again in %.0f s", interval)
        await asyncio.sleep(interval)


def _channel(outgoing: Outgoing) -> str | None:
    return outgoing.to.channel if isinstance(outgoing.to, Channel) else None


def _health(database: Database) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    from starlette.responses import PlainTextResponse

    async def healthz(_: Request) -> Response:
        try:
            healthy = await asyncio.to_thread(database.ping)
        except Exception:  # a probe that fails is an unhealthy answer, not a server error
            healthy = False
        return PlainTextResponse("ok" if healthy else "unavailable", status_code=200 if healthy else 503)

    return healthz
