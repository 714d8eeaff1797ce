"""Start-up brings any database to the latest revision, and the revisions match the models exactly."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from storage import Database, Migration, StorageError, open_database
from storage import database as database_module
from storage.database import _MIGRATION_LOCK, alembic_config, head_revision
from storage.outbox import BULK, URGENT
from tests.storage.databases import RunSchema


def test_start_up_applies_every_revision_and_leaves_no_drift(empty_database_url: str) -> None:
    database = open_database(empty_database_url)
    try:
        _assert_at_head_without_drift(database)
    finally:
        database.dispose()


def _assert_at_head_without_drift(database: Database) -> None:
    head = ScriptDirectory.from_config(alembic_config(database.engine)).get_current_head()
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata
        )
        tables = set(inspect(connection).get_table_names())
    assert current == head
    assert diff == []
    assert {table.name for table in SQLModel.metadata.sorted_tables} <= tables


@pytest.fixture
def upgrades(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The revisions `alembic upgrade` was asked for while the test ran (it still runs)."""
    asked: list[str] = []
    real = command.upgrade

    def recorded(config: Any, revision: str, **options: Any) -> None:
        asked.append(revision)
        real(config, revision, **options)

    monkeypatch.setattr(command, "upgrade", recorded)
    return asked


def test_the_head_revision_the_code_knows_is_alembics() -> None:
    scripts = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://")))
    assert scripts.get_current_head() == head_revision(), (
        "name each file in storage/migrations/versions after its revision: <revision>_<what it does>.py"
    )


def test_an_up_to_date_database_opens_without_migrating(database_url: str, upgrades: list[str]) -> None:
    database = open_database(database_url)
    try:
        assert database.ping() and database.schema_change is None  # `serve` logs no schema line
    finally:
        database.dispose()
    assert upgrades == []


def test_an_older_database_is_upgraded_to_the_head(empty_database_url: str, upgrades: list[str]) -> None:
    with _at_revision(empty_database_url, "0007"):
        pass  # nothing written: the upgrade alone is tested

    database = open_database(empty_database_url)
    try:
        assert upgrades == ["0007", "head"]
        _assert_at_head_without_drift(database)
        # what `serve` logs at start-up: no line said an upgrade ran (walk32)
        assert database.schema_change == f"upgraded from revision 0007 to {head_revision()}"
    finally:
        database.dispose()


def test_an_invitation_sent_before_0011_is_kept_without_a_link_to_accept_it(empty_database_url: str) -> None:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    with _at_revision(empty_database_url, "0010") as connection:
        connection.execute(
            text(
                "INSERT INTO migration (id, version, organization, tenant_id, tenant_name, state,"
                " started_by_id, started_by_email, started_by_name, created_at, updated_at) VALUES"
                " (1, 1, 'fabrikam', 't', 'Fabrikam', 'planned', 'U', 'd', 'D', :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO invitation (id, version, migration_id, email, entitlement_id, display_name,"
                " status, result, invited_user_id, attempts, created_at, updated_at) VALUES"
                " (1, 1, 1, 'erin@gmail.com', 'e-erin', 'Erin', 'sent', 'PendingAcceptance', 'g-erin', 1,"
                " :now, :now)"
            ),
            {"now": now},
        )

    rows = _opened_and_read(empty_database_url, "SELECT email, status, redeem_url FROM invitation")
    assert rows == [("erin@gmail.com", "sent", None)]


