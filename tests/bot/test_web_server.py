"""`serve`'s web server, stopped with a request that never ends: uvicorn cuts it short itself (and answers
it), within `serve`'s time to stop, rather than being cancelled in the middle of its own shutdown (idle, it
sleeps: tests/msapi/test_quiet_server.py)."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from starlette.types import Receive, Scope, Send

from bot.alongside import alongside
from bot.web_server import web_server

GRACE = 1.0
"""The least AADBOT_STOP_SECONDS allows, and the tests' own."""


def test_a_request_under_way_past_the_time_to_stop_is_ended_by_uvicorn_not_by_serve(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answered: list[bytes] = []

    async def served() -> None:
        arrived = asyncio.Event()

        async def never_answering(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                arrived.set()
                await asyncio.Event().wait()

        listening = socket.create_server(("127.0.0.1", 0))
        port = listening.getsockname()[1]
        server = web_server(never_answering, listening, host="127.0.0.1", port=port, grace=GRACE)
        stopping = asyncio.Event()
        serving = asyncio.create_task(alongside([], server, stopping=stopping, grace=GRACE))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        await arrived.wait()
        stopping.set()
        await serving
        answered.append(await reader.read())
        writer.close()
        listening.close()

    with caplog.at_level(logging.WARNING):
        asyncio.run(served())
    assert [record.getMessage() for record in caplog.records if record.name == "aadbot.serve"] == []
    (answer,) = answered
    assert answer.startswith(b"HTTP/1.1 500 "), answer  # uvicorn's own answer for a request it cancelled
