"""A running worker looks again when its idle wait ends, woken or not: that is how `serve` finds what
nothing woke it for (another process's lists, a `not_before` come due, a lease run out)."""

from __future__ import annotations

import asyncio

from bot.delivery.sender import Envelope, Receipt
from bot.delivery.worker import OutboxWorker
from storage import Database
from tests.delivery.conftest import FakeTime, queue_lists


class Posts:
    """A platform that posts at once."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    async def send(self, envelope: Envelope) -> Receipt:
        self.keys.append(envelope.key)
        return Receipt(f"posted/{envelope.key}")


class Idle:
    """Idle waits that say they began (`waiting`, with how long they were asked for) and end only when the
    test lets them (`over`): the service's 2 s between looks, with no clock to wait on."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.waiting = asyncio.Event()
        self.over = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.waiting.set()
        await self.over.wait()
        self.over.clear()


def test_a_list_queued_while_the_worker_is_idle_with_no_wake_is_sent_once_the_idle_wait_ends(
    database: Database, time: FakeTime
) -> None:
    platform, idle = Posts(), Idle()
    worker = OutboxWorker(database, platform, clock=time, sleep=idle.sleep, name="only")

    async def idle_then_queued() -> None:
        running = asyncio.create_task(worker.run_forever(2.0))
        await idle.waiting.wait()  # it looked, found nothing, and waits
        idle.waiting.clear()
        queue_lists(database, ["ann@fabrikam.com"], time.now)  # as another process does: no `wake()`
        idle.over.set()
        # a second idle wait begins only after the look that found the list; bounded for the wrong
        # behaviour only (the worker never looking again), the right one ends in milliseconds
        await asyncio.wait_for(idle.waiting.wait(), timeout=10)
        worker.stop()
        await running

    asyncio.run(idle_then_queued())
    assert idle.asked == [2.0, 2.0]
    assert len(platform.keys) == 1
