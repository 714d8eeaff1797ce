"""`serve`'s web server, stopped with a request that never ends: uvicorn cuts it short itself (and answers
it), within `serve`'s time to stop, rather than being cancelled in the middle of its own shutdown. Idle, it
sleeps until it is stopped or its Date header is due."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import httpx
import pytest
import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from bot import web_server as web_server_module
from bot.alongside import alongside
from bot.web_server import QuietServer, web_server

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


def test_an_idle_server_looks_only_when_stopped_from_another_thread_and_ends_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No look in between (uvicorn's own loop looks every 0.1 s), and `stop` from another thread (the
    sandbox's and the tests' servers run in one) wakes it, though its Date header is not due for an hour."""
    monkeypatch.setattr(web_server_module, "DATE_SECONDS", 3600.0)
    looks: list[int] = []

    class Counted(QuietServer):
        async def on_tick(self, counter: int) -> bool:
            looks.append(counter)
            return await super().on_tick(counter)

    listening = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(PlainTextResponse("ok"), log_level="warning", lifespan="off")
    server = Counted(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/"
        answer = httpx.get(url, timeout=10)  # uvicorn listens on the socket before its first look
        assert (answer.status_code, answer.text) == (200, "ok")
        assert "date" in answer.headers
        server.stop()
        thread.join(10)
        assert not thread.is_alive()
    finally:
        listening.close()
    assert looks == [0, 0]  # the first, and the one that found it stopped
