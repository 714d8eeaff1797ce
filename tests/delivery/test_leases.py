"""A crash costs seconds, not a lease: live workers keep their claims, a dead one's are taken over soon."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.delivery.sender import Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from storage import Database, OutboundMessage
from storage.outbox_claims import claim_due
from tests.delivery.conftest import FakeTime, people, queue_lists, slack_sender, worker
from tests.fakes.slack_api import FakeSlack
from tests.workflows.fakes import ProcessKilled

TAKEOVER = timedelta(seconds=30)
"""The issue's bound: a dead worker's claims are taken over within about this long."""


def _statuses(database: Database) -> list[str]:
    with database.session() as session:
        return [row.status for row in session.exec(select(OutboundMessage).order_by(OutboundMessage.id))]  # type: ignore[arg-type]


def test_a_killed_workers_claims_are_taken_over_within_30_seconds_and_sent_once(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    queue_lists(database, people(fake_slack, 20), time.now)

    class DiesOnThirdSend:
        def __init__(self) -> None:
            self.sent = 0
            self.real = slack_sender(fake_slack)

        async def send(self, envelope: Envelope) -> Receipt:
            if self.sent == 2:
                raise ProcessKilled  # kill -9: nothing after this runs, nothing is released
            self.sent += 1
            return await self.real.send(envelope)

    doomed = OutboxWorker(
        database, DiesOnThirdSend(), clock=time, sleep=time.sleep, settings=DeliverySettings(concurrency=1)
    )
    with pytest.raises(ProcessKilled):
        asyncio.run(doomed.run_once())
    killed_at = time.now
    assert _statuses(database).count("sent") == 2  # the rest of its batch of 20 is still claimed

    restarted = worker(database, fake_slack, time, rate=50.0)
    assert asyncio.run(restarted.drain()) == 0  # the dead worker's claims still hold for a moment
    time.now = killed_at + DeliverySettings().lease
    assert DeliverySettings().lease <= TAKEOVER
    assert asyncio.run(restarted.drain()) == 18

    assert _statuses(database) == ["sent"] * 20
    assert all(len(fake_slack.posts_to(f"DU{number:05d}")) == 1 for number in range(20))


def test_a_live_worker_keeps_its_claims_while_slack_is_slow(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    """Each send takes 8 s of the clock: the batch outlives the 20 s lease, the heartbeat keeps it."""
    queue_lists(database, people(fake_slack, 6), time.now)
    stolen: list[int] = []

    class SlowSlack:
        def __init__(self) -> None:
            self.real = slack_sender(fake_slack)

        async def send(self, envelope: Envelope) -> Receipt:
            for _ in range(4):
                await asyncio.sleep(0.02)  # the heartbeat runs meanwhile
                time.now += timedelta(seconds=2)
                taken = await asyncio.to_thread(
                    claim_due, database, worker="thief", now=time.now, lease=timedelta(seconds=20)
                )
                stolen.extend(message.id for message in taken if message.id is not None)
            return await self.real.send(envelope)

    async def beat(seconds: float) -> None:
        await asyncio.sleep(0.01)  # real time, so the renewals interleave with the slow sends

    slow = OutboxWorker(
        database,
        SlowSlack(),
        clock=time,
        sleep=time.sleep,
        settings=DeliverySettings(concurrency=1),
        heartbeat_sleep=beat,
    )
    started = time.now
    assert asyncio.run(slow.run_once()) == 6

    assert time.now - started >= timedelta(seconds=48) > DeliverySettings().lease
    assert stolen == []
    assert _statuses(database) == ["sent"] * 6
    assert len(fake_slack.calls_of("chat.postMessage")) == 6
