"""The steps a workflow fixture takes before the test (start, invite, approve, connect, notify), replayed
for real once per test process and restored after, on SQLite and PostgreSQL alike.

`replayed(request, steps)` in a fixture runs `steps()` and saves what they leave: the database's rows (a
copy of the SQLite file; on PostgreSQL, the run schema's rows copied into a schema of their own and its
sequences), the `FakeMicrosoft`, and what the service remembers (who was confirmed an admin). A later test
of the same fixture from the same world (an empty database, the same fake Microsoft, settings and time)
gets them restored instead; anything else replays for real. tests/workflows/test_replays.py compares both.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from storage import Database
from tests.fakes.remembered import admins_remembered, remember_admins
from tests.storage.databases import RunSchema, SavedSchema, restore_rows, save_rows
from tests.workflows.fakes import FakeClock, FakeMicrosoft, connect_and_notify
from workflows.results import Actor
from workflows.service import MigrationService


@dataclass(frozen=True)
class _Saved:
    rows: Path | SavedSchema
    microsoft: dict[str, Any]
    admins: tuple[Any, ...]


CHANNEL = "CMIGRATE"
"""The channel the fixtures start fabrikam in."""

_SAVED: dict[tuple[Hashable, ...], _Saved] = {}
RESTORED: Counter[str] = Counter()
"""How often this process restored each fixture (by name; a test calling `replayed` itself, by its own)
instead of replaying it: what tests/workflows/test_replays.py reads."""


def replayed(
    request: pytest.FixtureRequest,
    service: MigrationService,
    microsoft: FakeMicrosoft,
    steps: Callable[[], object],
    *,
    name: str | None = None,
) -> None:
    """`steps()`, which take `service` and `microsoft` through the steps of the fixture asking (or the
    steps `name` names, where a fixture takes another's first); or, when this test process ran them
    already from the same world, what they left restored."""
    database: Database = request.getfixturevalue("database")
    clock = request.getfixturevalue("clock")
    world = _world(database, microsoft, service, clock)
    if world is None:
        steps()
        return
    name = name or request.fixturename or request.function.__name__  # a test may call this itself
    key = (request.module.__name__, name, world)
    saved = _SAVED.get(key)
    schema: RunSchema | None = (
        None
        if database.engine.url.get_backend_name() == "sqlite"
        else request.getfixturevalue("postgres_schema")
    )
    if saved is not None:
        restore_rows(database, schema, saved.rows)
        for attribute, value in copy.deepcopy(saved.microsoft).items():
            setattr(microsoft, attribute, value)
        remember_admins(service, saved.admins)
        RESTORED[name] += 1
        return
    steps()
    if clock.now != world[-1]:  # a clock the steps moved would have to move back too
        return
    _SAVED[key] = _Saved(
        save_rows(database, schema), copy.deepcopy(_microsoft(microsoft)), admins_remembered(service)
    )


def notified_in_channel(
    request: pytest.FixtureRequest,
    service: MigrationService,
    microsoft: FakeMicrosoft,
    starter: Actor,
    approver: Actor,
    channel: str,
    *,
    name: str | None = None,
) -> MigrationService:
    """The fixture of tests that begin once the lists are out: fabrikam started by `starter` in `channel`,
    everyone invited, then `connect_and_notify`; replayed as `replayed` does (under `name`, if given)."""

    def steps() -> None:
        service.start("fabrikam", "fabrikam.com", starter, channel=channel)
        service.invite(None, starter)
        connect_and_notify(service, microsoft, starter, approver)

    replayed(request, service, microsoft, steps, name=name)
    return service


def _microsoft(microsoft: FakeMicrosoft) -> dict[str, Any]:
    """What `microsoft` holds, as it holds it: a save copies it, a world key reads it."""
    return {name: value for name, value in vars(microsoft).items() if name != "_lock"}


def _world(
    database: Database, microsoft: FakeMicrosoft, service: MigrationService, clock: object
) -> tuple[Hashable, ...] | None:
    """What the steps start from, as a key; None where a snapshot cannot stand in for them."""
    if not isinstance(clock, FakeClock):
        return None
    with database.engine.connect() as connection:
        if connection.execute(text("SELECT count(*) FROM migration")).scalar_one():
            return None  # an earlier fixture started one: the steps would not start where they did
    return (
        database.engine.url.get_backend_name(),
        repr(_microsoft(microsoft)),
        repr(service._settings),
        clock.now,
    )
