"""Reminders in people's working hours, snooze, the stragglers' digest and the billing reminder."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from bot.conversation.reminder_views import billing_reminder
from storage import AffectedUser, Database, Migration, OutboundMessage, Reminder, TodoItem
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.storage.statements import statements, verbs
from tests.workflows.fakes import (
    DANA,
    LEE,
    OTHER_TENANT_ID,
    SUBSCRIPTION_ID,
    FakeClock,
    FakeMicrosoft,
)
from tests.workflows.outbox import queued
from tests.workflows.replays import CHANNEL
from workflows import _plan_codec, decisions
from workflows.directory import Subscription
from workflows.errors import PermissionDenied, WorkflowError
from workflows.plan import NO_ACCESS, Decision
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.todo import OPTIONAL_ITEMS
from workflows.tracking import Tracking
from workflows.working_hours import after_working_days, next_working_moment, offset_name, zone

pytestmark = SQLITE_ONLY

MONDAY_9_UTC = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ANN = "ann@fabrikam.com"


def required_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """A queued list's items someone is chased for: not those it offers as optional."""
    return [item for item in payload["items"] if item["key"] not in OPTIONAL_ITEMS]


def test_working_hours_follow_the_persons_time_zone() -> None:
    paris, new_york = zone("Europe/Paris"), zone("America/New_York")
    saturday = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)
    assert next_working_moment(saturday, paris) == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # Mon 09:00 CET
    # Monday 06:00 UTC is 01:00 in New York: wait for 09:00 there (14:00 UTC)
    early = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    assert next_working_moment(early, new_york) == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    assert next_working_moment(early, paris) == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # 07:00 there
    assert next_working_moment(datetime(2026, 11, 2, 9, 0, tzinfo=UTC), paris) == datetime(
        2026, 11, 2, 9, 0, tzinfo=UTC
    )
    # Friday 17:30 in Kolkata (a fixed offset from the profile) waits for Monday morning
    kolkata = zone(offset_name(19800))
    friday_evening = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
    assert offset_name(19800) == "+05:30" and offset_name(-12600) == "-03:30"
    assert next_working_moment(friday_evening, kolkata) == datetime(2026, 11, 9, 3, 30, tzinfo=UTC)


def test_an_unknown_time_zone_falls_back_to_utc() -> None:
    assert zone("Mars/Olympus_Mons") is UTC and zone(None) is UTC and zone("") is UTC
    assert zone("../../etc/passwd") is UTC and zone("-99:99") is UTC  # as a chat client may send anything


