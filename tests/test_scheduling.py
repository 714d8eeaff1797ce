"""The test scheduling hints in tests/conftest.py name files that exist: a renamed file would silently lose
its place (a shared `serve` started once per file again, a long file handed out last)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tests.conftest import SHARED_SERVES, STARTED_FIRST
from tests.scheduling import FileScheduling

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_the_scheduler_names_exists() -> None:
    assert [file for file in SHARED_SERVES if not (ROOT / file).is_file()] == []
    units = set(SHARED_SERVES.values())
    assert [name for name in STARTED_FIRST if name not in units and not (ROOT / name).is_file()] == []
    assert len(set(STARTED_FIRST)) == len(STARTED_FIRST)


def test_a_file_that_shares_a_serve_is_handed_out_by_its_unit_s_name() -> None:
    """xdist's work queue knows such a file only by its unit's name: listed by its own, it keeps no place."""
    assert [name for name in STARTED_FIRST if name in SHARED_SERVES] == []


class _TestProcess:
    """What the scheduler sees of a test process: the tests it is sent, by their index in the collection."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent += indexes

    def shutdown(self) -> None:
        self.shutting_down = True


def _scheduling(files: dict[str, int], processes: list[_TestProcess]) -> tuple[FileScheduling, list[str]]:
    """`FileScheduling` over `files` (a name and its number of tests), every process having collected them."""
    config = SimpleNamespace(
        getvalue=lambda name: [f"{len(processes)}*popen"], option=SimpleNamespace(loadscopereorder=True)
    )
    scheduling = FileScheduling(cast(pytest.Config, config))
    collection = [f"{file}::test_{n}" for file, count in files.items() for n in range(count)]
    for process in processes:
        scheduling.add_node(cast(Any, process))
        scheduling.add_node_collection(cast(Any, process), collection)
    scheduling.schedule()
    return scheduling, collection


def _files_sent(process: _TestProcess, collection: list[str]) -> list[str]:
    return list(dict.fromkeys(collection[index].split("::")[0] for index in process.sent))


def test_a_last_file_waits_for_a_process_with_nothing_else_to_run() -> None:
    """`b` still has two tests to run when three single-test files are left to two processes: xdist would
    queue the next behind them; it goes to `a`'s process once that one has nothing else to run."""
    a, b = _TestProcess("a"), _TestProcess("b")
    scheduling, collection = _scheduling({"a.py": 4, "b.py": 2, "x.py": 1, "y.py": 1, "z.py": 1}, [a, b])
    assert (_files_sent(a, collection), _files_sent(b, collection)) == (["a.py"], ["b.py"])

    for done in range(2):
        scheduling.mark_test_complete(cast(Any, a), a.sent[done])
    assert _files_sent(a, collection) == ["a.py"]  # two tests of `a.py` left to run
    scheduling.mark_test_complete(cast(Any, a), a.sent[2])
    assert (_files_sent(a, collection), _files_sent(b, collection)) == (["a.py", "x.py"], ["b.py"])


def test_before_the_last_files_a_process_gets_its_next_file_before_it_runs_out() -> None:
    """xdist's hand-out, which spares a test process from waiting for its next file, is kept while there
    are at least twice as many files left as processes."""
    a, b = _TestProcess("a"), _TestProcess("b")
    files = {"a.py": 4, "b.py": 2, "w.py": 1, "x.py": 1, "y.py": 1, "z.py": 1}
    _, collection = _scheduling(files, [a, b])
    assert (_files_sent(a, collection), _files_sent(b, collection)) == (["a.py"], ["b.py", "w.py"])
