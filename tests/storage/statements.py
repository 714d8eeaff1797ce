"""Counting what the database is asked: tests that pin a command's statements, so that one per row fails;
and the database failing, for tests of what survives it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from storage import Database


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement the engine runs meanwhile, its whitespace collapsed."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def verbs(seen: list[str]) -> dict[str, int]:
    """How many statements of each kind (`SELECT`, `INSERT`, ...) `seen` holds."""
    counted: dict[str, int] = {}
    for statement in seen:
        verb = statement.split(" ", 1)[0].upper()
        counted[verb] = counted.get(verb, 0) + 1
    return counted


@contextmanager
def checkouts(database: Database) -> Iterator[list[int]]:
    """How many connections the engine hands out meanwhile (one a session, unless it commits midway): each
    costs a pool round, and on PostgreSQL a ping."""
    counted = [0]

    def count(*_: Any) -> None:
        counted[0] += 1

    event.listen(database.engine, "checkout", count)
    try:
        yield counted
    finally:
        event.remove(database.engine, "checkout", count)


@contextmanager
def failing(database: Database, naming: str) -> Iterator[None]:
    """Every statement naming `naming` (a table, or `UPDATE table` for its updates only) fails as on a
    locked SQLite database, its parameters (which a real error carries, and may name a person) in the
    error."""

    def fail(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if naming in statement:
            raise OperationalError(statement, parameters, sqlite3.OperationalError("database is locked"))

    event.listen(database.engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(database.engine, "before_cursor_execute", fail)
