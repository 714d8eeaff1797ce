"""Two ways to empty the outbox: at once into the conversation (console), or in the background."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm.exc import StaleDataError

from bot.conversation.messages import Channel, Outgoing
from bot.delivery.notices import CHAT_MESSAGE, ChatNotice
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.settling import Delivered
from bot.delivery.worker import OutboxWorker
from storage import Database
from storage.outbox import NewMessage, enqueue_all
from storage.outbox_claims import has_due
from storage.outbox_threads import failed_on_thread, supersede
from workflows.notices import CHANNEL_PREFIX

_IN_ORDER = replace(DeliverySettings.unpaced(), concurrency=1)
"""The console shows messages in the order they were queued: sent side by side, the order the database
answered in would decide which copy of a prompt comes first and which numbers reminders get."""


class CollectingSender:
    """Hands each message back to the surface that asked (the console prints them); never fails."""

    def __init__(self) -> None:
        self.collected: list[Outgoing] = []
        self._numbers = itertools.count(1)

    async def send(self, envelope: Envelope) -> Receipt:
        self.collected.append(Outgoing(envelope.message, envelope.to, envelope.updates))
        return Receipt(f"console/{next(self._numbers)}")


class InlineOutbox:
    """For the console: `flush` sends everything due through a `CollectingSender` and returns it."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime], on_delivered: Delivered | None = None
    ) -> None:
        self._database = database
        self._clock = clock
        self._on_delivered = on_delivered

    def show(self, outgoing: Outgoing) -> None:
        """Nothing: the console prints a turn's messages once it ends, so a progress line would come with
        the result it waits for."""

    def flush(self) -> list[Outgoing]:
        if not has_due(self._database, now=self._clock()):
            return []  # most looks have nothing to send: no event loop and no worker thread for them
        sender = CollectingSender()
        worker = OutboxWorker(
            self._database, sender, clock=self._clock, settings=_IN_ORDER, on_delivered=self._on_delivered
        )
        asyncio.run(worker.drain())
        return sender.collected


_SUPERSEDE_ATTEMPTS = 5
"""A worker claims a version being given up at most once a poll: a second attempt nearly always wins."""


class BackgroundOutbox:
    """For Slack and Teams: a worker beside the app sends; the conversation has nothing to hand over."""

    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self._database = database
        self._notices = NoticeOutbox(database, clock=clock)

    def flush(self) -> list[Outgoing]:
        return []

    def show(self, outgoing: Outgoing) -> None:
        """Queued for the worker, which looks every couple of seconds, as any message to a channel is; a
        version not sent yet is given up for the newer one (`NoticeOutbox.queue`). None once a version
        failed for good (the bot is not in the channel): thousands of versions would fail the same way."""
        if not isinstance(outgoing.to, Channel) or not outgoing.to.channel:
            raise ValueError(f"{outgoing.message.summary!r} is shown in a channel, and names none")
        recipient, notice = (
            f"{CHANNEL_PREFIX}{outgoing.to.channel}",
            ChatNotice(outgoing.message, outgoing.updates),
        )
        if outgoing.updates is not None:
            with self._database.session() as session:
                if failed_on_thread(session, recipient=recipient, thread=outgoing.updates):
                    return
        self._notices.queue([(recipient, notice)])


class NoticeOutbox:
    """Where a surface puts what the conversation addressed to people and channels: into the outbox, so
    that the worker delivers each exactly once, retrying through a Slack outage instead of dropping it.

    `wake` (called on the event loop after queuing) tells the worker to look now.
    """

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime], wake: Callable[[], None] = lambda: None
    ) -> None:
        self._database = database
        self._clock = clock
        self.wake = wake

    def queue(self, notices: list[tuple[str, ChatNotice]]) -> list[str]:
        """Queue each (recipient, notice) in one transaction; their idempotency keys.

        A notice that updates a thread (an approval's decision) supersedes that thread's older notices
        still waiting for Slack: the stale prompt is never posted after the decision.
        """
        now = self._clock()
        messages = [
            NewMessage(f"chat:{uuid.uuid4().hex}", recipient, CHAT_MESSAGE, notice.to_payload())
            for recipient, notice in notices
        ]
        threads = {notice.updates for _, notice in notices if notice.updates}
        for attempt in range(_SUPERSEDE_ATTEMPTS):
            try:
                with self._database.session() as session:
                    for thread in threads:
                        supersede(session, kinds=(CHAT_MESSAGE,), thread=thread, before=now)
                    enqueue_all(session, messages, now=now)
                    session.commit()
                break
            except StaleDataError:
                # A worker claimed a version this one gives up between the read and the commit: read again
                # (the claim is over in a moment). Raised, the caller would send the lot around the outbox.
                if attempt == _SUPERSEDE_ATTEMPTS - 1:
                    raise
        return [message.idempotency_key for message in messages]
