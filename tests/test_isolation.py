"""What one test leaves behind never reaches the next: the database resets and the shared fake Slack."""

from __future__ import annotations

import hashlib
import os
from dataclasses import fields
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel, col

from storage import Database, Migration, OutboundMessage, open_database
from storage.outbox import enqueue
from tests.fakes.slack_api import Failure, FakeSlack
from tests.storage import databases
from tests.storage.databases import (
    RunSchema,
    replace_sqlite_file,
    reset_postgres_schema,
    vacuum_bloated_catalogs,
)
from tests.storage.rows import NOW, add_migration


def _row_counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def _fill(database: Database, organization: str = "fabrikam") -> None:
    migration_id = add_migration(database, organization)
    with database.session() as session:
        enqueue(
            session,
            idempotency_key=f"migration-{migration_id}-todo-1",
            recipient="ann@fabrikam.com",
            kind="todo_list",
            payload={},
            now=NOW,
        )
        session.commit()


def test_every_test_starts_on_a_migrated_database_without_rows(database: Database) -> None:
    counts = _row_counts(database)
    assert set(counts) == {table.name for table in SQLModel.metadata.sorted_tables}
    assert counts == dict.fromkeys(counts, 0)
    assert add_migration(database) == 1  # ids start again too


@pytest.mark.postgres
def test_the_postgresql_reset_empties_every_table_and_restarts_ids(postgres_schema: RunSchema) -> None:
    database = open_database(postgres_schema.url)
    try:
        reset_postgres_schema(postgres_schema)
        _fill(database)
        _fill(database, "contoso")
        assert sum(_row_counts(database).values()) > 0

        reset_postgres_schema(postgres_schema)

        assert _row_counts(database) == dict.fromkeys(_row_counts(database), 0)
        assert add_migration(database) == 1
        assert database.ping()  # the migrations' own table survives: reopening needs no migration
    finally:
        reset_postgres_schema(postgres_schema)
        database.dispose()


@pytest.mark.postgres
def test_a_postgresql_reset_that_cannot_finish_empties_nothing(
    postgres_schema: RunSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reset is one implicit transaction: stopped at its last table, it leaves the first ones as they
    were, and the connection it used serves the next reset."""
    monkeypatch.setattr(databases, "_RESET_LOCK_TIMEOUT", "100ms")
    database = open_database(postgres_schema.url)
    try:
        reset_postgres_schema(postgres_schema)
        _fill(database)
        filled = _row_counts(database)
        assert filled["migration"] == 1 and filled["outbound_message"] == 1
        with database.engine.connect() as holding:  # a test that leaked a transaction holding a row lock
            holding.execute(select(col(OutboundMessage.id)).with_for_update()).one()
            with pytest.raises(OperationalError, match="lock timeout"):
                reset_postgres_schema(postgres_schema)
            assert _row_counts(database) == filled  # `migration` is emptied before `outbound_message`
        reset_postgres_schema(postgres_schema)
        assert _row_counts(database) == dict.fromkeys(filled, 0)
    finally:
        reset_postgres_schema(postgres_schema)
        database.dispose()


@pytest.mark.postgres
def test_the_catalogs_are_vacuumed_only_once_they_hold_more_dead_rows_than_allowed(
    postgres_schema: RunSchema,
) -> None:
    assert vacuum_bloated_catalogs(postgres_schema.admin, dead_rows_at_most=10**12) is False
    assert vacuum_bloated_catalogs(postgres_schema.admin, dead_rows_at_most=-1) is True


def test_a_replaced_sqlite_file_keeps_nothing_of_the_last_test(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "aadbot.db"
    path.write_bytes(sqlite_template.read_bytes())
    database = open_database(f"sqlite:///{path}")
    left_open = database.engine.connect()  # a test that forgot one: its commits stay in the write-ahead log
    try:
        _fill(database)
        left_open.execute(select(func.count()).select_from(Migration.__table__)).scalar_one()
        assert path.with_name("aadbot.db-wal").stat().st_size > 0

        replace_sqlite_file(database, sqlite_template)

        assert _row_counts(database) == dict.fromkeys(_row_counts(database), 0)
        assert add_migration(database) == 1
        _fill(database, "contoso")  # what the old connection still sees is the old file, and only that
        assert left_open.execute(select(Migration.organization)).scalars().all() == ["fabrikam"]
    finally:
        left_open.close()
        database.dispose()


def test_replacing_a_sqlite_file_leaves_the_old_file_unwritten(sqlite_template: Path, tmp_path: Path) -> None:
    """Checkpointing the old file's log into it on the way out would be work for a file nobody reads."""
    path = tmp_path / "aadbot.db"
    path.write_bytes(sqlite_template.read_bytes())
    database = open_database(f"sqlite:///{path}")
    try:
        _fill(database)
        assert path.with_name("aadbot.db-wal").stat().st_size > 0
        old = tmp_path / "old.db"
        os.link(path, old)  # the old file, still readable once its path names the copy
        before = old.read_bytes()

        replace_sqlite_file(database, sqlite_template)

        assert old.read_bytes() == before
        assert _row_counts(database) == dict.fromkeys(_row_counts(database), 0)
    finally:
        database.dispose()


def test_a_sqlite_copy_never_writes_back_to_the_template(sqlite_template: Path, sqlite_url: str) -> None:
    before = hashlib.sha256(sqlite_template.read_bytes()).hexdigest()
    database = open_database(sqlite_url)
    try:
        _fill(database)
        assert sum(_row_counts(database).values()) > 0
    finally:
        database.dispose()
    assert hashlib.sha256(sqlite_template.read_bytes()).hexdigest() == before


def _observable(fake: FakeSlack) -> dict[str, object]:
    state = {
        spec.name: getattr(fake, spec.name)
        for spec in fields(fake)
        # `_answering` counts requests whose answer is still being sent, which a reset leaves alone: the
        # client can have read the whole answer a moment before the fake counts it sent
        if spec.name not in ("url", "_changed", "_answering")
    }
    state["_ts"] = next(fake._ts)  # the next message timestamp: counters start again
    return state


def test_a_reset_fake_slack_is_a_new_fake_with_the_same_url(served_slack: FakeSlack) -> None:
    served_slack.reset()
    fresh = _observable(FakeSlack())
    url = served_slack.url
    served_slack.users["U1"] = ("ann@fabrikam.com", "Ann")
    served_slack.time_zones["U1"] = "Europe/Paris"
    served_slack.post_limit = 1.0
    served_slack.fail("chat.update", Failure(status=500))
    httpx.post(
        f"{url}/api/chat.postMessage",
        json={"channel": "U1", "text": "hi"},
        headers={"Authorization": "Bearer xoxb-t"},
    ).raise_for_status()
    httpx.post(served_slack.response_url(), json={"text": "later"}).raise_for_status()
    assert _observable(served_slack) != fresh

    served_slack.reset()

    assert served_slack.url == url
    assert _observable(served_slack) == fresh
    answer = httpx.post(
        f"{url}/api/chat.update",
        data={"channel": "DU1", "ts": "1.000100"},
        headers={"Authorization": "Bearer xoxb-t"},
    )
    assert answer.json() == {
        "ok": False,
        "error": "message_not_found",
    }  # no scripted failure, no message left
