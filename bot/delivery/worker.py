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
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from bot.delivery.pacing import AdaptivePacer, Sleep
from bot.delivery.render import addressee_of, envelope_of
from bot.delivery.sender import (
    NOT_READY_SECONDS,
    DeliveryFailed,
    Envelope,
    HandsOver,
    NotHandedOver,
    Readiness,
    Receipt,
    Sender,
)
from bot.delivery.settings import DeliverySettings
from storage import Database, OutboundMessage
from storage.outbox_claims import claim_due, put_back, put_back_alike, release_claims, renew_claims
from storage.outbox_sends import begin_send, mark_failed, mark_sent
from storage.outbox_threads import SUPERSEDED, WAITS, thread_turn
from workflows.notices import CHANNEL_PREFIX
from workflows.stages import redeem_links

logger = logging.getLogger(__name__)

T = TypeVar("T")

Delivered = Callable[[OutboundMessage, Receipt], None]
"""Called (in a worker thread) after a message is recorded as sent: reminders start from there."""
Undeliverable = Callable[[OutboundMessage, DeliveryFailed], None]
"""Called (in a worker thread) after a message is recorded as failed for good: an admin's prompt that
reached nobody is told to the others."""
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
        self._on_delivered = on_delivered
        self._on_progress = on_progress
        self._on_undeliverable = on_undeliverable
        self._heartbeat_sleep = heartbeat_sleep
        self._readiness = sender if isinstance(sender, Readiness) else None
        self.name = name or f"worker-{uuid.uuid4().hex[:12]}"
        self.pacer = AdaptivePacer(self._settings, clock, self._paced)
        self._pace_waits = 0
        """How many times the pacer waited: a batch's readiness answers hold until it does (`_settle_all`)."""
        self._held: set[int] = set()
        self._waiting = 0
        """How many of the batch were given back to wait for an older version (`thread_turn`): not handled."""
        self._moved: set[str] = set()
        self._given_up: Counter[tuple[str, str]] = Counter()
        """The batch's messages failed for good, by kind and code: logged once a batch, as counts."""
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
        self._held = {message.id for message in claimed if message.id is not None}
        self._waiting = 0
        heartbeat = asyncio.create_task(self._heartbeat()) if claimed else None
        try:
            try:
                await self._settle_all(await self._hold_back(claimed))
            except (Exception, asyncio.CancelledError) as failure:  # cancelled: a stop past its bound
                await self._give_back_rest(failure)
                raise
            await self._give_back_rest(None)
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
            self._held = set()
            self._warn_given_up()
        await self._report(idle=not claimed)
        return len(claimed) - self._waiting

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

        directs = _directs_by_migration(ready)
        put_back_now: set[int | None] = set()
        # the answers `_hold_back` just had stand until the batch waits (for a room or a turn): the
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
                        alike = directs.get(_migration_of_direct(message), [])
                        try:
                            held = await self._no_longer_ready(message, (m for i, m in alike if i > index))
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

    async def _hold_back(self, claimed: list[OutboundMessage]) -> list[OutboundMessage]:
        """Put back the messages the sender is not ready for (`Readiness`), before any send of the batch;
        the others, to send. Held, a message takes neither a slot of `concurrency` nor a turn of the pace
        that the ready ones (another surface's, beside it) would wait for, and is due again as long after
        the sender's answer as it said, not that long after the batch's sends end.

        Asking failing (the database gone while routing a message), or the batch cancelled meanwhile, those
        found not ready until then are put back all the same, a failure to put them back noted on the one
        raised; `run_once` gives back the rest."""
        if self._readiness is None:
            return claimed
        ready: list[OutboundMessage] = []
        unready: list[tuple[OutboundMessage, DeliveryFailed]] = []
        try:
            for message in claimed:
                why = await self._not_ready(message)
                if why is None:
                    ready.append(message)
                else:
                    unready.append((message, why))
        except (Exception, asyncio.CancelledError) as failure:
            try:
                await self._put_back(unready)
            except Exception as also:  # the database gone for both: the first is the one to raise
                failure.add_note(
                    f"putting back the messages found not ready failed too ({type(also).__name__})"
                )
            raise
        await self._put_back(unready)
        return ready

    async def _no_longer_ready(
        self, message: OutboundMessage, alike: Iterable[OutboundMessage]
    ) -> set[int | None]:
        """Asked again right before its turn (the batch's pace since the first answer may be minutes): a
        message the sender is no longer ready for is put back now, due again when it said, not sent to
        fail after a turn that the ready ones wait for. The answer for a direct message holds for its
        migration's (`Readiness`): `alike`, those of the batch not begun, go back with it. The ids put
        back; none when it is ready."""
        why = await self._not_ready(message)
        if why is None:
            return set()
        held = [message, *alike]
        await self._put_back([(each, why) for each in held])
        return {each.id for each in held}

    async def _not_ready(self, message: OutboundMessage) -> DeliveryFailed | None:
        """Why the sender cannot take the message yet (`Readiness`)."""
        if self._readiness is None:
            return None
        try:
            to = addressee_of(message)
        except (KeyError, TypeError, ValueError):  # unreadable: its send fails it for good
            return None
        return await self._readiness.not_ready(message.migration_id, to)

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
        moved, self._moved, self._reported_at = self._moved, set(), now
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
        await self._send(message, started)
        # settled, or taken over: no claim to give back; a send that raised may not have begun, and
        # `release_claims` leaves it if it had
        self._held.discard(message.id)

    async def _put_back(self, unready: list[tuple[OutboundMessage, DeliveryFailed]]) -> None:
        """Put back the messages the sender was not ready for, due again when it said, uncounted: one
        statement for those held for the same reason, and one for the direct messages of their migrations
        due meanwhile, unclaimed (`Readiness`: the answer is theirs too), so thousands held cost no claim
        each and the messages queued behind them (another surface's) are claimed next. A message already
        waiting for that reason has not moved: the live reports are not refreshed for it every time it
        comes due."""
        now = self._clock()
        alike: dict[tuple[str, str], list[tuple[OutboundMessage, DeliveryFailed]]] = {}
        for message, why in unready:
            alike.setdefault((why.code, why.reason), []).append((message, why))
        for (code, reason), held in alike.items():
            messages = [message for message, _ in held]
            ids = [message.id for message in messages if message.id is not None]
            # The shortest wait told: none is held longer than its sender asked, and one due sooner than it
            # said is only asked again. A sender's wait may shrink from one message to the next (Slack's
            # runs to its next read try, on a monotonic clock): `now` is read after every answer (and before
            # any send), so the shortest still ends at that try.
            until = now + timedelta(seconds=min(why.later or NOT_READY_SECONDS for _, why in held))
            reason_changed = await asyncio.to_thread(
                put_back, self._database, ids, worker=self.name, until=until, code=code, reason=reason
            )
            self._held.difference_update(ids)
            direct = {
                migration for message in messages if (migration := _migration_of_direct(message)) is not None
            }
            migrations_changed = (
                await asyncio.to_thread(
                    put_back_alike,
                    self._database,
                    direct,
                    not_to=CHANNEL_PREFIX,
                    now=now,
                    until=until,
                    code=code,
                    reason=reason,
                )
                if direct
                else set()
            )
            self._moved |= _organizations(
                m for m in messages if m.id in reason_changed or m.migration_id in migrations_changed
            )

    async def _envelope(self, message: OutboundMessage) -> Envelope | None:
        """What to send, the recipient's own link read only now that the claim holds; None when the
        payload is unreadable (then the message failed for good)."""
        try:
            accept_url = None
            if redeem_links.offered(message.recipient, message.payload):  # no thread nor query for the rest
                accept_url = await asyncio.to_thread(redeem_links.for_list, self._database, message.payload)
            return envelope_of(message, accept_url=accept_url)
        except (KeyError, TypeError, ValueError) as error:
            unreadable = DeliveryFailed("bad_payload", f"unreadable message: {error}", permanent=True)
            await self._failed(message, unreadable)
            return None

    async def _send(self, message: OutboundMessage, started: datetime) -> None:
        assert message.id is not None
        if await self._not_its_turn(message):
            return
        patience = self._settings.patience.total_seconds()
        waited = 0.0
        envelope: Envelope | None = None
        while True:
            if not await self._begin_send(message.id):
                logger.info("outbox message %s: the claim ran out before sending; not sent", message.id)
                return
            envelope = envelope or await self._envelope(message)
            if envelope is None:
                return
            try:
                receipt = await self._sender.send(envelope)
            except NotHandedOver:
                await self._not_handed_over(message)
                return
            except DeliveryFailed as failure:
                wait = failure.retry_after
                if wait is not None:
                    self.pacer.rejected(started, wait)
                    if waited + wait <= patience:
                        waited += wait
                        turn = await self._turn(message.recipient)
                        if turn is not None:
                            started = turn
                            continue
                await self._failed(message, failure)  # stopped meanwhile: due again after the 429's wait
                return
            except Exception:  # an unexpected bug must not leave the message claimed until the lease ends
                reference = uuid.uuid4().hex[:8]
                logger.exception("sending outbox message %s failed (log ref %s)", message.id, reference)
                unexpected = DeliveryFailed(
                    "internal_error", f"internal error; see log ref {reference}", maybe_delivered=True
                )
                await self._failed(message, unexpected)
                return
            self.pacer.accepted()
            await self._sent(message, receipt)
            return

    async def _not_handed_over(self, message: OutboundMessage) -> None:
        """Stopping, the send never reached the platform: due again at once and uncounted, for the next
        process, and no longer `in_flight`, which would make that process take it for possibly delivered."""
        assert message.id is not None
        await asyncio.to_thread(
            mark_failed,
            self._database,
            message.id,
            worker=self.name,
            now=self._clock(),
            error="",
            retry_after=timedelta(0),
            max_attempts=self._settings.max_attempts,
            counted=False,
        )

    async def _not_its_turn(self, message: OutboundMessage) -> bool:
        """Whether the message is one version of a message to its recipient that must not go now
        (`thread_turn`): given up when a newer version is queued or sent, given back while an older one
        is being sent (by another replica's worker)."""
        thread = message.payload.get("updates")
        if not isinstance(thread, str) or not thread or message.id is None:
            return False
        turn = await asyncio.to_thread(
            thread_turn,
            self._database,
            message.id,
            worker=self.name,
            recipient=message.recipient,
            kind=message.kind,
            thread=thread,
        )
        if turn == SUPERSEDED:
            logger.info("outbox message %s not sent: a newer version of it is queued or sent", message.id)
        elif turn == WAITS:
            self._waiting += 1
            waits = "waits for the version before it being sent"
            first = await asyncio.to_thread(
                put_back,
                self._database,
                [message.id],
                worker=self.name,
                until=self._clock(),
                code=WAITS,
                reason=waits,
            )
            if first:  # not again each poll until that send ends
                logger.info("outbox message %s %s", message.id, waits)
        return turn is not None

    def _warn_given_up(self) -> None:
        """One WARNING per kind and code of the batch's messages failed for good, with how many and where
        to find who: never an address (`progress` lists who, its CSV their addresses; DEBUG names each)."""
        for (kind, code), count in sorted(self._given_up.items()):
            logger.warning(
                "%d %s message(s) not delivered, not retried (%s): `progress` lists who, its CSV their"
                " addresses (`retry-failed` tries them again)",
                count,
                kind,
                code,
            )
        self._given_up.clear()

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
            mark_sent,
            self._database,
            message.id,
            worker=self.name,
            now=self._clock(),
            ref=receipt.ref,
            unconfirmed=receipt.unconfirmed,
        )
        if recorded:
            self._moved |= _organizations([message])
        if recorded and self._on_delivered is not None:
            try:
                await asyncio.to_thread(self._on_delivered, message, receipt)
            except Exception:  # the message is out; a reminder schedule failing must not undo that
                logger.exception("after delivering outbox message %s", message.id)

    async def _failed(self, message: OutboundMessage, failure: DeliveryFailed) -> None:
        assert message.id is not None
        # rate limited, or the sender not ready: nothing was tried, so nothing counts
        pause = failure.retry_after if failure.retry_after is not None else failure.later
        wait = (
            timedelta(seconds=pause)
            if pause is not None
            else self._settings.backoff * 2 ** max(message.attempts - 1, 0)
        )
        left = await asyncio.to_thread(
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
            counted=pause is None,
        )
        if left is not None:
            self._moved |= _organizations([message])
        # given up, at once or after its last counted try, as `mark_failed` decided: whatever the kind of
        # failure, the admins waiting on it are told, so the hook follows the row ending `failed`
        if left == "failed":
            # one WARNING a batch counts them (`_warn_given_up`): at 20,000 people an outage or a workspace
            # that lacks them would be 20,000 lines, each with an address; who is at DEBUG
            logger.debug(
                "%s to %s not delivered, not retried: %s (%s)",
                message.kind,
                message.recipient,
                failure.reason,
                failure.code,
            )
            self._given_up[(message.kind, failure.code)] += 1
            if self._on_undeliverable is not None:
                try:
                    await asyncio.to_thread(self._on_undeliverable, message, failure)
                except Exception:  # the failure is recorded; telling the admins failing must not undo that
                    logger.exception("after outbox message %s failed for good", message.id)
        elif failure.later is None:  # a sender not ready says why once, not once per message
            logger.info("outbox message %s not delivered: %s", message.id, failure.code)


