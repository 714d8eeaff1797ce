"""The web server of `serve`: uvicorn's, as msapi/quiet_server.py has it (stopped by `serve` itself rather
than by uvicorn's signal handlers, and asleep while nobody calls)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import uvicorn

from bot.alongside import Loop
from msapi.quiet_server import QuietServer

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

    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=_graceful_seconds(grace)
    )
    server = QuietServer(config)
    return Loop("the web server", server.serve(sockets=[listening]), server.stop)


def _graceful_seconds(grace: float) -> int:
    """What uvicorn gives the requests under way: whole seconds (its type), 2 fewer than `grace` for its
    own steps around them (noticing the stop, a pause, its lifespan's end), and none under 3 s, where it
    cancels them itself at once rather than race `serve`'s bound."""
    return max(int(grace) - 2, 0)
