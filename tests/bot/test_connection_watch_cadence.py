"""The watch's look at migrations short of the portal step (rev46, "the watch's extra read"): rarer than at
the portal step, its Microsoft read outside any database session, and after the reminders and the outbox,
so that a slow read holds up neither."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.pool import QueuePool

from bot.conversation.messages import Channel, DirectMessage
from bot.runtime import Runtime
from sandbox import Sandbox
from storage import ActiveMigration, Migration
from tests.bot.conftest import DANA, LEE, ORG, Chat, approved, started, text_of
from tests.workflows.fakes import FakeClock

POLL = timedelta(seconds=60)  # AADBOT_POLL_SECONDS' default
DAY = timedelta(days=1)
URGENT = "🚨 fabrikam-fiber was connected to Fabrikam outside the approval"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # Monday 2 November 2026, 09:00 UTC


def _counting_reads(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, also: Callable[[], None] = lambda: None
) -> list[str]:
    reads: list[str] = []
    read = runtime.microsoft.organization_tenant_id

    def counted(organization: str) -> str:
        reads.append(organization)
        also()
        return read(organization)

    monkeypatch.setattr(runtime.microsoft, "organization_tenant_id", counted)
    return reads


def _waiting_on(clock: FakeClock, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The HTTP layer's waits, which move the test's clock (no real sleep), and its clock the test's."""
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += timedelta(seconds=seconds)

    session = runtime.microsoft.session
    monkeypatch.setattr(session, "_sleep", sleep)
    monkeypatch.setattr(session, "_clock", lambda: clock.now.timestamp())
    return sleeps


def _reads_in(span: timedelta, runtime: Runtime, clock: FakeClock, reads: list[str]) -> int:
    reads.clear()
    end = clock.now + span
    while clock.now < end:
        runtime.conversation.watch()
        clock.now += POLL
    return len(reads)


