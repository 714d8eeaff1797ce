"""Slack beside Teams in one `serve`: one outbox worker, one pace. DMs Slack is not ready for (its member
list overdue and not read) are put back before their turn, so Teams' lists queued behind them go at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from bot.conversation.messages import Channel, DirectMessage
from bot.delivery import holding
from bot.delivery.sender import NOT_READY_SECONDS, DeliveryFailed, Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.routing import RoutingSender
from bot.slack.app import build_web_client
from bot.slack.member_list import CACHE_SECONDS, MAX_AGE_SECONDS, READ_SECONDS
from bot.slack.people import People
from bot.slack.sender import DIRECTORY_OUTDATED, SlackSender
from bot.teams.delivery import CHANNEL_PREFIX
from storage import Database, Migration, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from tests.delivery.conftest import TOKEN, FakeTime, HeldDMs, people, queue_lists
from tests.fakes.slack_api import Failure, FakeSlack
from tests.fakes.slack_harness import Clock
from tests.storage.rows import add_migration
from tests.storage.statements import statements

HELD_SLACK_DMS = 50
TEAMS_LISTS = 10
RATE = 2.0
"""Messages a second: 50 turns are 25 s of the pace."""
WHY = "Slack's member list cannot be read: Slack answered fatal_error"
HELD_SECONDS = 300.0
"""The wait the held DMs' sender asks for."""


@dataclass
class TeamsChats:
    """Teams' sender: when (on the outbox's clock) each list reached its person."""

    time: FakeTime
    reached: dict[str, datetime] = field(default_factory=dict)

    async def send(self, envelope: Envelope) -> Receipt:
        self.reached[envelope.key] = self.time.now
        return Receipt(f"teams/{envelope.key}")


def _teams_lists(database: Database, now: datetime, people: int = 1) -> list[str]:
    """To-do lists of a migration started in a Teams channel, one for each of `people`, queued after
    Slack's; their keys."""
    migration_id = add_migration(database, "contoso")
    with database.session() as session:
        migration = session.get(Migration, migration_id)
        assert migration is not None
        migration.channel_id = f"{CHANNEL_PREFIX}19:migrate@thread.tacv2"
        lists = []
        for number in range(people):
            email = f"person{number}@contoso.com"
            payload = {
                "migration_id": migration_id,
                "organization": "contoso",
                "affected_user_id": number + 1,
                "email": email,
                "display_name": f"Person {number}",
                "outcome": "auto",
                "notes": [],
                "items": [
                    {
                        "id": number + 1,
                        "key": "sign-in-work-account",
                        "title": "Sign in",
                        "body": "b",
                        "link": "l",
                    }
                ],
            }
            lists.append(NewMessage(f"migration-{migration_id}-todo-{number}", email, "todo_list", payload))
        enqueue_all(session, lists, now=now)
        session.commit()
    return [new.idempotency_key for new in lists]


