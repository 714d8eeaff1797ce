"""uvicorn's server, asleep while nobody calls: `serve`'s (bot/web_server.py), the sandbox's and the tests'
fakes'. Here because msapi is the one package the bot and the sandbox both import (the sandbox emulates what
msapi calls, and takes its TLS context); `msapi` itself does not import this, nor uvicorn."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import uvicorn

DATE_SECONDS = 1.0
"""How often the Date header of the answers is worked out again, as uvicorn does."""


class QuietServer(uvicorn.Server):
    """uvicorn's server, woken by `stop` instead of looking ten times a second whether to stop.

    uvicorn's own main loop wakes every 0.1 s to read `should_exit` (and works out its Date header every
    tenth time): about 1.5 ms of CPU a second for a server nobody calls, in every `serve` for as long as it
    runs, and in every sandbox. This one wakes once a second for the header, and at once when `stop` is
    called, from any thread. What sets `should_exit` without `stop` is seen within the second."""

    _loop: asyncio.AbstractEventLoop | None = None
    _stopping: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        for listening in sockets or ():
            _answer_at_once(listening)
        await super().startup(sockets)

    def stop(self) -> None:
        """Stops taking connections and ends the requests under way, as uvicorn does on a signal."""
        self.should_exit = True
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with suppress(RuntimeError):  # its loop has closed: it has stopped already
                loop.call_soon_threadsafe(stopping.set)

    async def main_loop(self) -> None:
        self._stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()  # after the event: `stop` finds both, or neither
        while not await self.on_tick(0):  # tick 0: the Date header, and whether to stop
            with suppress(TimeoutError):
                async with asyncio.timeout(DATE_SECONDS):
                    await self._stopping.wait()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Whoever runs it stops it (`stop`): `serve` has its own handlers (bot.stopping), where uvicorn's
        # would raise the signal again once stopped and the process would end killed by it (status -15, or
        # 130 for Ctrl-C) instead of with 0; in a thread (the sandbox, the fakes) uvicorn installs none.
        yield


def _answer_at_once(listening: socket.socket) -> None:
    """Turns Nagle's algorithm off for every connection `listening` accepts (they inherit the option, on Linux
    as on BSD). asyncio turns it off itself only for sockets it made or whose `proto` says TCP, and a socket
    made by `socket.create_server` (`serve`'s) or `socket.socket(AF_INET, SOCK_STREAM)` (the tests' fakes')
    says 0: uvicorn writes an answer's head and its body apart, the body then waits for the client to
    acknowledge the head, and clients delay that acknowledgement 40 ms. Every request after the first on a
    kept connection (Slack's and Teams' to `serve`, `serve`'s to a fake Slack) waited so."""
    if listening.family in (socket.AF_INET, socket.AF_INET6) and listening.type == socket.SOCK_STREAM:
        listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