@contextlib.contextmanager
def _at_revision(url: str, revision: str) -> Iterator[Connection]:
    """The database at `url` brought to `revision` (not the head), in a transaction committed on leaving: the
    rows written meanwhile are what an older aadbot left for the upgrade."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(engine)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            yield connection
    finally:
        engine.dispose()


def _opened_and_read(url: str, query: str) -> list[tuple[Any, ...]]:
    """The rows `query` reads once start-up has brought the database at `url` to the head revision."""
    database = open_database(url)
    try:
        with database.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query)).all()]
    finally:
        database.dispose()


def test_migrations_started_before_0013_are_given_the_surface_their_channel_or_starter_tells(
    empty_database_url: str,
) -> None:
    """A Teams channel is Teams'; without a channel, Teams' when its starter has a personal chat with the bot
    (their id is a directory object id); anything else keeps the rule of old, its channel (Slack's)."""
    now = datetime(2026, 11, 2, tzinfo=UTC)
    started = [
        (1, "teams:19:migrate@thread.tacv2", "g-dana"),
        (2, None, "g-dana"),  # in Dana's personal chat in Teams
        (3, None, "U-LEE"),  # in a DM to the bot in Slack
        (4, "C-MIGRATE", "U-LEE"),
        (5, None, "g-team"),  # someone Teams knows only from a channel
    ]
    with _at_revision(empty_database_url, "0012") as connection:
        for number, channel, starter in started:
            connection.execute(
                text(
                    "INSERT INTO migration (id, version, organization, tenant_id, tenant_name, state,"
                    " started_by_id, started_by_email, started_by_name, channel_id, created_at,"
                    " updated_at) VALUES (:id, 1, :organization, 't', '', 'planned', :starter, 'd', 'D',"
                    " :channel, :now, :now)"
                ),
                {
                    "id": number,
                    "organization": f"org{number}",
                    "starter": starter,
                    "channel": channel,
                    "now": now,
                },
            )
        for conversation, kind, user in (("a:dana", "personal", "g-dana"), ("19:team", "channel", None)):
            connection.execute(
                text(
                    "INSERT INTO teams_conversation (conversation_id, service_url, tenant_id, kind,"
                    " user_id, updated_at)"
                    " VALUES (:conversation, 'https://smba', 't', :kind, :user, :now)"
                ),
                {"conversation": conversation, "kind": kind, "user": user, "now": now},
            )

    rows = _opened_and_read(empty_database_url, "SELECT id, surface FROM migration ORDER BY id")
    assert rows == [(1, "teams"), (2, "teams"), (3, None), (4, None), (5, None)]


def test_a_wave_pending_before_0016_goes_behind_the_admins_messages(empty_database_url: str) -> None:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    queued = [
        (1, "todo_list", "pending"),
        (2, "advance_notice", "sent"),
        (3, "approval_prompt", "pending"),
        (4, "chat_message", "pending"),
        (5, "todo_reminder", "pending"),
    ]
    with _at_revision(empty_database_url, "0015") as connection:
        for number, kind, status in queued:
            connection.execute(
                text(
                    "INSERT INTO outbound_message (id, version, idempotency_key, recipient, kind,"
                    " payload, status, attempts, in_flight, uncertain, not_before, created_at) VALUES"
                    " (:id, 1, :key, 'p@x.com', :kind, '{}', :status, 0, false, false, :now, :now)"
                ),
                {"id": number, "key": f"k{number}", "kind": kind, "status": status, "now": now},
            )

    rows = _opened_and_read(empty_database_url, "SELECT id, priority FROM outbound_message ORDER BY id")
    assert rows == [(1, BULK), (2, BULK), (3, URGENT), (4, URGENT), (5, BULK)]


def test_people_notified_before_0009_and_0010_get_the_directory_accounts_their_plan_names(
    empty_database_url: str,
) -> None:
    plan = {
        "users": [
            {"id": "e-kim", "outcome": "map", "match": {"id": "g-kim", "user_principal_name": "kim@a.com"}},
            {
                "id": "e-gus",
                "outcome": "disabled",
                "match": {"id": "g-gus", "user_principal_name": "gus@a.com"},
            },
            {"id": "e-cy", "outcome": "invite", "match": None},
            {"id": "e-hana", "outcome": "ambiguous", "match": None, "candidates": ["G-HANA", "g-hart"]},
        ]
    }
    with _at_revision(empty_database_url, "0008") as connection:
        connection.execute(
            text(
                "INSERT INTO migration (id, version, organization, tenant_id, tenant_name, state, plan,"
                " started_by_id, started_by_email, started_by_name, created_at, updated_at) VALUES"
                " (1, 1, 'fabrikam', 't', 'Fabrikam', 'users_notified', :plan, 'U', 'd', 'D', :now, :now)"
            ),
            {"plan": json.dumps(plan), "now": datetime(2026, 11, 2, tzinfo=UTC)},
        )
        for number, entitlement in enumerate(("e-kim", "e-gus", "e-cy", "e-hana"), start=1):
            connection.execute(
                text(
                    "INSERT INTO affected_user (id, version, migration_id, entitlement_id,"
                    " principal_name, email, display_name, outcome, created_at)"
                    " VALUES (:id, 1, 1, :entitlement, 'p', 'e', '', 'map', :now)"
                ),
                {"id": number, "entitlement": entitlement, "now": datetime(2026, 11, 2, tzinfo=UTC)},
            )

    rows = _opened_and_read(
        empty_database_url,
        "SELECT entitlement_id, directory_account, directory_id, candidates FROM affected_user ORDER BY id",
    )
    assert [(*row[:3], json.loads(row[3]) if isinstance(row[3], str) else row[3]) for row in rows] == [
        ("e-kim", "kim@a.com", "g-kim", []),
        ("e-gus", None, None, []),
        ("e-cy", None, None, []),
        ("e-hana", None, None, ["g-hana", "g-hart"]),
    ]


def test_a_postgresql_address_that_never_answers_is_given_up_after_the_default_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without `connect_timeout` in the URL, `CONNECT_SECONDS` bounds the wait (psycopg's own default is 130 s
    an address); made psycopg's shortest, 2 s, for the test."""
    monkeypatch.setattr(database_module, "CONNECT_SECONDS", 2)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes each connection; nobody ever accepts or answers one
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(StorageError) as refused:
            open_database(f"postgresql+psycopg://aadbot@127.0.0.1:{port}/aadbot")
        waited = time.monotonic() - started
    assert str(refused.value).startswith(
        f"Cannot open the database postgresql+psycopg://aadbot@127.0.0.1:{port}/aadbot: no answer within 2 s."
        f" Check that 127.0.0.1:{port} is the PostgreSQL server"
    ), refused.value
    assert waited < 10, waited


def test_a_database_newer_than_the_code_is_refused_and_left_as_it_is(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    try:
        with pytest.raises(
            StorageError, match="is at schema revision 9999, which this aadbot does not know"
        ) as refused:
            open_database(database.engine.url.render_as_string(hide_password=False))
        assert f"(its newest is {head_revision()}): a newer aadbot has upgraded it" in str(refused.value)
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "9999"
    finally:
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :to"), {"to": head_revision()})


def test_opening_twice_is_harmless(empty_database_url: str) -> None:
    first = open_database(empty_database_url)
    second = open_database(empty_database_url)
    try:
        assert second.ping()
        assert (first.schema_change, second.schema_change) == (f"created at revision {head_revision()}", None)
    finally:
        first.dispose()
        second.dispose()


_REPLICAS = """
import os, sys, traceback
from alembic import command  # each replica finds no revision and runs it: imported once for both
from storage import open_database
replicas = []
for _ in range(int(sys.argv[2])):
    pid = os.fork()
    if pid == 0:
        try:
            open_database(sys.argv[1]).dispose()
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
        os._exit(0)
    replicas.append(pid)
codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in replicas]
sys.exit(0 if not any(codes) else f"the replicas exited with {codes}")
"""
"""Replicas of `serve` starting (as many as its second argument): processes forked once `storage` and Alembic
are imported (0.7 s of CPU that each would otherwise pay), each with its own connection and its own run of
Alembic."""


@pytest.mark.postgres
def test_replicas_starting_at_once_on_a_new_postgres_schema_migrate_it_one_after_the_other(
    empty_postgres_url: str,
) -> None:
    """Two `serve` replicas started together on an empty schema: both find no revision, so both upgrade.
    The migration lock makes the second wait for the first and then find the schema at the head; without
    it both would create the same tables and one start would fail. The test holds the lock itself until
    both processes are seen waiting for it, so the two always meet there, whatever their timing."""
    tag = f"aadbot-replica-{uuid.uuid4().hex[:8]}"
    replica_url = f"{empty_postgres_url}&application_name={tag}"
    holder = create_engine(empty_postgres_url)
    replicas: subprocess.Popen[str] | None = None
    try:
        with holder.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            replicas = subprocess.Popen(
                [sys.executable, "-c", _REPLICAS, replica_url, "2"],
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # the replicas are killed with their parent if the test fails
            )
            assert _wait_for(lambda: _replicas_waiting_for_the_lock(holder, tag) == 2), (
                "the two starts never waited for the migration lock"
            )
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            connection.commit()
        assert replicas.communicate(timeout=60)[1] == ""
        assert replicas.returncode == 0
        with holder.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert versions == [head_revision()]
    finally:
        if replicas is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(replicas.pid, signal.SIGKILL)
            replicas.communicate()
        holder.dispose()


def test_replicas_starting_at_once_on_a_new_sqlite_file_each_find_it_made(tmp_path: Path) -> None:
    """Eight starts on one new file: SQLite's driver opens no transaction before DDL, so without the write
    lock taken first they raced and most failed with "table ... already exists" (3 of 8, three times in a
    row, before `upgrade` began with BEGIN IMMEDIATE). SQLite shows nobody waiting for its lock, so the
    starts meet by starting together, not at a point the test holds."""
    url = f"sqlite:///{tmp_path / 'aadbot.db'}"
    replicas = subprocess.run(
        [sys.executable, "-c", _REPLICAS, url, "8"], capture_output=True, text=True, timeout=120
    )
    assert (replicas.returncode, replicas.stderr) == (0, "")
    with contextlib.closing(sqlite3.connect(tmp_path / "aadbot.db")) as connection:
        versions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    assert versions == [head_revision()]


def _replicas_waiting_for_the_lock(engine: Engine, tag: str) -> int:
    # A connection of its own each time: within one transaction pg_stat_activity stays as first read.
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
                    " WHERE locktype = 'advisory' AND NOT granted AND application_name = :tag"
                ),
                {"tag": tag},
            ).scalar_one()
        )


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Polls what only the server can tell (who waits for a lock); there is no event to wait on."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_default_is_a_sqlite_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    database = open_database()
    try:
        assert database.url == "sqlite:///aadbot.db"
        assert (tmp_path / "aadbot.db").exists()
    finally:
        database.dispose()


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with socket.socket() as probe:  # a port the OS just handed out and nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StorageError) as failure:
        open_database(f"postgresql+psycopg://aadbot:s3cret-pw@127.0.0.1:{port}/aadbot?connect_timeout=2")
    message = str(failure.value)
    assert "s3cret-pw" not in message
    assert f"Cannot open the database postgresql+psycopg://aadbot:***@127.0.0.1:{port}/aadbot" in message
    assert message.endswith(
        "Check that the server is running and that AADBOT_DATABASE_URL is right (for example"
        " postgresql+psycopg://user@host:5432/dbname)."
    )


