"""The outbox worker and `invite` lock the same lists on PostgreSQL: the worker's claim (and its heartbeat)
and `invite`'s rewrite of the lists that have not gone out (`lists_told`, FOR UPDATE) take the row
locks in the same order, ascending id, so neither waits for the other in a cycle (a deadlock PostgreSQL
would break by failing one of them: an admin's `invite`, or the worker's claim)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, col, select

from storage import AffectedUser, Database, OutboundMessage
from storage.outbox import enqueue
from storage.outbox_claims import claim_due, renew_claims
from tests.delivery.conftest import FakeTime
from tests.storage.rows import add_migration
from workflows.stages.list_messages import lists_told, unreached_among

LEASE = timedelta(seconds=20)

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]


def _lists_of_two(database: Database, now: Any) -> list[AffectedUser]:
    """Ann's and Bob's to-do lists, queued in that order (Ann's has the lower id); the people."""
    migration_id = add_migration(database)
    with database.session() as session:
        people = [
            AffectedUser(
                migration_id=migration_id,
                entitlement_id=f"e-{name}",
                principal_name=f"{name}@fabrikam.com",
                email=f"{name}@fabrikam.com",
                outcome="auto",
                created_at=now,
            )
            for name in ("ann", "bob")
        ]
        session.add_all(people)
        session.flush()
        for person in people:
            enqueue(
                session,
                idempotency_key=f"todo-{person.id}",
                recipient=person.email,
                kind="todo_list",
                payload={"affected_user_id": person.id, "migration_id": migration_id},
                now=now,
            )
        session.commit()
        for person in people:
            session.refresh(person)
            session.expunge(person)
    return people


def _backend_pid(session: Session) -> int:
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _waiting_behind(database: Database, pid: int) -> int:
    """The backend that waits for a lock the backend `pid` holds, once there is one. The bound only ends a
    failing run: on a loaded 2-core machine the other thread took over ten seconds to get there."""
    deadline = time.monotonic() + 60
    with database.engine.connect() as connection:
        while time.monotonic() < deadline:  # PostgreSQL says so only when asked: there is no event to wait on
            waiting = connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"), {"pid": pid}
            ).scalar()
            if waiting is not None:
                return int(waiting)
            time.sleep(0.01)
    raise AssertionError(f"nobody waited for backend {pid} within 60 s")


def _locked_lists(database: Database, people: list[AffectedUser]) -> set[int]:
    """What `invite` does first when it rewrites people's lists: lock those that have not gone out."""
    with database.session() as session:
        lists = unreached_among(lists_told(session, people))
        session.commit()
        return {message.id for message in lists.values() if message.id is not None}


_LOOK = re.compile(r"SELECT outbound_message\.id\s+FROM")
"""`claim_due`'s look for free messages (its final read names every column)."""


@contextmanager
def _paused_before_the_second_look(
    database: Database,
) -> Iterator[tuple[threading.Event, threading.Event, list[int]]]:
    """Holds the second look of a claim for free messages until `resume` is set (the claim's transaction
    open, its rows locked); `reached` is set when it gets there, and the claim's backend pid given."""
    reached, resume = threading.Event(), threading.Event()
    pid: list[int] = []
    looks = 0

    def before(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal looks
        if not _LOOK.match(statement):
            return
        looks += 1
        if looks == 2:
            pid.append(connection.connection.dbapi_connection.info.backend_pid)
            reached.set()
            assert resume.wait(timeout=60)

    event.listen(database.engine, "before_cursor_execute", before)
    try:
        yield reached, resume, pid
    finally:
        event.remove(database.engine, "before_cursor_execute", before)


@contextmanager
def _scanning_the_table(database: Database) -> Iterator[None]:
    """Every UPDATE of the outbox reads the table in the order its rows lie on disk, as PostgreSQL may
    choose to on a big table (here it would walk the primary key instead: a plan the rows are few for)."""

    def before(_connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("UPDATE outbound_message"):
            cursor.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off")

    event.listen(database.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(database.engine, "before_cursor_execute", before)


class _Running:
    """`work` in a thread of its own: its result, or what it raised."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._work = work
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self._work()
        except BaseException as error:  # reported by the test's assertions
            self.error = error

    def ended(self) -> Any:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error
        return self.result


def test_a_claim_that_goes_on_past_a_lost_race_never_locks_a_list_below_one_it_holds(
    database: Database,
) -> None:
    """The claim's second look for free messages comes after a list below the one it holds came free
    (another `invite` dropped the claim of a worker that had it), while an `invite` holds that list and
    waits for the one the claim holds: claiming the freed list would close the cycle."""
    clock = FakeTime()
    ann, bob = _lists_of_two(database, clock.now)
    with database.session() as session:
        hers, his = session.exec(select(OutboundMessage.id).order_by(col(OutboundMessage.id))).all()
        assert hers is not None and his is not None
        held = session.get_one(OutboundMessage, hers)  # by a worker that stopped answering
        held.claimed_by, held.claimed_until = "worker-gone", clock.now + LEASE
        session.commit()

    with _paused_before_the_second_look(database) as (between_looks, resume, claim_pid):

        def claim() -> list[int]:
            claimed = claim_due(database, worker="worker-1", now=clock.now, lease=LEASE, limit=5)
            return [message.id for message in claimed if message.id is not None]

        claiming = _Running(claim)  # its first look finds Bob's list only, and claims it
        assert between_looks.wait(timeout=60)
        # an `invite` rewrote Ann's list, dropping the gone worker's claim
        with database.session() as session:
            dropped = session.get_one(OutboundMessage, hers)
            dropped.claimed_by = dropped.claimed_until = None
            session.commit()
        inviting = _Running(lambda: _locked_lists(database, [ann, bob]))
        _waiting_behind(database, claim_pid[0])  # another `invite` locked Ann's list and waits for Bob's
        resume.set()
        claimed, rewritten = claiming.ended(), inviting.ended()

    assert claimed == [his]  # Ann's list came free below Bob's: the next claim takes it
    assert rewritten == {hers, his}


def test_a_heartbeat_renewing_claims_while_invite_locks_the_lists_takes_them_in_the_same_order(
    database: Database,
) -> None:
    """A heartbeat renews every claim of its worker in one statement; it must lock them as `invite` does,
    lowest id first, whatever order the rows lie in on disk (an update writes a row anew, at the end)."""
    clock = FakeTime()
    ann, bob = _lists_of_two(database, clock.now)
    with database.session() as session:
        hers, his = session.exec(select(OutboundMessage.id).order_by(col(OutboundMessage.id))).all()
    for claimed in (his, hers):  # claimed one after the other: Ann's list now lies after Bob's
        with database.session() as session:
            message = session.get_one(OutboundMessage, claimed)
            message.claimed_by, message.claimed_until = "worker-1", clock.now + LEASE
            session.commit()
    assert hers is not None and his is not None

    with _scanning_the_table(database), database.session() as sending:  # a `begin_send` on Bob's list
        sending.execute(text("SELECT id FROM outbound_message WHERE id = :id FOR UPDATE"), {"id": his})
        renewing = _Running(
            lambda: renew_claims(database, [hers, his], worker="worker-1", now=clock.now, lease=LEASE)
        )
        renewer = _waiting_behind(database, _backend_pid(sending))
        inviting = _Running(lambda: _locked_lists(database, [ann, bob]))
        _waiting_behind(database, renewer)  # `invite` waits for a list the heartbeat has locked
        sending.commit()
        renewed, rewritten = renewing.ended(), inviting.ended()
    assert renewed == {hers, his}
    assert rewritten == {hers, his}
