"""The test scheduling hints in tests/conftest.py name files that exist: a renamed file would silently lose
its place (a shared `serve` started once per file again, a long file handed out last)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tests.scheduling import SHARED, STARTED_FIRST, WAITING, FileScheduling

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_the_scheduler_names_exists() -> None:
    assert [file for file in SHARED if not (ROOT / file).is_file()] == []
    units = set(SHARED.values())
    assert [name for name in STARTED_FIRST if name not in units and not (ROOT / name).is_file()] == []
    assert len(set(STARTED_FIRST)) == len(STARTED_FIRST)


def test_every_waiting_unit_the_scheduler_names_exists() -> None:
    units = set(SHARED.values())
    assert [name for name in WAITING if name not in units and not (ROOT / name).is_file()] == []


def test_a_file_that_shares_a_serve_is_handed_out_by_its_unit_s_name() -> None:
    """xdist's work queue knows such a file only by its unit's name: listed by its own, it keeps no place."""
    assert [name for name in [*STARTED_FIRST, *WAITING] if name in SHARED] == []


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


def _a_file_of(unit: str) -> str:
    """A file of `unit` (a file, or a name of `SHARED`) as the test processes collect it."""
    return next((file for file, name in SHARED.items() if name == unit), unit)


def _each_unit_of(units: list[str], processes: list[_TestProcess]) -> tuple[FileScheduling, list[str]]:
    """`FileScheduling` over a file of each unit, three tests each: at the start, none is handed out
    behind another."""
    return _scheduling(dict.fromkeys(map(_a_file_of, units), 3), processes)


def test_at_most_half_the_processes_start_in_waiting_units_the_others_computing() -> None:
    """The longest units of `STARTED_FIRST` are waiting ones: in its order alone all four test processes
    started by waiting (the cores about half idle 7 to 10 s into a run). Two start with the two longest
    waiting units, two with the two longest computing ones."""
    processes = [_TestProcess(name) for name in "abcd"]
    scheduling, collection = _each_unit_of(list(STARTED_FIRST), processes)

    waiting = [unit for unit in STARTED_FIRST if unit in WAITING]
    computing = [unit for unit in STARTED_FIRST if unit not in WAITING]
    assert len(set(STARTED_FIRST[:4]) & WAITING) > 2  # else the order alone would pass
    firsts = [scheduling._split_scope(collection[process.sent[0]]) for process in processes]
    assert sorted(firsts) == sorted([*waiting[:2], *computing[:2]])


def test_a_process_is_handed_a_waiting_unit_only_once_one_of_the_waiting_half_is_done() -> None:
    processes = [_TestProcess(name) for name in "abcd"]
    scheduling, collection = _each_unit_of(list(STARTED_FIRST), processes)
    started = {scheduling._split_scope(collection[process.sent[0]]) for process in processes}
    waiting = [unit for unit in STARTED_FIRST if unit in WAITING and unit not in started]
    computing = [unit for unit in STARTED_FIRST if unit not in WAITING and unit not in started]

    def finish(process: _TestProcess) -> str:
        """Runs what `process` holds to its end; the unit it is handed next."""
        held = list(process.sent)
        for index in held:
            scheduling.mark_test_complete(cast(Any, process), index)
        return scheduling._split_scope(collection[process.sent[len(held)]])

    assert finish(processes[2]) == computing[0]  # the other two still wait
    assert finish(processes[0]) == waiting[0]  # one of the waiting half is done
    assert finish(processes[3]) == computing[1]
    assert finish(processes[1]) == waiting[1]


def test_waiting_units_go_out_to_every_process_when_nothing_else_is_left() -> None:
    processes = [_TestProcess(name) for name in "abcd"]
    waiting = [unit for unit in STARTED_FIRST if unit in WAITING][:4]
    scheduling, collection = _each_unit_of(waiting, processes)
    assert [scheduling._split_scope(collection[process.sent[0]]) for process in processes] == waiting
