"""The admin gate's memory in the database (`workflows.admin_memory.AdminMemory`), shared by every process.

Beginning a look-up reads a person's refusals and adds one in a single transaction that holds that person
alone: on PostgreSQL a transaction-scoped advisory lock on the person, on SQLite the database's write lock
(SQLite has no other), so of two replicas asked at once the second counts the first's look-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select, text, update
from sqlmodel import Session, col

from storage.database import Database
from storage.inserts import insert_once
from storage.models import AdminConfirmation, AdminRefusal
from workflows.admin_memory import (
    CONFIRMATIONS_KEPT,
    Answer,
    Confirmation,
    LookUp,
    Outcome,
    Refusal,
    Remembered,
)

_PERSON_LOCKS = 7_314_160
"""The advisory locks' class (their first key); the second is the hash of the person."""


class DatabaseAdminMemory:
    def __init__(self, database: Database) -> None:
        self._database = database

    def recall(self, person: str, *, now: datetime, since: datetime) -> Remembered:
        with self._database.session() as session:
            return _remembered(session, person, now, since)

    def begin_look_up(
        self,
        person: str,
        organization: str,
        *,
        now: datetime,
        since: datetime,
        answer: Callable[[Remembered], Answer | None],
    ) -> Answer | LookUp:
        with self._database.session() as session:
            _hold(session, person, postgresql=self._database.is_postgresql)
            _forget(session, now, since)
            answered = answer(_remembered(session, person, now, since))
            if answered is not None:
                session.commit()
                return answered
            row = AdminRefusal(person=person, organization=organization, refused_at=now)
            session.add(row)
            session.commit()
            assert row.id is not None
            return LookUp(row.id)

    def forget(self, *, now: datetime, since: datetime) -> None:
        with self._database.session() as session:
            _forget(session, now, since)
            session.commit()

    def settle(
        self,
        person: str,
        organization: str,
        as_typed: str,
        *,
        look_up: LookUp | None,
        outcome: Outcome,
        now: datetime,
        remember_until: datetime,
    ) -> None:
        # what it writes depends on nothing it reads: no need to hold the person
        with self._database.session() as session:
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
                    session.execute(
                        update(AdminRefusal)
                        .where(col(AdminRefusal.id) == look_up.key)
                        .values(remembered_until=remember_until)
                    )
            elif look_up is not None:
                session.execute(delete(AdminRefusal).where(col(AdminRefusal.id) == look_up.key))
            if outcome == "admin":
                _confirm(session, person, organization, as_typed, now)
            session.commit()


def _hold(session: Session, person: str, *, postgresql: bool) -> None:
    """Until the transaction ends, nobody else holds `person`."""
    if postgresql:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:locks, hashtext(:person))"),
            {"locks": _PERSON_LOCKS, "person": person},
        )
    # SQLite: `_forget`'s DELETE, the transaction's first statement, takes the database's write lock


def _forget(session: Session, now: datetime, since: datetime) -> None:
    """Every person's refusals before `since` and confirmations no longer kept: no table grows forever."""
    session.execute(delete(AdminRefusal).where(col(AdminRefusal.refused_at) < since))
    session.execute(
        delete(AdminConfirmation).where(col(AdminConfirmation.confirmed_at) < now - CONFIRMATIONS_KEPT)
    )


def _forget_confirmation(session: Session, person: str, organization: str) -> None:
    session.execute(
        delete(AdminConfirmation).where(
            col(AdminConfirmation.person) == person, col(AdminConfirmation.organization) == organization
        )
    )


def _confirm(session: Session, person: str, organization: str, as_typed: str, now: datetime) -> None:
    renewed = session.execute(
        update(AdminConfirmation)
        .where(col(AdminConfirmation.person) == person, col(AdminConfirmation.organization) == organization)
        .values(as_typed=as_typed, confirmed_at=now)
    )
    if not renewed.rowcount:  # type: ignore[attr-defined]
        row = AdminConfirmation(person=person, organization=organization, as_typed=as_typed, confirmed_at=now)
        insert_once(session, row, unique=("person", "organization"))


def _confirmations(session: Session, person: str, now: datetime) -> dict[str, Confirmation]:
    rows = session.execute(
        select(
            col(AdminConfirmation.organization),
            col(AdminConfirmation.as_typed),
            col(AdminConfirmation.confirmed_at),
        )
        .where(
            col(AdminConfirmation.person) == person,
            col(AdminConfirmation.confirmed_at) >= now - CONFIRMATIONS_KEPT,
        )
        .order_by(col(AdminConfirmation.confirmed_at), col(AdminConfirmation.organization))
    ).all()
    return {organization: Confirmation(as_typed, at) for organization, as_typed, at in rows}


def _remembered(session: Session, person: str, now: datetime, since: datetime) -> Remembered:
    refusals = session.execute(
        select(
            col(AdminRefusal.organization), col(AdminRefusal.refused_at), col(AdminRefusal.remembered_until)
        )
        .where(col(AdminRefusal.person) == person, col(AdminRefusal.refused_at) >= since)
        .order_by(col(AdminRefusal.refused_at), col(AdminRefusal.id))
    ).all()
    return Remembered(
        confirmed=_confirmations(session, person, now),
        refusals=tuple(Refusal(organization, at, until) for organization, at, until in refusals),
    )
