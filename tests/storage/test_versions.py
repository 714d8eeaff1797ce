"""A second writer holding an old version gets a conflict, never a silent overwrite; unique keys hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import SQLModel, select

from storage import (
    AffectedUser,
    Approval,
    ApprovalDecision,
    Database,
    Invitation,
    Migration,
    OutboundMessage,
    Reminder,
    TeamsRateLane,
    TodoItem,
)
from storage.inserts import insert_all, insert_once
from tests.storage.rows import NOW, add_migration


def _approval(migration_id: int) -> Approval:
    return Approval(
        migration_id=migration_id,
        plan_fingerprint="abc",
        requested_by_id="U-DANA",
        requested_by_email="dana@fabrikam.com",
        requested_by_name="Dana",
        created_at=NOW,
        expires_at=NOW + timedelta(hours=24),
    )


def _todo(database: Database, migration_id: int) -> TodoItem:
    with database.session() as session:
        user = AffectedUser(
            migration_id=migration_id,
            entitlement_id="e-bob",
            principal_name="bob@outlook.com",
            email="bob@outlook.com",
            outcome="invite",
            created_at=NOW,
        )
        session.add(user)
        session.commit()
        assert user.id is not None
        return TodoItem(affected_user_id=user.id, key="accept-invitation", title="Accept", body="...")


def _stored(database: Database, row: SQLModel) -> tuple[type[SQLModel], int]:
    with database.session() as session:
        session.add(row)
        session.commit()
        return type(row), row.id  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("make", "change"),
    [
        (lambda db, m: _approval(m), lambda row, who: setattr(row, "status", f"approved by {who}")),
        (lambda db, m: _todo(db, m), lambda row, who: setattr(row, "done_by", who)),
        (
            lambda db, m: OutboundMessage(
                idempotency_key="k",
                recipient="bob@outlook.com",
                kind="todo_list",
                not_before=NOW,
                created_at=NOW,
            ),
            lambda row, who: setattr(row, "claimed_by", who),
        ),
    ],
    ids=["approval", "todo-item", "outbound-message"],
)
def test_the_second_of_two_interleaved_writers_gets_a_conflict(
    database: Database,
    make: Callable[[Database, int], SQLModel],
    change: Callable[[SQLModel, str], None],
) -> None:
    table, row_id = _stored(database, make(database, add_migration(database)))
    with database.session() as lee, database.session() as pat:
        lees, pats = lee.get(table, row_id), pat.get(table, row_id)
        assert lees is not None and pats is not None
        change(lees, "lee")
        lee.commit()
        change(pats, "pat")
        with pytest.raises(StaleDataError):
            pat.commit()
    with database.session() as session:
        stored = session.get(table, row_id)
        assert stored is not None and stored.version == 2  # type: ignore[attr-defined]


def test_the_migration_row_is_versioned(database: Database) -> None:
    migration_id = add_migration(database)
    with database.session() as first, database.session() as second:
        a, b = first.get(Migration, migration_id), second.get(Migration, migration_id)
        assert a is not None and b is not None
        a.state, b.state = "inviting", "awaiting_approval"
        first.commit()
        with pytest.raises(StaleDataError):
            second.commit()


def test_one_decision_per_approver(database: Database) -> None:
    migration_id = add_migration(database)
    _, approval_id = _stored(database, _approval(migration_id))
    with database.session() as session:
        for _ in range(2):
            session.add(
                ApprovalDecision(
                    approval_id=approval_id,
                    approver_id="U-LEE",
                    approver_email="lee@fabrikam.com",
                    approver_name="Lee",
                    approve=True,
                    decided_at=NOW,
                )
            )
        with pytest.raises(IntegrityError):
            session.commit()


def test_one_invitation_row_per_address_per_migration(database: Database) -> None:
    migration_id = add_migration(database)
    with database.session() as session:
        for _ in range(2):
            session.add(
                Invitation(
                    migration_id=migration_id,
                    email="bob@outlook.com",
                    entitlement_id="e-bob",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        with pytest.raises(IntegrityError):
            session.commit()


def test_one_active_migration_per_organization(database: Database) -> None:
    add_migration(database)
    with pytest.raises(IntegrityError):
        add_migration(database)


def test_inserting_all_returns_each_row_with_its_own_id_or_refuses_keys_that_do_not_tell_them_apart(
    database: Database,
) -> None:
    migration_id = add_migration(database)

    def person(n: int, directory_id: str | None) -> dict[str, object]:
        return {
            "migration_id": migration_id,
            "entitlement_id": f"e-{n}",
            "principal_name": f"p{n}@fabrikam.com",
            "email": f"p{n}@fabrikam.com",
            "directory_id": directory_id,
            "outcome": "invite_as_guest" if directory_id is None else "keep_access",
            "created_at": NOW,
        }

    rows = [person(n, None if n % 2 else f"d-{n}") for n in range(6)]
    with database.session() as session:
        inserted = insert_all(session, AffectedUser, rows, unique=("migration_id", "entitlement_id"))
        assert [(row.email, row.directory_id) for row in inserted] == [
            (values["email"], values["directory_id"]) for values in rows
        ]
        assert len({row.id for row in inserted}) == len(rows)
        # two people with no directory account share the key (migration, NULL): their ids cannot be told apart
        with pytest.raises(ValueError, match=r"does not tell AffectedUser's 2 new rows apart"):
            insert_all(
                session,
                AffectedUser,
                [person(7, None), person(9, None)],
                unique=("migration_id", "directory_id"),
            )


def test_inserting_once_says_whether_this_insert_made_the_row(database: Database) -> None:
    """`insert_once` of a row a rival made first is a no-op that says so, on both databases (the row count
    is -1 on PostgreSQL, so it cannot tell)."""
    migration_id = add_migration(database)

    def schedule(kind: str) -> Reminder:
        return Reminder(key="digest:1", kind=kind, migration_id=migration_id, next_at=NOW, created_at=NOW)

    with database.session() as session:
        assert insert_once(session, schedule("digest"), unique=("key",))
        assert not insert_once(session, schedule("billing"), unique=("key",))
        assert insert_once(session, TeamsRateLane(key="connector:t", lane=0), unique=("key", "lane"))
        assert insert_once(session, TeamsRateLane(key="connector:t", lane=1), unique=("key", "lane"))
        assert not insert_once(session, TeamsRateLane(key="connector:t", lane=1), unique=("key", "lane"))
        session.commit()
    with database.session() as session:
        assert session.exec(select(Reminder.kind)).all() == ["digest"]
        assert len(session.exec(select(TeamsRateLane)).all()) == 2
