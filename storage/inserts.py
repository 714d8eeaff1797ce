"""Inserting a row that two processes may create at the same moment, without a unique-key error.

`INSERT ... ON CONFLICT DO NOTHING` (PostgreSQL and SQLite alike): a rival's row, committed or still being
committed, makes the insert a no-op instead of an `IntegrityError`, so the caller reads whichever row won
and goes on in the same transaction.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sqlmodel import Session, SQLModel

if TYPE_CHECKING:
    from sqlalchemy import Insert, Table


def insert_once(session: Session, row: SQLModel, *, unique: str | tuple[str, ...]) -> bool:
    """Insert `row` unless a row with the same `unique` column(s) exists; True when this one was inserted."""
    table = type(row).__table__  # type: ignore[attr-defined]
    values = {
        column.name: getattr(row, column.name)
        for column in table.columns
        if getattr(row, column.name, None) is not None
    }
    unique_columns = (unique,) if isinstance(unique, str) else unique
    statement = _insert_once(session.get_bind().dialect.name, table, unique_columns)
    return session.execute(statement, values).first() is not None


@cache
def _insert_once(dialect: str, table: Table, unique: tuple[str, ...]) -> Insert:
    """Built once per table: its values come as parameters. It returns the row it inserted, none when a
    rival's row was there: its row count says nothing on PostgreSQL, where SQLAlchemy reads the new
    primary key back (`RETURNING`) and reports -1.

    The database's own `insert` (the one with `on_conflict_do_nothing`) is imported for the database in use:
    SQLAlchemy's PostgreSQL dialect (with psycopg's, asyncpg's and pg8000's) is 19 modules and 35 ms of CPU
    that every `serve` on SQLite paid at start-up; on PostgreSQL the engine has imported it already."""
    returned = [table.c[name] for name in unique]
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing(index_elements=unique).returning(*returned)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing(index_elements=unique).returning(*returned)
