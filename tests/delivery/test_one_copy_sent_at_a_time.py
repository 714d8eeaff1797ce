"""Versions of one message (`updates`: a progress line, an approval prompt) are sent one at a time. With
two replicas, one worker's copy of version 1 may still be on its way to Slack (no copy recorded yet)
when the other claims version 2: sent then, it would post a second message instead of updating the first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.conversation.messages import Channel, Message, Outgoing, Text
from bot.delivery.outboxes import BackgroundOutbox
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from storage import Database, OutboundMessage
from storage.outbox import begin_send, claim_due, mark_sent
from tests.delivery.conftest import FakeTime

LEASE = DeliverySettings().lease


class Recording:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, envelope: Envelope) -> Receipt:
        self.sent.append(envelope.message.summary)
        return Receipt(f"C-ADMINS/{len(self.sent)}")


def _version(text: str) -> Outgoing:
    return Outgoing(Message(text, (Text(text),)), Channel("C-ADMINS"), updates="progress:migration-1-step-2")


def _statuses(database: Database) -> list[tuple[str, bool]]:
    with database.session() as session:
        rows = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()  # type: ignore[arg-type]
        return [(row.status, row.in_flight) for row in rows]


def test_a_version_waits_while_another_worker_sends_the_one_before(
    database: Database, time: FakeTime
) -> None:
    outbox = BackgroundOutbox(database, clock=time)
    outbox.show(_version("Inviting 400 users: 40 done so far…"))
    [first] = claim_due(database, worker="replica-a", now=time.now, lease=LEASE)
    assert first.id is not None
    assert begin_send(database, first.id, worker="replica-a", now=time.now, lease=LEASE)  # on its way
    outbox.show(_version("Inviting 400 users: 80 done so far…"))  # cannot give up one on its way
    sender = Recording()
    other = OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=DeliverySettings())

    asyncio.run(other.run_once())

    assert sender.sent == []
    assert _statuses(database) == [("pending", True), ("pending", False)]
    assert mark_sent(database, first.id, worker="replica-a", now=time.now, ref="C-ADMINS/1")
    time.now += timedelta(seconds=2)  # the next poll: the version given back is due at once

    asyncio.run(other.drain())

    assert sender.sent == ["Inviting 400 users: 80 done so far…"]
    assert _statuses(database) == [("sent", False), ("sent", False)]
