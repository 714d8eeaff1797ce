"""The admin gate's memory in the database: its limits hold across replicas (two gates, each on an engine of
its own, as two `serve` processes have) and a restart, look-ups at once are each counted, old rows go."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg.errors import ReadOnlySqlTransaction
from sqlalchemy import event, exc, func, select, text
from sqlalchemy.orm import Session

from storage import AdminConfirmation, AdminRefusal, Database, open_database
from storage.admin_gate import DatabaseAdminMemory
from tests.storage.statements import checkouts, failing, statements, verbs
from workflows.admin_gate import MEMORY_FAILED, AdminGate
from workflows.admin_memory import Kept, MemoryFailed
from workflows.directory import OrganizationNotFound

WINDOW = timedelta(hours=1)


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def replicas(database_url: str) -> Iterator[list[Database]]:
    """Two engines on one database, as two `serve` processes have."""
    opened = [open_database(database_url), open_database(database_url)]
    try:
        yield opened
    finally:
        for database in opened:
            database.dispose()


def _gate(database: Database, clock: _Clock) -> AdminGate:
    return AdminGate(
        clock,
        memory=DatabaseAdminMemory(database),
        remember=timedelta(minutes=10),
        limit=3,
        organizations=5,
        window=WINDOW,
    )


def _no_such_organization(asked: list[str], organization: str) -> Callable[[], bool]:
    def look_up() -> bool:
        asked.append(organization)
        raise OrganizationNotFound(f"VS800075: The organization '{organization}' was not found.")

    return look_up


def _rows(database: Database, table: type[AdminRefusal] | type[AdminConfirmation]) -> int:
    with database.session() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_prober_round_robined_across_two_replicas_gets_the_limits_of_one(
    replicas: list[Database], clock: _Clock
) -> None:
    gates = [_gate(database, clock) for database in replicas]
    asked: list[str] = []
    verdicts = [
        gates[n % 2].verdict("U1", f"org-{n}", _no_such_organization(asked, f"org-{n}")) for n in range(10)
    ]
    assert len(asked) == 5  # five organizations an hour between them, not five each
    assert [v.kind for v in verdicts] == ["refused"] * 5 + ["limited"] * 5
    assert verdicts[5].wait == WINDOW
    assert not gates[1].allows("U1", "org-0", lambda: True)  # refused by the other replica: remembered
    for n in range(3):
        clock.now += timedelta(minutes=11)
        gates[n % 2].verdict("U1", "org-0", _no_such_organization(asked, "org-0"))
    assert asked.count("org-0") == 3
    assert gates[0].verdict("U1", "org-0", lambda: True).kind == "limited"


def test_an_admin_confirmed_on_one_replica_is_never_limited_on_the_other(
    replicas: list[Database], clock: _Clock
) -> None:
    first, second = (_gate(database, clock) for database in replicas)
    assert first.allows("dana", "Fabrikam-Fiber", lambda: True)
    asked: list[str] = []
    for typo in ("fabrikam-fibre", "fabrikam-fibr", "fabrikamfiber", "fabrikam-fyber", "fabrikam-fybre"):
        assert second.verdict("dana", typo, _no_such_organization(asked, typo)).confirmed == (
            "Fabrikam-Fiber",
        )
    assert second.verdict("dana", "elsewhere", lambda: True).kind == "limited"
    assert second.allows("dana", "fabrikam-fiber", lambda: True)  # still looked up, never limited


def test_the_limits_and_refusals_survive_a_restart(database_url: str, clock: _Clock) -> None:
    asked: list[str] = []
    before = open_database(database_url)
    try:
        for n in range(5):
            _gate(before, clock).verdict("U1", f"org-{n}", _no_such_organization(asked, f"org-{n}"))
    finally:
        before.dispose()
    clock.now += timedelta(minutes=1)
    after = open_database(database_url)  # the process started again: nothing of the old one in memory
    try:
        gate = _gate(after, clock)
        limited = gate.verdict("U1", "org-5", _no_such_organization(asked, "org-5"))
        assert limited.kind == "limited" and limited.wait == WINDOW - timedelta(minutes=1)
        remembered = gate.verdict("U1", "org-0", lambda: True)
        assert remembered.kind == "refused" and remembered.wait == timedelta(minutes=9)
    finally:
        after.dispose()
    assert asked == [f"org-{n}" for n in range(5)]


@pytest.mark.parametrize(
    ("organizations", "looked_up"),
    [(["org-x"] * 8, 3), ([f"org-{n}" for n in range(8)], 5)],
    ids=["one organization", "eight organizations"],
)
def test_look_ups_at_once_on_two_replicas_are_each_counted(
    replicas: list[Database], clock: _Clock, organizations: list[str], looked_up: int
) -> None:
    """Eight requests at once, half on each replica: had two read the same count before either added to it,
    more than the limit would reach Azure DevOps."""
    assert _at_once([_gate(database, clock) for database in replicas], organizations) == looked_up
    assert _rows(replicas[0], AdminRefusal) == looked_up


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_look_ups_at_once_are_each_counted_under_a_repeatable_read_default(
    replicas: list[Database], clock: _Clock
) -> None:
    """A server, role or database whose default is REPEATABLE READ would take each transaction's snapshot
    at its first statement, before the person is held: the engine asks for READ COMMITTED itself."""
    for database in replicas:
        event.listen(database.engine, "connect", _repeatable_read_by_default)
        database.dispose()  # the connections opening it made, without that default
    with replicas[0].session() as session:
        default = session.execute(text("SHOW default_transaction_isolation")).scalar_one()
    assert default == "repeatable read"
    assert _at_once([_gate(database, clock) for database in replicas], ["org-x"] * 8) == 3


def _repeatable_read_by_default(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET default_transaction_isolation = 'repeatable read'")
    cursor.close()
    dbapi_connection.commit()


def _at_once(gates: list[AdminGate], organizations: list[str]) -> int:
    """How many of `mallory`'s requests at once about `organizations`, one each, taking turns between
    `gates`, reach Azure DevOps; each look-up is held until every request has either begun its look-up
    or been answered, and every other request must be limited."""
    started = threading.Barrier(len(organizations), timeout=20)
    progress = threading.Condition()
    counts = {"looking": 0, "answered": 0}
    release = threading.Event()

    def look_up() -> bool:
        with progress:
            counts["looking"] += 1
            progress.notify_all()
        assert release.wait(timeout=20)
        raise OrganizationNotFound("VS800075")

    def ask(n: int) -> str:
        started.wait()
        verdict = gates[n % 2].verdict("mallory", organizations[n], look_up)
        with progress:
            counts["answered"] += 1
            progress.notify_all()
        return verdict.kind

    with ThreadPoolExecutor(max_workers=len(organizations)) as pool:
        futures = [pool.submit(ask, n) for n in range(len(organizations))]
        with progress:
            assert progress.wait_for(
                lambda: counts["looking"] + counts["answered"] == len(organizations), timeout=30
            )
        release.set()
        kinds = sorted(future.result() for future in futures)
    looked_up = counts["looking"]
    assert kinds == sorted(["refused"] * looked_up + ["limited"] * (len(organizations) - looked_up))
    return looked_up


def test_old_refusals_and_confirmations_are_read_no_more_and_the_watch_alone_forgets_them(
    database: Database, clock: _Clock
) -> None:
    """A look-up sweeps nobody's rows (the watch does, `AdminGate.forget_old`), yet reads none the rules no
    longer read."""
    gate = _gate(database, clock)
    asked: list[str] = []
    for n in range(5):
        gate.verdict("U1", f"org-{n}", _no_such_organization(asked, f"org-{n}"))
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)
    assert (_rows(database, AdminRefusal), _rows(database, AdminConfirmation)) == (5, 1)
    clock.now += WINDOW + timedelta(minutes=1)
    assert gate.verdict("U1", "org-5", _no_such_organization(asked, "org-5")).kind == "refused"  # not limited
    assert asked == [f"org-{n}" for n in range(6)]
    assert (_rows(database, AdminRefusal), _rows(database, AdminConfirmation)) == (6, 1)
    gate.forget_old()
    assert (_rows(database, AdminRefusal), _rows(database, AdminConfirmation)) == (1, 1)
    clock.now += timedelta(days=29)
    assert gate.allows("lee", "fabrikam-fiber", lambda: True)
    clock.now += timedelta(days=1)
    gate.forget_old()
    assert (_rows(database, AdminRefusal), _rows(database, AdminConfirmation)) == (0, 1)  # lee's only
    with database.session() as session:
        assert session.execute(select(AdminConfirmation.person)).scalars().all() == ["lee"]


def test_the_watch_asks_in_one_read_past_the_orm_and_deletes_only_what_there_is_to_forget(
    database: Database, clock: _Clock
) -> None:
    """The watch forgets at every poll, and mostly finds nothing to forget: one plain read, built once, on a
    connection, and no write lock taken; with something old, the two plain DELETEs. Passed through the ORM,
    each cost several times what running it does (the ORM matches the deleted rows against a session that
    holds none)."""
    gate = _gate(database, clock)
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)
    through_the_orm: list[object] = []

    def count(state: object) -> None:
        through_the_orm.append(state)

    event.listen(Session, "do_orm_execute", count)
    try:
        with checkouts(database) as nothing_to_forget, statements(database) as asked:
            gate.forget_old()
        clock.now += timedelta(days=31)
        with checkouts(database) as forgetting, statements(database) as forgot:
            gate.forget_old()
    finally:
        event.remove(Session, "do_orm_execute", count)
    assert nothing_to_forget == [1]
    assert [statement.split(" FROM ")[0] for statement in asked] == ["SELECT (EXISTS (SELECT *"]
    assert forgetting == [2]
    assert [statement.split(" WHERE ")[0] for statement in forgot[1:]] == [
        "DELETE FROM admin_refusal",
        "DELETE FROM admin_confirmation",
    ]
    assert through_the_orm == []
    assert _rows(database, AdminConfirmation) == 0


def test_a_refusal_costs_two_sessions_and_an_answer_from_memory_one(
    database: Database, clock: _Clock
) -> None:
    """One to read, answer and count the look-up as it begins, one to settle it: Azure DevOps is asked in
    between, with no connection held."""
    gate = _gate(database, clock)
    with checkouts(database) as refused, statements(database) as seen:
        assert not gate.allows("mallory", "fabrikam-fiber", lambda: False)
    assert refused == [2]
    assert not [
        statement for statement in seen if "refused_at <" in statement or "confirmed_at <" in statement
    ]
    with checkouts(database) as remembered:
        assert not gate.allows("mallory", "fabrikam-fiber", lambda: True)
    assert remembered == [1]
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)
    with checkouts(database) as confirmed:
        assert gate.allows("dana", "fabrikam-fiber", lambda: True)
    assert confirmed == [1]


def test_the_database_failing_is_the_memorys_failure_naming_its_kind_only(
    database: Database, clock: _Clock
) -> None:
    memory = DatabaseAdminMemory(database)
    kept = Kept(refusals_from=clock.now, confirmations_from=clock.now)
    with failing(database, "admin_refusal"):
        with pytest.raises(MemoryFailed, match=r"^OperationalError$"):
            memory.recall("dana", "fabrikam-fiber", now=clock.now, kept=kept, answer=lambda remembered: None)
        with pytest.raises(MemoryFailed, match=r"^OperationalError$"):
            memory.forget(kept=kept)
        with pytest.raises(MemoryFailed, match=r"^OperationalError$"):
            memory.settle(
                "dana",
                "fabrikam-fiber",
                look_up=None,
                outcome="refused",
                now=clock.now,
                remember_until=clock.now,
            )
    assert _rows(database, AdminRefusal) == 0


def test_a_statement_the_schema_does_not_fit_is_raised_as_the_bug_it_is(
    database: Database, clock: _Clock
) -> None:
    """A migration renamed a column the gate reads: told as an outage, every admin would be asked to try
    again in a few minutes, for ever, and the log would hold a warning without the statement."""
    gate = _gate(database, clock)
    renamed = "ALTER TABLE admin_confirmation RENAME COLUMN {} TO {}"
    with database.engine.begin() as connection:
        connection.execute(text(renamed.format("as_typed", "typed")))
    try:
        with pytest.raises(exc.DBAPIError, match="as_typed"):
            gate.verdict("dana", "fabrikam-fiber", lambda: True)
    finally:  # PostgreSQL's schema is kept for the next test, only emptied
        with database.engine.begin() as connection:
            connection.execute(text(renamed.format("typed", "as_typed")))


def test_an_admin_whose_confirmation_a_schema_change_cannot_write_is_let_through_and_never_limited(
    database: Database, clock: _Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A migration added a column the gate does not fill: only the write of her confirmation fails. Each
    look-up left counted, her fourth command within the lease would be limited; the log says where, not
    what PostgreSQL said (it quotes the row, her address included)."""
    gate = _gate(database, clock)
    added = "ALTER TABLE admin_confirmation {} note"
    with database.engine.begin() as connection:
        connection.execute(text(added.format("ADD COLUMN") + " TEXT CHECK (note IS NOT NULL)"))
    try:
        with caplog.at_level(logging.ERROR):
            for _ in range(5):
                assert gate.verdict("dana@contoso.com", "fabrikam-fiber", lambda: True).kind == "admin"
                clock.now += timedelta(seconds=20)
    finally:  # PostgreSQL's schema is kept for the next test, only emptied
        with database.engine.begin() as connection:
            connection.execute(text(added.format("DROP COLUMN")))
    assert (
        caplog.text.count("recording an admin check of fabrikam-fiber as admin failed (IntegrityError") == 5
    )
    assert "in _confirm" in caplog.text and "dana" not in caplog.text
    assert _rows(database, AdminRefusal) == 0 and _rows(database, AdminConfirmation) == 0


