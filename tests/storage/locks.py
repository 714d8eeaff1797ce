"""Whether a PostgreSQL backend holds another back: PostgreSQL says so only when asked, so tests that need
a transaction to wait for another's lock look, every few milliseconds, until it does."""

from __future__ import annotations

from sqlalchemy import text

from storage import Database

_WAITING = text("SELECT 1 FROM pg_locks WHERE NOT granted AND :backend = ANY(pg_blocking_pids(pid))")


def waited_on(database: Database, backend: int) -> bool:
    """Whether another backend waits for a lock the backend `backend` holds."""
    with database.reading() as looking:
        return looking.execute(_WAITING, {"backend": backend}).first() is not None
