"""Opening the database: one engine per process, schema brought to the latest Alembic revision at start-up."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

import storage.audit  # noqa: F401  (registers the append-only guards)

if TYPE_CHECKING:
    from alembic.config import Config

Item = TypeVar("Item")

DEFAULT_URL = "sqlite:///aadbot.db"
_MIGRATIONS = Path(__file__).with_name("migrations")
_EXAMPLE_URLS = "sqlite:///aadbot.db or postgresql+psycopg://user@host:5432/dbname"
_OPENING_FIXES = {
    "sqlite": "Check that the file's folder exists and that aadbot may write there, or set"
    " AADBOT_DATABASE_URL (for example sqlite:///aadbot.db).",
    "postgresql": "Check that the server is running and that AADBOT_DATABASE_URL is right (for example"
    " postgresql+psycopg://user@host:5432/dbname).",
}
"""What to check when a database cannot be opened, by backend."""
_WRITING_FIXES = {
    "sqlite": "aadbot writes to it at every request: make the file, and its folder (SQLite writes a journal"
    " beside it), writable for the user serve runs as (an immutable file shows an i in `lsattr`), and drop"
    " any mode=ro from AADBOT_DATABASE_URL.",
    "postgresql": "aadbot writes to it at every request: grant the role of AADBOT_DATABASE_URL SELECT,"
    " INSERT, UPDATE and DELETE on aadbot's tables (or connect as their owner), and check that the server"
    " is not a read-only replica.",
}
"""What to check when a database opens but refuses writes, by backend."""
IN_LIST_AT_MOST = 500
"""Values bound in one `IN (...)`: well under the parameters a statement may have (SQLite 32,766, psycopg
65,535), however big the organization."""
CONNECT_SECONDS = 10
"""How long making a PostgreSQL connection may take (psycopg's connect_timeout, unless AADBOT_DATABASE_URL
sets its own): an address that accepts connections and never answers (another service, a proxy whose server
is gone) held start-up, with nothing logged, for psycopg's default of 130 s per address, and later each
request."""
_CONNECT_TIMEOUT_FIX = (
    "Check that {address} is the PostgreSQL server and that it is up: an address that accepts connections but"
    " never answers is another service, or a proxy or firewall holding them. On a slow link allow longer with"
    " connect_timeout=SECONDS in AADBOT_DATABASE_URL."
)
_MIGRATION_LOCK = 7_314_159  # any constant: serializes concurrent start-ups on PostgreSQL
_LOCK_WAIT_MS = 100
"""How long the start-up write check waits for a lock another connection holds (PostgreSQL)."""
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout runs out


class StorageError(Exception):
    """The database cannot be opened or upgraded; the message names the fix and hides any password."""


class Database:
    """An engine plus a session factory. Use one short `with db.session() as session:` per unit of work."""

    def __init__(self, engine: Engine, *, schema_change: str | None = None) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, class_=Session, expire_on_commit=False)
        self.schema_change = schema_change
        """What opening did to the schema ("upgraded from revision 0013 to 0015"); None: nothing."""

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> Session:
        return self._sessions()

    def reading(self) -> Connection:
        """A connection for plain SQL reads: about half the CPU of a session, whose unit of work a read
        never uses. The watch's look reads several times a poll, mostly to find nothing due."""
        return self.engine.connect()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def committed(session: Session) -> bool:
    """Commits; False, rolled back, when another writer changed one of the rows meanwhile (their `version`:
    `storage.models`)."""
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        return False
    return True


def in_batches(items: Sequence[Item]) -> Iterator[Sequence[Item]]:
    """`items` in order, `IN_LIST_AT_MOST` at a time (the last batch what remains), each to fit one `IN`."""
    for first in range(0, len(items), IN_LIST_AT_MOST):
        yield items[first : first + IN_LIST_AT_MOST]


