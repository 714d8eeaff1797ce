"""The HTTP face of the app: every Slack request at `POST /slack/events`, and `GET /healthz`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

HealthProbe = Callable[[], bool]


def create_asgi(app: AsyncApp, *, health: HealthProbe) -> Starlette:
    handler = AsyncSlackRequestHandler(app)

    async def slack_events(request: Request) -> Response:
        response: Response = await handler.handle(request)
        return response

    async def healthz(_: Request) -> Response:
        try:
            healthy = await asyncio.to_thread(health)
        except Exception:  # a probe that fails is an unhealthy answer, not a server error
            healthy = False
        return PlainTextResponse("ok" if healthy else "unavailable", status_code=200 if healthy else 503)

    return Starlette(
        routes=[
            Route(EVENTS_PATH, slack_events, methods=["POST"]),
            Route(HEALTH_PATH, healthz, methods=["GET"]),
        ]
    )
