"""Serve any ASGI app on 127.0.0.1 with an OS-chosen port, in a background thread: `serve`'s own server
(msapi/quiet_server.py), which sleeps while nobody calls, where uvicorn's wakes ten times a second (a test
process holds a few of these for the whole run)."""

from __future__ import annotations

import socket
import threading
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from msapi.quiet_server import QuietServer

START_TIMEOUT_SECONDS = 10.0


class ServerThread:
    def __init__(self, app: ASGIApp, *, lifespan: str = "off") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False)
        self._server = QuietServer(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> ServerThread:
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive() or waited > START_TIMEOUT_SECONDS:
                raise RuntimeError(f"the test server on port {self.port} did not start")
            self._thread.join(0.01)  # wait on the thread itself: returns early if it dies
            waited += 0.01
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._server.stop()
        self._thread.join(5)
        self._socket.close()
