"""The outbox worker: claims due messages, paces them to the platform's rate, sends each exactly once.

Exactly once, across crashes: a claim is committed before the send (leases keep two workers, or two
processes, off one message), and right before each send the lease is renewed and the message marked
`in_flight` only if the claim still holds; the result is committed after the send. A process killed in
between leaves the message `in_flight`, so the next claim marks it `uncertain` and the sender looks for
it before posting.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.render import envelope_of
from bot.delivery.sender import DeliveryFailed, Receipt, Sender
from storage import Database, OutboundMessage
from storage.outbox import begin_send, claim_due, mark_failed, mark_sent

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Delivered = Callable[[OutboundMessage, Receipt], None]
"""Called (in a worker thread) after a message is recorded as sent: reminders start from there."""
Progress = Callable[[set[str]], Awaitable[None]]
"""Called after each batch with the organizations whose messages moved."""


@dataclass(frozen=True)
class DeliverySettings:
    rate_per_second: float = 1.0
    """Messages started per second; Slack allows about one a second per workspace for bursts of DMs."""
    batch: int = 20
    concurrency: int = 4
    """Messages in flight at once: the database round trips of one overlap the next one's send."""
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)
    """After a failure: 30 s, 1 min, 2 min, 4 min... doubling with each attempt."""

    def __post_init__(self) -> None:
        if self.rate_per_second <= 0 or self.batch < 1 or self.concurrency < 1 or self.max_attempts < 1:
            raise ValueError("rate, batch, concurrency and attempts must be positive")


class _Pacer:
    """Spaces the starts of sends; a 429 pushes every later start back by its `Retry-After`."""

    def __init__(self, rate: float, clock: Callable[[], datetime], sleep: Sleep) -> None:
        self._interval = timedelta(seconds=1 / rate)
        self._clock = clock
        self._sleep = sleep
        self._next: datetime | None = None

    async def slot(self) -> None:
        now = self._clock()
        start = max(now, self._next or now)
        self._next = start + self._interval  # reserved before waiting: concurrent callers queue up
        wait = (start - now).total_seconds()
        if wait > 0:
            await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        resume = self._clock() + timedelta(seconds=seconds)
        self._next = max(self._next or resume, resume)


class OutboxWorker:
    def __init__(
        self,
        database: Database,
        sender: Sender,
        *,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
        settings: DeliverySettings | None = None,
        on_delivered: Delivered | None = None,
        on_progress: Progress | None = None,
        name: str | None = None,
    ) -> None:
        self._database = database
        self._sender = sender
        self._clock = clock
        self._sleep = sleep
        self._settings = settings or DeliverySettings()
        self._on_delivered = on_delivered
        self._on_progress = on_progress
        self.name = name or f"worker-{uuid.uuid4().hex[:12]}"
        self._pacer = _Pacer(self._settings.rate_per_second, clock, sleep)

    async def run_once(self) -> int:
        """Claim one batch of due messages and settle each one; how many were claimed."""
        settings = self._settings
        claimed = await asyncio.to_thread(
            claim_due,
            self._database,
            worker=self.name,
            now=self._clock(),
            lease=settings.lease,
            limit=settings.batch,
        )
        room = asyncio.Semaphore(settings.concurrency)
        tasks: list[asyncio.Task[None]] = []
        for message in claimed:
            await room.acquire()
            await self._pacer.slot()
            task = asyncio.create_task(self._settle(message))
            task.add_done_callback(lambda _: room.release())
            tasks.append(task)
        await asyncio.gather(*tasks)
        if claimed and self._on_progress is not None:
            await self._on_progress({str(m.payload.get("organization")) for m in claimed} - {"None"})
        return len(claimed)

    async def drain(self) -> int:
        """Send everything due now; the number of messages handled."""
        total = 0
        while handled := await self.run_once():
            total += handled
        return total

    async def run_forever(self, idle_seconds: float) -> None:
        """Runs until cancelled; a failed round is logged and the next one comes after `idle_seconds`."""
        while True:
            try:
                handled = await self.run_once()
            except Exception:  # a database restart must not end delivery for good
                logger.exception("the outbox worker failed; trying again in %.0f s", idle_seconds)
                handled = 0
            if not handled:
                await self._sleep(idle_seconds)

    async def _settle(self, message: OutboundMessage) -> None:
        assert message.id is not None
        try:
            envelope = envelope_of(message)
        except (KeyError, TypeError, ValueError) as error:
            await self._failed(
                message, DeliveryFailed("bad_payload", f"unreadable message: {error}", permanent=True)
            )
            return
        settings = self._settings
        # A 429 is waited out here only while the wait stays well inside the lease; beyond that the
        # message goes back to the queue, so a renewed lease never has to cover an unbounded pause.
        patience = settings.lease.total_seconds() / 4
        waited = 0.0
        while True:
            if not await self._begin_send(message.id):
                logger.info("outbox message %s: the claim ran out before sending; not sent", message.id)
                return
            try:
                receipt = await self._sender.send(envelope)
            except DeliveryFailed as failure:
                wait = failure.retry_after
                if wait is not None:
                    self._pacer.pause(wait)
                    if waited + wait <= patience:
                        waited += wait
                        await self._pacer.slot()
                        continue
                await self._failed(message, failure)
                return
            except Exception:  # an unexpected bug must not leave the message claimed until the lease ends
                reference = uuid.uuid4().hex[:8]
                logger.exception("sending outbox message %s failed (log ref %s)", message.id, reference)
                unexpected = DeliveryFailed(
                    "internal_error", f"internal error; see log ref {reference}", maybe_delivered=True
                )
                await self._failed(message, unexpected)
                return
            await self._sent(message, receipt)
            return

    async def _begin_send(self, message_id: int) -> bool:
        return await asyncio.to_thread(
            begin_send,
            self._database,
            message_id,
            worker=self.name,
            now=self._clock(),
            lease=self._settings.lease,
        )

    async def _sent(self, message: OutboundMessage, receipt: Receipt) -> None:
        assert message.id is not None
        recorded = await asyncio.to_thread(
            mark_sent, self._database, message.id, worker=self.name, now=self._clock(), ref=receipt.ref
        )
        if recorded and self._on_delivered is not None:
            try:
                await asyncio.to_thread(self._on_delivered, message, receipt)
            except Exception:  # the message is out; a reminder schedule failing must not undo that
                logger.exception("after delivering outbox message %s", message.id)

    async def _failed(self, message: OutboundMessage, failure: DeliveryFailed) -> None:
        assert message.id is not None
        rate_limited = failure.retry_after is not None
        wait = (
            timedelta(seconds=failure.retry_after or 0)
            if rate_limited
            else self._settings.backoff * 2 ** max(message.attempts - 1, 0)
        )
        logger.info("outbox message %s not delivered: %s", message.id, failure.code)
        await asyncio.to_thread(
            mark_failed,
            self._database,
            message.id,
            worker=self.name,
            now=self._clock(),
            error=failure.reason,
            retry_after=wait,
            max_attempts=self._settings.max_attempts,
            code=failure.code,
            permanent=failure.permanent,
            maybe_delivered=failure.maybe_delivered,
            counted=not rate_limited,
        )
