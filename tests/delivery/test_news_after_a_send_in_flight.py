"""Newer news about someone's access never overtakes the older news it takes back while that is still being
sent (rev77 3). Replica A is posting "you lose access" to Hana (Slack slow to answer) when Lee gives her
account back: the older message is stopped (never tried again, counted as one that may have reached her),
and "you keep access after all" takes it back in words. Replica B must not post that before A's post ends,
or before A's lease runs out if A died: Hana would read "keep access… I told you that you lose access" and
then "you lose access"."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.delivery.sender import Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from storage import Database, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from storage.outbox_claims import claim_due
from storage.outbox_sends import begin_send, mark_failed
from storage.outbox_threads import FOLLOWS, FOLLOWS_SENDING, SUPERSEDED
from tests.workflows.fakes import FakeClock
from tests.workflows.test_lists_given_again import HANA, HANA_AT_WORK, announced, delivered, with_hana
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.stages.list_messages import may_have_reached, stop_sending

__all__ = ["announced", "delivered", "with_hana"]
"""`test_lists_given_again`'s Hana, her list delivered or her advance notice queued; over both databases
here."""

SETTINGS = DeliverySettings.unpaced()
LATER = timedelta(seconds=30)
HANA_ID = "e-hana"
"""Her entitlement's id, in the keys of her news before the lists (`announcing.notice_key`,
`list_messages.decision_key`)."""
LOST, KEPT = "access-lost", "access-kept"
"""What Hana's two messages' idempotency keys say (`list_messages.decision_key`)."""


class Slack:
    """Records what of Hana's news (`hers`: what its idempotency keys hold) reached her, in order; the one
    whose key holds `held` is held open until `answer` is set."""

    def __init__(self, posted: list[str], held: str = LOST, hers: tuple[str, ...] = (LOST, KEPT)) -> None:
        self.posted = posted
        self.held = held
        self.hers = hers
        self.holding = asyncio.Event()
        self.answer = asyncio.Event()

    async def send(self, envelope: Envelope) -> Receipt:
        if self.held in envelope.key:
            self.holding.set()
            await self.answer.wait()
        if any(marker in envelope.key for marker in self.hers):
            self.posted.append(envelope.key)
        return Receipt(f"D-HANA/{len(self.posted)}")


class Heart:
    """A worker's heartbeat, beating when the test says: `beats` returns once its renewal is done."""

    def __init__(self) -> None:
        self._beat = asyncio.Event()
        self._resting = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self._resting.set()
        await self._beat.wait()
        self._beat.clear()

    async def beats(self) -> None:
        await self._resting.wait()
        self._resting.clear()
        self._beat.set()
        await self._resting.wait()  # back to sleep: the claims it holds are renewed


def _worker(database: Database, clock: FakeClock, sender: Slack, name: str) -> OutboxWorker:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    return OutboxWorker(database, sender, clock=clock, sleep=sleep, settings=SETTINGS, name=name)


async def _holding(slack: Slack, replica: OutboxWorker) -> asyncio.Task[int]:
    """Replica A's batch, started and held open in Slack on the message `slack` holds."""
    batch = asyncio.create_task(replica.run_once())
    await slack.holding.wait()
    return batch


async def _answered_then_drained(slack_a: Slack, batch_a: asyncio.Task[int], replica_b: OutboxWorker) -> None:
    """Slack answers A at last, A's batch ends, and B sends what it had to wait for."""
    slack_a.answer.set()
    await batch_a
    await replica_b.drain()


def _hanas(database: Database, marker: str) -> OutboundMessage:
    with database.session() as session:
        messages = session.exec(select(OutboundMessage)).all()
    (found,) = [message for message in messages if marker in message.idempotency_key]
    return found


