"""The web server of `serve` (uvicorn), stopped by `serve` itself rather than by uvicorn's signal handlers,
and asleep while nobody calls."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import uvicorn

from bot.alongside import Loop

if TYPE_CHECKING:
    from starlette.types import ASGIApp

DATE_SECONDS = 1.0
"""How often the Date header of the answers is worked out again, as uvicorn does."""


class QuietServer(uvicorn.Server):
    """uvicorn's server, woken by `stop` instead of looking ten times a second whether to stop.

    uvicorn's own main loop wakes every 0.1 s to read `should_exit` (and works out its Date header every
    tenth time): about 1.5 ms of CPU a second for a server nobody calls, in every `serve` for as long as it
    runs, and in the sandbox's. This one wakes once a second for the header, and at once when `stop` is
    called, from any thread. What sets `should_exit` without `stop` is seen within the second."""

    _loop: asyncio.AbstractEventLoop | None = None
    _stopping: asyncio.Event | None = None

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


def web_server(
    app: ASGIApp,
    listening: socket.socket,
    *,
    host: str,
    port: int,
    grace: float,
    log_level: str | None = None,
) -> Loop:
    """Serves `app` on `listening`; stopped, it takes no new connection and gives the requests under way
    a little less than `grace` (`serve`'s own bound), so that uvicorn ends them itself (and says so)
    instead of being cancelled in the middle of its shutdown."""

    class Server(QuietServer):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            # `serve` has its own handlers (bot.stopping); uvicorn's would raise the signal again once
            # stopped, and the process would end killed by it (status -15, or 130 for Ctrl-C), not with 0
            yield

    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=_graceful_seconds(grace)
    )
    server = Server(config)
    return Loop("the web server", server.serve(sockets=[listening]), server.stop)


def _graceful_seconds(grace: float) -> int:
    """What uvicorn gives the requests under way: whole seconds (its type), 2 fewer than `grace` for its
    own steps around them (noticing the stop, a pause, its lifespan's end), and none under 3 s, where it
    cancels them itself at once rather than race `serve`'s bound."""
    return max(int(grace) - 2, 0)
