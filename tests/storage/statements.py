"""Counting what the database is asked: tests that pin a command's statements, so that one per row fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

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