def test_you_keep_access_waits_for_you_lose_access_being_sent_by_another_replica(
    delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    posted: list[str] = []

    async def replicas() -> None:
        delivered.decide_account(None, HANA, "no-access", lee)
        slack_a = Slack(posted)
        batch_a = await _holding(slack_a, _worker(database, clock, slack_a, "replica-a"))
        decided = await asyncio.to_thread(delivered.decide_account, None, HANA, HANA_AT_WORK, lee)
        assert decided.list_changed
        lost, kept = _hanas(database, LOST), _hanas(database, KEPT)
        assert (lost.status, lost.in_flight, lost.claimed_by) == (SUPERSEDED, True, "replica-a")
        assert kept.payload[FOLLOWS] == [lost.id]
        replica_b = _worker(database, clock, Slack(posted), "replica-b")

        clock.advance(seconds=5)  # B's next poll, A's post still open
        await replica_b.run_once()

        assert posted == []
        waiting = _hanas(database, KEPT)
        assert (waiting.status, waiting.error_code, waiting.claimed_by) == ("pending", FOLLOWS_SENDING, None)
        slack_a.answer.set()  # Slack answers A at last
        await batch_a
        # nothing recorded of the stopped post, but its claim is let go: it may have reached her, no more
        ended = _hanas(database, LOST)
        assert (ended.status, ended.in_flight, ended.claimed_by) == (SUPERSEDED, True, None)

        await replica_b.drain()

        assert len(posted) == 2 and LOST in posted[0] and KEPT in posted[1], posted

    asyncio.run(replicas())


def test_you_keep_access_goes_once_the_lease_of_a_replica_killed_mid_send_runs_out(
    delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    posted: list[str] = []

    async def replicas() -> None:
        delivered.decide_account(None, HANA, "no-access", lee)
        slack_a = Slack(posted)
        batch_a = await _holding(slack_a, _worker(database, clock, slack_a, "replica-a"))
        await asyncio.to_thread(delivered.decide_account, None, HANA, HANA_AT_WORK, lee)
        batch_a.cancel()  # replica A is killed mid-post: its claim stays until its lease runs out
        await asyncio.gather(batch_a, return_exceptions=True)
        replica_b = _worker(database, clock, Slack(posted), "replica-b")
        clock.advance(seconds=SETTINGS.lease.total_seconds() - 1)

        await replica_b.run_once()

        assert posted == []
        clock.advance(seconds=2)

        await replica_b.drain()

        assert len(posted) == 1 and KEPT in posted[0]
        assert _hanas(database, LOST).status == SUPERSEDED  # never tried again

    asyncio.run(replicas())


def test_a_heartbeat_keeps_the_stopped_send_claimed_while_it_is_open(
    delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """A post open longer than a lease (Slack's retries) is still under way: its worker's heartbeat renews
    the claim, so the newer news still waits, and goes once the post ends."""
    posted: list[str] = []

    async def replicas() -> None:
        delivered.decide_account(None, HANA, "no-access", lee)
        slack_a, heart = Slack(posted), Heart()
        replica_a = OutboxWorker(
            database, slack_a, clock=clock, settings=SETTINGS, name="replica-a", heartbeat_sleep=heart.sleep
        )
        batch_a = await _holding(slack_a, replica_a)
        await asyncio.to_thread(delivered.decide_account, None, HANA, HANA_AT_WORK, lee)
        replica_b = _worker(database, clock, Slack(posted), "replica-b")
        for _ in range(5):  # a quarter lease at a time, A's heartbeat beating
            clock.advance(seconds=SETTINGS.renew_every.total_seconds())
            await heart.beats()
            await replica_b.run_once()
        assert clock.now > _hanas(database, KEPT).created_at + SETTINGS.lease
        assert posted == []
        await _answered_then_drained(slack_a, batch_a, replica_b)

        assert len(posted) == 2 and LOST in posted[0] and KEPT in posted[1], posted

    asyncio.run(replicas())


def test_you_lose_access_told_early_waits_for_the_advance_notice_being_sent(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """Before the lists: replica A is posting Hana's advance notice ("get ready") when Lee decides that she
    loses access. "You lose access", which takes the notice back, goes after it."""
    posted: list[str] = []
    notice, told = "-notice-", "-told-early-"

    async def replicas() -> None:
        slack_a = Slack(posted, held=f"-{HANA_ID}", hers=(f"-{HANA_ID}",))
        batch_a = await _holding(slack_a, _worker(database, clock, slack_a, "replica-a"))
        await asyncio.to_thread(announced.decide_account, None, HANA, "no-access", lee)
        replica_b = _worker(database, clock, Slack(posted, hers=(f"-{HANA_ID}",)), "replica-b")

        await replica_b.run_once()

        assert posted == []
        await _answered_then_drained(slack_a, batch_a, replica_b)

        assert len(posted) == 2 and notice in posted[0] and told in posted[1], posted

    asyncio.run(replicas())


def test_the_move_is_off_waits_for_the_advance_notice_being_sent(
    announced: MigrationService, database: Database, clock: FakeClock, dana: Actor
) -> None:
    """Replica A is posting Hana's advance notice when Dana cancels: "the move is off" goes after it."""
    posted: list[str] = []
    hers = (f"-{HANA_ID}", f"-called-off-{HANA}")

    async def replicas() -> None:
        slack_a = Slack(posted, held=f"-{HANA_ID}", hers=hers)
        batch_a = await _holding(slack_a, _worker(database, clock, slack_a, "replica-a"))
        await asyncio.to_thread(announced.cancel, None, dana, "the budget moved")
        replica_b = _worker(database, clock, Slack(posted, hers=hers), "replica-b")

        await replica_b.run_once()

        assert posted == []
        await _answered_then_drained(slack_a, batch_a, replica_b)

        assert len(posted) == 2 and "-notice-" in posted[0] and "-called-off-" in posted[1], posted

    asyncio.run(replicas())


@pytest.mark.parametrize(
    ("ends", "may_have_landed"),
    [
        ("timed-out", True),
        ("refused", False),
        ("429-then-stopped", False),
        ("posted-429-then-stopped", True),
    ],
)
def test_a_stopped_send_that_fails_is_never_tried_again_and_lets_go_of_its_claim(
    database: Database, clock: FakeClock, ends: str, may_have_landed: bool
) -> None:
    """Its claim kept while it is being sent, a stopped message's failure must not record it as one to try
    again, nor as failed for good (*Retry failed* would send it after the newer news): its claim goes. It
    stays one that may have reached them only if an attempt may have landed (a timeout, or a post whose
    later step answered 429), not after a refusal, nor once a try after a 429 finds it stopped, which does
    not begin."""
    with database.session() as session:
        enqueue_all(session, [NewMessage("lost", "hana@x.com", "access_lost", {})], now=clock.now)
        session.commit()
    (message,) = claim_due(database, worker="a", now=clock.now, lease=SETTINGS.lease)
    clock.advance(seconds=1)
    assert message.id is not None
    assert begin_send(database, message.id, worker="a", now=clock.now, lease=SETTINGS.lease)
    with database.session() as session:  # as a decision stops it
        stopped = session.get(OutboundMessage, message.id)
        assert stopped is not None and stop_sending(stopped)
        session.commit()
        assert stopped.claimed_by == "a"

    if ends.endswith("429-then-stopped"):
        again = begin_send(
            database,
            message.id,
            worker="a",
            now=clock.now,
            lease=SETTINGS.lease,
            maybe_delivered=may_have_landed,
        )
        assert not again
    else:
        left = mark_failed(
            database,
            message.id,
            worker="a",
            now=clock.now,
            error=ends,
            retry_after=LATER,
            max_attempts=1,
            maybe_delivered=may_have_landed,
        )
        assert left is None

    with database.session() as session:
        ended = session.get(OutboundMessage, message.id)
        assert ended is not None
        assert (ended.status, ended.claimed_by, ended.claimed_until) == (SUPERSEDED, None, None)
        assert may_have_reached(ended) is may_have_landed
