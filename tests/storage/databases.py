"""The `database` fixture: a test runs on SQLite and on PostgreSQL, unless a `backends` mark takes it off
PostgreSQL (`SQLITE_ONLY`: the database is not its subject; `scripts/postgres_coverage.py` checks, when run,
that nothing the tests make the product send there loses its test).

Migrating is done once per run (per xdist worker), not per test, and so is opening the engine:
- SQLite: a template file is migrated once; each test process has one database file, which before each
  test is replaced by a fresh copy of the template.
- PostgreSQL (the server on 127.0.0.1:5432, trust auth, database `test`): one schema per run, migrated
  once; before each test every table but `alembic_version` is emptied (DELETE, sequences restarted),
  so ids start at 1 again. The schema is dropped at the end of the run.
`database` is one engine per backend per test process: SQLAlchemy caches compiled statements per engine,
and compiling them again for every test was a sixth of the workflow tests' CPU. A test that opens its own
(`open_database(database_url)`, as a second process would) reaches the same database.
`empty_database_url` gives a database nothing has touched, for the tests of migrating itself.

An unreachable server fails the test: skipping would hide the half of the suite that guards production.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import os
import shutil
import sqlite3
import tempfile
import types
import uuid
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from storage import Database

# SQLAlchemy and `storage` are imported by the functions that use them, not at the top: the run's first
# process loads this plugin and opens no database, and importing them would cost it CPU (SQLAlchemy alone
# 0.35 s) and delay the start of every test process.

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_KEPT_TABLES = frozenset({"alembic_version"})
_RESET_LOCK_TIMEOUT = "10s"
"""A test that leaks an open transaction makes the next reset fail clearly instead of hanging."""

CATALOG_DEAD_ROWS_AT_MOST = 100_000
"""About fifteen runs' worth; vacuuming them takes the server about a second."""
_BLOATED_CATALOGS = (
    "pg_attribute",
    "pg_depend",
    "pg_class",
    "pg_index",
    "pg_type",
    "pg_trigger",
    "pg_constraint",
)

_NO_COMMIT_FLUSH = "-csynchronous_commit%3Doff"
"""A commit returns before the server flushes its log to disk (3.5 ms -> 0.4 ms a commit here): what a
test sees is the same, only a crash of the server itself could lose the last commits, which no test
needs. The server's and the bot's own defaults are untouched: only the tests' connections ask."""

BACKENDS: list[str | pytest.ParameterSet] = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

SQLITE_ONLY = pytest.mark.backends("sqlite")
"""For a test (or a module, as `pytestmark`) whose subject is not the database: `database_url` and
`empty_database_url` give it SQLite only. What it sends to PostgreSQL is sent there by the tests that stay on
both (`scripts/postgres_coverage.py` checks it when run: every statement shape of a run with every test on
both backends is sent by one of them, and every test using concurrency the server decides is one of them)."""
BOTH_BACKENDS = pytest.mark.backends("sqlite", "postgresql")
"""A test of a `SQLITE_ONLY` module kept on both: the closest `backends` mark is the one that counts."""
EVERY_BACKEND = "TESTS_EVERY_BACKEND"
"""Set to 1, every test runs on both backends whatever its mark: the run `scripts/postgres_coverage.py`
measures."""
ALWAYS_ON_BOTH = ("tests/storage/", "tests/test_isolation.py", "tests/workflows/test_replays.py")
"""Where the database is the subject of every test: no `backends` mark may take PostgreSQL away. Restoring a
replayed fixture (tests/workflows/test_replays.py) is what the workflow tests kept on PostgreSQL rely on."""