def test_a_sqlite_database_another_process_holds_is_an_outage(sqlite_url: str, clock: _Clock) -> None:
    """Its driver raises the same `OperationalError` as for a statement SQLite cannot run."""
    database = open_database(sqlite_url)
    event.listen(database.engine, "connect", _no_busy_wait)
    database.dispose()
    writer = sqlite3.connect(str(database.engine.url.database), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        verdict = _gate(database, clock).verdict("dana", "fabrikam-fiber", lambda: True)
        assert verdict.kind == "unavailable" and verdict.reason == MEMORY_FAILED
    finally:
        writer.close()
        database.dispose()


def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    """Locked is answered at once, not after the bot's 30 s."""
    dbapi_connection.execute("PRAGMA busy_timeout = 0")


@pytest.mark.postgres
def test_a_read_only_postgresql_is_an_outage(postgres_url: str, clock: _Clock) -> None:
    """A hot standby the URL points at after a failover: it reads, but its driver raises the refusal to
    write as an `InternalError`, the class of some bugs too."""
    database = open_database(postgres_url)
    event.listen(database.engine, "connect", _read_only_by_default)
    database.dispose()  # the connections opening it made, without that default
    try:
        memory = DatabaseAdminMemory(database)
        kept = Kept(refusals_from=clock.now, confirmations_from=clock.now)
        with pytest.raises(MemoryFailed, match=r"^InternalError$") as failed:
            memory.recall("dana", "fabrikam-fiber", now=clock.now, kept=kept, answer=lambda remembered: None)
        cause = failed.value.__cause__
        assert isinstance(cause, exc.DBAPIError) and isinstance(cause.orig, ReadOnlySqlTransaction)
        verdict = _gate(database, clock).verdict("dana", "fabrikam-fiber", lambda: True)
        assert verdict.kind == "unavailable" and verdict.reason == MEMORY_FAILED
    finally:
        database.dispose()


def _read_only_by_default(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET default_transaction_read_only = on")
    cursor.close()
    dbapi_connection.commit()


def test_answers_from_memory_only_read_and_a_confirmation_is_renewed_daily(
    database: Database, clock: _Clock
) -> None:
    gate = _gate(database, clock)
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)
    assert not gate.allows("mallory", "fabrikam-fiber", lambda: False)
    clock.now += timedelta(minutes=5)
    with statements(database) as seen:
        assert not gate.allows("mallory", "fabrikam-fiber", lambda: True)  # remembered, not asked
    assert verbs(seen) == {"SELECT": 1}  # refusals and confirmations read together
    clock.now += timedelta(hours=23)
    with statements(database) as seen:
        assert gate.allows("dana", "fabrikam-fiber", lambda: True)  # asked; confirmed a day ago at most
    assert verbs(seen) == {"SELECT": 1}
    clock.now += timedelta(hours=1)
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)  # a day old: renewed
    clock.now += timedelta(days=29, hours=23)
    assert gate.allows("lee", "fabrikam-fiber", lambda: True)
    with database.session() as session:
        kept = session.execute(select(AdminConfirmation.person)).scalars().all()
    assert sorted(kept) == ["dana", "lee"]  # dana's first confirmation is over 30 days old, her renewal not


def test_a_quiet_bot_forgets_the_last_refusals_without_another_look_up(
    database: Database, clock: _Clock
) -> None:
    """The watch forgets them (`AdminGate.forget_old`): who asked about which organization is kept no
    longer than the rules read it."""
    gate = _gate(database, clock)
    gate.verdict("U1", "org-0", _no_such_organization([], "org-0"))
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)
    clock.now += WINDOW
    gate.forget_old()
    assert (_rows(database, AdminRefusal), _rows(database, AdminConfirmation)) == (1, 1)  # still counted
    clock.now += timedelta(seconds=1)
    gate.forget_old()
    assert (_rows(database, AdminRefusal), _rows(database, AdminConfirmation)) == (0, 1)
