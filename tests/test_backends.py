"""The `backends` marks: which backends `database_url` and `empty_database_url` give a test."""

from __future__ import annotations

import pytest

from tests.storage.databases import EVERY_BACKEND

pytest_plugins = ["pytester"]

_MODULE = """
import pytest
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY

pytestmark = SQLITE_ONLY

def test_a_workflow(database_url): ...

@BOTH_BACKENDS
def test_a_race(database_url): ...

def test_a_migration(empty_database_url): ...

def test_no_database(): ...
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["tests.storage.databases"]')
    pytester.makeini("[pytest]\nmarkers =\n    backends: the backends\n    postgres: PostgreSQL")
    return pytester


def _collected(suite: pytest.Pytester) -> list[str]:
    result = suite.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    return [line.split("::")[1] for line in result.outlines if "::" in line]


def _refusal(suite: pytest.Pytester) -> str:
    """The first error line of a collection that stops as a usage error (and fails the test otherwise)."""
    result = suite.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    return str(result.errlines[0])


def test_a_sqlite_only_module_gets_sqlite_but_where_a_test_asks_for_both(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_module=_MODULE)
    assert _collected(suite) == [
        "test_a_workflow[sqlite]",
        "test_a_race[sqlite]",
        "test_a_race[postgresql]",
        "test_a_migration[sqlite]",
        "test_no_database",
    ]


def test_without_a_mark_a_test_gets_both(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_module="def test_new(database_url): ...")
    assert _collected(suite) == ["test_new[sqlite]", "test_new[postgresql]"]


def test_the_measuring_run_puts_every_test_on_both(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EVERY_BACKEND, "1")
    suite.makepyfile(test_module=_MODULE)
    on_both = ("test_a_workflow", "test_a_race", "test_a_migration")
    assert _collected(suite) == [
        *(f"{test}[{backend}]" for test in on_both for backend in ("sqlite", "postgresql")),
        "test_no_database",
    ]


def test_a_storage_test_marked_sqlite_only_stops_the_run(suite: pytest.Pytester) -> None:
    (suite.mkdir("tests") / "storage").mkdir()  # no packages: `tests` is the project's own
    (suite.path / "tests" / "storage" / "test_rows.py").write_text(_MODULE)
    assert _refusal(suite) == (
        "ERROR: the database is these tests' subject, keep them on both: "
        "['tests/storage/test_rows.py::test_a_workflow[sqlite]', "
        "'tests/storage/test_rows.py::test_a_migration[sqlite]']"
    )


@pytest.mark.parametrize(("mark", "names"), [('"postgres"', "['postgres']"), ("", "[]")])
def test_a_backends_mark_naming_no_backend_stops_the_run(
    suite: pytest.Pytester, mark: str, names: str
) -> None:
    suite.makepyfile(
        test_module=f"import pytest\n@pytest.mark.backends({mark})\ndef test_a_race(database_url): ..."
    )
    result = suite.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # an error collecting, not a skipped `[NOTSET]`
    assert (
        f"E   pytest.UsageError: test_module.py::test_a_race: its backends mark names {names}, "
        "the backends are ['sqlite', 'postgresql']"
    ) in result.outlines


def test_a_sqlite_only_test_asking_which_backend_it_runs_on_stops_the_run(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_module="""
from hypothesis import given, strategies as st

from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY

pytestmark = SQLITE_ONLY

def test_a_lock(database):
    if database.engine.dialect.name == "postgresql":
        assert "locked"

def test_a_reset(database_url):
    reset = lambda url: url.get_backend_name()

def test_a_url(empty_database_url):
    assert not empty_database_url.startswith(("postgresql", "mysql"))

@given(st.integers())
def test_a_property(database, number):
    assert number or database.engine.dialect.name

@BOTH_BACKENDS
def test_a_lock_on_both(database):
    if database.engine.dialect.name == "postgresql":
        assert "locked"

def test_a_workflow(database):  # "postgresql" in a comment asks nothing
    assert "sqlite"
"""
    )
    assert _refusal(suite) == (
        "ERROR: these tests check something on PostgreSQL alone, which never runs: keep them on both: "
        "['test_module.py::test_a_lock[sqlite]', 'test_module.py::test_a_reset[sqlite]', "
        "'test_module.py::test_a_url[sqlite]', 'test_module.py::test_a_property[sqlite]']"
    )


def test_a_storage_test_parametrized_on_sqlite_alone_stops_the_run(suite: pytest.Pytester) -> None:
    (suite.mkdir("tests") / "storage").mkdir()
    (suite.path / "tests" / "storage" / "test_rows.py").write_text(
        'import pytest\n@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)\n'
        "def test_a_workflow(database_url): ..."
    )
    assert _refusal(suite) == (
        "ERROR: the database is these tests' subject, keep them on both: "
        "['tests/storage/test_rows.py::test_a_workflow[sqlite]']"
    )


def test_the_sqlite_case_of_a_storage_test_chosen_alone_runs(suite: pytest.Pytester) -> None:
    (suite.mkdir("tests") / "storage").mkdir()
    (suite.path / "tests" / "storage" / "test_rows.py").write_text("def test_a_race(database_url): ...")
    chosen = "tests/storage/test_rows.py::test_a_race[sqlite]"
    result = suite.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider", chosen)
    assert result.ret == pytest.ExitCode.OK  # its PostgreSQL case is there, only not chosen
