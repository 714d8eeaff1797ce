"""Two ways to empty the outbox: at once into the conversation (console), or in the background."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import datetime

from bot.conversation.messages import Outgoing
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import Delivered, OutboxWorker
from storage import Database

_UNPACED = DeliverySettings.unpaced()


class CollectingSender:
    """Hands each message back to the surface that asked (the console prints them); never fails."""

    def __init__(self) -> None:
        self.collected: list[Outgoing] = []
        self._numbers = itertools.count(1)

    async def send(self, envelope: Envelope) -> Receipt:
        self.collected.append(Outgoing(envelope.message, envelope.to))
        return Receipt(f"console/{next(self._numbers)}")


class InlineOutbox:
    """For the console: `flush` sends everything due through a `CollectingSender` and returns it."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime], on_delivered: Delivered | None = None
    ) -> None:
        self._database = database
        self._clock = clock
        self._on_delivered = on_delivered

    def flush(self) -> list[Outgoing]:
        sender = CollectingSender()
        worker = OutboxWorker(
            self._database, sender, clock=self._clock, settings=_UNPACED, on_delivered=self._on_delivered
        )
        asyncio.run(worker.drain())
        return sender.collected


class BackgroundOutbox:
    """For Slack: a worker beside the app sends; the conversation has nothing to hand over."""

    def flush(self) -> list[Outgoing]:
        return []
