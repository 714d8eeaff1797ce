"""uvicorn's server asleep while nobody calls (msapi/quiet_server.py): `serve`'s, the sandbox's and the tests'
fakes' look whether to stop only when stopped (or their Date header is due), where uvicorn's own look ten
times a second."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.responses import PlainTextResponse

from msapi import quiet_server
from msapi.quiet_server import QuietServer
from sandbox import Sandbox, parse_scenario

Looks = list[tuple[threading.Thread, int]]


@pytest.fixture
def looks(monkeypatch: pytest.MonkeyPatch) -> Looks:
    """Every look of a uvicorn server (`on_tick`) meanwhile, with the thread it serves in: the test process's
    own (its sandbox, its fake Slack) look too. None started meanwhile looks for its Date header (due in an
    hour)."""
    monkeypatch.setattr(quiet_server, "DATE_SECONDS", 3600.0)
    seen: Looks = []
    look = uvicorn.Server.on_tick

    async def counted(self: uvicorn.Server, counter: int) -> bool:
        seen.append((threading.current_thread(), counter))
        return await look(self, counter)

    monkeypatch.setattr(uvicorn.Server, "on_tick", counted)
    return seen


def _bound(listening: socket.socket) -> socket.socket:
    listening.bind(("127.0.0.1", 0))
    return listening


def _of(looks: Looks, serving: threading.Thread) -> list[int]:
    return [counter for thread, counter in looks if thread is serving]


def test_an_idle_server_looks_only_when_stopped_from_another_thread_and_ends_at_once(looks: Looks) -> None:
    """No look in between, and `stop` from another thread (the sandbox's and the tests' servers run in one)
    wakes it, though its Date header is not due for an hour."""
    listening = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(PlainTextResponse("ok"), log_level="warning", lifespan="off")
    server = QuietServer(config)
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
    assert _of(looks, thread) == [0, 0]  # the first, and the one that found it stopped


def test_an_idle_sandbox_looks_only_when_stopped(looks: Looks, fabrikam: dict[str, Any]) -> None:
    """A test process's sandbox idles for most of the run (and the one of a `serve` with `AADBOT_SANDBOX` for
    all of its life): uvicorn's own server looked five times in the half second."""
    before = set(threading.enumerate())
    with Sandbox(parse_scenario(fabrikam)):
        (serving,) = set(threading.enumerate()) - before
        time.sleep(0.5)
    assert _of(looks, serving) == [0, 0]


@pytest.mark.parametrize(
    "listener",
    [
        pytest.param(lambda: socket.create_server(("127.0.0.1", 0)), id="as-serve-binds"),
        pytest.param(lambda: _bound(socket.socket(socket.AF_INET, socket.SOCK_STREAM)), id="as-fakes-bind"),
    ],
)
def test_a_kept_connection_is_answered_without_waiting_for_the_clients_acknowledgement(
    listener: Callable[[], socket.socket],
) -> None:
    """uvicorn writes an answer's head and body apart: with Nagle's algorithm on, the body waited for the
    client's delayed acknowledgement of the head, at least 40 ms (the kernel's own timer, nothing a test can
    inject), on every request after a connection's first. The fastest of eight is timed, so that a loaded
    host cannot fail it: without the stall, each takes about a millisecond here."""
    listening = listener()
    server = QuietServer(uvicorn.Config(PlainTextResponse("ok"), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            thread.join(0.01)
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/"
        with httpx.Client(timeout=10) as client:
            client.get(url).raise_for_status()  # the connection's first: never delayed
            times = []
            for _ in range(8):
                started = time.perf_counter()
                client.get(url).raise_for_status()
                times.append(time.perf_counter() - started)
        assert min(times) < 0.030, f"every answer on the kept connection took 40 ms or more: {times}"
    finally:
        server.stop()
        thread.join(10)
        listening.close()