def test_a_teams_list_queued_behind_slack_dms_held_for_the_member_list_goes_out_without_waiting(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    clock = Clock()
    slack_people = People(build_web_client(TOKEN, base_url=f"{fake_slack.url}/api/"), clock=clock)
    emails = people(fake_slack, HELD_SLACK_DMS)
    teams = TeamsChats(time)
    senders = {
        "slack": SlackSender(
            build_web_client(TOKEN, base_url=f"{fake_slack.url}/api/", retries=False), slack_people
        ),
        "teams": teams,
    }
    settings = DeliverySettings(max_rate_per_second=RATE, initial_rate_per_second=RATE)
    worker = OutboxWorker(
        database, RoutingSender(database, senders), clock=time, sleep=time.sleep, settings=settings
    )

    async def scenario() -> None:
        assert await slack_people.find(emails[0]) is not None  # read once, then serve sat idle
        clock.now += MAX_AGE_SECONDS + READ_SECONDS + 1  # and its read again has not come (nor would it)
        queue_lists(database, emails, time.now)
        (key,) = _teams_lists(database, time.now)
        started = time.now

        await worker.drain()

        assert teams.reached == {key: started}  # its turn came first: no held DM took one before it
        with database.session() as session:
            slack = session.exec(
                select(OutboundMessage).where(col(OutboundMessage.idempotency_key) != key)
            ).all()
        assert {(m.status, m.attempts, m.error_code) for m in slack} == {("pending", 0, DIRECTORY_OUTDATED)}
        assert len(slack) == HELD_SLACK_DMS and fake_slack.calls_of("chat.postMessage") == []

    asyncio.run(scenario())


def test_routing_a_wave_beside_teams_reads_its_migrations_channel_once_and_never_its_plan(
    database: Database, time: FakeTime
) -> None:
    """A migration's row holds its plan, megabytes for 20,000 people: each DM routed by loading it cost
    ~95 ms, so a wave's sweep of 2,000 held DMs took minutes and the Teams list behind them waited."""
    migration_id = queue_lists(
        database, [f"user{n:05d}@fabrikam.com" for n in range(HELD_SLACK_DMS)], time.now
    )
    with database.session() as session:
        migration = session.get(Migration, migration_id)
        assert migration is not None
        migration.plan = {"people": [{"email": f"user{n:05d}@fabrikam.com"} for n in range(HELD_SLACK_DMS)]}
        session.commit()
    teams = TeamsChats(time)
    (key,) = _teams_lists(database, time.now)
    slack = HeldDMs(WHY, HELD_SECONDS)
    routing = RoutingSender(database, {"slack": slack, "teams": teams})
    worker = OutboxWorker(database, routing, clock=time, sleep=time.sleep)

    with statements(database) as seen:
        asyncio.run(worker.drain())

    assert list(teams.reached) == [key] and slack.dms_sent == []
    routes = [statement for statement in seen if "FROM migration " in statement]
    assert len(routes) == 2  # once for Slack's migration, once for Teams'
    assert not [statement for statement in routes if "plan" in statement]


def test_held_dms_are_put_back_together_until_the_member_list_is_read_again_and_refresh_no_report(
    database: Database, time: FakeTime
) -> None:
    """Each held DM was put back alone (three statements, each time it came due every minute), and each
    time counted as moved, so the live report of its organization was read again every round."""
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(HELD_SLACK_DMS)], time.now)
    refreshed: list[set[str]] = []

    async def on_progress(organizations: set[str]) -> None:
        refreshed.append(organizations)

    settings = DeliverySettings(batch=HELD_SLACK_DMS)
    slack = HeldDMs(WHY, HELD_SECONDS)
    worker = OutboxWorker(
        database,
        slack,
        clock=time,
        sleep=time.sleep,
        settings=settings,
        on_progress=on_progress,
    )
    asyncio.run(worker.drain())  # held for the first time: their report now says why they wait
    assert refreshed == [{"fabrikam"}]

    time.now += timedelta(seconds=HELD_SECONDS - 1)
    assert asyncio.run(worker.drain()) == 0  # not due before the read is tried again
    time.now += timedelta(seconds=1)
    with statements(database) as seen:
        assert asyncio.run(worker.drain()) == HELD_SLACK_DMS  # due, still held: put back again
    assert refreshed == [{"fabrikam"}]  # nothing moved: no report read again
    assert slack.dms_sent == []

    put_back = [statement for statement in seen if statement.startswith("UPDATE")]
    assert len(put_back) == HELD_SLACK_DMS + 2  # a claim each, one put-back for the batch, none due besides
    with database.session() as session:
        held = session.exec(select(OutboundMessage)).all()
    assert {(m.status, m.attempts, m.claimed_by, m.error_code, m.last_error) for m in held} == {
        ("pending", 0, None, DIRECTORY_OUTDATED, WHY)
    }
    assert {m.not_before for m in held} == {time.now + timedelta(seconds=HELD_SECONDS)}