def test_a_migration_resting_short_of_the_portal_step_costs_96_reads_a_day_and_144_awaiting_approval(
    runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day of polls at the default 60 s: at every poll it was 1,440 reads a day."""
    chat = Chat(runtime, restores=False)
    started(chat)
    assert chat.state() == "planned"
    reads = _counting_reads(runtime, monkeypatch)
    assert _reads_in(DAY / 2, runtime, clock, reads) == 96 // 2  # every 15 minutes
    chat.say(DANA, "request-approval anyway")
    assert chat.state() == "awaiting_approval"
    assert _reads_in(DAY / 2, runtime, clock, reads) == 144 // 2  # every 10 minutes
    assert set(reads) == {ORG}


def test_at_the_portal_step_the_watch_still_reads_at_every_poll(
    runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat(runtime, restores=False)
    approved(chat)
    assert chat.state() == "connecting"
    reads = _counting_reads(runtime, monkeypatch)
    assert _reads_in(timedelta(minutes=30), runtime, clock, reads) == 30


def test_the_early_read_holds_no_database_session_and_comes_after_the_reminders_and_the_outbox(
    runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat(runtime, restores=False)
    started(chat)
    happened: list[str] = []
    pool = runtime.database.engine.pool
    assert isinstance(pool, QueuePool)  # it counts the connections sessions hold
    checked_out: list[int] = []

    def reading() -> None:
        happened.append("read")
        checked_out.append(pool.checkedout())

    _counting_reads(runtime, monkeypatch, reading)
    conversation = runtime.conversation
    remind = conversation.remind

    def reminding() -> list[object]:
        happened.append("reminders and outbox")
        return list(remind())

    monkeypatch.setattr(conversation, "remind", reminding)
    conversation.watch()
    assert happened == ["reminders and outbox", "read"]
    assert checked_out == [0]


def test_a_poll_spends_its_budget_on_early_looks_then_leaves_the_rest_for_the_next(
    runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(Chat(runtime, restores=False))
    reads = _counting_reads(runtime, monkeypatch)
    looks = runtime.service.connection_looks()
    assert looks.at_the_portal_step == []
    assert [look.organization for look in looks.short_of_it] == [ORG]
    clock.now = looks.until  # an earlier look of this poll took the whole budget
    assert runtime.service.look_early(looks.short_of_it[0], looks.until) is False
    assert reads == []
    assert runtime.service.connection_looks().short_of_it == looks.short_of_it  # the next poll reads it


OTHER = "contoso-web"


def _resting_elsewhere(runtime: Runtime, clock: FakeClock) -> None:
    """A second migration, planned, of an organization the sandbox does not serve (`start` would refuse it):
    only its throttled reads matter here."""
    with runtime.database.session() as session:
        row = Migration(
            organization=OTHER,
            tenant_id="contoso-tenant",
            state="planned",
            started_by_id="U-DANA",
            started_by_email=DANA,
            started_by_name="Dana",
            created_at=clock.now,
            updated_at=clock.now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        session.add(ActiveMigration(organization_key=OTHER, migration_id=row.id))
        session.commit()


@pytest.mark.parametrize(("retry_after", "waited"), [(10, [10.0, 10.0]), (100, [])])
def test_a_throttled_early_look_gives_up_within_the_polls_budget_so_the_portal_step_is_polled_on_time(
    runtime: Runtime,
    clock: FakeClock,
    box: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    retry_after: int,
    waited: list[float],
) -> None:
    """Azure DevOps throttles one organization's reads (429, `Retry-After`), that of a migration short of
    the portal step: its retries waited up to four times `Retry-After` (minutes), and the next poll with
    them, so the migration at the portal step, whose connector is clicking now, was read late. The early
    look gives up at the end of the poll's budget for early looks (30 s)."""
    approved(Chat(runtime, restores=False))
    _resting_elsewhere(runtime, clock)
    sleeps = _waiting_on(clock, runtime, monkeypatch)
    read_at: list[datetime] = []
    reads = _counting_reads(runtime, monkeypatch, lambda: read_at.append(clock.now))
    box.set_faults(rate_429=1.0, retry_after=retry_after, organizations=[OTHER])
    box.request_counts(reset=True)
    first = clock.now
    for _ in range(3):  # `serve`'s loop: a poll, then AADBOT_POLL_SECONDS
        runtime.conversation.watch()
        clock.now += POLL
    assert sleeps == waited  # within the 30 s budget: the third 10 s wait would have ended at its end
    gave_up_after = timedelta(seconds=sum(waited))
    assert list(zip(reads, read_at, strict=True)) == [
        (ORG, first),
        (OTHER, first),  # given up on; counted as read: looked at again in 15 minutes
        (ORG, first + POLL + gave_up_after),
        (ORG, first + 2 * POLL + gave_up_after),
    ]
    assert box.request_counts() == {"vssps.dev.azure.com": 3 + len(waited) + 1}


def test_a_click_found_near_the_end_of_the_budget_is_still_told_to_every_admin(
    runtime: Runtime, clock: FakeClock, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rev47 finding 1: the budget covered the admins' list too (read afresh once its 5 minutes' cache is
    out), so one 429 on it near the budget's end gave up, and the alarm went to the starter alone, the
    channel saying "waiting 5 s more would take longer than this call may". No later look tells the
    others: the migration is recorded connected. The budget bounds the organization's read only."""
    chat = Chat(runtime, restores=False)
    started(chat)
    clock.now += timedelta(minutes=20)  # its look is due, and the admins' list no longer cached
    chat.portal_connect()
    sleeps = _waiting_on(clock, runtime, monkeypatch)

    read = runtime.microsoft.organization_tenant_id

    def slow_read(organization: str) -> str:  # answered in 26 s of the early looks' 30 s budget
        answer = read(organization)
        clock.now += timedelta(seconds=26)
        box.set_faults(sequence=[429], retry_after=5)  # then the admins' list is throttled once
        return answer

    monkeypatch.setattr(runtime.microsoft, "organization_tenant_id", slow_read)
    told = runtime.conversation.watch()

    assert chat.state() == "connected"
    alarms = [message for message in told if message.message.summary == URGENT]
    assert {message.to.email for message in alarms if isinstance(message.to, DirectMessage)} == {DANA, LEE}
    assert sleeps == [5.0]  # the list's `Retry-After`, waited past the budget's end
    (in_channel,) = [message for message in alarms if isinstance(message.to, Channel)]
    where_the_names_go = " ".join(text_of([in_channel]).split()).split("📬 ")[1].split(" 💳")[0]
    assert where_the_names_go == (
        "Who is locked out and whom to map by hand goes to each of the 2 admins (owner and Project Collection"
        " Administrators) by direct message: people's names are their addresses, which are not for the whole"
        f" channel. If yours does not arrive, ask me `plan {ORG}` in a direct message for everyone."
    )
