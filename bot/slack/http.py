"""The HTTP face of the app: every Slack request at `POST /slack/events`, and `GET /healthz`.

A request is checked before bolt sees it, in the order that costs an attacker the most and the bot the
least: its declared size, then its size as it streams in (never held whole past the cap), then Slack's
signature over the raw bytes. Only a request Slack signed is parsed, so a malformed body from anyone
else is a quiet 401, a signed one bolt cannot parse a 400 and one log line, never a traceback, and no
body ever reaches the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.request_body import BODY_SECONDS, MAX_BODY_BYTES, read_body

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

HealthProbe = Callable[[], bool]

logger = logging.getLogger(__name__)


def create_asgi(
    app: AsyncApp,
    *,
    health: HealthProbe,
    signing_secret: str,
    max_body_bytes: int = MAX_BODY_BYTES,
    body_seconds: float = BODY_SECONDS,
) -> Starlette:
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: Request) -> Response:
        body = await read_body(request, max_bytes=max_body_bytes, seconds=body_seconds)
        if isinstance(body, Response):
            return body
        if not _signed_by_slack(verifier, request, body):
            logger.info("refused a request without a valid Slack signature (%d bytes)", len(body))
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            bolt_request = AsyncBoltRequest(
                body=body.decode("utf-8"),
                query=request.query_params,  # type: ignore[arg-type]
                headers=request.headers,  # type: ignore[arg-type]
            )
        except (ValueError, AttributeError) as error:  # bolt parses here: JSON that is not, or not an object
            logger.warning("refused a signed request bolt cannot parse: %s", type(error).__name__)
            return JSONResponse({"error": "the body is not a Slack payload"}, status_code=400)
        return to_starlette_response(await app.async_dispatch(bolt_request))

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


def _signed_by_slack(verifier: SignatureVerifier, request: Request, body: bytes) -> bool:
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature")
    if not timestamp.isdigit() or signature is None:
        return False
    try:
        return verifier.is_valid(body.decode("utf-8"), timestamp, signature)
    except UnicodeDecodeError:
        return False