def test_one_batch_of_held_dms_puts_back_all_their_migrations_dms_so_teams_is_claimed_next(
    database: Database, time: FakeTime
) -> None:
    """Thousands of held DMs were each claimed to be put back, a sweep of tens of seconds that the Teams
    list queued behind them waited out: one batch of them says Slack is not ready for their migration."""
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(HELD_SLACK_DMS)], time.now)
    teams = TeamsChats(time)
    (key,) = _teams_lists(database, time.now)
    slack = HeldDMs(WHY, HELD_SECONDS)
    routing = RoutingSender(database, {"slack": slack, "teams": teams})
    settings = DeliverySettings(batch=HELD_SLACK_DMS // 5)
    worker = OutboxWorker(database, routing, clock=time, sleep=time.sleep, settings=settings)

    assert asyncio.run(worker.drain()) == settings.batch + 1  # one batch of Slack's, then Teams' list

    assert list(teams.reached) == [key] and slack.dms_sent == []
    with database.session() as session:
        held = session.exec(select(OutboundMessage).where(col(OutboundMessage.idempotency_key) != key)).all()
    assert {(m.status, m.attempts, m.claimed_by, m.error_code, m.last_error) for m in held} == {
        ("pending", 0, None, DIRECTORY_OUTDATED, WHY)
    }
    assert {m.not_before for m in held} == {time.now + timedelta(seconds=HELD_SECONDS)}


def test_dms_held_behind_a_batchs_sends_are_put_back_before_them_due_again_when_the_sender_said(
    database: Database, time: FakeTime
) -> None:
    """Held DMs took a slot among the sends, and went back only once the batch's sends had ended: behind
    Teams' lists paced ahead of them, they were due again that much later than the sender asked."""
    teams_keys = _teams_lists(database, time.now, people=TEAMS_LISTS)
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(HELD_SLACK_DMS)], time.now)
    teams = TeamsChats(time)
    slack = HeldDMs(WHY, HELD_SECONDS)
    routing = RoutingSender(database, {"slack": slack, "teams": teams})
    settings = DeliverySettings(
        max_rate_per_second=RATE,
        initial_rate_per_second=RATE,
        batch=TEAMS_LISTS + HELD_SLACK_DMS,
        concurrency=1,
    )
    worker = OutboxWorker(database, routing, clock=time, sleep=time.sleep, settings=settings)
    started = time.now

    assert asyncio.run(worker.run_once()) == TEAMS_LISTS + HELD_SLACK_DMS

    assert list(teams.reached) == teams_keys and time.now > started  # the pace took its time
    assert slack.dms_sent == []
    with database.session() as session:
        held = session.exec(
            select(OutboundMessage).where(col(OutboundMessage.idempotency_key).not_in(teams_keys))
        ).all()
    assert {(m.status, m.attempts, m.claimed_by, m.error_code) for m in held} == {
        ("pending", 0, None, DIRECTORY_OUTDATED)
    }
    assert {m.not_before for m in held} == {started + timedelta(seconds=HELD_SECONDS)}


@dataclass
class Monotonic:
    """`time.monotonic` as People reads it: later each time it is asked (by a millisecond here)."""

    now: float = 1000.0

    def __call__(self) -> float:
        self.now += 1e-3
        return self.now


def test_dms_held_by_slack_itself_are_put_back_together_though_each_is_told_a_later_wait(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    """Slack's sender holds a DM until its next read try, `refresh_at - monotonic()`: a little less for
    each DM. Grouped by that wait, each held DM was put back in statements of its own (150 UPDATEs for 50)."""
    clock = Monotonic()
    slack_people = People(build_web_client(TOKEN, base_url=f"{fake_slack.url}/api/"), clock=clock)
    sender = SlackSender(
        build_web_client(TOKEN, base_url=f"{fake_slack.url}/api/", retries=False), slack_people
    )
    fake_slack.fail("users.list", Failure(error="missing_scope", needed="users:read"))  # a fresh install
    with pytest.raises(SlackApiError):
        asyncio.run(slack_people.find("anyone@fabrikam.com"))
    read_again_at = clock.now + CACHE_SECONDS
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(HELD_SLACK_DMS)], time.now)
    settings = DeliverySettings(batch=HELD_SLACK_DMS)
    worker = OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=settings)

    with statements(database) as seen:
        assert asyncio.run(worker.drain()) == HELD_SLACK_DMS

    put_back = [statement for statement in seen if statement.startswith("UPDATE")]
    assert len(put_back) == HELD_SLACK_DMS + 2  # a claim each, one put-back for the batch, none due besides
    with database.session() as session:
        held = session.exec(select(OutboundMessage)).all()
    assert {(m.status, m.attempts, m.claimed_by, m.error_code) for m in held} == {
        ("pending", 0, None, DIRECTORY_OUTDATED)
    }
    # the wait told last, the shortest: none is held past the read try
    assert {m.not_before for m in held} == {time.now + timedelta(seconds=read_again_at - clock.now)}


