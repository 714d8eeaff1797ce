"""The web server of `serve` (uvicorn), stopped by `serve` itself rather than by uvicorn's signal handlers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.alongside import Loop

if TYPE_CHECKING:
    from starlette.types import ASGIApp


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
    import uvicorn

    class Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            # `serve` has its own handlers (bot.stopping); uvicorn's would raise the signal again once
            # stopped, and the process would end killed by it (status -15, or 130 for Ctrl-C), not with 0
            yield

    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=_graceful_seconds(grace)
    )
    server = Server(config)

    def stop() -> None:
        server.should_exit = True

    return Loop("the web server", server.serve(sockets=[listening]), stop)


def _graceful_seconds(grace: float) -> int:
    """What uvicorn gives the requests under way: whole seconds (its type), 2 fewer than `grace` for its
    own steps around them (noticing the stop, a pause, its lifespan's end), and none under 3 s, where it
    cancels them itself at once rather than race `serve`'s bound."""
    return max(int(grace) - 2, 0)
