"""The audit trail is append-only through the application."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlmodel import select

from storage import AuditEntry, AuditTrailImmutable, Database
from tests.storage.rows import NOW, add_migration


@pytest.fixture
def entry_id(database: Database) -> int:
    migration_id = add_migration(database)
    with database.session() as session:
        entry = AuditEntry(
            migration_id=migration_id,
            at=NOW,
            actor_id="U-DANA",
            actor_email="dana@fabrikam.com",
            actor_name="Dana",
            action="start",
            state_before=None,
            state_after="draft",
            details={"tenant": "t"},
        )
        session.add(entry)
        session.commit()
        assert entry.id is not None
        return entry.id


def test_an_entry_cannot_be_edited(database: Database, entry_id: int) -> None:
    with database.session() as session:
        entry = session.get(AuditEntry, entry_id)
        assert entry is not None
        entry.actor_name = "Mallory"
        with pytest.raises(AuditTrailImmutable, match="cannot be edited"):
            session.commit()
    with database.session() as session:
        assert session.get(AuditEntry, entry_id).actor_name == "Dana"  # type: ignore[union-attr]


def test_an_entry_cannot_be_deleted(database: Database, entry_id: int) -> None:
    with database.session() as session:
        session.delete(session.get(AuditEntry, entry_id))
        with pytest.raises(AuditTrailImmutable, match="cannot be deleted"):
            session.commit()
    with database.session() as session:
        assert session.get(AuditEntry, entry_id) is not None


def test_bulk_statements_are_refused_too(database: Database, entry_id: int) -> None:
    with database.session() as session:
        with pytest.raises(AuditTrailImmutable, match="cannot be edited"):
            session.exec(update(AuditEntry).values(actor_name="Mallory"))  # type: ignore[call-overload]
        with pytest.raises(AuditTrailImmutable, match="cannot be deleted"):
            session.exec(delete(AuditEntry))  # type: ignore[call-overload]
    with database.session() as session:
        assert len(session.exec(select(AuditEntry)).all()) == 1


def test_appending_is_fine(database: Database, entry_id: int) -> None:
    with database.session() as session:
        first = session.get(AuditEntry, entry_id)
        assert first is not None
        session.add(AuditEntry(**{**first.model_dump(exclude={"id"}), "action": "check"}))
        session.commit()
        assert [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()] == [  # type: ignore[arg-type]
            "start",
            "check",
        ]