class HeldUntilTheDatabaseGoes(HeldDMs):
    """Not ready for DMs, until asking fails: the database gone while routing one (RoutingSender reads its
    migration)."""

    def __init__(self, answers: int) -> None:
        super().__init__(WHY, HELD_SECONDS)
        self.answers = answers

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        if not self.answers:
            raise OperationalError("SELECT migration.channel_id", {}, Exception("the database is gone"))
        self.answers -= 1
        return await super().not_ready(migration_id, to)


def test_dms_found_not_ready_before_asking_fails_are_put_back_uncounted(
    database: Database, time: FakeTime
) -> None:
    """They were put back after the batch's last question only: asking failing left them claimed, their
    claim counted an attempt never made, which could fail them early. Those never asked about are given
    back too: no send had begun."""
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(5)], time.now)
    slack = HeldUntilTheDatabaseGoes(answers=2)
    worker = OutboxWorker(database, slack, clock=time, sleep=time.sleep)

    with pytest.raises(OperationalError):
        asyncio.run(worker.run_once())
    assert slack.dms_sent == []

    with database.session() as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
    assert [(m.status, m.attempts, m.claimed_by is None, m.error_code) for m in rows] == [
        ("pending", 0, True, DIRECTORY_OUTDATED),
        ("pending", 0, True, DIRECTORY_OUTDATED),
        *[("pending", 0, True, None)] * 3,  # never asked about: due again at once, uncounted
    ]


def test_asking_failing_is_what_is_raised_when_putting_back_fails_too(
    database: Database, time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database gone for both: the operator's log names the first failure, the other noted on it."""
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(5)], time.now)

    def gone(*_: object, **__: object) -> set[int]:
        raise OperationalError("UPDATE outboundmessage", {}, Exception("the database is gone"))

    monkeypatch.setattr(holding, "put_back", gone)
    worker = OutboxWorker(database, HeldUntilTheDatabaseGoes(answers=2), clock=time, sleep=time.sleep)

    with pytest.raises(OperationalError, match=r"SELECT migration\.channel_id") as raised:
        asyncio.run(worker.run_once())
    assert raised.value.__notes__ == [
        "putting back the messages found not ready failed too (OperationalError)"
    ]


class ReadyThenGone:
    """Ready for the first two DMs, not for the third, then asking fails (the database gone)."""

    def __init__(self) -> None:
        self.asked = 0
        self.sent: list[str] = []

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        self.asked += 1
        if self.asked > 3:
            raise OperationalError("SELECT migration.channel_id", {}, Exception("the database is gone"))
        return None if self.asked <= 2 else DeliveryFailed(DIRECTORY_OUTDATED, WHY, later=HELD_SECONDS)

    async def send(self, envelope: Envelope) -> Receipt:
        self.sent.append(envelope.key)
        return Receipt(f"dm/{envelope.key}")


def _states(database: Database) -> list[tuple[str, int, bool, str | None]]:
    with database.session() as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
    return [(m.status, m.attempts, m.claimed_by is None, m.error_code) for m in rows]


def test_dms_found_ready_before_asking_fails_are_given_back_uncounted_not_left_claimed(
    database: Database, time: FakeTime
) -> None:
    """Asking covers the whole batch before its first send: asking failing left those found ready claimed
    until the lease ran out, each counting an attempt never made (five such failures, and a message fails
    for good on its next transient error)."""
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(5)], time.now)
    sender = ReadyThenGone()

    with pytest.raises(OperationalError, match=r"SELECT migration\.channel_id"):
        asyncio.run(OutboxWorker(database, sender, clock=time, sleep=time.sleep).run_once())

    assert sender.sent == []
    assert _states(database) == [
        ("pending", 0, True, None),
        ("pending", 0, True, None),
        ("pending", 0, True, DIRECTORY_OUTDATED),
        ("pending", 0, True, None),
        ("pending", 0, True, None),
    ]