def test_working_days_skip_the_weekend() -> None:
    friday_10 = datetime(2026, 11, 6, 10, 0, tzinfo=UTC)
    assert after_working_days(friday_10, 2, UTC) == datetime(2026, 11, 10, 10, 0, tzinfo=UTC)  # Tuesday
    assert after_working_days(MONDAY_9_UTC, 2, UTC) == datetime(2026, 11, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def tracking(notified: MigrationService, database: Database, clock: FakeClock) -> Tracking:
    return Tracking(database, notified, clock=clock)


def _deliver_lists(tracking: Tracking, database: Database, time_zone: str | None = None) -> list[int]:
    """Every to-do list reached its person (what the outbox worker reports)."""
    ids = []
    for message in queued(database, "todo_list"):
        tracking.delivered(message.kind, message.payload, time_zone)
        ids.append(int(message.payload["affected_user_id"]))
    return ids


def _finish(database: Database, affected_user_id: int, when: datetime) -> None:
    with database.session() as session:
        for item in session.exec(select(TodoItem).where(TodoItem.affected_user_id == affected_user_id)).all():
            item.done_at = when
        session.commit()


def test_reminders_come_every_two_working_days_in_the_persons_working_hours_until_done(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    users = _deliver_lists(tracking, database, "America/New_York")
    with database.session() as session:
        reminders = session.exec(select(Reminder).where(Reminder.kind == "todo")).all()
    # Monday 09:00 UTC is 04:00 in New York: Wednesday at 09:00 New York time (14:00 UTC)
    assert {r.next_at for r in reminders} == {datetime(2026, 11, 4, 14, 0, tzinfo=UTC)}

    clock.now = datetime(2026, 11, 4, 13, 59, tzinfo=UTC)
    tracking.tick()
    assert queued(database, "todo_reminder") == []
    clock.now = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
    assert tracking.tick() >= len(users)
    first = queued(database, "todo_reminder")
    assert len(first) == len(users)
    assert tracking.tick() == 0  # due ones moved on: nothing twice

    finished, *others = users
    _finish(database, finished, clock.now)
    clock.now = datetime(2026, 11, 6, 14, 0, tzinfo=UTC)  # Friday: the next round
    tracking.tick()
    second = queued(database, "todo_reminder")[len(first) :]
    assert sorted(m.payload["affected_user_id"] for m in second) == sorted(others)
    with database.session() as session:
        ended = session.exec(select(Reminder).where(Reminder.affected_user_id == finished)).one()
    assert ended.status == "done"
    lists = {m.payload["affected_user_id"]: m for m in queued(database, "todo_list")}
    for reminder in second:
        own = lists[reminder.payload["affected_user_id"]]
        assert reminder.recipient == own.recipient
        # the open items of their list, but those it offers as optional
        assert [i["id"] for i in reminder.payload["items"]] == [i["id"] for i in required_of(own.payload)]


def test_reminders_due_at_the_same_moment_go_out_in_the_order_of_their_schedules(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """Every replica fires them in the same order, whatever order the database keeps its rows in."""
    _deliver_lists(tracking, database)
    with database.session() as session:
        first = session.exec(
            select(Reminder).where(Reminder.kind == "todo").order_by(col(Reminder.id))
        ).first()
        assert first is not None
        due = first.next_at
        # moved and moved back, the first schedule's row now lies behind the others in the table
        for moment in (due + timedelta(days=1), due):
            first.next_at = moment
            session.commit()
    clock.advance(days=2)
    tracking.tick()
    fired = [m.payload["reminder_id"] for m in queued(database, "todo_reminder")]
    assert len(fired) > 1 and fired == sorted(fired)


def test_a_restarted_process_goes_on_with_the_same_schedules(
    tracking: Tracking, notified: MigrationService, database: Database, clock: FakeClock
) -> None:
    users = _deliver_lists(tracking, database)
    clock.advance(days=2)
    restarted = Tracking(database, notified, clock=clock)
    restarted.tick()
    assert len(queued(database, "todo_reminder")) == len(users)
    assert tracking.tick() == 0


def test_snooze_puts_reminders_off_and_only_for_their_owner(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    _deliver_lists(tracking, database, "Europe/Paris")
    with database.session() as session:
        reminder = session.exec(select(Reminder).where(Reminder.kind == "todo")).first()
        assert reminder is not None and reminder.id is not None
        owner = session.get(AffectedUser, reminder.affected_user_id)
        assert owner is not None
    me = Actor("U-OWNER", owner.email, owner.display_name)
    clock.now = datetime(2026, 11, 6, 16, 30, tzinfo=UTC)  # Friday 17:30 in Paris
    snoozed = tracking.snooze(me, "1d", reminder_id=reminder.id)
    assert snoozed.until == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # Monday 09:00 in Paris
    week = tracking.snooze(me, "1w", reminder_id=reminder.id)
    assert week.until == datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # a week on is after hours again

    clock.now = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
    tracking.tick()
    assert owner.id not in {m.payload["affected_user_id"] for m in queued(database, "todo_reminder")}

    with pytest.raises(PermissionDenied):
        tracking.snooze(Actor("U-X", "someone@else.com", "X"), "1d", reminder_id=reminder.id)
    with pytest.raises(WorkflowError, match="1d"):
        tracking.snooze(me, "forever", reminder_id=reminder.id)
    with pytest.raises(WorkflowError, match="no longer exists"):
        tracking.snooze(me, "1d", reminder_id=999_999)


def test_the_stragglers_digest_goes_to_the_admins_channel(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    users = _deliver_lists(tracking, database)
    tracking.tick()  # opens the digest's schedule
    for user in users[1:]:
        _finish(database, user, clock.now)
    clock.advance(days=2)
    tracking.tick()
    (digest,) = queued(database, "straggler_digest")
    assert digest.recipient == f"channel:{CHANNEL}"
    assert [row[0] for row in digest.payload["stragglers"]] == [
        m.payload["email"] for m in queued(database, "todo_list") if m.payload["affected_user_id"] == users[0]
    ]
    _finish(database, users[0], clock.now)
    clock.advance(days=3)
    tracking.tick()
    assert len(queued(database, "straggler_digest")) == 1  # everyone is done: no more digests


def test_the_digest_names_someone_who_falls_behind_after_a_round_found_nobody(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """walk37 23: a round that finds everyone done does not end the digest for good; someone behind again
    later (an item reopened, say) is named at the next round, once, and not by every look before it."""
    users = _deliver_lists(tracking, database)
    tracking.tick()  # opens the digest's schedule
    with database.session() as session:  # everyone done, and seen signing in
        for item in session.exec(select(TodoItem)).all():
            item.done_at = item.verified_at = clock.now
        session.commit()
    clock.advance(days=3)
    tracking.tick()  # a round with nobody to name
    assert queued(database, "straggler_digest") == []
    with database.session() as session:
        item = session.exec(select(TodoItem).where(TodoItem.affected_user_id == users[0])).first()
        assert item is not None
        item.done_at = None
        session.commit()
    tracking.tick()  # the same moment: the round was spent
    assert queued(database, "straggler_digest") == []
    clock.advance(days=4)  # Thursday's round, then two working days: Monday
    tracking.tick()
    tracking.tick()
    (digest,) = queued(database, "straggler_digest")
    assert [row[0] for row in digest.payload["stragglers"]] == [
        m.payload["email"] for m in queued(database, "todo_list") if m.payload["affected_user_id"] == users[0]
    ]


def test_progress_counts_items_users_and_delivery(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    lists = queued(database, "todo_list")
    before = tracking.progress("fabrikam")
    assert before.users_done == 0 and before.items_done == 0
    assert {user.delivery for user in before.users} == {"queued"}
    assert before.items_total == sum(len(required_of(m.payload)) for m in lists)
    _finish(database, int(lists[0].payload["affected_user_id"]), clock.now)
    after = tracking.progress(None)
    assert after.users_done == 1
    assert after.items_done == len(required_of(lists[0].payload))
    per_item = {item.key: (item.done, item.total) for item in after.items}

    def holding(key: str, messages: list[OutboundMessage]) -> int:
        return sum(1 for message in messages for item in message.payload["items"] if item["key"] == key)

    keys = {item["key"] for message in lists for item in message.payload["items"]}
    assert per_item == {key: (holding(key, lists[:1]), holding(key, lists)) for key in keys}
    assert 0 < sum(done for done, _ in per_item.values()) < sum(total for _, total in per_item.values())


def test_billing_in_another_directory_is_reminded_until_it_moves(
    tracking: Tracking,
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
) -> None:
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=OTHER_TENANT_ID)
    tracking.tick()
    (first,) = queued(database, "billing_reminder")
    assert first.recipient == f"channel:{CHANNEL}"
    assert first.payload["deadline"] == "2026-11-30"
    assert any("Change directory" in step for step in first.payload["steps"])
    assert tracking.tick() == 0

    clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday; the month ends on Monday the 30th
    tracking.tick()
    assert len(queued(database, "billing_reminder")) == 2
    with database.session() as session:
        schedule = session.exec(select(Reminder).where(Reminder.kind == "billing")).one()
    assert schedule.next_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # the last working day

    tenant = notified.status().tenant_id
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=tenant)
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    tracking.tick()
    assert len(queued(database, "billing_reminder")) == 2
    assert notified.status().state == "billing_checked"
    (moved,) = queued(database, "billing_moved")  # the admins hear it from the check that found it
    assert moved.recipient == f"channel:{CHANNEL}"
    assert moved.payload["message"] == f"Billing subscription {SUBSCRIPTION_ID} is already in Fabrikam."
    with database.session() as session:
        assert session.exec(select(Reminder).where(Reminder.kind == "billing")).one().status == "done"
    clock.advance(days=5)
    tracking.tick()
    assert len(queued(database, "billing_reminder")) == 2
    assert len(queued(database, "billing_moved")) == 1


def _tick_through(tracking: Tracking, service: MigrationService, clock: FakeClock, until: datetime) -> None:
    """Tick at every moment the bot's watch next has something to do, as a rehearsal walks, until `until`."""
    tracking.tick()
    while (due := service.next_due().by_clock) is not None and clock.now < due < until:
        clock.now = due
        tracking.tick()


def test_lists_out_in_the_last_working_hour_before_the_deadline_day_get_one_billing_reminder_a_day(
    tracking: Tracking,
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
) -> None:
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=OTHER_TENANT_ID)
    clock.now = datetime(2026, 11, 27, 16, 5, tzinfo=UTC)  # Friday; the month's last working day is Monday
    _tick_through(tracking, notified, clock, datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    sent_at = [message.created_at for message in queued(database, "billing_reminder")]
    # not Friday 16:05 and again on Monday 09:00, a working hour later with the same words: the last
    # working day's reminder comes a working day after Friday's
    assert sent_at == [datetime(2026, 11, 27, 16, 5, tzinfo=UTC), datetime(2026, 11, 30, 16, 5, tzinfo=UTC)]


def test_billing_still_unmoved_after_the_month_of_the_connection_is_reminded_as_overdue(
    tracking: Tracking,
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
) -> None:
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=OTHER_TENANT_ID)
    # connected on Monday 2 November
    _tick_through(tracking, notified, clock, datetime(2026, 12, 4, 0, 0, tzinfo=UTC))
    reminders = queued(database, "billing_reminder")
    told = [(m.payload["deadline"], m.payload["missed"]) for m in reminders]
    assert told[0] == ("2026-11-30", None)
    assert told[-1] == ("2026-12-31", "2026-11-30")  # December's reminders say November's deadline passed
    assert all(missed is None for deadline, missed in told if deadline == "2026-11-30")
    overdue = billing_reminder(
        organization="fabrikam", message="", steps=(), deadline="2026-12-31", missed="2026-11-30"
    )
    assert overdue.summary == "Overdue: the billing of fabrikam has not moved"


def test_reminders_stop_when_the_migration_is_completed(
    tracking: Tracking, notified: MigrationService, database: Database, clock: FakeClock, dana: Actor
) -> None:
    _deliver_lists(tracking, database)
    assert notified.check_billing(None, dana).ok
    notified.complete(None, dana, confirmed=True)
    clock.advance(days=7)
    assert tracking.tick() == 0
    assert queued(database, "todo_reminder") == []


def test_working_days_count_from_the_next_working_morning() -> None:
    saturday_noon = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)
    # read on Monday morning at the earliest: two working days later is Wednesday morning, not Tuesday noon
    assert after_working_days(saturday_noon, 2, UTC) == datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
    wednesday_evening = datetime(2026, 11, 4, 20, 0, tzinfo=UTC)
    assert after_working_days(wednesday_evening, 2, UTC) == datetime(2026, 11, 9, 9, 0, tzinfo=UTC)


def test_working_hours_hold_across_a_dst_change_and_west_of_utc() -> None:
    new_york = zone("America/New_York")
    # Friday 30 October 10:00 EDT (UTC-4); New York falls back on Sunday 1 November
    friday = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)
    assert after_working_days(friday, 2, new_york) == datetime(2026, 11, 3, 15, 0, tzinfo=UTC)  # 10:00 EST
    newfoundland = zone(offset_name(-12600))  # Slack's tz_offset for UTC-03:30
    late = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)  # Monday 17:30 there
    assert next_working_moment(late, newfoundland) == datetime(2026, 11, 3, 12, 30, tzinfo=UTC)


def _first_todo_reminder(database: Database) -> tuple[Reminder, AffectedUser]:
    with database.session() as session:
        reminder = session.exec(select(Reminder).where(Reminder.kind == "todo")).first()
        assert reminder is not None and reminder.id is not None
        owner = session.get(AffectedUser, reminder.affected_user_id)
        assert owner is not None
        return reminder, owner


def test_snooze_never_brings_the_next_reminder_forward(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    _deliver_lists(tracking, database, "UTC")
    clock.now = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)  # Wednesday: the first reminders
    tracking.tick()
    reminder, owner = _first_todo_reminder(database)
    assert reminder.next_at == datetime(2026, 11, 6, 9, 0, tzinfo=UTC)  # due on Friday
    clock.now = datetime(2026, 11, 4, 9, 5, tzinfo=UTC)
    snoozed = tracking.snooze(Actor("U-OWNER", owner.email, "Owner"), "1d", reminder_id=reminder.id or 0)
    assert snoozed.until == datetime(2026, 11, 6, 9, 0, tzinfo=UTC)  # not Thursday 09:05
    assert not snoozed.moved  # the reply says so


def test_a_snooze_the_day_before_a_reminder_skips_that_reminder(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    _deliver_lists(tracking, database, "UTC")
    reminder, owner = _first_todo_reminder(database)
    assert reminder.next_at == datetime(2026, 11, 4, 9, 0, tzinfo=UTC)  # Wednesday 09:00
    clock.now = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)  # Tuesday afternoon
    snoozed = tracking.snooze(Actor("U-OWNER", owner.email, "Owner"), "1d", reminder_id=reminder.id or 0)
    # Thursday, not Wednesday 16:00: the same day as the reminder it puts off would be no snooze at all
    assert snoozed.until == datetime(2026, 11, 5, 16, 0, tzinfo=UTC) and snoozed.moved
    clock.now = datetime(2026, 11, 4, 16, 59, tzinfo=UTC)
    tracking.tick()
    assert owner.id not in {m.payload["affected_user_id"] for m in queued(database, "todo_reminder")}


def test_snoozing_a_finished_list_says_no_more_reminders_come(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    _deliver_lists(tracking, database)
    reminder, owner = _first_todo_reminder(database)
    assert owner.id is not None
    _finish(database, owner.id, clock.now)
    clock.advance(days=2)
    tracking.tick()
    with pytest.raises(WorkflowError, match="no more reminders will come"):
        tracking.snooze(Actor("U-OWNER", owner.email, "Owner"), "1w", reminder_id=reminder.id or 0)


def test_overdue_reminders_wait_for_working_hours_after_downtime(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    users = _deliver_lists(tracking, database, "America/New_York")
    tracking.tick()
    clock.now = datetime(2026, 11, 7, 3, 0, tzinfo=UTC)  # the bot is back on Friday 22:00 in New York
    assert tracking.tick() == 0
    assert queued(database, "todo_reminder") == [] and queued(database, "straggler_digest") == []
    with database.session() as session:
        todo = session.exec(select(Reminder).where(Reminder.kind == "todo")).all()
    monday_9_new_york = datetime(2026, 11, 9, 14, 0, tzinfo=UTC)
    assert {r.next_at for r in todo} == {monday_9_new_york}

    clock.now = monday_9_new_york
    tracking.tick()
    assert len(queued(database, "todo_reminder")) == len(users)


@BOTH_BACKENDS
def test_a_delivered_list_whose_schedule_was_never_written_still_gets_reminders(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    delivered_at = clock.now
    with database.session() as session:  # the process died between recording the send and the schedule
        for message in session.exec(select(OutboundMessage).where(OutboundMessage.kind == "todo_list")).all():
            message.status, message.sent_at = "sent", delivered_at
        session.commit()
    users = {int(m.payload["affected_user_id"]) for m in queued(database, "todo_list")}

    tracking.tick()
    with database.session() as session:
        schedules = session.exec(select(Reminder).where(Reminder.kind == "todo")).all()
    assert {r.affected_user_id for r in schedules} == users
    assert {r.next_at for r in schedules} == {datetime(2026, 11, 4, 9, 0, tzinfo=UTC)}

    late = queued(database, "todo_list")[0]
    tracking.delivered("todo_list", late.payload, "Europe/Paris")  # the late callback
    clock.now = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)
    tracking.tick()
    assert {m.payload["affected_user_id"] for m in queued(database, "todo_reminder")} == users


def test_a_delivered_list_opens_its_schedule_in_two_statements_and_one_delivered_again_reads_it_once(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """Every message that reaches someone is reported: the schedule is inserted as it stands, not inserted,
    read back and updated, and the person's row is not loaded for the migration's id."""
    listed = queued(database, "todo_list")[0]
    with statements(database) as first:
        tracking.delivered(listed.kind, listed.payload, "Europe/Paris")
    assert [statement.split(" ", 1)[0] for statement in first] == ["SELECT", "INSERT"]
    # the person's migration and schedule in one read
    assert (
        "SELECT affected_user.migration_id, reminder." in first[0] and "LEFT OUTER JOIN reminder" in first[0]
    )
    with database.session() as session:
        schedule = session.exec(select(Reminder).where(Reminder.kind == "todo")).one()
    # Monday 09:00 UTC is 10:00 in Paris: two working days on, Wednesday 10:00 there
    assert (schedule.affected_user_id, schedule.time_zone) == (
        listed.payload["affected_user_id"],
        "Europe/Paris",
    )
    assert (schedule.next_at, schedule.status, schedule.sent) == (
        datetime(2026, 11, 4, 9, 0, tzinfo=UTC),
        "active",
        0,
    )

    clock.advance(hours=1)  # the same list reported again: the schedule stands, and only it is read
    with statements(database) as again:
        tracking.delivered(listed.kind, listed.payload, "Europe/Paris")
    assert verbs(again) == {"SELECT": 1, "UPDATE": 1}  # its first round moves with the newer delivery
    with statements(database) as nobody:
        tracking.delivered(listed.kind, {**listed.payload, "affected_user_id": 10_000}, None)
    assert verbs(nobody) == {"SELECT": 1}
    with database.session() as session:
        assert session.exec(select(Reminder).where(Reminder.kind == "todo")).one().next_at == datetime(
            2026, 11, 4, 10, 0, tzinfo=UTC
        )


@BOTH_BACKENDS
def test_a_billing_check_that_cannot_run_backs_off_and_then_tells_the_admins(
    tracking: Tracking, microsoft: FakeMicrosoft, database: Database, clock: FakeClock
) -> None:
    microsoft.broken.add("billing_subscription_id")
    waits, queued_per_look = [], []
    for _ in range(4):
        queued_per_look.append(tracking.tick())
        assert tracking.tick() == 0  # not again before the back-off
        with database.session() as session:
            schedule = session.exec(select(Reminder).where(Reminder.kind == "billing")).one()
        waits.append(schedule.next_at - clock.now)
        clock.now = schedule.next_at
    assert waits == [timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2)]
    assert queued_per_look == [0, 0, 1, 0]  # the admins hear it once, after the third miss
    assert microsoft.calls["billing_subscription_id"] == 4
    (told,) = queued(database, "billing_reminder")
    assert told.recipient == f"channel:{CHANNEL}"
    assert "could not" in told.payload["message"] and "503" in told.payload["message"]
    assert any("check-billing" in step for step in told.payload["steps"])

    microsoft.broken.clear()
    tracking.tick()
    with database.session() as session:
        schedule = session.exec(select(Reminder).where(Reminder.kind == "billing")).one()
    assert (schedule.status, schedule.failures) == ("done", 0)


def _one_not_in_chat_and_everyone_else_done(
    tracking: Tracking, database: Database, clock: FakeClock
) -> OutboundMessage:
    """The first list found its person on no surface; everyone else got theirs and finished it."""
    absent, *present = queued(database, "todo_list")
    with database.session() as session:
        row = session.get(OutboundMessage, absent.id)
        assert row is not None
        row.status, row.error_code = "failed", "not_in_chat"
        session.commit()
    for message in present:
        tracking.delivered(message.kind, message.payload, None)
        _finish(database, int(message.payload["affected_user_id"]), clock.now)
    return absent


def test_people_not_in_chat_are_left_out_of_the_stragglers_digest(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    absent = _one_not_in_chat_and_everyone_else_done(tracking, database, clock)
    tracking.tick()
    clock.advance(days=2)
    tracking.tick()
    assert queued(database, "straggler_digest") == []  # everyone who can finish has
    report = tracking.progress(None)
    assert [u.email for u in report.with_delivery("not-in-chat")] == [absent.payload["email"]]


def _settle(database: Database, message_id: int | None, *, reached: bool, why: str = "") -> None:
    """What the outbox worker records: sent, or not reachable in chat with the platform's reason."""
    with database.session() as session:
        row = session.get(OutboundMessage, message_id)
        assert row is not None
        if reached:
            row.status = "sent"
        else:
            row.status, row.error_code, row.last_error = "failed", "not_in_chat", why
        session.commit()


def test_someone_whose_list_found_them_nowhere_but_who_ticks_items_in_chat_is_a_straggler_like_anyone(
    tracking: Tracking, database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    """Their list could not be delivered (no account found by their address), yet they ticked an item with
    `done N` on some surface: they are in chat after all, so the digest counts them and names them if they
    fall behind, as `progress` does (walk29 problem 3)."""
    absent = _one_not_in_chat_and_everyone_else_done(tracking, database, clock)
    person = int(absent.payload["affected_user_id"])
    with database.session() as session:
        items = session.exec(select(TodoItem).where(TodoItem.affected_user_id == person)).all()
    first, *rest = sorted(items, key=lambda item: item.id or 0)
    assert rest, "their list has more than one item"
    notified.mark_done(first.id or 0, Actor(id="U-ABSENT", email=absent.payload["email"], name="Absent"))
    tracking.tick()
    clock.advance(days=2)
    tracking.tick()

    (digest,) = queued(database, "straggler_digest")
    assert digest.payload["unreachable"] == 0
    assert [row[0] for row in digest.payload["stragglers"]] == [absent.payload["email"]]


def test_someone_who_blocks_the_bot_after_their_list_is_shown_as_out_of_reach_until_a_reminder_gets_through(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    lists = queued(database, "todo_list")
    for message in lists:
        _settle(database, message.id, reached=True)
    _deliver_lists(tracking, database)
    tracking.tick()  # opens the digest's schedule
    blocker = int(lists[0].payload["affected_user_id"])
    why = "they blocked the bot in Teams (ConversationBlockedByUser)"
    clock.advance(days=2)
    tracking.tick()
    for reminder in queued(database, "todo_reminder"):
        _settle(database, reminder.id, reached=reminder.payload["affected_user_id"] != blocker, why=why)

    (out_of_reach,) = tracking.progress(None).with_delivery("left-chat")  # their list reached them
    assert (out_of_reach.affected_user_id, out_of_reach.delivery_error) == (blocker, why)
    clock.advance(days=2)
    tracking.tick()
    digest = queued(database, "straggler_digest")[-1]
    assert digest.payload["unreachable"] == 1  # not among those "a word from you may help"
    assert lists[0].payload["email"] not in [row[0] for row in digest.payload["stragglers"]]

    # they unblocked the bot: the next reminder reaches them
    latest = [m for m in queued(database, "todo_reminder") if m.payload["affected_user_id"] == blocker][-1]
    _settle(database, latest.id, reached=True)
    assert tracking.progress(None).with_delivery("left-chat") == ()


def test_the_digest_reads_everyones_lists_at_once_however_many_people_there_are(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    tracking.tick()  # opens the digest's schedule

    def list_reads_of_a_digest() -> tuple[int, list[OutboundMessage]]:
        reads = 0

        def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            nonlocal reads
            reads += "FROM todo_item" in statement

        clock.advance(days=2)
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            tracking.tick()
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        return reads, queued(database, "straggler_digest")

    reads, (first,) = list_reads_of_a_digest()
    with database.session() as session:
        migration_id = session.exec(select(AffectedUser.migration_id)).first()
        assert migration_id is not None
        for number in range(30):
            person = AffectedUser(
                migration_id=migration_id,
                entitlement_id=f"e-extra-{number}",
                principal_name=f"extra{number}@fabrikam.com",
                email=f"extra{number}@fabrikam.com",
                display_name=f"Extra {number}",
                outcome="auto",
                created_at=clock.now,
            )
            session.add(person)
            session.flush()
            assert person.id is not None
            item = TodoItem(affected_user_id=person.id, position=0, key="k", title="t", body="", link="")
            session.add(item)
        session.commit()
    more_reads, (_, second) = list_reads_of_a_digest()
    assert len(second.payload["stragglers"]) == len(first.payload["stragglers"]) + 30
    assert more_reads == reads


def test_a_round_of_reminders_reads_the_plan_once_however_many_people_it_reminds(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """The plan is the migration row's bulk (13 MB of JSON at 20,000 people); a reminder needs from it
    only who an admin decided for, which stays the same until the row changes."""
    users = _deliver_lists(tracking, database)
    assert len(users) >= 3
    plan_reads = 0

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        nonlocal plan_reads
        plan_reads += bool(re.search(r'\bmigration\."?plan\b', statement))  # not its fingerprint

    clock.advance(days=2)
    event.listen(database.engine, "before_cursor_execute", count)
    try:
        assert tracking.tick() >= len(users)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert len(queued(database, "todo_reminder")) == len(users)
    assert plan_reads == 2  # who an admin decided for, once for all; and the billing check, a step of its own


def test_a_reminder_reads_its_schedule_with_the_migration_and_the_person_with_their_items(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """Two statements per reminder before it is queued, not one per row it reads."""
    users = _deliver_lists(tracking, database)
    clock.advance(days=2)
    with statements(database) as seen:
        assert tracking.tick() >= len(users)
    assert len(queued(database, "todo_reminder")) == len(users)
    entity = "(reminder|migration|affected_user)"
    by_id_alone = re.compile(rf"^SELECT {entity}\.version, .* FROM \1 WHERE \1\.id = ")
    assert [statement for statement in seen if by_id_alone.search(statement)] == []
    schedules = [statement for statement in seen if "FROM reminder JOIN migration ON" in statement]
    people = [
        statement for statement in seen if "FROM affected_user LEFT OUTER JOIN todo_item ON" in statement
    ]
    assert len(people) == len(users) and len(schedules) > len(users)  # the billing reminder's too


def test_a_look_asks_the_database_no_more_for_three_migrations_than_for_one(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """Every replica looks every minute: which schedules to open is asked once for all migrations."""

    def statements_of_a_look() -> int:
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(database.engine, "before_cursor_execute", count)
        try:
            tracking.tick()
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        return statements

    for _ in range(3):  # the clock stands: the schedules open, the billing reminder due at once goes
        tracking.tick()
    one = statements_of_a_look()
    with database.session() as session:
        for organization in ("contoso", "litware"):
            planned = Migration(
                organization=organization,
                tenant_id=f"{organization}.com",
                state="planned",
                started_by_id="U-DANA",
                started_by_email="dana@fabrikam.com",
                started_by_name="Dana",
                created_at=clock.now,
                updated_at=clock.now,
            )
            session.add(planned)
            session.flush()
            assert planned.id is not None
            session.add(
                AffectedUser(
                    migration_id=planned.id,
                    entitlement_id=f"e-{organization}",
                    principal_name=f"kim@{organization}.com",
                    email=f"kim@{organization}.com",
                    display_name="Kim",
                    outcome="auto",
                    created_at=clock.now,
                )
            )
        session.commit()
    tracking.tick()  # opens their digests' schedules
    assert _schedule_keys(database) >= {"digest:2", "digest:3"}
    assert statements_of_a_look() == one


def _schedule_keys(database: Database) -> set[str]:
    with database.session() as session:
        return set(session.exec(select(Reminder.key)).all())


def _wait_for_the_admins(database: Database, affected_user_id: int, item: str = "ask-for-access") -> None:
    """Their list's first item becomes one that waits for the admins: to invite them, by default."""
    with database.session() as session:
        first = session.exec(
            select(TodoItem)
            .where(TodoItem.affected_user_id == affected_user_id)
            .order_by(col(TodoItem.position))
        ).first()
        assert first is not None
        first.key = item
        session.commit()


def test_who_waits_is_told_of_the_admins_asked_of_azure_devops_with_no_transaction_open(
    tracking: Tracking,
    database: Database,
    clock: FakeClock,
    microsoft: FakeMicrosoft,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _deliver_lists(tracking, database)
    ann, bob = (
        int(m.payload["affected_user_id"])
        for m in queued(database, "todo_list")
        if m.payload["email"] in ("ann@fabrikam.com", "bob@outlook.com")
    )
    _wait_for_the_admins(database, ann)
    open_while_asked: list[int] = []
    ask = microsoft.administrators

    def administrators(name: str) -> object:
        open_while_asked.append(database.engine.pool.checkedout())  # type: ignore[attr-defined]
        return ask(name)

    monkeypatch.setattr(microsoft, "administrators", administrators)
    clock.advance(days=2)
    tracking.tick()
    (told,) = [m for m in queued(database, "todo_reminder") if m.payload["affected_user_id"] == ann]
    assert (told.payload["waiting_on"], told.payload["admins"]) == ("invite", [DANA, LEE])
    assert open_while_asked == [0]  # asked once, while no session held a connection

    _wait_for_the_admins(database, bob)
    microsoft.broken.add("administrators")  # Azure DevOps cannot say who the admins are
    clock.advance(days=2)
    tracking.tick()
    reminded = queued(database, "todo_reminder")
    *_, told = [m for m in reminded if m.payload["affected_user_id"] == bob]
    # nobody named: the notice falls back on who started the migration
    named = (told.payload["waiting_on"], told.payload["admins"], told.payload["sender"])
    assert named == ("invite", [], "Dana")
    assert len([m for m in reminded if m.payload["affected_user_id"] == ann]) == 1  # Ann heard it once


def test_a_decision_written_into_the_plan_ends_the_wait_at_the_next_round_of_the_same_tracker(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """Who was decided is read from the plan once per version of the migration row: a decision recorded
    in the plan (as `decide` records it, the item on the list unchanged, as a disabled account's stays)
    moves the version on, and the long-lived tracker sees it at its next round."""
    _deliver_lists(tracking, database)
    (ann,) = [
        int(m.payload["affected_user_id"]) for m in queued(database, "todo_list") if m.payload["email"] == ANN
    ]
    _wait_for_the_admins(database, ann, "enable-directory-account")  # her only account is disabled
    clock.advance(days=2)
    tracking.tick()
    (told,) = [m for m in queued(database, "todo_reminder") if m.payload["affected_user_id"] == ann]
    assert told.payload["waiting_on"] == "decide"

    with database.session() as session:
        row = session.exec(select(Migration)).one()
        plan = _plan_codec.decode(row.plan or {})
        decided = decisions.apply(plan, [*plan.decisions, Decision("e-ann", NO_ACCESS, "Dana")])
        row.plan = _plan_codec.encode(decided)
        session.commit()
    clock.advance(days=2)
    tracking.tick()
    *_, reminded = [m for m in queued(database, "todo_reminder") if m.payload["affected_user_id"] == ann]
    assert "waiting_on" not in reminded.payload and reminded.payload["items"]  # her tasks again


def test_the_digest_and_the_progress_report_read_how_people_stand_not_their_whole_lists(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """Each list's payload holds all its items; how its person stands in chat is seven columns beside it."""
    _deliver_lists(tracking, database)
    tracking.tick()  # opens the digest's schedule
    clock.advance(days=2)
    with statements(database) as seen:
        tracking.tick()
        report = tracking.progress(None)
    assert len(queued(database, "straggler_digest")) == 1 and report.with_delivery("queued") == report.users
    whole_rows = re.compile(
        r"^SELECT .*outbound_message\.payload, outbound_message\.status, .*"
        r" WHERE outbound_message\.migration_id = "
    )
    assert [statement for statement in seen if whole_rows.search(statement)] == []
    by_migration = re.compile(r"^SELECT (.*) FROM outbound_message WHERE outbound_message\.migration_id = ")
    whole_payload = re.compile(r"(?:^|, )outbound_message\.payload(?:,|$)")  # not one key of it
    standing = [
        statement
        for statement in seen
        if (read := by_migration.search(statement)) and not whole_payload.search(read[1])
    ]
    assert len(standing) == 2  # the digest's, the report's


@BOTH_BACKENDS
def test_snooze_before_any_reminder_says_whether_the_list_ever_arrived(
    tracking: Tracking, database: Database
) -> None:
    """walk29 #4: someone whose list no surface could deliver was told their first reminder comes 2
    working days after their list arrived; it never did, and no reminder was ever coming."""
    with database.session() as session:
        (message,) = [m for m in queued(database, "todo_list") if m.payload["email"] == ANN]
        owner = session.get(AffectedUser, message.payload["affected_user_id"])
        assert owner is not None and owner.id is not None
    ann = Actor("U-ANN", ANN, owner.display_name)

    with pytest.raises(WorkflowError) as waiting:
        tracking.snooze(ann, "1w", affected_user_id=owner.id)
    assert str(waiting.value) == (
        "Nothing to snooze: your to-do list has not reached you yet (it is still on its way), so no reminders"
        " are set. Say `todo` to see your list here."
    )

    why = (
        "Slack: no Slack account with the email ann@fabrikam.com; Teams: they blocked the bot in Teams (403)"
    )
    with database.session() as session:
        failed = session.get(OutboundMessage, message.id)
        assert failed is not None
        failed.status, failed.error_code, failed.last_error = "failed", "not_in_chat", why
        session.commit()
    with pytest.raises(WorkflowError) as missed:
        tracking.snooze(ann, "1w", affected_user_id=owner.id)
    assert str(missed.value) == (
        "Nothing to snooze: your to-do list never reached you, so no reminders are set (chat could not"
        f" deliver it: {why}). Say `todo` to see your list here."
    )

    with database.session() as session:
        sent = session.get(OutboundMessage, message.id)
        assert sent is not None
        sent.status = "sent"
        session.commit()
    with pytest.raises(WorkflowError) as arrived:
        tracking.snooze(ann, "1w", affected_user_id=owner.id)
    assert str(arrived.value) == (
        "Nothing to snooze yet: your first reminder comes 2 working days after your list arrived."
    )


def _digest_due(database: Database) -> datetime:
    with database.session() as session:
        return session.exec(select(Reminder.next_at).where(Reminder.key.startswith("digest:"))).one()


def _sent(database: Database, at: datetime) -> None:
    """The lists queued reached their people at `at` (what the outbox worker records)."""
    with database.session() as session:
        for message in session.exec(select(OutboundMessage).where(OutboundMessage.kind == "todo_list")):
            message.status, message.sent_at = "sent", at
        session.commit()


def test_a_digest_opened_late_counts_its_first_round_from_the_first_list_sent(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """The lists went out on Monday morning but the first look comes on Tuesday (serve was down): the
    digest is due 2 working days after the lists, Wednesday morning, not Thursday."""
    _sent(database, MONDAY_9_UTC)
    clock.advance(days=1, hours=1)
    tracking.tick()
    assert _digest_due(database) == MONDAY_9_UTC + timedelta(days=2)
    assert queued(database, "straggler_digest") == []


def test_a_digest_opened_before_any_list_is_sent_counts_from_the_look(
    tracking: Tracking, database: Database, clock: FakeClock
) -> None:
    """No list has reached anyone when the look opens the digest: its first round is 2 working days after
    that look."""
    clock.advance(hours=1)
    tracking.tick()
    assert _digest_due(database) == MONDAY_9_UTC + timedelta(days=2, hours=1)
