"""The HTTP face of the app: every Slack request at `POST /slack/events`, and `GET /healthz`.

A request is checked before bolt sees it, in the order that costs an attacker the most and the bot the
least: its declared size, then its size as it streams in (never held whole past the cap), then Slack's
signature over the raw bytes. Only a request Slack signed is parsed, so a malformed body from anyone
else is a quiet 401, a signed one bolt cannot parse a 400 and one log line, never a traceback, and no
body ever reaches the log. A request that carries Slack's signature headers but a signature that does not
match is most likely Slack's own, signed with another secret: the operator is told, at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
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
MISMATCH_WARNING_EVERY = 60.0
"""Seconds between two warnings about signatures that do not match: one says it, a flood repeats nothing."""

logger = logging.getLogger(__name__)


def create_asgi(
    app: AsyncApp,
    *,
    health: HealthProbe,
    signing_secret: str,
    max_body_bytes: int = MAX_BODY_BYTES,
    body_seconds: float = BODY_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    verifier = SignatureVerifier(signing_secret)
    mismatches = _Mismatches(clock)

    async def slack_events(request: Request) -> Response:
        body = await read_body(request, max_bytes=max_body_bytes, seconds=body_seconds)
        if isinstance(body, Response):
            return body
        signed = _signed_by_slack(verifier, request, body)
        if signed is not True:
            logger.info("refused a request without a valid Slack signature (%d bytes)", len(body))
            if signed is False:
                mismatches.seen()
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


def _signed_by_slack(verifier: SignatureVerifier, request: Request, body: bytes) -> bool | None:
    """True when Slack signed it with our secret; False when it carries a signature that does not match
    (another secret, or older than Slack's five minutes); None when it carries none to check."""
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature")
    if not timestamp.isdigit() or signature is None:
        return None
    try:
        return verifier.is_valid(body.decode("utf-8"), timestamp, signature)
    except UnicodeDecodeError:
        return None


class _Mismatches:
    """Counts requests whose signature does not match, and warns of them at most once a minute."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._warned_at: float | None = None
        self._unsaid = 0

    def seen(self) -> None:
        self._unsaid += 1
        now = self._clock()
        if self._warned_at is not None and now - self._warned_at < MISMATCH_WARNING_EVERY:
            return
        logger.warning(
            "refused %d request(s) at %s whose Slack signature does not match SLACK_SIGNING_SECRET: if Slack"
            " sent them, copy the Signing Secret from api.slack.com/apps > your app > Basic Information >"
            " App Credentials into SLACK_SIGNING_SECRET, and check that this host's clock is right (Slack's"
            " signatures expire after 5 minutes)",
            self._unsaid,
            EVENTS_PATH,
        )
        self._warned_at, self._unsaid = now, 0
