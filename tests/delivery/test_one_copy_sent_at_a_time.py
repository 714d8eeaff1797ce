"""Versions of one message (`updates`: a progress line, an approval prompt) are sent one at a time, and
never an older one after a newer one. With two replicas, one worker's copy of version 1 may still be on its
way to Slack (no copy recorded yet) when the other claims version 2: sent then, it would post a second
message instead of updating the first. And a version 1 whose replica died mid-send comes free once its
lease ends: sent then, after version 2, the line would go back to "… done so far" for good."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.conversation.messages import Channel, Message, Outgoing, Text
from bot.delivery.outboxes import BackgroundOutbox
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.teams.surface import DELIVERY as TEAMS
from storage import Database, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from storage.outbox_claims import claim_due
from storage.outbox_sends import begin_send, mark_sent
from storage.outbox_threads import SUPERSEDED, supersede, thread_turn
from tests.delivery.conftest import FakeTime
from tests.storage.databases import SQLITE_ONLY
from workflows.notices import APPROVAL_DECISION, APPROVAL_PROMPT

LEASE = DeliverySettings().lease


class Recording:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, envelope: Envelope) -> Receipt:
        await asyncio.sleep(0)  # a real post takes a round trip: the batch's other sends go meanwhile
        self.sent.append(envelope.message.summary)
        return Receipt(f"C-ADMINS/{len(self.sent)}")


def _version(text: str) -> Outgoing:
    return Outgoing(Message(text, (Text(text),)), Channel("C-ADMINS"), updates="progress:migration-1-step-2")


def _rows(database: Database) -> list[OutboundMessage]:
    with database.session() as session:
        return list(session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all())  # type: ignore[arg-type]


def _statuses(database: Database) -> list[tuple[str, bool]]:
    return [(row.status, row.in_flight) for row in _rows(database)]


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


def _died_sending_the_first(database: Database, time: FakeTime, outbox: BackgroundOutbox) -> int:
    """Version 1 queued, then replica A begins its send and is killed: it stays `in_flight`, claimed for
    one lease, and version 2 (queued next) cannot give it up."""
    outbox.show(_version("Inviting 400 users: 40 done so far…"))
    [first] = claim_due(database, worker="replica-a", now=time.now, lease=LEASE)
    assert first.id is not None
    assert begin_send(database, first.id, worker="replica-a", now=time.now, lease=LEASE)
    outbox.show(_version("Inviting 400 users: all done."))
    return first.id


@pytest.mark.parametrize(
    "settings",
    [DeliverySettings(), DeliverySettings(concurrency=4), TEAMS],
    ids=["slack", "slack-one-channel-four-at-once", "teams"],
)
def test_a_version_whose_sender_died_is_not_sent_after_the_next(
    database: Database, time: FakeTime, settings: DeliverySettings
) -> None:
    outbox = BackgroundOutbox(database, clock=time)
    _died_sending_the_first(database, time, outbox)
    sender = Recording()
    other = OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=settings)

    async def poll_for_a_minute() -> None:
        end = time.now + timedelta(seconds=60)
        while time.now < end:
            if not await other.run_once():
                await time.sleep(2)  # the idle poll

    asyncio.run(poll_for_a_minute())

    assert sender.sent == ["Inviting 400 users: all done."]
    assert _statuses(database) == [("superseded", False), ("sent", False)]


def test_a_version_taken_over_is_given_up_when_the_next_went_first(
    database: Database, time: FakeTime
) -> None:
    outbox = BackgroundOutbox(database, clock=time)
    first = _died_sending_the_first(database, time, outbox)
    time.now += LEASE + timedelta(seconds=1)
    # replica C takes version 1 over and stalls before sending it; version 2 goes meanwhile
    [taken] = claim_due(database, worker="replica-c", now=time.now, lease=LEASE, limit=1)
    assert taken.id == first
    sender = Recording()
    other = OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=DeliverySettings())
    asyncio.run(other.run_once())
    assert sender.sent == ["Inviting 400 users: all done."]
    time.now += LEASE + timedelta(seconds=1)  # C's lease ends: version 1 is free again

    asyncio.run(other.drain())

    assert sender.sent == ["Inviting 400 users: all done."]
    assert _statuses(database) == [("superseded", False), ("sent", False)]


POLL = 2.0
"""`run_forever`'s idle wait in `serve` (`OUTBOX_IDLE_SECONDS`)."""


