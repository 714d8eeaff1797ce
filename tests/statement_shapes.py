"""Records, per PostgreSQL test, the shapes of the statements the product sends and the concurrency it uses.

The measuring half of `scripts/postgres_coverage.py`, which loads it as a pytest plugin in every test process
(`-p tests.statement_shapes`) and, through a `sitecustomize` on `PYTHONPATH`, in every process those start
(`aadbot serve`, the bot's replicas). Nothing else imports it: an ordinary run records nothing.

A statement's shape is its text with every literal and parameter one `?`, IN-lists and multi-row VALUES of any
length one group and savepoint names one name: the statement the product's code builds, whatever it was
given. Only statements sent on PostgreSQL count, and only those with the product's code on the stack (a
module of `bot`, `storage`, `workflows`, `msapi`, `faq` or `sandbox`): a test's own reads and the fixtures'
resets are not the product's. Every process appends what it saw, once per test and shape, to a file of its
own in `SHAPES_DIR` (one JSON object a line), so that a process killed by its test loses nothing.

Concurrency the backend decides, per test (`Record.flags`):
- `locks`: a statement that takes row or advisory locks (FOR UPDATE / SHARE, SKIP LOCKED, NOWAIT,
  pg_advisory_*, LOCK TABLE);
- `threads`: the product's statement from a thread other than the test process's main one;
- `processes`: the product's statement from another process (a `serve`, a replica) during the test;
- `connections`: two of the product's connections to PostgreSQL checked out at once in one process;
- `engines`: two engines (two bots' worth of pools) on PostgreSQL sending the product's statements;
- `error:SQLSTATE`: the server refused a statement for a lock or a serialization (class 40, 55P03, 57014).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

SHAPES_DIR = "STATEMENT_SHAPES_DIR"
"""The folder every process writes its records to; set for the run by `scripts/postgres_coverage.py`."""
CURRENT_TEST = "STATEMENT_SHAPES_CURRENT"
"""A file holding the test its process is running, for the processes it starts to read (they inherit it)."""
UNKNOWN_TEST = "(no test)"
SHARED_SET_UP = "(set-up of "
"""How the records of a fixture shared by several tests begin, in place of a test's id."""

_ROOT = Path(__file__).resolve().parents[1]
_PRODUCT = tuple(
    f"{_ROOT / package}{os.sep}" for package in ("bot", "storage", "workflows", "msapi", "faq", "sandbox")
)
_LOCKING = re.compile(
    r"\bFOR (NO KEY )?(UPDATE|SHARE|KEY SHARE)\b|\bSKIP LOCKED\b|\bNOWAIT\b"
    r"|\bpg_(try_)?advisory|\bLOCK TABLE\b",
    re.IGNORECASE,
)
_BACKEND_DECIDED = re.compile(r"^(40...|55P03|57014)$")
"""Serialization failure, deadlock (class 40), lock not available, a statement cancelled by a timeout."""

_SUBSTITUTIONS = (
    (re.compile(r"%\(\w+\)s|%s|\$\d+"), "?"),
    (re.compile(r"'(?:[^']|'')*'"), "?"),
    (re.compile(r"(?<![\w.])-?\d+(\.\d+)?(?![\w])"), "?"),
    (re.compile(r"\bsa_savepoint_\w+"), "sa_savepoint"),
    (re.compile(r"\s+"), " "),
    (re.compile(r"\b(IN \(|ARRAY\[)(\?(?:::[\w ]+?)?)(?:, \2)*([)\]])"), r"\1\2...\3"),
)
_VALUES_ROWS = re.compile(r"\bVALUES (\([^()]*\))(?:, \1)*")


def shape(statement: str) -> str:
    """`statement` with its literals, parameters and repeated groups folded (see the module's doc)."""
    for pattern, replacement in _SUBSTITUTIONS:
        statement = pattern.sub(replacement, statement)
    return _VALUES_ROWS.sub(r"VALUES \1...", statement).strip()


