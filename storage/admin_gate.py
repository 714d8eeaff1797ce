"""The admin gate's memory in the database (`workflows.admin_memory.AdminMemory`), shared by every process.

A look-up begins in one session: what is remembered of the person is read first, holding nothing, so an
answer from memory only reads; only when a look-up is to be counted is the person held, read again and the
look-up added, in one transaction: on PostgreSQL a transaction-scoped advisory lock on the person, on
SQLite the database's write lock (SQLite has no other), so of two replicas asked at once the second counts
the first's look-up.

A database failing (unreachable, read-only, locked, a connection lost) is
`workflows.admin_memory.MemoryFailed`, which the gate answers as unavailable; any other database error is a
bug (a statement the schema does not fit), raised as it is, so that it is logged with its traceback, not
told as an outage over and over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    String,
    bindparam,
    cast,
    delete,
    exc,
    exists,
    literal,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlmodel import Session, col

from storage.database import Database
from storage.inserts import insert_once
from storage.models import AdminConfirmation, AdminRefusal
from workflows.admin_memory import (
    Answer,
    Confirmation,
    Kept,
    LookUp,
    MemoryFailed,
    Outcome,
    Recalled,
    Refusal,
    Remembered,
    answered_from,
)

_PERSON_LOCKS = 7_314_160
"""The advisory locks' class (their first key); the second is the hash of the person."""


class DatabaseAdminMemory:
    def __init__(self, database: Database) -> None:
        self._database = database

    def recall(
        self,
        person: str,
        as_typed: str,
        *,
        now: datetime,
        kept: Kept,
        answer: Callable[[Remembered], Answer | None],
    ) -> Recalled[Answer]:
        organization = as_typed.casefold()
        with self._session() as session:
            early = answered_from(_remembered(session, person, kept), organization, answer)
            if early is not None:
                return early
            # Read again once held: look-ups at once (threads, replicas) each count the others
            _hold(session, person, postgresql=self._database.is_postgresql)
            remembered = _remembered(session, person, kept)
            early = answered_from(remembered, organization, answer)  # confirmed or refused meanwhile
            if early is not None:
                session.commit()
                return early
            row = AdminRefusal(person=person, organization=organization, refused_at=now)
            session.add(row)
            session.commit()
            assert row.id is not None
            return Recalled(remembered, look_up=LookUp(row.id))

    def forget(self, *, kept: Kept) -> None:
        limits = {"refusals_from": kept.refusals_from, "confirmations_from": kept.confirmations_from}
        with _failing_as_memory():
            # every look of the watch forgets, and seldom finds a row: a read tells, taking no write lock
            with self._database.reading() as connection:
                if not connection.execute(_ANY_TO_FORGET, limits).scalar_one():
                    return
            with self._database.engine.begin() as connection:
                connection.execute(_FORGET_REFUSALS, limits)
                connection.execute(_FORGET_CONFIRMATIONS, limits)

    def settle(
        self,
        person: str,
        as_typed: str,
        *,
        look_up: LookUp | None,
        outcome: Outcome,
        now: datetime,
        remember_until: datetime,
    ) -> None:
        organization = as_typed.casefold()
        # what it writes depends on nothing it reads: no need to hold the person
        with self._session() as session:
            if outcome == "refused":
                _forget_confirmation(session, person, organization)
                if look_up is None:  # a confirmed admin's look-up: counted only now it is refused
                    session.add(
                        AdminRefusal(
                            person=person,
                            organization=organization,
                            refused_at=now,
                            remembered_until=remember_until,
                        )
                    )
                else:
                    remembered = {"key": look_up.key, "until": remember_until}
                    session.connection().execute(_REMEMBER_LOOK_UP, remembered)
            elif look_up is not None:
                session.connection().execute(_FORGET_LOOK_UP, {"key": look_up.key})
            if outcome == "admin":
                _confirm(session, person, organization, as_typed, now)
            session.commit()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with _failing_as_memory(), self._database.session() as session:
            yield session


@contextmanager
def _failing_as_memory() -> Iterator[None]:
    """The database's outage raised as `MemoryFailed`, naming its kind."""
    try:
        yield
    except exc.SQLAlchemyError as error:
        if not _outage(error):
            raise  # a bug: logged with its traceback by whoever catches it, never told as an outage
        raise MemoryFailed(type(error).__name__) from error


_SQLITE_ERROR = 1
"""SQLite's result code for a statement it cannot run (no such table or column, a syntax error), which its
driver raises as an `OperationalError`, like a locked database or an unreadable file."""

_POSTGRESQL_OUTAGE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
"""SQLSTATE classes of a PostgreSQL failing, not the statement: connection exceptions, transaction rollback
(a deadlock, a serialization failure), insufficient resources (disk, memory, connections), operator
intervention (a shutdown, a cancelled statement) and the server's own system errors (I/O)."""
_POSTGRESQL_OUTAGE_STATES = frozenset({"25006", "25P03", "25P04", "55P03"})
"""Outages in classes that also hold bugs: a read-only transaction (a hot standby the URL points at after a
failover, or `default_transaction_read_only`), a session or transaction timed out, a lock not available.
The driver raises the first three as an `InternalError`, so its exception's class cannot tell."""