def test_a_failed_statement_names_the_sql_but_not_the_values_it_carried(database_url: str) -> None:
    # Values can be a message's payload (a download link, a person's note): a database error is logged and
    # may be shown, so it names the statement and hides what was bound to it.
    database = open_database(database_url)
    try:
        with pytest.raises(DBAPIError) as failure, database.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO no_such_table (token) VALUES (:token)"), {"token": "pat-0xSECRET"}
            )
        message = str(failure.value)
        assert "INSERT INTO no_such_table" in message
        assert "pat-0xSECRET" not in message
        assert "[SQL parameters hidden due to hide_parameters=True]" in message
    finally:
        database.dispose()


def test_a_sqlite_file_that_cannot_be_made_names_its_folder_not_a_server(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "aadbot.db"
    with pytest.raises(StorageError) as failure:
        open_database(f"sqlite:///{missing}")
    assert str(failure.value) == (
        f"Cannot open the database sqlite:///{missing}: unable to open database file. Check that the"
        " file's folder exists and that aadbot may write there, or set AADBOT_DATABASE_URL (for example"
        " sqlite:///aadbot.db)."
    )


def test_a_sqlite_file_opened_read_only_is_refused_at_open_with_the_fix(sqlite_template: Path) -> None:
    # root writes to a file whatever its mode bits: a read-only open (mode=ro) stands for any file aadbot
    # may read but not write (an immutable file, a read-only mount)
    url = f"sqlite:///file:{sqlite_template}?mode=ro&uri=true"
    with pytest.raises(StorageError) as failure:
        open_database(url)
    message = str(failure.value)
    assert message.startswith("Cannot write to the database sqlite:///file")
    assert f"{sqlite_template}?mode=ro&uri=true: attempt to write a readonly database." in message
    assert "writable for the user serve runs as" in message and "mode=ro" in message


def test_a_postgresql_role_that_may_only_read_is_refused_at_open_with_the_fix(
    postgres_schema: RunSchema,
) -> None:
    role = f"aadbot_reader_{uuid.uuid4().hex[:8]}"
    with postgres_schema.admin.begin() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(text(f"GRANT USAGE ON SCHEMA {postgres_schema.name} TO {role}"))
        connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {postgres_schema.name} TO {role}"))
    try:
        url = postgres_schema.url.replace("postgres@", f"{role}@")
        with pytest.raises(StorageError) as failure:
            open_database(url)
        message = str(failure.value)
        assert "Cannot write to the database" in message and "permission denied" in message
        assert "grant the role of AADBOT_DATABASE_URL SELECT, INSERT, UPDATE and DELETE" in message
    finally:
        with postgres_schema.admin.begin() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))


