"""The whole quality gate: lint, format, types, then the test suite.

Run from the repository root by the README's test command and by `.ci/run`.
Extra arguments go to pytest (for example `-k plan`).
"""

from __future__ import annotations

import subprocess
import sys

PYTEST_NO_TESTS_COLLECTED = 5


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
    code = _run("tests", [python, "-m", "pytest", *pytest_args])
    if code == PYTEST_NO_TESTS_COLLECTED:
        print("FAILED: pytest collected no test", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
