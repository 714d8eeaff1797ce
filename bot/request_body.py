"""Reading a request's body on the bot's terms: capped in size and in time, whoever sends it.

Slack and the Bot Connector send a whole request at once and small; anything else (a huge body, one
that trickles in, a client that leaves halfway) is someone holding a slot or memory, and is answered
with a status that says why before it costs more, never with a traceback in the log.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

MAX_BODY_BYTES = 1024 * 1024
"""Slack's largest payloads (a button in a 100-block App Home, with the view) and the Bot Connector's
activities (a message Teams delivers is under 100 KB in UTF-16, as `bot.teams.cards.MAX_CARD_BYTES` says of
what it accepts; a card click is far smaller) stay well under this."""
BODY_SECONDS = 10.0
"""Both send a whole request at once; a body still trickling in after this is someone holding a slot."""

logger = logging.getLogger(__name__)


async def read_body(
    request: Request, *, max_bytes: int = MAX_BODY_BYTES, seconds: float = BODY_SECONDS
) -> bytes | Response:
    """The whole body, or the response that refuses it (413 too big, 408 too slow, 400 cut short)."""
    try:
        async with asyncio.timeout(seconds):
            body = await _read_capped(request, max_bytes)
    except TimeoutError:
        return JSONResponse({"error": f"request body not received within {seconds:g} s"}, status_code=408)
    except ClientDisconnect:
        logger.warning("a client left before sending the whole body of %s", request.url.path)
        return JSONResponse({"error": "request body cut short"}, status_code=400)
    if body is None:
        return JSONResponse({"error": f"request body over {max_bytes} bytes"}, status_code=413)
    return body


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