def _organizations(messages: Iterable[OutboundMessage]) -> set[str]:
    """The organizations whose progress the messages are part of: what the live reports refresh."""
    return {str(m.payload.get("organization")) for m in messages} - {"None"}


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


def _directs_by_migration(
    messages: list[OutboundMessage],
) -> dict[int | None, list[tuple[int, OutboundMessage]]]:
    """The direct messages of each migration among `messages`, with their index: a direct message held at
    its turn takes the later ones of its migration along, so each migration's are looked through once."""
    directs: dict[int | None, list[tuple[int, OutboundMessage]]] = {}
    for index, message in enumerate(messages):
        if (migration := _migration_of_direct(message)) is not None:
            directs.setdefault(migration, []).append((index, message))
    return directs


def _what_failed(halted: str | None, failures: int) -> str:
    """What a batch's `failures` were, the first of them `halted` unless None, as the log says it."""
    said = [halted] if halted is not None else []
    if sends := failures - len(said):
        said.append(f"{sends} send(s) of its batch")
    return " and ".join(said)


def _migration_of_direct(message: OutboundMessage) -> int | None:
    """The migration a direct message was sent for (its sender's readiness answer holds for the migration's
    others), or None: a channel's, or no migration's."""
    return None if message.recipient.startswith(CHANNEL_PREFIX) else message.migration_id
