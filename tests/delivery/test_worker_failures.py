"""A batch that fails part-way: nothing the worker started runs on once `run_once` has ended, every claimed
message is settled or comes free when its lease runs out, and none is posted twice."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

import bot.delivery.settling
import bot.delivery.worker
from bot.conversation.messages import DirectMessage
from bot.delivery.sender import DeliveryFailed, Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from storage import Database, OutboundMessage
from storage.outbox_sends import mark_sent
from tests.delivery.conftest import FakeTime, queue_lists
from tests.storage.databases import SQLITE_ONLY
from tests.workflows.fakes import ProcessKilled

SETTINGS = DeliverySettings(concurrency=2, max_rate_per_second=10.0, initial_rate_per_second=10.0)
EMAILS = [f"user{number}@fabrikam.com" for number in range(3)]


class Platform:
    """Posts by idempotency key, in the order they happened; a post that may have got through before
    (`check_first`) is looked for first, as the real platforms do. A send to someone in `stalled` posts,
    then says so (`stalls`) and waits for `answer` before it returns (an answer slow to come back). One
    that `dies` takes the process with it at the first send."""

    def __init__(self, stalled: set[str] | None = None, *, dies: bool = False) -> None:
        self.posts: list[str] = []
        self.stalled = stalled or set()
        self.stalls = asyncio.Semaphore(0)
        self.stalled_once = threading.Event()
        """Set by the first stalled send, for code off the event loop (recording a send runs in a thread)."""
        self.answer = asyncio.Event()
        self._dies = dies

    async def send(self, envelope: Envelope) -> Receipt:
        if self._dies:
            raise ProcessKilled
        if not (envelope.check_first and envelope.key in self.posts):
            self.posts.append(envelope.key)
        if isinstance(envelope.to, DirectMessage) and envelope.to.email in self.stalled:
            self.stalls.release()
            self.stalled_once.set()
            await self.answer.wait()
        return Receipt(f"posted/{envelope.key}")


def _rows(database: Database) -> list[OutboundMessage]:
    with database.session() as session:
        return list(session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all())  # type: ignore[arg-type]


def _worker(database: Database, platform: Platform, time: FakeTime) -> OutboxWorker:
    return OutboxWorker(database, platform, clock=time, sleep=time.sleep, settings=SETTINGS, name="first")


def _others() -> set[asyncio.Task[Any]]:
    """The tasks of the running loop besides the test's own: whatever the worker left running."""
    return asyncio.all_tasks() - {asyncio.current_task()}


def _after_the_lease(database: Database, time: FakeTime, platform: Platform) -> None:
    """A worker that starts once the first one's leases ran out takes over what is left, and every
    message ends posted exactly once."""
    time.now += SETTINGS.lease * 2
    platform.stalled = set()
    asyncio.run(OutboxWorker(database, platform, clock=time, sleep=time.sleep, settings=SETTINGS).drain())
    assert sorted(platform.posts) == sorted({row.idempotency_key for row in _rows(database)})
    assert [row.status for row in _rows(database)] == ["sent"] * len(EMAILS)


def _failing_to_record(
    monkeypatch: pytest.MonkeyPatch, failing: set[int], *, once: threading.Event | None = None
) -> None:
    """Recording the send of the messages `failing` (ids) fails as a lost database connection does, `once`
    it is set when given: a failure that must come while another send is under way waits for it (the worker
    starts no send after a failure, and a quick one could otherwise come before the next send starts)."""

    def record(database: Database, message_id: int, **options: Any) -> bool:
        if message_id in failing:
            if once is not None:
                assert once.wait(timeout=30), "the send that should be under way never started"
            raise OperationalError(
                "UPDATE outboundmessage", {}, ConnectionError("server closed the connection")
            )
        return mark_sent(database, message_id, **options)

    monkeypatch.setattr(bot.delivery.settling, "mark_sent", record)