class Recorder:
    """What one process saw; `current` is read from `CURRENT_TEST` unless the process sets it itself."""

    def __init__(self, folder: Path, *, in_test_process: bool) -> None:
        self.folder = folder
        self.in_test_process = in_test_process
        self.current = UNKNOWN_TEST
        self._pointer = os.environ.get(CURRENT_TEST)
        self._pointer_seen: tuple[int, str] = (-1, UNKNOWN_TEST)
        self._written: set[tuple[str, str]] = set()
        self._checked_out: set[int] = set()
        self._engines: dict[str, set[int]] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._out = (folder / f"{os.getpid()}.jsonl").open("a", buffering=1)

    def test(self) -> str:
        if self.in_test_process:
            return self.current
        if not self._pointer:
            return UNKNOWN_TEST
        try:
            changed = os.stat(self._pointer).st_mtime_ns
        except FileNotFoundError:
            return UNKNOWN_TEST
        if changed != self._pointer_seen[0]:
            self._pointer_seen = (changed, Path(self._pointer).read_text() or UNKNOWN_TEST)
        return self._pointer_seen[1]

    def write(self, kind: str, value: str) -> None:
        test = self.test()
        with self._lock:
            if (test, kind + value) in self._written:
                return
            self._written.add((test, kind + value))
            self._out.write(json.dumps({"test": test, "kind": kind, "value": value}) + "\n")

    def statement(self, engine: Any, statement: str) -> None:
        self.write("shape", shape(statement))
        if _LOCKING.search(statement):
            self.write("flag", "locks")
        if not self.in_test_process or os.getpid() != self._pid:
            self.write("flag", "processes")
        elif threading.current_thread() is not threading.main_thread():
            self.write("flag", "threads")
        engines = self._engines.setdefault(self.test(), set())
        engines.add(id(engine))
        if len(engines) > 1:
            self.write("flag", "engines")

    def checked_out(self, connection: Any) -> None:
        with self._lock:
            self._checked_out.add(id(connection))
            many = len(self._checked_out) > 1
        if many:
            self.write("flag", "connections")

    def checked_in(self, connection: Any) -> None:
        with self._lock:
            self._checked_out.discard(id(connection))


def _from_product() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(_PRODUCT):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def install(recorder: Recorder) -> None:
    """Every engine's PostgreSQL statements, connections and refusals reported to `recorder`."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    def before_cursor_execute(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if connection.dialect.name == "postgresql" and _from_product():
            recorder.statement(connection.engine, statement)

    def handle_error(context: Any) -> None:
        code = str(getattr(context.original_exception, "sqlstate", None) or "")
        if context.dialect.name == "postgresql" and _BACKEND_DECIDED.match(code):
            recorder.write("flag", f"error:{code}")

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if type(dbapi_connection).__module__.startswith("psycopg") and _from_product():
            recorder.checked_out(dbapi_connection)

    def checkin(dbapi_connection: Any, record: Any) -> None:
        recorder.checked_in(dbapi_connection)

    event.listen(Engine, "before_cursor_execute", before_cursor_execute)
    event.listen(Engine, "handle_error", handle_error)
    event.listen(Pool, "checkout", checkout)
    event.listen(Pool, "checkin", checkin)


def start_in_started_process() -> None:
    """From `sitecustomize`: a process a test started records under the test its starter is running."""
    folder = os.environ.get(SHAPES_DIR)
    if folder and os.environ.get(CURRENT_TEST):
        install(Recorder(Path(folder), in_test_process=False))


# The test process's side (`-p tests.statement_shapes`).

_recorder: Recorder | None = None

if os.environ.get(SHAPES_DIR) and __name__ == "tests.statement_shapes":
    # Every process execs: a process forked by the run's zygote or launcher would not run `sitecustomize`, and
    # the launcher refuses an environment that differs from its own (each test process's `CURRENT_TEST`).
    from tests import forkserver

    forkserver.AVAILABLE = False


def pytest_configure(config: Any) -> None:
    global _recorder
    folder = os.environ.get(SHAPES_DIR)
    if not folder or (not hasattr(config, "workerinput") and config.option.numprocesses):
        return  # xdist's controller runs no test
    _recorder = Recorder(Path(folder), in_test_process=True)
    pointer = Path(folder) / f"current-{os.getpid()}"
    pointer.write_text(UNKNOWN_TEST)
    os.environ[CURRENT_TEST] = str(pointer)
    install(_recorder)


def _point_at(test: str) -> None:
    assert _recorder is not None
    _recorder.current = test
    Path(os.environ[CURRENT_TEST]).write_text(test)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: Any) -> None:
    if _recorder is not None:
        _point_at(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Any:
    """A fixture shared beyond one test (the run's migrated schema, a module's servers) records under a name
    of its own: what it sends is no one test's."""
    if _recorder is None or fixturedef.scope == "function":
        return (yield)
    test = _recorder.current
    _point_at(f"{SHARED_SET_UP}{fixturedef.scope}-scoped {fixturedef.argname})")
    try:
        return (yield)
    finally:
        _point_at(test)


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    if _recorder is not None:
        _point_at(UNKNOWN_TEST)
