"""The delivery callback and the watch's reminder tick open the same schedule at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from storage import Database, OutboundMessage, Reminder, TodoItem
from tests.storage.databases import SQLITE_ONLY
from tests.workflows.fakes import OTHER_TENANT_ID, SUBSCRIPTION_ID, FakeClock, FakeMicrosoft
from tests.workflows.outbox import queued
from workflows.directory import Subscription
from workflows.reminders import Reminders
from workflows.schedules import ReminderSettings
from workflows.service import MigrationService
from workflows.tracking import Tracking


class _Collision:
    """Holds each thread's first insert of a to-do schedule until the other thread reaches its own, so
    both have looked for the schedule, found none, and insert it at once: the race, every time."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._meeting = threading.Barrier(2, timeout=10)
        self._met: set[int] = set()
        self.errors: list[BaseException] = []

    def __enter__(self) -> _Collision:
        event.listen(self._database.engine, "before_cursor_execute", self._before)
        event.listen(self._database.engine, "handle_error", self._failed)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self._database.engine, "before_cursor_execute", self._before)
        event.remove(self._database.engine, "handle_error", self._failed)

    def _before(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        me = threading.get_ident()
        if me in self._met or not statement.lstrip().upper().startswith("INSERT INTO REMINDER"):
            return
        values = parameters.values() if isinstance(parameters, dict) else parameters
        if any(isinstance(value, str) and value.startswith("todo:") for value in values):
            self._met.add(me)
            self._meeting.wait()

    def _failed(self, context: Any) -> None:
        self.errors.append(context.original_exception)


@pytest.fixture
def collision(database: Database) -> Iterator[_Collision]:
    with _Collision(database) as watching:
        yield watching


def test_the_tick_and_the_delivery_callback_open_one_schedule_without_a_unique_key_error(
    database: Database, clock: FakeClock, notified: MigrationService, collision: _Collision
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    with database.session() as session:  # the worker recorded the send; its callback comes now
        lists = session.exec(select(OutboundMessage).where(OutboundMessage.kind == "todo_list")).all()
        first = lists[0]
        for message in lists:
            message.status, message.sent_at = "sent", clock.now
        session.commit()
    payload = dict(first.payload)
    failures: list[BaseException] = []

    def run(work: Any) -> None:
        try:
            work()
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    def callback() -> None:
        tracking.delivered("todo_list", payload, "Europe/Paris")

    threads = [threading.Thread(target=run, args=(work,)) for work in (callback, tracking.tick)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert collision.errors == []  # no IntegrityError, not even one caught and retried
    with database.session() as session:
        schedules = session.exec(select(Reminder).where(Reminder.kind == "todo")).all()
    assert len(schedules) == len(lists)  # the tick opened every other one in the same go
    mine = [r for r in schedules if r.affected_user_id == payload["affected_user_id"]]
    assert [r.time_zone for r in mine] == ["Europe/Paris"]  # the callback's update was not lost


class _Replicas:
    """Two replicas' reminder looks over one database, each in a thread of its own. Each thread's first
    write waits until the other thread reaches its own: both have read the schedule due by then, and they
    write it at once: the race, every time."""

    _WRITES = ("UPDATE REMINDER ", "INSERT INTO OUTBOUND_MESSAGE ")

    def __init__(self, database: Database, service: MigrationService, clock: FakeClock) -> None:
        self._database = database
        self._looks = [Reminders(database, service, ReminderSettings(), clock) for _ in range(2)]
        self._meeting = threading.Barrier(2, timeout=10)
        self._met: set[int] = set()

    def fire_due_at_once(self) -> tuple[list[int], list[BaseException]]:
        """Each replica's count of reminders queued, and what either raised."""
        queued: list[int] = []
        raised: list[BaseException] = []

        def look(reminders: Reminders) -> None:
            try:
                queued.append(reminders.fire_due())
            except BaseException as error:  # reported by the caller's assertion
                raised.append(error)

        threads = [threading.Thread(target=look, args=(each,)) for each in self._looks]
        event.listen(self._database.engine, "before_cursor_execute", self._before)
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        finally:
            event.remove(self._database.engine, "before_cursor_execute", self._before)
        return sorted(queued), raised

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        me = threading.get_ident()
        if me not in self._met and statement.lstrip().upper().startswith(self._WRITES):
            self._met.add(me)
            self._meeting.wait()


def _one_list_delivered(database: Database, notified: MigrationService, clock: FakeClock) -> OutboundMessage:
    """The first to-do list reached its person, whose reminders start: the one schedule due later."""
    first = queued(database, "todo_list")[0]
    Tracking(database, notified, clock=clock).delivered(first.kind, first.payload, None)
    return first


def test_two_replicas_firing_the_same_reminder_at_once_queue_it_once_and_neither_fails(
    database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    listed = _one_list_delivered(database, notified, clock)
    clock.advance(days=2)

    queued_by_each, raised = _Replicas(database, notified, clock).fire_due_at_once()

    assert raised == []
    assert queued_by_each == [0, 1]
    (reminded,) = queued(database, "todo_reminder")
    assert reminded.payload["affected_user_id"] == listed.payload["affected_user_id"]
    with database.session() as session:
        schedule = session.exec(select(Reminder).where(Reminder.kind == "todo")).one()
    assert (schedule.sent, schedule.next_at) == (1, clock.now + timedelta(days=2))


def test_two_replicas_telling_someone_at_once_that_they_wait_for_the_admins_tell_it_once(
    database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    listed = _one_list_delivered(database, notified, clock)
    person = int(listed.payload["affected_user_id"])
    with database.session() as session:  # their first item waits for an admin to invite them
        first = session.exec(
            select(TodoItem).where(TodoItem.affected_user_id == person).order_by(col(TodoItem.position))
        ).first()
        assert first is not None
        first.key = "ask-for-access"
        session.commit()
    clock.advance(days=2)

    queued_by_each, raised = _Replicas(database, notified, clock).fire_due_at_once()

    assert raised == []
    assert queued_by_each == [0, 1]
    (told,) = queued(database, "todo_reminder")
    assert (told.payload["affected_user_id"], told.payload["waiting_on"]) == (person, "invite")


@SQLITE_ONLY
def test_a_replica_asking_who_the_admins_are_while_another_fires_the_reminder_does_not_fire_it_again(
    database: Database,
    clock: FakeClock,
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reminder's sender is named unless an admin is reminded, so the first look of a tick asks Azure
    DevOps who the admins are, with no transaction open: the other replica may fire it meanwhile."""
    _one_list_delivered(database, notified, clock)
    clock.advance(days=2)
    asking, rival = (Reminders(database, notified, ReminderSettings(), clock) for _ in range(2))
    rival_queued: list[int] = []
    ask = microsoft.administrators

    def administrators(organization: str) -> object:
        if not rival_queued:  # the first question only: the rival asks too
            rival_queued.append(0)
            rival_queued[0] = rival.fire_due()
        return ask(organization)

    monkeypatch.setattr(microsoft, "administrators", administrators)

    assert asking.fire_due() == 0
    assert rival_queued == [1]
    assert len(queued(database, "todo_reminder")) == 1


def test_two_replicas_reminding_of_billing_after_a_failed_check_queue_it_once_and_neither_fails(
    database: Database, clock: FakeClock, notified: MigrationService, microsoft: FakeMicrosoft
) -> None:
    """The failed check's count goes back to 0 as the reminder is queued: no read before the commit may
    write that, where the rival's commit would make it raise rather than fail this one's commit."""
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=OTHER_TENANT_ID)
    Tracking(database, notified, clock=clock).tick()
    assert len(queued(database, "billing_reminder")) == 1
    with database.session() as session:  # the last check could not run: one failure counted
        schedule = session.exec(select(Reminder).where(Reminder.kind == "billing")).one()
        schedule.failures, schedule.next_at = 1, clock.now
        session.commit()

    queued_by_each, raised = _Replicas(database, notified, clock).fire_due_at_once()

    assert raised == []
    assert queued_by_each == [0, 1]
    assert len(queued(database, "billing_reminder")) == 2
    with database.session() as session:
        schedule = session.exec(select(Reminder).where(Reminder.kind == "billing")).one()
    assert (schedule.failures, schedule.sent) == (0, 2)
