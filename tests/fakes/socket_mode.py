"""Slack's side of Socket Mode over a real loopback WebSocket: links, `hello`, envelopes, acks, disconnects.

The protocol as Slack documents it (docs.slack.dev, "Using Socket Mode") and as slack_sdk's client
expects it: `apps.connections.open` (answered by the fake Web API through `open_link`) hands out a
single-use `ws://.../link/?ticket=...` URL; on connecting Slack sends
`{"type": "hello", "num_connections", "connection_info": {"app_id"}, "debug_info"}`; each delivery is an
envelope `{"envelope_id", "type": "slash_commands" | "events_api" | "interactive", "payload",
"accepts_response_payload", "retry_attempt", "retry_reason"}` which the app acknowledges with
`{"envelope_id", "payload"?}`; `{"type": "disconnect", "reason": "warning" | "refresh_requested" |
"link_disabled"}` asks the app to move to a new link before this one closes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "A1"
WAIT_SECONDS = 10.0
ENVELOPE_TYPES = ("slash_commands", "events_api", "interactive")
ACCEPTS_RESPONSE_PAYLOAD = {"slash_commands": True, "interactive": True, "events_api": False}
"""What Slack sets in `accepts_response_payload`, per envelope type (from Slack's Socket Mode examples)."""


@dataclass
class Link:
    """One WebSocket connection the app opened, with everything it sent back."""

    ticket: str
    socket: web.WebSocketResponse
    received: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False


class FakeSocketMode:
    def __init__(self, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self.links: list[Link] = []
        self.refused: list[str] = []
        """Tickets of connection attempts turned away (unknown or used twice)."""
        self._issued: set[str] = set()
        self._tickets = itertools.count(1)
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(WAIT_SECONDS)
        self.url = f"ws://127.0.0.1:{port}"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(WAIT_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(WAIT_SECONDS)
        self._loop.close()

    # ------------------------------------------------------------ what the fake Web API asks

    def open_link(self) -> str:
        """A new single-use link, as `apps.connections.open` returns it."""
        ticket = f"{next(self._tickets)}-{uuid.uuid4().hex[:8]}"
        with self._changed:
            self._issued.add(ticket)
        return f"{self.url}/link/?ticket={ticket}&app_id={self.app_id}"

    # ------------------------------------------------------------ what tests do

    def wait_for_links(self, count: int, timeout: float = WAIT_SECONDS) -> Link:
        """Block until the app has opened `count` links in all; the newest one."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.links) >= count, timeout):
                raise AssertionError(f"the app opened {len(self.links)} links, not {count}")
            return self.links[-1]

    def open_links(self) -> list[Link]:
        with self._changed:
            return [link for link in self.links if not link.closed]

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        link: Link | None = None,
    ) -> str:
        """Deliver one envelope on `link` (by default the newest open one); its envelope_id."""
        assert kind in ENVELOPE_TYPES, kind
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": ACCEPTS_RESPONSE_PAYLOAD[kind],
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        self._send_frame(envelope, link)
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The app's acknowledgement of an envelope, once it arrives (on whichever link)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._ack(envelope_id) is not None, timeout):
                raise AssertionError(f"envelope {envelope_id} was never acknowledged")
            found = self._ack(envelope_id)
            assert found is not None
            return found

    def acks(self, envelope_id: str) -> list[dict[str, Any]]:
        with self._changed:
            return [
                frame
                for link in self.links
                for frame in link.received
                if frame.get("envelope_id") == envelope_id
            ]

    def disconnect(self, reason: str, *, close_after: float | None = None) -> None:
        """Tell the app to move on, as Slack does; `close_after` seconds later the link is closed by Slack."""
        link = self._newest_open()
        self._send_frame(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}, link
        )
        if close_after is not None:
            self._loop.call_soon_threadsafe(
                lambda: self._loop.call_later(close_after, lambda: asyncio.ensure_future(link.socket.close()))
            )

    def drop(self) -> None:
        """Close the newest link from Slack's side without a word, as a restarting Slack host does."""
        link = self._newest_open()
        asyncio.run_coroutine_threadsafe(link.socket.close(), self._loop).result(WAIT_SECONDS)

    def wait_closed(self, link: Link, timeout: float = WAIT_SECONDS) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: link.closed, timeout):
                raise AssertionError(f"link {link.ticket} is still open")

    # ------------------------------------------------------------ the server

    async def _start(self) -> int:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        return int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._changed:
            valid = ticket in self._issued
            self._issued.discard(ticket)  # single use
            if not valid:
                self.refused.append(ticket)
        if not valid:
            return web.Response(status=401, text="invalid or used ticket")
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        link = Link(ticket, socket)
        with self._changed:
            self.links.append(link)
            live = sum(not each.closed for each in self.links)
        await socket.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": live,
                    "connection_info": {"app_id": self.app_id},
                    "debug_info": {
                        "host": "applink-fake",
                        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                        "build_number": 1,
                        "approximate_connection_time": 3600,
                    },
                }
            )
        )
        with self._changed:
            self._changed.notify_all()
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                with self._changed:
                    link.received.append(json.loads(message.data))
                    self._changed.notify_all()
        with self._changed:
            link.closed = True
            self._changed.notify_all()
        return socket

    def _send_frame(self, frame: dict[str, Any], link: Link | None = None) -> None:
        target = link or self._newest_open()
        sent = asyncio.run_coroutine_threadsafe(target.socket.send_str(json.dumps(frame)), self._loop)
        sent.result(WAIT_SECONDS)

    def _newest_open(self) -> Link:
        with self._changed:
            if not self._changed.wait_for(lambda: any(not link.closed for link in self.links), WAIT_SECONDS):
                raise AssertionError("the app has no open Socket Mode link")
            return [link for link in self.links if not link.closed][-1]

    def _ack(self, envelope_id: str) -> dict[str, Any] | None:
        for link in self.links:
            for frame in link.received:
                if frame.get("envelope_id") == envelope_id:
                    return frame
        return None