def open_database(url: str | None = None, *, pre_ping: bool = True) -> Database:
    """Connect to `url` (default: the SQLite file `aadbot.db` in the working directory) and upgrade it.

    `pre_ping` (PostgreSQL): each connection is tried before it is lent, so a server restart costs no
    request; off only where the server is known to run throughout (the tests)."""
    engine = _create_engine(url or DEFAULT_URL, pre_ping=pre_ping)
    shown = engine.url.render_as_string(hide_password=True)
    revision: str | None = None
    found: str | None = head_revision()
    try:
        revision = _revision(engine)
        if revision != head_revision():
            found = upgrade(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        reason = _reason(error)
        fix = _OPENING_FIXES[engine.url.get_backend_name()]  # _create_engine admits no other backend
        if _timed_out(engine, error):
            reason = f"no answer within {engine.url.query.get('connect_timeout', CONNECT_SECONDS)} s"
            host = engine.url.host
            address = f"{host}:{engine.url.port or 5432}" if host else "the server AADBOT_DATABASE_URL names"
            fix = _CONNECT_TIMEOUT_FIX.format(address=address)
        raise StorageError(f"Cannot open the database {shown}: {reason}. {fix}") from None
    except BaseException as error:  # no open pool left behind, whatever failed
        engine.dispose()
        if revision is not None and _is_unknown_revision(error):
            raise StorageError(
                f"The database {shown} is at schema revision {revision}, which this aadbot does not know"
                f" (its newest is {head_revision()}): a newer aadbot has upgraded it. Run that version, or"
                " check that AADBOT_DATABASE_URL names this bot's database."
            ) from None
        raise
    try:
        _try_a_write(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        fix = _WRITING_FIXES[engine.url.get_backend_name()]
        raise StorageError(f"Cannot write to the database {shown}: {_reason(error)}. {fix}") from None
    return Database(engine, schema_change=_change(found, head_revision()))


def _reason(error: SQLAlchemyError) -> str:
    """The driver's first line, without the statement SQLAlchemy adds."""
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def _timed_out(engine: Engine, error: SQLAlchemyError) -> bool:
    """Something at PostgreSQL's address took the connection and did not answer within the connect timeout."""
    if engine.dialect.name != "postgresql":
        return False
    from psycopg.errors import ConnectionTimeout  # imported already, by the engine's dialect

    return isinstance(getattr(error, "orig", None), ConnectionTimeout)


def _try_a_write(engine: Engine) -> None:
    """A write, rolled back: a database that opens and reads but refuses writes (a read-only file or role)
    stops start-up here, instead of every request failing once it serves. An up-to-date database was only
    read on the way here, so without it nothing would have noticed.

    It waits on no lock: another connection in the middle of a write (psql, a hand-run alembic) holding
    the row or the file is no sign of a read-only database, so that counts as writable. Waiting would hang
    start-up for as long as the other holds it (PostgreSQL), or end in the wrong fix (SQLite, after 30 s)."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            waited = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
            connection.exec_driver_sql("PRAGMA busy_timeout = 0")
        else:
            connection.execute(text(f"SET LOCAL lock_timeout = '{_LOCK_WAIT_MS}ms'"))
        try:
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
        except DBAPIError as error:
            if not _held_by_another(error):
                raise
        finally:
            connection.rollback()
            if sqlite:  # the connection goes back to the pool, for requests that should wait their turn
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(waited)}")


def _held_by_another(error: DBAPIError) -> bool:
    """The write met a lock another connection holds (SQLite busy or locked, PostgreSQL's lock_timeout)."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    if code is not None:
        # an extended code (SQLITE_BUSY_SNAPSHOT ...) keeps its primary code in the low byte
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE


@functools.cache
def head_revision() -> str:
    """The newest revision, read from the names of storage/migrations/versions (`0008_...py` is revision
    0008): a database already there opens without Alembic, whose import and reading of every revision cost
    about 0.15 s of CPU per process. tests/storage/test_schema.py checks this is Alembic's own head."""
    return max(path.name.split("_", 1)[0] for path in (_MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _change(found: str | None, head: str) -> str | None:
    if found is None:
        return f"created at revision {head}"
    return f"upgraded from revision {found} to {head}" if found != head else None


def _is_unknown_revision(error: BaseException) -> bool:
    from alembic.util.exc import CommandError  # only reached once Alembic has run, and failed

    return isinstance(error, CommandError) and str(error).startswith("Can't locate revision")


def _revision(engine: Engine) -> str | None:
    """The database's schema revision; None when there is no single one (nothing has migrated it yet)."""
    with engine.connect() as connection:
        try:
            revisions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except DBAPIError:
            # The connection was made, only the statement failed: no version table yet, or one this code
            # cannot read. Alembic decides, under the lock, as it did before this check existed.
            return None
    return revisions[0] if len(revisions) == 1 else None


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> str | None:
    """Apply every pending schema migration (`alembic upgrade head`) in one transaction where possible; the
    revision it found once it held the lock (None: no schema yet), which another process opening the database
    at the same moment may have upgraded already."""
    # here, not at the top: a process whose database is up to date never needs them
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        else:
            # SQLite's driver begins no transaction before DDL: processes creating a new file's tables at
            # once raced to "table ... already exists". Holding the write lock from the start, the others
            # wait (the 30 s timeout) and then find the schema made.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        found = MigrationContext.configure(connection).get_current_revision()
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        return found


def url_problem(url: str) -> str | None:
    """Why aadbot cannot use the database URL `url` (its form, backend or driver), without connecting:
    `serve` names it with its other settings; what only the server can tell waits for `open_database`."""
    try:
        _create_engine(url).dispose()
    except StorageError as error:
        return str(error)
    return None


def _create_engine(url: str, *, pre_ping: bool = True) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            f"AADBOT_DATABASE_URL is not a database URL; use for example {_EXAMPLE_URLS}."
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in _OPENING_FIXES:
        raise StorageError(
            f"Cannot use the database URL {shown}: aadbot supports SQLite and PostgreSQL only. Set"
            f" AADBOT_DATABASE_URL to one of those (for example {_EXAMPLE_URLS})."
        )
    # A failed statement's error is logged and may be shown: it names the SQL, never the values bound to it
    # (a message's payload can hold a download link or a person's note).
    options: dict[str, Any] = {"hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        # Sessions run on chat worker threads; each one is short and never shared.
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        options["pool_pre_ping"] = pre_ping
        if "connect_timeout" not in parsed.query:
            options["connect_args"] = {"connect_timeout": CONNECT_SECONDS}
        # The admin gate reads again once it holds its advisory lock, counting on seeing what others
        # committed meanwhile: a REPEATABLE READ default (the server's, a role's or the database's) would
        # take its snapshot at the transaction's first statement, before the lock.
        options["isolation_level"] = "READ COMMITTED"
    try:
        engine = create_engine(parsed, **options)
    except ImportError as error:  # a driver aadbot does not install, such as postgresql:// (psycopg2)
        raise StorageError(
            f"Cannot use the database URL {shown}: its driver {error.name or ''} is not installed. Name the"
            f" driver aadbot brings (for example {_EXAMPLE_URLS})."
        ) from None
    except ArgumentError as error:
        raise StorageError(f"Cannot use the database URL {shown}: {error}.") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL: readers don't wait for the writer, and a commit costs no fsync (the outbox commits twice per
    # message); a crash of the machine may lose the last commits, never corrupt the file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
