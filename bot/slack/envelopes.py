"""The envelopes a Socket Mode link has taken and not yet acked, finished before the link closes.

Slack resends an event it never heard acked, but not a slash command: the user sees it fail. So, stopping,
the link first stops reading (envelopes not read yet are Slack's to resend or give up on, as when a link
drops), then the ones taken are acked on the still open link, and only then is the link closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_sdk.socket_mode.aiohttp import SocketModeClient


class EnvelopesUnderWay:
    def __init__(self, client: SocketModeClient) -> None:
        self._client = client
        self._answering = 0
        self._answered = asyncio.Event()
        listeners = client.run_message_listeners

        def counted(message: dict[str, Any], raw_message: str) -> Awaitable[None]:
            # called as the client takes a message off its queue, in the same step: between the two, an
            # envelope is neither queued nor counted, and `finish` would close the link under it
            self._answering += 1
            return self._until_answered(listeners(message, raw_message))

        client.run_message_listeners = counted  # type: ignore[method-assign, assignment]

    async def finish(self) -> None:
        """Reads no more envelopes from Slack, and returns once each one read is acked (for a command, its
        listener goes on in a task of its own: `alongside` gives that the rest of the time to stop)."""
        client = self._client
        client.auto_reconnect_enabled = False
        for reading in (client.current_session_monitor, client.message_receiver):
            if reading is not None:
                reading.cancel()
        while self._answering or not client.message_queue.empty():
            self._answered.clear()
            await self._answered.wait()

    async def _until_answered(self, answer: Awaitable[None]) -> None:
        try:
            await answer
        finally:
            self._answering -= 1
            self._answered.set()
