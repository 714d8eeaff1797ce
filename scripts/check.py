"""The whole quality gate: lint, format, types, then the test suite.

Run from the repository root by the README's test command and by `.ci/run`.
Extra arguments go to pytest (for example `-k plan`); the tests run on every core unless they choose
(`-n 0` runs them in this process).
"""

from __future__ import annotations

import subprocess
import sys

PYTEST_NO_TESTS_COLLECTED = 5
PARALLEL = ["-n", "auto", "--dist", "loadfile"]
"""One test process per core (pytest-xdist); each gets its own database schema and fake servers, and a
whole file runs in one process so its module-scoped fake servers start once."""


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
