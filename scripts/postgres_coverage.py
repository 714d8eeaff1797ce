"""Proves that the tests kept on PostgreSQL send every statement shape the product sends there.

    .venv/bin/python scripts/postgres_coverage.py            # the check: exit 1 if anything is lost
    .venv/bin/python scripts/postgres_coverage.py --propose  # and the kept set the evidence asks for

It runs the PostgreSQL tests with every test on both backends (`TESTS_EVERY_BACKEND=1`, about a minute on 2
cores), recording in every process what each test sends (tests/statement_shapes.py), then collects the
PostgreSQL tests an ordinary run has (those without a `SQLITE_ONLY` mark), and compares, per test function
(a mark covers all of a function's cases):
- every statement shape seen in the full run must be sent by a kept function;
- every function using concurrency the server decides must be kept: threads, processes, two connections at
  once or two engines (replicas) on PostgreSQL, or a lock or serialization error from the server. A row or
  advisory lock taken with nothing else connected decides nothing: its statement is a shape like any other.
- every function of tests/storage, tests/test_isolation.py and tests/workflows/test_replays.py is kept
  (`ALWAYS_ON_BOTH`: tests/storage/databases.py refuses a mark there).
`--propose` also prints the smallest kept set it finds: those, then a greedy cover of the shapes left.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.statement_shapes import CURRENT_TEST, SHAPES_DIR, SHARED_SET_UP, UNKNOWN_TEST  # noqa: E402
from tests.storage.databases import ALWAYS_ON_BOTH, EVERY_BACKEND  # noqa: E402

CONCURRENT = {"threads", "processes", "connections", "engines"}
_SITECUSTOMIZE = f"""\
import importlib.util, os
if os.environ.get({SHAPES_DIR!r}) and os.environ.get({CURRENT_TEST!r}):
    spec = importlib.util.spec_from_file_location(
        "_statement_shapes", {str(ROOT / "tests" / "statement_shapes.py")!r}
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.start_in_started_process()
"""
"""Loads the recorder in every process a test starts (they inherit `PYTHONPATH`), by path: `tests` is not
importable from their folders."""

COMPLETE = "complete"
"""The file a recorded run writes into its folder once it has passed: its records are whole."""

Functions = dict[str, set[str]]


def _function(test: str) -> str:
    return test.split("[", 1)[0]


def records(folder: Path, pytest_args: list[str]) -> None:
    """`folder` holding the records of a whole run: those an earlier run completed, or new ones. The records
    a failed run left are incomplete (its `complete` marker unwritten): they are thrown away and made anew."""
    complete = folder / COMPLETE
    if complete.exists():
        return
    for partial in folder.glob("*.jsonl"):
        partial.unlink()
    record(folder, pytest_args)
    complete.touch()


def record(folder: Path, pytest_args: list[str]) -> None:
    """The PostgreSQL tests, every one on both backends, each process recording into `folder`."""
    site = folder / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    env = os.environ | {
        EVERY_BACKEND: "1",
        SHAPES_DIR: str(folder),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "pytest", "-m", "postgres", "-p", "tests.statement_shapes"]
    command += ["-n", "4", "--dist", "loadfile", "-p", "no:cacheprovider", *pytest_args]
    if subprocess.call(command, cwd=ROOT, env=env) != 0:
        sys.exit("the recorded run failed: its records would be incomplete")


def read(folder: Path) -> tuple[Functions, Functions]:
    """Per test function: the shapes it sent, and its concurrency flags (what no test sent is no test's)."""
    shapes: Functions = collections.defaultdict(set)
    flags: Functions = collections.defaultdict(set)
    for file in folder.glob("*.jsonl"):
        for line in file.read_text().splitlines():
            entry = json.loads(line)
            if entry["test"] == UNKNOWN_TEST:
                continue
            (shapes if entry["kind"] == "shape" else flags)[_function(entry["test"])].add(entry["value"])
    return shapes, flags


def kept_functions() -> set[str]:
    """The test functions an ordinary run sends to PostgreSQL."""
    env = {name: value for name, value in os.environ.items() if name != EVERY_BACKEND}
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-m", "postgres", "-p", "no:xdist"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {_function(line) for line in listed.splitlines() if "::" in line}


def concurrent(flags: set[str]) -> bool:
    return bool(flags & CONCURRENT) or any(flag.startswith("error:") for flag in flags)


def measured(shapes: Functions, flags: Functions) -> set[str]:
    """The test functions the full run saw on PostgreSQL (a shared fixture's set-up is none)."""
    return (set(shapes) | set(flags)) - {name for name in shapes if name.startswith(SHARED_SET_UP)}


def must_keep(functions: set[str], flags: Functions) -> set[str]:
    """Of the `measured` test functions, those that stay on PostgreSQL whatever they send."""
    return {name for name in functions if name.startswith(ALWAYS_ON_BOTH) or concurrent(flags[name])}


def greedy_cover(shapes: Functions, functions: set[str], kept: set[str]) -> list[str]:
    """Of the `measured` functions, those added to `kept`, each the one sending most of the shapes still
    unsent, until none is left."""
    left = set().union(*shapes.values()) - _sent_by(shapes, kept)
    candidates = (functions & set(shapes)) - kept
    added: list[str] = []
    while left and candidates:
        best = max(sorted(candidates), key=lambda name: len(shapes[name] & left))
        if not shapes[best] & left:
            break  # what is left only a shared fixture's set-up sends: the check reports it as lost
        added.append(best)
        candidates.remove(best)
        left -= shapes[best]
    return added


def _sent_by(shapes: Functions, names: set[str]) -> set[str]:
    return set().union(*(shapes[name] for name in names if name in shapes))


def _by_folder(functions: set[str]) -> dict[str, int]:
    return dict(
        sorted(collections.Counter(name.split("::")[0].rsplit("/", 1)[0] for name in functions).items())
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--propose", action="store_true", help="print the kept set the evidence asks for")
    parser.add_argument(
        "--records",
        type=Path,
        help="keep the records in this folder; if a run completed them there, read them, run nothing",
    )
    parser.add_argument("pytest_args", nargs="*", help="more arguments for the recorded run")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="postgres-coverage-") as scratch:
        folder = arguments.records or Path(scratch)
        folder.mkdir(exist_ok=True)
        records(folder, arguments.pytest_args)
        shapes, flags = read(folder)
    every_shape = set().union(*shapes.values())
    kept = kept_functions()
    functions = measured(shapes, flags)
    required = must_keep(functions, flags)
    sent_by_kept = _sent_by(shapes, kept)
    lost_shapes = every_shape - sent_by_kept
    lost_tests = required - kept
    print(f"test functions sending to PostgreSQL in the full run: {len(functions)}; kept there: {len(kept)}")
    print(f"kept per folder: {_by_folder(kept)}")
    print(f"statement shapes sent by kept functions: {len(every_shape & sent_by_kept)}/{len(every_shape)}")
    for shape in sorted(lost_shapes):
        senders = sorted(name for name in shapes if shape in shapes[name])
        print(f"LOST SHAPE {shape}\n  sent by {senders}")
    for name in sorted(lost_tests):
        print(f"LOST TEST {name}: {sorted(flags[name]) or 'ALWAYS_ON_BOTH'} but SQLite-only")
    if arguments.propose:
        cover = greedy_cover(shapes, functions, required)
        proposed = required | set(cover)
        print(f"proposed: {len(required)} required + {len(cover)} for the shapes = {len(proposed)}")
        print(f"proposed per folder: {_by_folder(proposed)}")
        for name in sorted(proposed):
            print(f"KEEP {name}")
    return 1 if lost_shapes or lost_tests else 0


if __name__ == "__main__":
    sys.exit(main())