_DATABASE_FIXTURES = ("database_url", "empty_database_url")
_SQLITE_ONLY_CASES = pytest.StashKey[list[pytest.Function]]()
_BACKEND_QUESTIONS = frozenset({"dialect", "get_backend_name"})
"""Names a test asks which backend it runs on with: `engine.dialect.name`, `url.get_backend_name()`."""


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test with a `backends` mark gets only those backends from `database_url` and `empty_database_url`.
    No mark is both: a new test keeps PostgreSQL until someone decides, with the evidence, that the database
    is not its subject. A mark naming no backend, or one that is none (`"postgres"`), stops the run: it would
    give the test no case to run, silently (`[NOTSET]`, skipped).

    The choice is a `parametrize` mark added before pytest parametrizes the fixtures, so that pytest takes
    it in place of the fixture's own `BACKENDS`, the tests' ids unchanged."""
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is None:
        return
    if not marker.args or not set(marker.args) <= set(_BACKEND_NAMES):
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: its backends mark names {list(marker.args)}, "
            f"the backends are {_BACKEND_NAMES}"
        )
    if os.environ.get(EVERY_BACKEND) == "1":
        return
    already = {
        name
        for mark in metafunc.definition.iter_markers("parametrize")
        for name in ([mark.args[0]] if isinstance(mark.args[0], str) else mark.args[0])
    }
    for fixture in _DATABASE_FIXTURES:
        if fixture in metafunc.fixturenames and fixture not in already:
            chosen = [backend for backend in BACKENDS if _backend_name(backend) in marker.args]
            metafunc.definition.add_marker(pytest.mark.parametrize(fixture, chosen, indirect=True))


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(collector: pytest.Collector) -> Generator[None, object, object]:
    """The cases of a test function using the database, none of which runs on PostgreSQL, kept for
    `pytest_collection_modifyitems`: here, where pytest has made every case of the function at once, before
    any selection (`test.py::test_it[sqlite]` keeps one case, whatever the others are)."""
    made = yield
    cases = [case for case in made if isinstance(case, pytest.Function)] if isinstance(made, list) else []
    if (
        cases
        and not set(_DATABASE_FIXTURES).isdisjoint(cases[0].fixturenames)
        and not any(map(_on_postgresql, cases))
    ):
        collector.config.stash.setdefault(_SQLITE_ONLY_CASES, []).extend(cases)
    return made


def pytest_collection_modifyitems(config: pytest.Config) -> None:
    """Stop the run (a usage error) where a test that must run on PostgreSQL is SQLite-only: in a folder whose
    subject is the database (`ALWAYS_ON_BOTH`), or asking which backend it runs on, so checking something
    on PostgreSQL alone (a check that would never run)."""
    sqlite_only = config.stash.get(_SQLITE_ONLY_CASES, [])
    wrongly_marked = [case.nodeid for case in sqlite_only if case.nodeid.startswith(ALWAYS_ON_BOTH)]
    if wrongly_marked:
        raise pytest.UsageError(f"the database is these tests' subject, keep them on both: {wrongly_marked}")
    asking = [case.nodeid for case in sqlite_only if _asks_which_backend(_own_code(case))]
    if asking:
        raise pytest.UsageError(
            f"these tests check something on PostgreSQL alone, which never runs: keep them on both: {asking}"
        )


def _on_postgresql(case: pytest.Function) -> bool:
    callspec = getattr(case, "callspec", None)
    return callspec is not None and "postgresql" in [callspec.params.get(name) for name in _DATABASE_FIXTURES]


def _own_code(case: pytest.Function) -> types.CodeType:
    """The code of the test as written: under hypothesis's `@given`, of the function it runs
    (`.hypothesis.inner_test`), under a decorator keeping `__wrapped__`, of the function it wraps."""
    function = getattr(getattr(case.function, "hypothesis", None), "inner_test", case.function)
    return cast("types.CodeType", inspect.unwrap(function).__code__)


def _asks_which_backend(code: types.CodeType) -> bool:
    """Whether `code`, or a function or lambda it defines, names `_BACKEND_QUESTIONS` or "postgresql". Read
    from the compiled code, not the source: for the 271 SQLite-only test functions, 4 ms of each test
    process's collecting against 110 to 130 ms for their source (`inspect.getsource`); comments are not
    read either."""
    return not _BACKEND_QUESTIONS.isdisjoint(code.co_names) or any(
        _asks_which_backend(constant) if isinstance(constant, types.CodeType) else _is_postgresql(constant)
        for constant in code.co_consts
    )


def _is_postgresql(constant: object) -> bool:
    if isinstance(constant, tuple | frozenset):
        return any(map(_is_postgresql, constant))
    return constant == "postgresql"


def _backend_name(backend: str | pytest.ParameterSet) -> str:
    return backend if isinstance(backend, str) else str(backend.values[0])


_BACKEND_NAMES = [_backend_name(backend) for backend in BACKENDS]


def _schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?connect_timeout=5&options=-csearch_path%3D{schema}%20{_NO_COMMIT_FLUSH}"


def _admin_engine() -> Engine:
    from sqlalchemy import create_engine

    return create_engine(f"{POSTGRES_URL}?connect_timeout=5&options={_NO_COMMIT_FLUSH}")


def _create_schema(admin: Engine) -> str:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as error:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at 127.0.0.1:5432 is unreachable ({error.orig}); start it: these tests need it."
        )
    return schema


def _drop_schema(admin: Engine, schema: str) -> None:
    from sqlalchemy import text

    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def reset_postgres_schema(schema: RunSchema) -> None:
    """Empty every table of `schema` but the migrations' own, and restart its id sequences.

    DELETE, not TRUNCATE: the tables of a test hold a few rows, and TRUNCATE of every table costs a
    third of a second of the server's time per test (new files for each table), DELETE a few
    milliseconds. Foreign keys are not checked while emptying (`session_replication_role`), so the
    order does not matter; every table ends empty all the same. The tables and sequences are the ones
    read once after migrating: reading the catalogs for them before every test scanned `pg_class`, which
    on a server without autovacuum holds more dead rows with every run (`vacuum_bloated_catalogs`)."""
    _refill(schema, [], [(sequence, 1, False) for sequence in schema.sequences])


def _refill(schema: RunSchema, inserts: list[str], sequences: Iterable[tuple[str, int, bool]]) -> None:
    """Every table of `schema` emptied, then `inserts` run and the id `sequences` set where they stand,
    in one transaction without foreign key checks (`session_replication_role`), so that order does not
    matter.

    One round trip: the statements go as one string on a connection in autocommit, which the server runs
    as one implicit transaction (all or nothing but the sequences, which no transaction undoes: they are
    set last; `SET LOCAL` lasts until its end). Opening it, setting
    each option and committing were four more round trips: 1.4 ms of the test process's CPU and 1.4 ms of
    the server's per reset, against 0.5 and 0.9 ms."""
    statements = [
        f"SET LOCAL lock_timeout = '{_RESET_LOCK_TIMEOUT}'",
        "SET LOCAL session_replication_role = replica",
    ]
    statements += [f'DELETE FROM {schema.name}."{table}"' for table in schema.tables]
    statements += inserts
    statements += [
        f"SELECT setval('{schema.name}.\"{sequence}\"', {value}, {called})"
        for sequence, value, called in sequences
    ]
    with schema.admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("; ".join(statements))


