"""The outbox worker: claims due messages, paces them to the platform's limits, sends each exactly once.

Exactly once, across crashes: a claim is committed before the send (leases keep two workers, or two
processes, off one message), and right before each send the lease is renewed and the message marked
`in_flight` only if the claim still holds; the result is committed after the send. A process killed in
between leaves the message `in_flight`, so the next claim marks it `uncertain` and the sender looks for
it before posting.

Leases are short and renewed by a heartbeat while the worker lives: a killed worker's claims come free
within one lease (20 s by default), not after a long one. A batch that ends with claims it never began to
send (the worker told to `stop`, a failure, the service cancelling it) gives them back at once, for the
next process to take.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from bot.delivery.holding import Holding, directs_by_migration, migration_of_direct
from bot.delivery.pacing import AdaptivePacer, Sleep
from bot.delivery.sender import HandsOver, Readiness, Sender
from bot.delivery.settings import DeliverySettings
from bot.delivery.settling import Delivered, Settler, Undeliverable
from storage import Database, OutboundMessage
from storage.outbox_claims import claim_due, release_claims, renew_claims

logger = logging.getLogger(__name__)

T = TypeVar("T")

Progress = Callable[[set[str]], Awaitable[None]]
"""Called with the organizations whose messages moved, at most every `progress_every` and when idle."""


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
        heartbeat_sleep: Sleep = asyncio.sleep,
        on_undeliverable: Undeliverable | None = None,
    ) -> None:
        """`sleep` paces and waits (tests move their clock with it); `heartbeat_sleep` spaces the claim
        renewals, in real time unless a test drives it."""
        self._database = database
        self._sender = sender
        self._clock = clock
        self._sleep = sleep
        self._settings = settings or DeliverySettings()
        self._on_progress = on_progress
        self._heartbeat_sleep = heartbeat_sleep
        self.name = name or f"worker-{uuid.uuid4().hex[:12]}"
        self.pacer = AdaptivePacer(self._settings, clock, self._paced)
        self._pace_waits = 0
        """How many times the pacer waited: a batch's readiness answers hold until it does (`_settle_all`)."""
        self._held: set[int] = set()
        """The claims of the batch whose send has not begun: renewed, and given back once it ends."""
        self._moved: set[str] = set()
        """The organizations whose messages moved since the live reports were last refreshed."""
        self._holding = Holding(
            database,
            sender if isinstance(sender, Readiness) else None,
            worker=self.name,
            clock=clock,
            held=self._held,
            moved=self._moved,
        )
        self._settler = Settler(
            database,
            sender,
            worker=self.name,
            clock=clock,
            settings=self._settings,
            pacer=self.pacer,
            turn=self._turn,
            moved=self._moved,
            on_delivered=on_delivered,
            on_undeliverable=on_undeliverable,
        )
        self._reported_at: datetime | None = None
        self._reporting: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        """Set by `stop`. A batch waits on it, which binds it to that batch's event loop (`drain` may run in
        several): each batch begun before `stop` makes a new one."""

    async def _paced(self, seconds: float) -> None:
        self._pace_waits += 1
        await self._sleep(seconds)

    def wake(self) -> None:
        """Something was queued: look now instead of at the end of the idle wait."""
        self._wake.set()

    def stop(self) -> None:
        """The service is stopping: no other send starts, a send under way that has not handed its message to
        the platform yet gives it back (`HandsOver`), and `run_forever` ends once the others have: only
        those already on their way are waited for, so the time to stop is spent finishing them."""
        self._stopped.set()
        self._wake.set()
        if isinstance(self._sender, HandsOver):
            self._sender.stop_handing_over()

    async def run_once(self) -> int:
        """Claim one batch of due messages and settle each one; how many were claimed (none once `stop`),
        less those given back to wait for an older version being sent: counted, a batch of them alone would
        have `run_forever` claim them again at once instead of at its next poll, for as long as that send
        holds its lease."""
        if self._stopped.is_set():  # claimed only to be given back, `drain` would take one batch for ever
            return 0
        settings = self._settings
        self._stopped = asyncio.Event()
        claimed = await asyncio.to_thread(
            claim_due,
            self._database,
            worker=self.name,
            now=self._clock(),
            lease=settings.lease,
            limit=settings.batch,
        )
        self._held.update(message.id for message in claimed if message.id is not None)
        self._settler.waiting = 0
        heartbeat = asyncio.create_task(self._heartbeat()) if claimed else None
        try:
            try:
                await self._settle_all(await self._holding.hold_back(claimed))
            except (Exception, asyncio.CancelledError) as failure:  # cancelled: a stop past its bound
                await self._give_back_rest(failure)
                raise
            await self._give_back_rest(None)
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
            self._held.clear()
            self._settler.warn_of_batch()
        await self._report(idle=not claimed)
        return len(claimed) - self._settler.waiting

    async def _give_back_rest(self, failure: BaseException | None) -> None:
        """However the batch ended (done, `stop`, failed, cancelled), the claims still held are of messages
        whose send never began, or never marked them `in_flight` (`release_claims` leaves those): kept until
        the lease runs out, each would wait that long for the next process and count an attempt never made.
        Giving back failing too (the database gone) leaves them to the lease: noted on `failure`, the one
        raised, and logged when it is a cancel, raised to nobody."""
        if not self._held:
            return
        try:
            await asyncio.to_thread(release_claims, self._database, sorted(self._held), worker=self.name)
        except Exception as also:
            if failure is None:
                raise
            failure.add_note(f"giving back the claims not begun failed too ({type(also).__name__})")
            if isinstance(failure, asyncio.CancelledError):
                logger.warning(
                    "giving back %d outbox claim(s) not begun failed: they come free when their lease ends",
                    len(self._held),
                    exc_info=also,
                )

    async def _settle_all(self, ready: list[OutboundMessage]) -> None:
        """Settle each ready message, `concurrency` at a time, paced. No send started here outlives it.

        A send failing unexpectedly (the database gone while recording it) stops the batch: no other send
        starts, those under way finish and record their outcome, then the first failure is raised, the
        others noted on it, for the caller to log once. Asking the sender again or waiting for a turn
        failing stops it too, and is the failure raised. Cancelled (the service stopping), it cancels the
        sends under way, waits for them to end and logs a failure it can no longer raise. Either way a
        message whose send had begun is settled or stays claimed until its lease runs out, `in_flight`, so
        the next worker looks for it before posting: exactly once holds. `run_once` gives back the rest.
        """
        room = asyncio.Semaphore(self._settings.concurrency)
        sending: list[asyncio.Task[None]] = []
        failures: list[BaseException] = []
        halted: str | None = None  # what failed besides a send, stopping the batch: `failures[0]`

        async def settle(message: OutboundMessage, started: datetime) -> None:
            try:
                await self._settle(message, started)
            except asyncio.CancelledError:
                raise
            except BaseException as failure:  # seen before its room is given back: no send starts after it
                failures.append(failure)
            finally:
                room.release()

        directs = directs_by_migration(ready)
        put_back_now: set[int | None] = set()
        # the answers `hold_back` just had stand until the batch waits (for a room or a turn): the
        # sender's turn with time (Slack's member list coming overdue), so asked again before, it would
        # only say the same
        answered = True
        try:
            try:
                for index, message in enumerate(ready):
                    if message.id in put_back_now:
                        continue
                    answered = answered and not room.locked()
                    await room.acquire()
                    if failures or self._stopped.is_set():  # `run_once` gives back the rest
                        break
                    if not answered:
                        alike = directs.get(migration_of_direct(message), [])
                        try:
                            held = await self._holding.no_longer_ready(
                                message, (m for i, m in alike if i > index)
                            )
                        except Exception as failure:  # in `failures` at once: cancelled, it is still logged
                            halted = "asking the sender again or putting back what it held"
                            failures.insert(0, failure)
                            break
                        if held:
                            put_back_now |= held
                            room.release()
                            continue
                    # measured, not foreseen: a send's 429 may land once the turn is asked for
                    waits = self._pace_waits
                    started = await self._turn(message.recipient)
                    answered = answered and self._pace_waits == waits
                    if failures or started is None:  # one failed, or `stop`, while this one waited its turn
                        break
                    sending.append(asyncio.create_task(settle(message, started)))
            except asyncio.CancelledError:
                for task in sending:
                    task.cancel()
                raise
            except BaseException as failure:  # raised first, once the sends end
                halted = "waiting for a turn of the pace"
                failures.insert(0, failure)
            finally:
                await asyncio.gather(*sending, return_exceptions=True)  # cancelled, it cancels them
        except asyncio.CancelledError:
            if failures:  # nobody is left to raise them to: said here, or never
                logger.error(
                    "the outbox worker stopped after %s failed",
                    _what_failed(halted, len(failures)),
                    exc_info=failures[0],
                )
            raise
        if failures:
            first, *others = failures
            if others:
                kinds = ", ".join(sorted({type(other).__name__ for other in others}))
                sends = "sends" if halted is not None else "other sends"  # `first` is not a send then
                first.add_note(f"{sends} of this batch that failed too: {len(others)} ({kinds})")
            raise first

    async def drain(self) -> int:
        """Send everything due now; the number of messages handled."""
        total = 0
        while handled := await self.run_once():
            total += handled
        return total

    async def run_forever(self, idle_seconds: float) -> None:
        """Runs until `stop` or cancelled; a failed round is logged and the next one comes after
        `idle_seconds`. Whichever ends it, no task it started runs on: a report refresh under way is
        awaited once stopped, cancelled once cancelled."""
        try:
            while not self._stopped.is_set():
                try:
                    handled = await self.run_once()
                except Exception:  # a database restart must not end delivery for good
                    logger.exception("the outbox worker failed; trying again in %.0f s", idle_seconds)
                    handled = 0
                if not handled:
                    await self._idle(idle_seconds)
        except asyncio.CancelledError:
            if self._reporting is not None:
                self._reporting.cancel()
            raise
        finally:
            if self._reporting is not None:
                await asyncio.gather(self._reporting, return_exceptions=True)

    async def _idle(self, seconds: float) -> None:
        if not self._wake.is_set():
            await _unless(self._wake, self._sleep(seconds))
        self._wake.clear()

    async def _turn(self, recipient: str) -> datetime | None:
        """The pacer's next start for `recipient`, or None once `stop`: a stopping worker waits neither for
        a turn nor out a 429, which could outlast the service's time to stop and be cancelled there."""
        return await _unless(self._stopped, self.pacer.slot(recipient))

    async def _heartbeat(self) -> None:
        """Renews this worker's claims while it works through them, so only a dead worker's expire."""
        every = self._settings.renew_every.total_seconds()
        while True:
            await self._heartbeat_sleep(every)
            if not self._held:
                continue
            try:
                await asyncio.to_thread(
                    renew_claims,
                    self._database,
                    sorted(self._held),
                    worker=self.name,
                    now=self._clock(),
                    lease=self._settings.lease,
                )
            except Exception:  # a missed renewal costs at most a claim; begin_send checks each send
                logger.exception("renewing the outbox claims failed")

    async def _report(self, *, idle: bool) -> None:
        """Refresh the live reports beside the sending, one refresh at a time: reading a big migration's
        progress takes a while, and the next batch need not wait for it."""
        if self._on_progress is None or not self._moved:
            return
        if self._reporting is not None and not self._reporting.done():
            return
        now = self._clock()
        if not idle and self._reported_at and now - self._reported_at < self._settings.progress_every:
            return
        moved, self._reported_at = set(self._moved), now
        self._moved.clear()
        self._reporting = asyncio.create_task(self._refresh(self._on_progress, moved))
        if idle:
            await self._reporting

    async def _refresh(self, on_progress: Progress, moved: set[str]) -> None:
        try:
            await on_progress(moved)
        except Exception:  # a report failing must not stop delivery
            logger.exception("refreshing the delivery reports failed")

    async def _settle(self, message: OutboundMessage, started: datetime) -> None:
        """Send the message at the start its turn gave."""
        assert message.id is not None
        await self._settler.send(message, started)
        # settled, or taken over: no claim to give back; a send that raised may not have begun, and
        # `release_claims` leaves it if it had
        self._held.discard(message.id)


async def _unless(event: asyncio.Event, work: Awaitable[T]) -> T | None:
    """What `work` gives, or None when `event` is set first (`work` is cancelled then). Cancelled too,
    neither wait outlives this one."""
    working, told = asyncio.ensure_future(work), asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait((working, told), return_when=asyncio.FIRST_COMPLETED)
    finally:
        working.cancel()
        told.cancel()
        await asyncio.gather(working, told, return_exceptions=True)
    return None if event.is_set() else working.result()


def _what_failed(halted: str | None, failures: int) -> str:
    """What a batch's `failures` were, the first of them `halted` unless None, as the log says it."""
    said = [halted] if halted is not None else []
    if sends := failures - len(said):
        said.append(f"{sends} send(s) of its batch")
    return " and ".join(said)
