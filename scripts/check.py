"""The whole quality gate: lint, format, types, then the test suite.

Run from the repository root by the README's test command and by `.ci/run`.
Extra arguments go to pytest (for example `-k plan`); the tests run on every core (`PARALLEL`) unless
they choose (`-n 0` runs them in this process).
"""

from __future__ import annotations

import os
import subprocess
import sys

PYTEST_NO_TESTS_COLLECTED = 5
PARALLEL = ["-n", str(2 * (os.cpu_count() or 1)), "--dist", "loadfile"]
"""Two test processes per core (pytest-xdist): the tests spend much of their time waiting (on sockets, on
`aadbot serve` processes, on pacing), so a second process per core keeps the cores busy (2 cores: 4
processes took 131 s of wall against 152 s for 2). Each gets its own database schema and fake servers, and
a whole file runs in one process so its module-scoped fake servers start once (tests/scheduling.py also
keeps the files sharing a session's `aadbot serve` together, hands the longest files out first and the last
ones to the processes that have run out)."""


def _run(step: str, command: list[str]) -> int:
    print(f"==> {step}: {' '.join(command)}", flush=True)
    return subprocess.call(command)


def main(pytest_args: list[str]) -> int:
    python = sys.executable
    gates = [
        ("lint", [python, "-m", "ruff", "check", "."]),
        ("format", [python, "-m", "ruff", "format", "--check", "."]),
        ("types", [python, "-m", "mypy"]),
    ]
    for step, command in gates:
        if _run(step, command) != 0:
            print(f"FAILED: {step}", file=sys.stderr)
            return 1
    chosen = any(
        arg.startswith(("-n", "--numprocesses", "--dist")) or arg == "no:xdist" for arg in pytest_args
    )
    code = _run("tests", [python, "-m", "pytest", *([] if chosen else PARALLEL), *pytest_args])
    if code == PYTEST_NO_TESTS_COLLECTED:
        print("FAILED: pytest collected no test", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
