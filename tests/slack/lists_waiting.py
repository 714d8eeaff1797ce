"""A database where to-do lists wait before `aadbot serve` starts on it."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.runtime import utc_now
from storage import open_database
from tests.delivery.conftest import queue_lists


def lists_waiting(template: Path, folder: Path, emails: list[str]) -> Path:
    """A copy of the migrated `template` in `folder`, with a to-do list queued for each of `emails`, for
    `serve_process(migrated=...)`: `serve` finds them as a restarted `serve` does, and its outbox worker sends
    them at its first look, at start. Queued by the test once `serve` runs, from another process, they would
    wait for the worker's next look (every 2 s)."""
    waiting = folder / "lists-waiting.db"
    shutil.copyfile(template, waiting)
    database = open_database(f"sqlite:///{waiting}")
    queue_lists(database, emails, utc_now())
    database.dispose()  # written through to the file (not left in SQLite's WAL) before `serve` copies it
    return waiting