def _contents(admin: Engine, schema: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tables a reset empties and the sequences it restarts, read once after migrating."""
    from sqlalchemy import text

    with admin.connect() as connection:
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"), {"schema": schema}
        ).scalars()
        sequences = connection.execute(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = :schema"), {"schema": schema}
        ).scalars()
        return (
            tuple(sorted(name for name in tables if name not in _KEPT_TABLES)),
            tuple(sorted(sequences)),
        )


def vacuum_bloated_catalogs(admin: Engine, *, dead_rows_at_most: int = CATALOG_DEAD_ROWS_AT_MOST) -> bool:
    """VACUUM the catalogs the runs bloat, once their dead rows pass `dead_rows_at_most`; whether it did.

    Each run creates and drops schemas (one per test process, one per test of migrating itself): about
    7,000 dead rows in `pg_attribute` a run. The server here runs with `autovacuum = off`, so nothing
    reclaims them, and every catalog scan (creating, dropping, migrating a schema) grows slower: after
    twenty-odd runs (264,000 dead rows in `pg_attribute`), the PostgreSQL half of
    tests/storage/test_schema.py took 10 s of wall; after a VACUUM of 1.3 s, 2.6 to 3.4 s."""
    from sqlalchemy import text

    with admin.connect() as connection:
        dead = connection.execute(
            text("SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_sys_tables WHERE relname = ANY(:names)"),
            {"names": list(_BLOATED_CATALOGS)},
        ).scalar_one()
    if dead <= dead_rows_at_most:
        return False
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM " + ", ".join(f"pg_catalog.{name}" for name in _BLOATED_CATALOGS))
    return True


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the latest revision once per run; tests copy it."""
    from storage import open_database

    path = tmp_path_factory.mktemp("template") / "aadbot.db"
    open_database(f"sqlite:///{path}").dispose()
    return path


@dataclass(frozen=True)
class RunSchema:
    admin: Engine
    name: str
    tables: tuple[str, ...]
    sequences: tuple[str, ...]
    saved: list[str] = field(default_factory=list)
    """The schemas `save_postgres_rows` made, dropped with this one."""

    @property
    def url(self) -> str:
        return _schema_url(self.name)


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[RunSchema]:
    """A PostgreSQL schema migrated once per run (per test process); `database_url` empties it before each
    test. At the test process's end, with its schemas dropped, the server's catalogs are kept in shape
    (`vacuum_bloated_catalogs`): here, where SQLAlchemy and psycopg are loaded and connected already, rather
    than in the run's first process, which imported them and connected for it alone (0.6 s of its CPU)."""
    from storage import open_database

    admin = _admin_engine()
    schema = _create_schema(admin)
    saved: list[str] = []
    try:
        open_database(_schema_url(schema)).dispose()
        yield RunSchema(admin, schema, *_contents(admin, schema), saved)
    finally:
        for name in [schema, *saved]:
            _drop_schema(admin, name)
        vacuum_bloated_catalogs(admin)
        admin.dispose()


@pytest.fixture(scope="session")
def process_sqlite(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The test process's SQLite database; `sqlite_url` replaces its file before each test."""
    from storage import open_database

    path = tmp_path_factory.mktemp("shared") / "aadbot.db"
    shutil.copyfile(sqlite_template, path)
    opened = open_database(f"sqlite:///{path}")
    try:
        yield opened
    finally:
        opened.dispose()


def replace_sqlite_file(database: Database, template: Path) -> None:
    """Put a fresh copy of `template` where `database`'s file is, keeping its engine.

    A new file (a new inode), not the old one overwritten: a connection a test left open keeps writing to
    the old file and never reaches the new one. The old write-ahead log and its index go too, or SQLite
    would replay the last test's commits onto the copy.

    The pool's connections are closed only once the old file is no longer at its path: SQLite's last
    connection to close checkpoints the log into the database file, unless that file has been moved or
    unlinked (its pager's `databaseIsUnmoved`), and the old file is thrown away (about a second of CPU a
    run). Such a close neither checkpoints nor deletes the `-wal` and `-shm` at the path."""
    path = Path(str(database.engine.url.database))
    fresh = path.with_name(f"{path.name}.fresh")
    shutil.copyfile(template, fresh)
    for leftover in ("-wal", "-shm"):
        path.with_name(path.name + leftover).unlink(missing_ok=True)
    os.replace(fresh, path)
    database.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, process_sqlite: Database) -> str:
    replace_sqlite_file(process_sqlite, sqlite_template)
    return process_sqlite.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def sqlite_database(sqlite_url: str, process_sqlite: Database) -> Database:
    """The process's SQLite engine, on a fresh copy of the template: for the tests run on SQLite only."""
    return process_sqlite


@pytest.fixture(scope="session")
def process_postgres(postgres_schema: RunSchema) -> Iterator[Database]:
    """The test process's engine on the run's schema, which `postgres_url` empties before each test.

    It does not ping its connections before lending them (`pool_pre_ping`, which the bot's engine keeps, to
    survive a restart of the server): the server runs throughout the run, and the ping is a `SELECT 1` for
    every session, about 30 a workflow test, 0.12 ms of the test process's CPU each (most of what the pool
    costs per session). A connection the server dropped would fail the test that draws it, not pass it."""
    from storage import open_database

    opened = open_database(postgres_schema.url, pre_ping=False)
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def postgres_url(postgres_schema: RunSchema) -> str:
    reset_postgres_schema(postgres_schema)
    return postgres_schema.url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated database with no rows, on each backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database no migration has touched yet, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    yield from _new_postgres_schema()


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL schema no migration has touched yet."""
    yield from _new_postgres_schema()


def _new_postgres_schema() -> Iterator[str]:
    admin = _admin_engine()
    schema = _create_schema(admin)
    try:
        yield _schema_url(schema)
    finally:
        _drop_schema(admin, schema)
        admin.dispose()


@pytest.fixture
def database(request: pytest.FixtureRequest, database_url: str) -> Database:
    """The process's engine on `database_url`, already emptied for this test."""
    shared = "process_sqlite" if database_url.startswith("sqlite") else "process_postgres"
    return cast("Database", request.getfixturevalue(shared))


@functools.cache
def _saved_files() -> Path:
    """Where this test process keeps the copies `save_sqlite_file` makes, removed when it ends."""
    folder = Path(tempfile.mkdtemp(prefix="aadbot-saved-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def save_sqlite_file(database: Database) -> Path:
    """A copy of `database`'s file, for `replace_sqlite_file` to put back as often as asked; consistent
    whatever its write-ahead log still holds (SQLite's own backup)."""
    handle, name = tempfile.mkstemp(suffix=".db", dir=_saved_files())
    os.close(handle)
    with (
        closing(sqlite3.connect(str(database.engine.url.database))) as source,
        closing(sqlite3.connect(name)) as target,
    ):
        source.backup(target)
    return Path(name)


@dataclass(frozen=True)
class SavedSchema:
    """The rows of a run's schema copied into a schema of their own, and where its id sequences stood."""

    name: str
    sequences: tuple[tuple[str, int, bool], ...]


def save_postgres_rows(schema: RunSchema) -> SavedSchema:
    """Every row of `schema` copied into a new schema, dropped with `schema` at the end of the run."""
    name = f"{schema.name}_saved{len(schema.saved)}"
    schema.saved.append(name)
    with schema.admin.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE SCHEMA {name}; "
            + "; ".join(
                f'CREATE TABLE {name}."{t}" AS SELECT * FROM {schema.name}."{t}"' for t in schema.tables
            )
        )
        sequences = []
        for sequence in schema.sequences:
            value, called = connection.exec_driver_sql(
                f'SELECT last_value, is_called FROM {schema.name}."{sequence}"'
            ).one()
            sequences.append((sequence, int(value), bool(called)))
    return SavedSchema(name, tuple(sequences))


def save_rows(database: Database, schema: RunSchema | None) -> Path | SavedSchema:
    """Every row of `database` saved for `restore_rows`: a copy of its SQLite file, or on PostgreSQL
    (`schema`, the run's) its rows in a schema of their own."""
    return save_postgres_rows(schema) if schema else save_sqlite_file(database)


def restore_rows(database: Database, schema: RunSchema | None, rows: Path | SavedSchema) -> None:
    """`database` holding again the rows `save_rows` saved."""
    if isinstance(rows, Path):
        replace_sqlite_file(database, rows)
    else:
        assert schema is not None
        restore_postgres_rows(schema, rows)


def all_rows(database: Database) -> dict[str, list[str]]:
    """Every table's rows, in a fixed order (PostgreSQL returns them in none): to compare two databases."""
    from sqlalchemy import inspect, text

    with database.engine.connect() as connection:
        tables = sorted(inspect(connection).get_table_names())
        return {
            table: sorted(repr(tuple(row)) for row in connection.execute(text(f'SELECT * FROM "{table}"')))
            for table in tables
        }


def restore_postgres_rows(schema: RunSchema, saved: SavedSchema) -> None:
    """`schema` holding the rows `saved` holds and its sequences where they stood: what
    `reset_postgres_schema` empties, filled again."""
    inserts = [f'INSERT INTO {schema.name}."{t}" SELECT * FROM {saved.name}."{t}"' for t in schema.tables]
    _refill(schema, inserts, saved.sequences)
