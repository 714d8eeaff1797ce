"""Inserting a row that two processes may create at the same moment, without a unique-key error.

`INSERT ... ON CONFLICT DO NOTHING` (PostgreSQL and SQLite alike): a rival's row, committed or still being
committed, makes the insert a no-op instead of an `IntegrityError`, so the caller reads whichever row won
and goes on in the same transaction.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_once(session: Session, row: SQLModel, *, unique: str | tuple[str, ...]) -> bool:
    """Insert `row` unless a row with the same `unique` column(s) exists; True when this one was inserted."""
    table = type(row).__table__  # type: ignore[attr-defined]
    values = {
        column.name: getattr(row, column.name)
        for column in table.columns
        if getattr(row, column.name, None) is not None
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=[unique] if isinstance(unique, str) else list(unique))
    )
    inserted = session.execute(statement)
    return bool(inserted.rowcount == 1)  # type: ignore[attr-defined]