def _opened_while_held(url: str, release: Callable[[], None]) -> Database:
    """`open_database(url)` while another connection holds a lock, which `release` lets go. The bound is far
    above the check's own wait, below SQLite's 30 s; on PostgreSQL it waited as long as the lock was held."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        opening = pool.submit(open_database, url)
        try:
            return opening.result(timeout=10)
        except TimeoutError:
            pytest.fail("open_database waited for a lock another connection holds")
        finally:
            release()  # an opener still waiting then finishes, and the pool's thread with it


def test_a_sqlite_file_another_connection_is_writing_to_opens_without_waiting(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """It waited 30 s for the lock, then blamed the file's permissions."""
    path = tmp_path / "aadbot.db"
    shutil.copyfile(sqlite_template, path)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        database = _opened_while_held(f"sqlite:///{path}", lambda: writer.execute("ROLLBACK"))
    finally:
        writer.close()
    try:
        with database.engine.begin() as connection:
            # requests still wait their turn for the lock, as before the check
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30_000
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    finally:
        database.dispose()


@pytest.mark.parametrize(
    "holding",
    [
        "UPDATE {schema}.alembic_version SET version_num = version_num",  # the row the check writes
        "LOCK TABLE {schema}.alembic_version IN SHARE MODE",
    ],
)
def test_a_postgresql_database_another_session_is_writing_to_opens_without_waiting(
    postgres_schema: RunSchema, holding: str
) -> None:
    """It hung, saying nothing, for as long as the other session held the lock."""
    with postgres_schema.admin.connect() as holder:
        holder.execute(text(holding.format(schema=postgres_schema.name)))
        _opened_while_held(postgres_schema.url, holder.rollback).dispose()


