"""Told to stop, the worker waits for the messages already handed to the platform and gives back those that
were not yet: only a request still unanswered at the end of the time to stop could be left uncertain."""

from __future__ import annotations

import asyncio

from bot.delivery.sender import Envelope, NotHandedOver, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from storage import Database
from storage.outbox import messages_of
from tests.delivery.conftest import FakeTime, queue_lists

HANDED, WAITING = "ann@fabrikam.com", "bob@fabrikam.com"


class SlowPlatform:
    """Hands Ann's message over at once and answers it when the test says (`answer`); Bob's send is still
    on its way to its handover (a conversation being created) when the test says (`go_on`)."""

    def __init__(self) -> None:
        self.stopped = False
        self.both_begun = asyncio.Event()
        self.answer = asyncio.Event()
        self.go_on = asyncio.Event()
        self.handed_over: list[str] = []
        self._begun = 0

    def stop_handing_over(self) -> None:
        self.stopped = True

    async def send(self, envelope: Envelope) -> Receipt:
        self._begun += 1
        if self._begun == 2:
            self.both_begun.set()
        if HANDED not in envelope.key:
            await self.go_on.wait()
        if self.stopped:
            raise NotHandedOver()
        self.handed_over.append(envelope.key)
        if HANDED in envelope.key:
            await self.answer.wait()
        return Receipt(f"posted/{envelope.key}")


def test_a_stop_waits_for_the_message_handed_over_and_gives_back_the_one_not_yet(
    database: Database, time: FakeTime
) -> None:
    migration = queue_lists(database, [HANDED, WAITING], time.now)
    with database.session() as session:  # keyed by whom, so the platform can tell them apart
        for message in messages_of(database, migration):
            message.idempotency_key = f"{message.id}-{message.recipient}"
            session.add(message)
        session.commit()
    platform = SlowPlatform()
    worker = OutboxWorker(
        database, platform, clock=time, sleep=time.sleep, settings=DeliverySettings(concurrency=4)
    )

    async def stopped_mid_batch() -> None:
        running = asyncio.create_task(worker.run_forever(2.0))
        await platform.both_begun.wait()
        worker.stop()  # SIGTERM: Ann's is on its way to the platform, Bob's not yet
        platform.go_on.set()
        platform.answer.set()
        await asyncio.wait_for(running, timeout=10)  # bounded for the wrong behaviour only

    asyncio.run(stopped_mid_batch())
    ann, bob = messages_of(database, migration)
    assert (ann.status, ann.in_flight, ann.uncertain) == ("sent", False, False)
    assert (bob.status, bob.in_flight, bob.uncertain) == ("pending", False, False)
    assert (bob.attempts, bob.claimed_by, bob.error_code, bob.not_before) == (0, None, None, time.now)
    assert platform.handed_over == [ann.idempotency_key]