def test_putting_back_failing_gives_back_the_dms_found_ready(
    database: Database, time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Putting back comes before the batch's first send: it failing (a deadlock) left every message found
    ready claimed, and counted, until the lease ran out."""

    def deadlocked(*_: object, **__: object) -> set[int]:
        raise OperationalError("UPDATE outboundmessage", {}, Exception("a deadlock"))

    monkeypatch.setattr(holding, "put_back", deadlocked)
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(3)], time.now)
    sender = ReadyThenGone()

    with pytest.raises(OperationalError, match="UPDATE outboundmessage"):
        asyncio.run(OutboxWorker(database, sender, clock=time, sleep=time.sleep).run_once())

    assert sender.sent == []
    assert _states(database) == [("pending", 0, True, None)] * 3  # the held one too: asked again at once


class OverdueMidBatch:
    """Slack's sender whose member list comes overdue while a batch is paced: ready for the first `answers`
    questions, then not; when it first said so, and what was sent."""

    def __init__(self, time: FakeTime, answers: int) -> None:
        self.time = time
        self.answers = answers
        self.held_at: datetime | None = None
        self.sent: list[str] = []

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        if self.answers:
            self.answers -= 1
            return None
        self.held_at = self.held_at or self.time.now
        return DeliveryFailed(DIRECTORY_OUTDATED, WHY, later=HELD_SECONDS)

    async def send(self, envelope: Envelope) -> Receipt:
        self.sent.append(envelope.key)
        return Receipt(f"dm/{envelope.key}")


def test_a_dm_no_longer_ready_when_its_turn_comes_is_put_back_then_not_sent_after_a_turn(
    database: Database, time: FakeTime
) -> None:
    """Asked only before the batch's first send, a DM found ready took its turn of the pace (minutes for a
    batch of 50 at the slowest) however overdue the member list came meanwhile: a turn the ready ones
    waited for, a send begun and failed."""
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(5)], time.now)
    # all five ready up front; the first two go before the pace waits, so are not asked again
    sender = OverdueMidBatch(time, answers=5)
    settings = DeliverySettings(max_rate_per_second=RATE, initial_rate_per_second=RATE)
    worker = OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=settings)

    with statements(database) as seen:
        assert asyncio.run(worker.run_once()) == 5

    assert len(sender.sent) == 2 and sender.held_at is not None
    held = _states(database)[2:]
    assert held == [("pending", 0, True, DIRECTORY_OUTDATED)] * 3
    with database.session() as session:
        due = session.exec(
            select(OutboundMessage.not_before).where(OutboundMessage.status == "pending")
        ).all()
    assert set(due) == {sender.held_at + timedelta(seconds=HELD_SECONDS)}  # from when it said so
    updates = [statement for statement in seen if statement.startswith("UPDATE")]
    assert (
        len(updates) == 5 + 2 * 2 + 2
    )  # claims, two sends begun and recorded, the other three put back together


class NotReadySayingNoWait(HeldDMs):
    """A sender not ready for DMs that says no `later`: the Protocol asks for one, nothing enforces it."""

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        return DeliveryFailed(DIRECTORY_OUTDATED, WHY)


def test_dms_held_without_a_wait_said_are_due_again_a_minute_on_so_drain_ends(
    database: Database, time: FakeTime
) -> None:
    """Put back due at once, they were claimed and put back again by the same `drain`, for ever."""
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(3)], time.now)
    slack = NotReadySayingNoWait(WHY, HELD_SECONDS)
    worker = OutboxWorker(database, slack, clock=time, sleep=time.sleep)

    assert asyncio.run(worker.run_once()) == 3
    assert asyncio.run(worker.run_once()) == 0  # what `drain` asks next: nothing due, it ends
    assert slack.dms_sent == []

    with database.session() as session:
        due = session.exec(select(OutboundMessage.not_before)).all()
    assert set(due) == {time.now + timedelta(seconds=NOT_READY_SECONDS)}


class SendingSaysNotReadyWithNoWait(HeldDMs):
    """Ready when asked, then not ready at the send itself, with `later` 0."""

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        return None

    async def send(self, envelope: Envelope) -> Receipt:
        raise DeliveryFailed(DIRECTORY_OUTDATED, WHY, later=0.0)


def test_a_send_not_ready_with_no_wait_is_due_again_a_minute_on_so_drain_ends(
    database: Database, time: FakeTime
) -> None:
    started = time.now
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(3)], time.now)
    worker = OutboxWorker(
        database, SendingSaysNotReadyWithNoWait(WHY, HELD_SECONDS), clock=time, sleep=time.sleep
    )

    asyncio.run(worker.run_once())
    assert asyncio.run(worker.run_once()) == 0  # what `drain` asks next: nothing due, it ends

    with database.session() as session:
        rows = session.exec(select(OutboundMessage.not_before, OutboundMessage.attempts)).all()
    assert [attempts for _, attempts in rows] == [0, 0, 0]  # nothing was tried
    a_minute = timedelta(seconds=NOT_READY_SECONDS)
    assert all(started + a_minute <= due <= time.now + a_minute for due, _ in rows)  # from each send's answer


class GoneWhenAskedAgain(OverdueMidBatch):
    """Ready for the first `answers` questions, then asking fails: the database gone while routing."""

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        if not self.answers:
            raise OperationalError("SELECT migration.channel_id", {}, Exception("the database is gone"))
        return await super().not_ready(migration_id, to)


def test_asking_again_failing_mid_batch_gives_back_the_dms_not_begun_uncounted(
    database: Database, time: FakeTime
) -> None:
    """As before the batch's first send: kept claimed, each would wait out the lease and count an attempt
    never made."""
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(5)], time.now)
    sender = GoneWhenAskedAgain(time, answers=5)  # asked again once the pace waited: the third
    settings = DeliverySettings(max_rate_per_second=RATE, initial_rate_per_second=RATE)

    with pytest.raises(OperationalError, match=r"SELECT migration\.channel_id"):
        asyncio.run(
            OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=settings).run_once()
        )

    assert len(sender.sent) == 2
    assert [state[:3] for state in _states(database)] == [
        *[("sent", 1, True)] * 2,
        *[("pending", 0, True)] * 3,
    ]


class GoneWhenAskedAgainAfterAWait:
    """Ready when asked up front (3 DMs); asking again, the pace having waited after the second DM's
    turn, fails (the database gone). A send hangs until cancelled."""

    def __init__(self) -> None:
        self.asked = 0
        self.sending = asyncio.Event()

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        self.asked += 1
        if self.asked == 4:
            raise OperationalError("SELECT migration.channel_id", {}, Exception("the database is gone"))
        return None

    async def send(self, envelope: Envelope) -> Receipt:
        self.sending.set()
        await asyncio.Event().wait()
        raise AssertionError("a send is cancelled, never ended")


def test_asking_again_failing_is_logged_when_the_batch_is_cancelled_while_a_send_runs(
    database: Database, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(3)], time.now)
    sender = GoneWhenAskedAgainAfterAWait()
    worker = OutboxWorker(
        database, sender, clock=time, sleep=time.sleep, settings=DeliverySettings(concurrency=3)
    )

    async def cancelled_mid_batch() -> None:
        task = asyncio.create_task(worker.run_once())
        await asyncio.wait_for(sender.sending.wait(), timeout=10)  # the bound: only if no send starts
        while sender.asked < 4:
            await asyncio.sleep(0)
        for _ in range(5):  # the failure handled before the cancel arrives
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.ERROR):
        asyncio.run(cancelled_mid_batch())

    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], OperationalError)]
    assert [r.getMessage() for r in logged] == [  # the sends were cancelled
        "the outbox worker stopped after asking the sender again or putting back what it held failed"
    ]


class Counted(HeldDMs):
    """Ready for every message; how many times it was asked."""

    def __init__(self) -> None:
        super().__init__(WHY, HELD_SECONDS)
        self.asked = 0

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        self.asked += 1
        return None


class Ticking(FakeTime):
    """A clock a millisecond later each time it is read: an unpaced batch's turns come without waiting."""

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def test_a_batch_that_never_waits_asks_the_sender_once_per_message(database: Database) -> None:
    """It asked again before each turn though neither a room nor a turn was waited for since the first
    answers: the same question twice for each message of a batch the pace lets straight through."""
    time = Ticking()
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(5)], time.now)
    sender = Counted()
    worker = OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=DeliverySettings.unpaced())

    assert asyncio.run(worker.run_once()) == 5

    assert (sender.asked, len(sender.dms_sent)) == (5, 5)
    assert time.slept == []  # nothing waited: the first answers held