@pytest.mark.parametrize("url", ["not a url", "nosuchdriver://x/y"])
def test_a_malformed_url_is_a_clear_error(url: str) -> None:
    with pytest.raises(StorageError, match="database URL"):
        open_database(url)


def test_datetimes_come_back_aware_and_in_utc(database: Database) -> None:
    paris = timezone(timedelta(hours=1))
    created = datetime(2026, 11, 2, 10, 0, tzinfo=paris)
    with database.session() as session:
        row = Migration(
            organization="fabrikam",
            tenant_id="t",
            state="draft",
            started_by_id="U1",
            started_by_email="a@b.c",
            started_by_name="A",
            created_at=created,
            updated_at=created,
        )
        session.add(row)
        session.commit()
        row_id = row.id
    with database.session() as session:
        loaded = session.get(Migration, row_id)
        assert loaded is not None
        assert loaded.created_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        assert loaded.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(database: Database) -> None:
    with database.session() as session:
        session.add(
            Migration(
                organization="fabrikam",
                tenant_id="t",
                state="draft",
                started_by_id="U1",
                started_by_email="a@b.c",
                started_by_name="A",
                created_at=datetime(2026, 11, 2),
                updated_at=datetime(2026, 11, 2),
            )
        )
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


_ORPHAN_AUDIT_ENTRY = (
    "INSERT INTO audit_entry (migration_id, at, actor_id, actor_email, actor_name, action, details)"
    " VALUES (999, CURRENT_TIMESTAMP, 'u', 'e', 'n', 'x', '{}')"
)


def test_foreign_keys_are_enforced(database: Database) -> None:
    with database.engine.connect() as connection, pytest.raises(Exception, match=r"(?i)foreign key"):
        connection.execute(text(_ORPHAN_AUDIT_ENTRY))


def test_every_revision_downgrades_and_upgrades_again(database: Database) -> None:
    with database.engine.begin() as connection:
        config = alembic_config(database.engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