def test_a_database_error_recording_a_send_lets_the_sends_under_way_finish_and_gives_back_the_rest(
    database: Database, time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rest kept their claims until the lease ran out, each counting an attempt never made, though
    the database took the claims' give-back as it took the sends' beginnings."""
    queue_lists(database, EMAILS, time.now)
    platform = Platform(stalled={EMAILS[1]})
    _failing_to_record(monkeypatch, {1}, once=platform.stalled_once)
    settle = OutboxWorker._settle

    async def answered_once_the_first_failed(
        worker: OutboxWorker, message: OutboundMessage, *when: Any
    ) -> None:
        try:
            await settle(worker, message, *when)
        finally:
            if message.id == 1:
                platform.answer.set()

    monkeypatch.setattr(OutboxWorker, "_settle", answered_once_the_first_failed)

    async def batch() -> None:
        with pytest.raises(OperationalError):
            await _worker(database, platform, time).run_once()
        assert _others() == set()

    asyncio.run(batch())
    first, second, third = _rows(database)
    assert (first.status, first.in_flight) == ("pending", True)  # posted, not recorded: looked for next time
    assert second.status == "sent"  # under way when the first failed: it finished and was recorded
    assert (third.status, third.in_flight, third.claimed_by, third.attempts) == ("pending", False, None, 0)
    assert sorted(platform.posts) == [first.idempotency_key, second.idempotency_key]

    monkeypatch.undo()
    _after_the_lease(database, time, platform)


def test_the_rest_of_a_failed_batch_keeps_its_claims_when_giving_them_back_fails_too(
    database: Database, time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database gone for both: the first failure is raised, the other noted on it, and the lease
    frees the claims."""
    queue_lists(database, EMAILS, time.now)
    platform = Platform()
    _failing_to_record(monkeypatch, {1})

    def gone(*_: object, **__: object) -> int:
        raise OperationalError("UPDATE outboundmessage", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(bot.delivery.worker, "release_claims", gone)
    one_at_a_time = DeliverySettings(concurrency=1)
    worker = OutboxWorker(
        database, platform, clock=time, sleep=time.sleep, settings=one_at_a_time, name="first"
    )

    with pytest.raises(OperationalError, match="UPDATE outboundmessage") as raised:
        asyncio.run(worker.run_once())
    assert raised.value.__notes__ == ["giving back the claims not begun failed too (OperationalError)"]
    assert [(row.in_flight, row.claimed_by) for row in _rows(database)] == [
        (True, "first"),
        (False, "first"),
        (False, "first"),
    ]

    monkeypatch.undo()
    _after_the_lease(database, time, platform)


def test_two_sends_failing_raise_one_error_that_counts_the_other(
    database: Database, time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_lists(database, EMAILS, time.now)
    platform = Platform(stalled={EMAILS[0], EMAILS[1]})
    _failing_to_record(monkeypatch, {1, 2})

    async def batch() -> None:
        """Both sends are under way before either records (a failure seen first would stop the second)."""
        sending = asyncio.create_task(_worker(database, platform, time).run_once())
        for _ in range(2):
            await platform.stalls.acquire()
        platform.answer.set()
        await sending

    with pytest.raises(OperationalError) as raised:
        asyncio.run(batch())
    assert raised.value.__notes__ == ["other sends of this batch that failed too: 1 (OperationalError)"]
    assert len(platform.posts) == 2  # the third never started

    monkeypatch.undo()
    _after_the_lease(database, time, platform)


def test_a_worker_cancelled_mid_batch_cancels_its_sends_leaves_none_running_and_gives_back_the_rest(
    database: Database, time: FakeTime
) -> None:
    """Cancelled (the service stopping past its time), it left the messages never begun claimed until
    the lease ran out: the next process waited that long for them."""
    queue_lists(database, EMAILS, time.now)
    platform = Platform(stalled=set(EMAILS))  # posted, and no answer comes back

    async def stopped() -> None:
        running = asyncio.create_task(_worker(database, platform, time).run_once())
        for _ in range(SETTINGS.concurrency):
            await platform.stalls.acquire()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert _others() == set()

    asyncio.run(stopped())
    assert [(row.status, row.in_flight, row.claimed_by) for row in _rows(database)] == [
        ("pending", True, "first"),  # may have been posted: looked for once the lease runs out
        ("pending", True, "first"),
        ("pending", False, None),  # never begun: given back, for the next process to take at once
    ]
    _after_the_lease(database, time, platform)


def test_a_send_killed_mid_batch_leaves_no_task_exception_unretrieved(
    database: Database, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    queue_lists(database, EMAILS, time.now)
    platform = Platform(dies=True)

    async def never_wakes(seconds: float) -> None:
        raise ProcessKilled  # the pacing waits for the next send: the process is gone by then

    one_at_a_time = DeliverySettings(concurrency=1)
    doomed = OutboxWorker(database, platform, clock=time, sleep=never_wakes, settings=one_at_a_time)
    with caplog.at_level(logging.ERROR, logger="asyncio"), pytest.raises(ProcessKilled):
        asyncio.run(doomed.run_once())
    del doomed
    gc.collect()  # an exception never retrieved is logged when its task is collected
    assert [record.getMessage() for record in caplog.records if record.name == "asyncio"] == []
    assert [row.in_flight for row in _rows(database)] == [True, False, False]


class PacingBroke(Exception):
    """The wait for the next send's turn failed (the clock or the loop gone wrong)."""


def test_pacing_that_fails_is_raised_once_the_send_under_way_ends_with_that_sends_failure_noted(
    database: Database, time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_lists(database, EMAILS, time.now)
    platform = Platform(stalled={EMAILS[0]})
    _failing_to_record(monkeypatch, {1})

    async def broken_pacing(seconds: float) -> None:
        platform.answer.set()  # the first send, under way meanwhile, comes back and fails to be recorded
        raise PacingBroke

    worker = OutboxWorker(database, platform, clock=time, sleep=broken_pacing, settings=SETTINGS)

    async def batch() -> None:
        with pytest.raises(PacingBroke) as failure:
            await worker.run_once()
        assert failure.value.__notes__ == ["sends of this batch that failed too: 1 (OperationalError)"]
        assert _others() == set()

    asyncio.run(batch())
    assert platform.posts == [_rows(database)[0].idempotency_key]  # the first send alone started
    assert [(row.status, row.in_flight) for row in _rows(database)] == [
        ("pending", True),
        ("pending", False),
        ("pending", False),
    ]
    monkeypatch.undo()  # the database is back
    _after_the_lease(database, time, platform)


def test_a_failure_before_the_service_stops_is_logged_since_nobody_is_left_to_raise_it_to(
    database: Database, time: FakeTime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    queue_lists(database, EMAILS, time.now)
    platform = Platform(stalled={EMAILS[1]})
    _failing_to_record(monkeypatch, {1}, once=platform.stalled_once)
    settle = OutboxWorker._settle
    first_failed = asyncio.Event()

    async def noting_the_first(worker: OutboxWorker, message: OutboundMessage, *when: Any) -> None:
        try:
            await settle(worker, message, *when)
        finally:
            if message.id == 1:
                first_failed.set()

    monkeypatch.setattr(OutboxWorker, "_settle", noting_the_first)

    async def stopped_after_the_failure() -> None:
        running = asyncio.create_task(_worker(database, platform, time).run_once())
        await platform.stalls.acquire()  # the second send is under way
        await first_failed.wait()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert _others() == set()

    with caplog.at_level(logging.ERROR, logger="bot.delivery.worker"):
        asyncio.run(stopped_after_the_failure())
    (logged,) = [record for record in caplog.records if record.name == "bot.delivery.worker"]
    assert logged.getMessage() == "the outbox worker stopped after 1 send(s) of its batch failed"
    assert logged.exc_info is not None and logged.exc_info[0] is OperationalError
    assert [(row.status, row.in_flight) for row in _rows(database)] == [
        ("pending", True),
        ("pending", True),
        ("pending", False),
    ]


def test_a_worker_stopped_mid_batch_finishes_the_sends_under_way_and_gives_back_the_rest_at_once(
    database: Database, time: FakeTime
) -> None:
    queue_lists(database, EMAILS, time.now)
    platform = Platform(stalled=set(EMAILS))  # posted, and the answer comes once the worker is told to stop

    async def stopped() -> None:
        worker = _worker(database, platform, time)
        running = asyncio.create_task(worker.run_forever(idle_seconds=2.0))
        for _ in range(SETTINGS.concurrency):
            await platform.stalls.acquire()
        worker.stop()
        platform.answer.set()
        await running
        assert _others() == set()

    asyncio.run(stopped())
    first, second, third = _rows(database)
    assert [first.status, second.status] == ["sent", "sent"]
    assert (third.status, third.claimed_by, third.attempts) == ("pending", None, 0)  # free, no attempt spent
    assert len(platform.posts) == 2
    # the next process takes the third at once, without waiting for a lease to run out
    asyncio.run(OutboxWorker(database, platform, clock=time, sleep=time.sleep, settings=SETTINGS).drain())
    assert sorted(platform.posts) == sorted(row.idempotency_key for row in _rows(database))


class Idle:
    """An idle wait that says when it began and ends only when cancelled (the service's wait between
    looks), and a report refresh that waits for `reported` (a slow read of a big migration's progress)."""

    def __init__(self) -> None:
        self.waiting = asyncio.Event()
        self.reported = asyncio.Event()
        self.refreshes: list[str] = []

    async def sleep(self, seconds: float) -> None:
        self.waiting.set()
        await asyncio.Event().wait()

    async def refresh(self, organizations: set[str]) -> None:
        try:
            await self.reported.wait()
            self.refreshes.append("done")
        except asyncio.CancelledError:
            self.refreshes.append("cancelled")
            raise


@pytest.mark.parametrize("ending", ["cancelled", "stopped"])
def test_a_worker_ended_while_idle_with_a_report_refresh_under_way_leaves_no_task_running(
    database: Database, time: FakeTime, ending: str
) -> None:
    """Cancelled, the refresh is cancelled with it; stopped (`stop`), the refresh is let finish."""
    queue_lists(database, EMAILS[:1], time.now)
    idle = Idle()
    worker = OutboxWorker(
        database, Platform(), clock=time, sleep=idle.sleep, settings=SETTINGS, on_progress=idle.refresh
    )

    async def ended() -> None:
        running = asyncio.create_task(worker.run_forever(2.0))
        await idle.waiting.wait()  # its one message sent, the report refresh under way beside the idle wait
        if ending == "cancelled":
            running.cancel()
        else:
            worker.stop()
            idle.reported.set()
        (outcome,) = await asyncio.gather(running, return_exceptions=True)
        assert isinstance(outcome, asyncio.CancelledError) == (ending == "cancelled")
        assert _others() == set()

    asyncio.run(ended())
    assert idle.refreshes == ["cancelled" if ending == "cancelled" else "done"]
    assert [row.status for row in _rows(database)] == ["sent"]


class Throttled:
    """Answers a platform's 429 (`Retry-After`) to the first post, and posts the others; nothing of the
    throttled post was sent."""

    RETRY_AFTER = 30.0

    def __init__(self) -> None:
        self.posts: list[str] = []
        self.throttled = False

    async def send(self, envelope: Envelope) -> Receipt:
        if not self.throttled:
            self.throttled = True
            raise DeliveryFailed("rate_limited", "rate limited", retry_after=self.RETRY_AFTER)
        self.posts.append(envelope.key)
        return Receipt(f"posted/{envelope.key}")


class HeldBack:
    """The pacing's waits, each of which says it began (`waits`) and ends only when cancelled: the worker
    is waiting out a 429 or its next turn when it is told to stop."""

    def __init__(self) -> None:
        self.waits = asyncio.Semaphore(0)

    async def sleep(self, seconds: float) -> None:
        self.waits.release()
        await asyncio.Event().wait()


def test_a_worker_stopped_while_waiting_out_a_rate_limit_ends_at_once_and_gives_both_messages_back(
    database: Database, time: FakeTime
) -> None:
    """The throttled send waits to go again, the next message waits for its turn: stopped, neither waits
    past the service's time to stop (to be cancelled there, the throttled message left `in_flight` for a
    look-up it does not need and both claimed until their lease runs out)."""
    queue_lists(database, EMAILS[:2], time.now)
    platform, held_back = Throttled(), HeldBack()
    worker = OutboxWorker(database, platform, clock=time, sleep=held_back.sleep, settings=SETTINGS)

    async def stopped() -> None:
        running = asyncio.create_task(worker.run_forever(idle_seconds=2.0))
        for _ in range(2):  # the throttled send's wait to go again, and the next one's for its turn
            await held_back.waits.acquire()
        worker.stop()
        await asyncio.wait_for(running, timeout=10)  # only reached when it waits on: the test fails then
        assert _others() == set()

    asyncio.run(stopped())
    throttled, next_one = _rows(database)
    due_again = time.now + timedelta(seconds=Throttled.RETRY_AFTER)
    assert (throttled.status, throttled.claimed_by, throttled.in_flight, throttled.uncertain) == (
        "pending",
        None,
        False,
        False,
    )
    assert (throttled.attempts, throttled.not_before) == (0, due_again)  # a 429 is no attempt
    assert (next_one.status, next_one.claimed_by, next_one.attempts) == ("pending", None, 0)
    assert platform.posts == []


@SQLITE_ONLY
def test_a_stopped_worker_claims_nothing_more(database: Database, time: FakeTime) -> None:
    """Not even to give it back at once: `drain` on it would claim and release the same batch for ever."""
    queue_lists(database, EMAILS[:1], time.now)
    platform = Platform()
    worker = _worker(database, platform, time)
    worker.stop()

    assert asyncio.run(asyncio.wait_for(worker.drain(), timeout=10)) == 0  # the bound: only if it loops
    (untouched,) = _rows(database)
    assert (untouched.claimed_by, untouched.attempts, untouched.version) == (None, 0, 1)
    assert platform.posts == []
