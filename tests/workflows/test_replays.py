"""Restoring a workflow fixture's steps (tests/workflows/replays.py) is indistinguishable from replaying
them, on SQLite and PostgreSQL: the same rows, the same fake Microsoft, the same answers after."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import Database
from tests.fakes.remembered import admins_remembered
from tests.storage.databases import all_rows, replace_sqlite_file, reset_postgres_schema
from tests.workflows import replays
from tests.workflows.fakes import FakeClock, FakeMicrosoft, connect_and_notify
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.tracking import Tracking


def _observed(
    database: Database, microsoft: FakeMicrosoft, service: MigrationService, clock: FakeClock, dana: Actor
) -> str:
    """The rows and the fake Microsoft the steps left, then what a follow-on reads and does: the to-do
    lists, whom the service remembers an admin, the reminders due three days on."""
    left = (all_rows(database), {name: value for name, value in vars(microsoft).items() if name != "_lock"})
    lists = [service.todo_list(email) for email in ("ann@fabrikam.com", "bob@outlook.com", "cy@gmail.com")]
    remembered = admins_remembered(service)
    clock.advance(days=3)
    reminded = Tracking(database, service, clock=clock).tick()
    return repr((left, lists, remembered, reminded, all_rows(database)))


def test_a_restored_fixture_is_indistinguishable_from_a_replayed_one(
    request: pytest.FixtureRequest, database: Database, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    start = clock.now

    def run() -> str:
        if database.engine.url.get_backend_name() == "sqlite":
            replace_sqlite_file(database, request.getfixturevalue("sqlite_template"))
        else:
            reset_postgres_schema(request.getfixturevalue("postgres_schema"))
        clock.now = start
        microsoft = FakeMicrosoft()
        service = MigrationService(database, microsoft, clock=clock)

        def steps() -> None:
            service.start("fabrikam", "fabrikam.com", dana)
            service.invite(None, dana)
            connect_and_notify(service, microsoft, dana, lee)

        replays.replayed(request, service, microsoft, steps)
        return _observed(database, microsoft, service, clock, dana)

    name = request.function.__name__
    restored_before = replays.RESTORED[name]
    replayed = run()
    assert replays.RESTORED[name] == restored_before
    restored = run()
    assert replays.RESTORED[name] == restored_before + 1
    assert "('dana@fabrikam.com', 'lee@fabrikam.com'))}" in restored  # the service's cache of the admins
    assert restored == replayed
    assert timedelta(days=3) == clock.now - start