def test_a_429_landing_as_a_turn_is_asked_for_is_waited_out_then_the_next_dm_asked_again(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing foretold a wait when the third DM asked for its turn, yet a send's 429 came first (sends run
    beside the batch) and the turn waited out its Retry-After: the member list came overdue meanwhile, and
    the fourth DM, not asked again, took its turn only to be turned down at its send (an attempt counted)."""
    time = Ticking()
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(5)], time.now)
    sender = OverdueMidBatch(time, answers=5)  # ready for the five questions up front, then not
    worker = OutboxWorker(database, sender, clock=time, sleep=time.sleep, settings=DeliverySettings.unpaced())
    slot, turns = worker.pacer.slot, [0]

    async def rejected_on_the_third(channel: str) -> datetime:
        turns[0] += 1
        if turns[0] == 3:
            worker.pacer.rejected(time.now, 30.0)
        return await slot(channel)

    monkeypatch.setattr(worker.pacer, "slot", rejected_on_the_third)
    assert asyncio.run(worker.run_once()) == 5

    assert time.slept == [pytest.approx(30.0, abs=0.01)]  # the Retry-After, less the clock's ticks
    assert len(sender.sent) == 2
    states = [state[:2] for state in _states(database)]
    # the third, its wait under way, is turned down at its send; the fourth, asked again, held with the fifth
    assert states[2:] == [("pending", 1), ("pending", 0), ("pending", 0)]


class HangsOnThirdQuestion(HeldDMs):
    """Not ready for the first two DMs; asked about the third, it never answers (a read that hangs) until
    the batch is cancelled."""

    def __init__(self) -> None:
        super().__init__(WHY, HELD_SECONDS)
        self.asked = 0
        self.hanging = asyncio.Event()

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        self.asked += 1
        if self.asked == 3:
            self.hanging.set()
            await asyncio.Event().wait()
        return await super().not_ready(migration_id, to)


def test_a_batch_cancelled_while_asking_puts_back_those_found_not_ready_and_gives_back_the_rest(
    database: Database, time: FakeTime
) -> None:
    """Cancelled (the service stopping past its time), every claim of the batch was left until the lease
    ran out, the held DMs' too: the next process could not take them before."""
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(5)], time.now)
    sender = HangsOnThirdQuestion()
    worker = OutboxWorker(database, sender, clock=time, sleep=time.sleep)

    async def cancelled() -> None:
        running = asyncio.create_task(worker.run_once())
        await sender.hanging.wait()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    asyncio.run(cancelled())
    assert _states(database) == [
        *[("pending", 0, True, DIRECTORY_OUTDATED)] * 2,  # due again when the sender said
        *[("pending", 0, True, None)] * 3,  # never answered for: due at once
    ]