class StopsOnceSent(Recording):
    """Stops `worker` after its first send: `run_forever` ends there."""

    def __init__(self) -> None:
        super().__init__()
        self.worker: OutboxWorker | None = None

    async def send(self, envelope: Envelope) -> Receipt:
        receipt = await super().send(envelope)
        assert self.worker is not None
        self.worker.stop()
        return receipt


def test_a_version_waiting_for_the_one_before_is_looked_at_each_poll_and_told_once(
    database: Database, time: FakeTime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = BackgroundOutbox(database, clock=time)
    _died_sending_the_first(database, time, outbox)  # it holds its lease for LEASE
    sender = StopsOnceSent()
    # Teams paces a channel fastest: a worker that took the wait for work done would look most often there
    sender.worker = other = OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=TEAMS)
    rounds = 0
    run_once = other.run_once

    async def counted() -> int:
        nonlocal rounds
        rounds += 1
        return await run_once()

    monkeypatch.setattr(other, "run_once", counted)
    caplog.set_level("INFO", logger="bot.delivery.worker")

    asyncio.run(other.run_forever(POLL))

    assert sender.sent == ["Inviting 400 users: all done."]
    assert rounds <= LEASE.total_seconds() / POLL + 2
    waited = [r.getMessage() for r in caplog.records if r.getMessage().endswith("being sent")]
    [second] = [row.id for row in _rows(database) if row.status == "sent"]
    assert waited == [f"outbox message {second} waits for the version before it being sent"]


@SQLITE_ONLY
def test_an_approvers_prompt_whose_sender_died_is_not_sent_after_the_decision(
    database: Database, time: FakeTime
) -> None:
    """The decision goes to the channel only, but the senders update every copy of the thread with it:
    Lee's prompt, sent after it, would put the buttons back on the channel's copy too."""
    told = {"updates": "approval:1"}
    with database.session() as session:
        enqueue_all(
            session,
            [
                NewMessage("prompt-lee", "lee@x.com", APPROVAL_PROMPT, told),
                NewMessage("prompt-channel", "channel:C1", APPROVAL_PROMPT, told),
            ],
            now=time.now,
        )
        session.commit()
    lee, channel = claim_due(database, worker="a", now=time.now, lease=LEASE)  # queued in this order
    assert lee.id is not None and channel.id is not None and lee.recipient == "lee@x.com"
    assert begin_send(database, lee.id, worker="a", now=time.now, lease=LEASE)  # replica a dies here
    # a copy of the same version to someone else is not held up by Lee's, nor given up for it
    assert (
        thread_turn(
            database,
            channel.id,
            worker="a",
            recipient="channel:C1",
            kind=APPROVAL_PROMPT,
            thread="approval:1",
        )
        is None
    )
    assert mark_sent(database, channel.id, worker="a", now=time.now, ref="C1/1")
    time.now += timedelta(seconds=5)
    with database.session() as session:  # as workflows.notices.decision queues it
        supersede(session, kinds=(APPROVAL_PROMPT, APPROVAL_DECISION), thread="approval:1", before=time.now)
        enqueue_all(session, [NewMessage("decision", "channel:C1", APPROVAL_DECISION, told)], now=time.now)
        session.commit()
    time.now += LEASE + timedelta(seconds=1)
    again = claim_due(database, worker="b", now=time.now, lease=LEASE)
    assert lee.id in {m.id for m in again}

    turn = thread_turn(
        database, lee.id, worker="b", recipient="lee@x.com", kind=APPROVAL_PROMPT, thread="approval:1"
    )

    assert turn == SUPERSEDED
    assert [row.status for row in _rows(database)] == [SUPERSEDED, "sent", "pending"]