def _outage(error: exc.SQLAlchemyError) -> bool:
    """The database unreachable, read-only, locked or cut off, not a statement it cannot run: on PostgreSQL
    as its SQLSTATE says; otherwise the driver's operational and interface errors (but SQLite's for such a
    statement), no connection free in the pool (`exc.TimeoutError`), or any error that lost its connection."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    orig = getattr(error, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)  # None: not PostgreSQL's, or raised before the server answered
    if sqlstate is not None:
        return sqlstate[:2] in _POSTGRESQL_OUTAGE_CLASSES or sqlstate in _POSTGRESQL_OUTAGE_STATES
    if not isinstance(error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    return code is None or code & 0xFF != _SQLITE_ERROR  # an extended code's low byte is its primary one


def _hold(session: Session, person: str, *, postgresql: bool) -> None:
    """Until the transaction ends, nobody else holds `person`."""
    if postgresql:
        session.connection().execute(_HOLD_ON_POSTGRESQL, {"locks": _PERSON_LOCKS, "person": person})
    else:
        # A write that changes nothing: it begins the transaction with the database's write lock, which a
        # read would not take (the reads before it ran outside any transaction)
        session.connection().execute(_HOLD_ON_SQLITE)


def _forget_confirmation(session: Session, person: str, organization: str) -> None:
    session.connection().execute(_FORGET_CONFIRMATION, {"who": person, "of": organization})


def _confirm(session: Session, person: str, organization: str, as_typed: str, now: datetime) -> None:
    renewed = session.connection().execute(
        _RENEW_CONFIRMATION, {"who": person, "of": organization, "typed": as_typed, "at": now}
    )
    if not renewed.rowcount:
        row = AdminConfirmation(person=person, organization=organization, as_typed=as_typed, confirmed_at=now)
        insert_once(session, row, unique=("person", "organization"))


def _remembered(session: Session, person: str, kept: Kept) -> Remembered:
    rows = (
        session.connection()
        .execute(
            _REMEMBERED,
            {
                "person": person,
                "refusals_from": kept.refusals_from,
                "confirmations_from": kept.confirmations_from,
            },
        )
        .all()
    )
    return Remembered(
        confirmed={
            organization: Confirmation(as_typed, at)
            for refusal, organization, at, _, as_typed, _ in rows
            if not refusal
        },
        refusals=tuple(
            Refusal(organization, at, until) for refusal, organization, at, until, _, _ in rows if refusal
        ),
    )


_OLD_REFUSAL = col(AdminRefusal.refused_at) < bindparam("refusals_from")
_OLD_CONFIRMATION = col(AdminConfirmation.confirmed_at) < bindparam("confirmations_from")
_ANY_TO_FORGET = select(exists().where(_OLD_REFUSAL) | exists().where(_OLD_CONFIRMATION))
_FORGET_REFUSALS = delete(AdminRefusal).where(_OLD_REFUSAL)
_FORGET_CONFIRMATIONS = delete(AdminConfirmation).where(_OLD_CONFIRMATION)
"""Built once and run as plain SQL: the watch forgets at every poll and seldom finds a row, and building them
and passing them through the ORM (which would match the deleted rows against a session that holds none)
cost several times running them."""

_HOLD_ON_POSTGRESQL = text("SELECT pg_advisory_xact_lock(:locks, hashtext(:person))")
_HOLD_ON_SQLITE = delete(AdminRefusal).where(col(AdminRefusal.id) < 0)
_THEIR_CONFIRMATION = (col(AdminConfirmation.person) == bindparam("who")) & (
    col(AdminConfirmation.organization) == bindparam("of")
)
_FORGET_CONFIRMATION = delete(AdminConfirmation).where(_THEIR_CONFIRMATION)
_RENEW_CONFIRMATION = (
    update(AdminConfirmation)
    .where(_THEIR_CONFIRMATION)
    .values(as_typed=bindparam("typed"), confirmed_at=bindparam("at"))
)
_FORGET_LOOK_UP = delete(AdminRefusal).where(col(AdminRefusal.id) == bindparam("key"))
_REMEMBER_LOOK_UP = (
    update(AdminRefusal)
    .where(col(AdminRefusal.id) == bindparam("key"))
    .values(remembered_until=bindparam("until"))
)
"""A look-up's writes, built once and run as plain SQL on the session's connection: every look-up settles,
and building an UPDATE or DELETE and passing it through the ORM (which matches the rows it changes against
the session's, none here) cost about ten times running it."""

_REMEMBERED: CompoundSelect[*tuple[Any, ...]] = union_all(
    select(
        literal(1).label("refusal"),
        col(AdminRefusal.organization).label("organization"),
        col(AdminRefusal.refused_at).label("at"),
        col(AdminRefusal.remembered_until).label("until"),
        cast(null(), String).label("as_typed"),
        col(AdminRefusal.id).label("id"),
    ).where(
        col(AdminRefusal.person) == bindparam("person"),
        col(AdminRefusal.refused_at) >= bindparam("refusals_from"),
    ),
    select(
        literal(0),
        col(AdminConfirmation.organization),
        col(AdminConfirmation.confirmed_at),
        null(),
        col(AdminConfirmation.as_typed),
        literal(0),
    ).where(
        col(AdminConfirmation.person) == bindparam("person"),
        col(AdminConfirmation.confirmed_at) >= bindparam("confirmations_from"),
    ),
).order_by("refusal", "at", "id", "organization")
"""Both tables in one statement, built once: every admin command, question, help and App Home view recalls
the person. Each kind comes in its own order: refusals oldest first, confirmations in the order confirmed."""