class ReadyForTeamsNotForDMsOnceAsked(HeldDMs):
    """Ready for the Teams migration's lists; for the DMs, ready when asked up front, not when asked
    again."""

    def __init__(self, teams_migration: int, dms: int) -> None:
        super().__init__(WHY, HELD_SECONDS)
        self.teams_migration = teams_migration
        self.answers = dms

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        if migration_id == self.teams_migration:
            return None
        if self.answers:
            self.answers -= 1
            return None
        return await super().not_ready(migration_id, to)


def test_dms_put_back_at_their_turn_already_waiting_for_that_refresh_no_report(
    database: Database, time: FakeTime
) -> None:
    """Every message of the batch found ready up front counted as moved, those put back at their turn too:
    a DM waiting for the member list had its organization's live report read again each time it came due."""
    teams_keys = _teams_lists(database, time.now, people=2)
    with database.session() as session:
        teams_migration = session.exec(select(OutboundMessage.migration_id)).first()
    queue_lists(database, [f"user{n:05d}@fabrikam.com" for n in range(3)], time.now)
    with database.session() as session:  # put back before, for the member list: their report says so
        for message in session.exec(
            select(OutboundMessage).where(col(OutboundMessage.idempotency_key).not_in(teams_keys))
        ):
            message.error_code, message.last_error = DIRECTORY_OUTDATED, WHY
        session.commit()
    assert teams_migration is not None
    refreshed: list[set[str]] = []

    async def on_progress(organizations: set[str]) -> None:
        refreshed.append(organizations)

    sender = ReadyForTeamsNotForDMsOnceAsked(teams_migration, dms=3)
    settings = DeliverySettings(max_rate_per_second=RATE, initial_rate_per_second=RATE)
    worker = OutboxWorker(
        database, sender, clock=time, sleep=time.sleep, settings=settings, on_progress=on_progress
    )

    assert asyncio.run(worker.drain()) == 5

    assert sorted(sender.dms_sent) == teams_keys  # the DMs asked again once the pace waited, and put back
    assert refreshed == [{"contoso"}]
