"""The app in Socket Mode in this process (serve's own Socket Mode loop, on a thread), and a sender for it.

`SocketModeSender` has SlackSender's verbs, so a test written against HTTP runs unchanged over Socket Mode:
what it sent is acked when the app's acknowledgement of the envelope arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.serve import socket_mode
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import ADMIN, CHANNEL, SlackSender
from tests.fakes.socket_mode import ACCEPTS_RESPONSE_PAYLOAD, FakeSocketMode

APP_TOKEN = "xapp-1-A1-test"
WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Acked:
    """What Slack got back at once, over either transport."""

    status_code: int
    """HTTP's status; in Socket Mode an acknowledgement is the 200."""
    payload: dict[str, Any] | None
    """The response payload the ack carried (over HTTP: its JSON body), if any."""


class SocketModeSender:
    def __init__(self, socket: FakeSocketMode, fake: FakeSlack) -> None:
        self.socket = socket
        self.payloads = SlackSender(None, fake)

    def command(self, text: str, *, user: str = ADMIN, channel: str = CHANNEL) -> Acked:
        return self._deliver(
            "slash_commands", self.payloads.command_payload(text, user=user, channel=channel)
        )

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_attempt: int = 0) -> Acked:
        payload = self.payloads.event_payload(event, event_id=event_id)
        reason = "timeout" if retry_attempt else ""
        return self._deliver("events_api", payload, retry_attempt=retry_attempt, retry_reason=reason)

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = ADMIN,
        channel: str | None = CHANNEL,
        message_ts: str = "1.000100",
        home: bool = False,
        blocks: list[dict[str, Any]] | None = None,
    ) -> Acked:
        payload = self.payloads.click_payload(
            action_id, value, user=user, channel=channel, message_ts=message_ts, home=home, blocks=blocks
        )
        return self._deliver("interactive", payload)

    def _deliver(self, kind: str, payload: dict[str, Any], **retry: Any) -> Acked:
        envelope_id = self.socket.send(kind, payload, **retry)
        ack = self.socket.ack(envelope_id)
        assert set(ack) <= {"envelope_id", "payload"}, ack
        assert ACCEPTS_RESPONSE_PAYLOAD[kind] or "payload" not in ack, f"Slack takes no payload for {kind}"
        return Acked(200, ack.get("payload"))


class SocketModeThread:
    """Runs `aadbot serve`'s Socket Mode loop for `app` on its own event loop until the test ends."""

    def __init__(self, app: AsyncApp, client: AsyncWebClient, socket: FakeSocketMode) -> None:
        self._app, self._client, self._socket = app, client, socket
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> SocketModeThread:
        links = len(self._socket.links)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(WAIT_SECONDS)
        self._socket.wait_for_links(links + 1, WAIT_SECONDS)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(WAIT_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(WAIT_SECONDS)
        self._loop.close()

    async def _start(self) -> None:
        self._task = asyncio.ensure_future(socket_mode(APP_TOKEN)(self._app, self._client).run)

    async def _stop(self) -> None:
        """Serving ends (closing the link), then whatever it left running (the client's loops, listener
        work after an ack) is cancelled and awaited, so nothing is destroyed pending with the loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        await self._loop.shutdown_asyncgens()
