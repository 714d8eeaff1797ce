"""The delivery callback and the watch's reminder tick open the same schedule at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from storage import Database, OutboundMessage, Reminder
from tests.workflows.fakes import FakeClock
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
