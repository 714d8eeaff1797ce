"""Inserting rows beyond what the ORM's flush does well: a row that two processes may create at the same
moment, without a unique-key error (`insert_once`), and many new rows of one table in a few statements on
SQLite too (`insert_all`).

`INSERT ... ON CONFLICT DO NOTHING` (PostgreSQL and SQLite alike): a rival's row, committed or still being
committed, makes the insert a no-op instead of an `IntegrityError`, so the caller reads whichever row won
and goes on in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

if TYPE_CHECKING:
    from sqlalchemy import Insert, Table

Row = TypeVar("Row", bound=SQLModel)


def insert_all(
    session: Session, model: type[Row], rows: Sequence[Mapping[str, Any]], *, unique: tuple[str, ...]
) -> list[Row]:
    """Insert `rows` (each a new row's values, the `unique` columns that tell them apart among them) into
    `model`'s table in batched statements; the rows as the session now holds them, with their ids, in
    `rows`' order.

    A flush of new objects inserts them one statement a row on SQLite: it wants the new ids back in the
    objects' order, which SQLite's `RETURNING` does not promise, so SQLAlchemy gives up batching there. Here
    the rows come back in any order and are matched by their `unique` values; nor is each built as an object
    first, which costs more than inserting it. 2,000 people and their 10,000 to-do items on SQLite: about
    1 s of CPU, against 3.3 to 4.3 s built as objects and flushed.

    A None in `rows` is written as NULL (not left to the column's default): without that, the ORM starts a
    new statement wherever the set of columns given changes from one row to the next, which on PostgreSQL
    turned a wave of people, some with no directory account, into a statement per run of them."""
    if not rows:
        return []
    inserted = session.scalars(
        insert(model).returning(model), list(rows), execution_options={"render_nulls": True}
    ).all()
    by_key = {tuple(getattr(row, name) for name in unique): row for row in inserted}
    if len(by_key) != len(rows):
        raise ValueError(f"{unique} does not tell {model.__name__}'s {len(rows)} new rows apart")
    return [by_key[tuple(values[name] for name in unique)] for values in rows]


def insert_once(session: Session, row: SQLModel, *, unique: tuple[str, ...]) -> bool:
    """Insert `row` unless a row with the same `unique` column(s) exists; True when this one was inserted."""
    statement, values = _once(session, [row], unique)
    return session.execute(statement, values[0]).first() is not None


def insert_each_once(session: Session, rows: Sequence[SQLModel], *, unique: tuple[str, ...]) -> None:
    """`insert_once` for each of `rows` (of one table, the same columns set in each), in one execution: the
    ones a rival inserted meanwhile are left as they are."""
    if rows:
        statement, values = _once(session, rows, unique)
        session.execute(statement, values)


def _once(
    session: Session, rows: Sequence[SQLModel], unique: tuple[str, ...]
) -> tuple[Insert, list[dict[str, Any]]]:
    """`_insert_once`'s statement for the rows' table, and each row's values but those left to defaults."""
    table = type(rows[0]).__table__  # type: ignore[attr-defined]
    values = [
        {
            column.name: getattr(row, column.name)
            for column in table.columns
            if getattr(row, column.name, None) is not None
        }
        for row in rows
    ]
    return _insert_once(session.get_bind().dialect.name, table, unique), values


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
