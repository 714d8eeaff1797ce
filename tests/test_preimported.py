"""A process forked by the pre-imported launcher is started as `subprocess.Popen` starts one: the command's
environment whole, its directory, arguments and streams, the signal dispositions of a new interpreter, a
single-threaded parent, and its exit status (tests/fakes/preimported.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import preimported

pytestmark = pytest.mark.skipif(not preimported.AVAILABLE, reason="the launcher needs Linux's pidfds")

REPORTER = """
import json, os, signal, sys, threading

def main():
    parent = open(f"/proc/{os.getppid()}/status").read()
    print(json.dumps({
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "environment": dict(os.environ),
        "handlers": [repr(signal.getsignal(n)) for n in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)],
        "parent_threads": next(l.split()[1] for l in parent.splitlines() if l.startswith("Threads:")),
    }))
    print("to the log", file=sys.stderr)
    if sys.argv[1] == "wait":
        signal.pause()  # until a signal ends it (stdin is /dev/null under pytest: reading it returns at once)
    return int(sys.argv[2])
"""


@pytest.fixture
def reporter(tmp_path: Path) -> list[str]:
    """`python -m reporter`: a module in the directory it runs in, as `python -m` finds one."""
    (tmp_path / "reporter.py").write_text(REPORTER)
    return [sys.executable, "-m", "reporter"]


def test_a_launched_process_has_its_command_environment_streams_and_exit_status(
    reporter: list[str], tmp_path: Path
) -> None:
    environment = {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}
    environment["AADBOT_SEEN"] = "yes"
    with (
        (tmp_path / "log").open("w") as log,
        preimported.launch(
            [*reporter, "exit", "7"], env=environment, cwd=tmp_path, stdout=subprocess.PIPE, stderr=log
        ) as process,
    ):
        assert process.stdout is not None
        said = json.loads(process.stdout.readline())
        assert process.wait(timeout=60) == 7
    assert said["argv"] == ["exit", "7"] and said["cwd"] == str(tmp_path)
    assert said["environment"] == environment  # whole: the launcher's PYTEST_CURRENT_TEST is gone
    # a new interpreter's: Python's Ctrl-C, the system's default for the others
    assert said["handlers"] == [
        "<built-in function default_int_handler>",
        "<Handlers.SIG_DFL: 0>",
        "<Handlers.SIG_DFL: 0>",
    ]
    assert said["parent_threads"] == "1"  # forked by a single-threaded launcher
    assert (tmp_path / "log").read_text() == "to the log\n"
    assert process.cpu_seconds is not None and process.cpu_seconds > 0


def test_a_signal_ends_a_launched_process_as_it_ends_a_popen_one(reporter: list[str], tmp_path: Path) -> None:
    with preimported.launch(
        [*reporter, "wait", "0"], env=os.environ, cwd=tmp_path, stdout=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        process.stdout.readline()
        assert process.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=0.01)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == -signal.SIGTERM
        process.kill()  # ended: as `Popen`, no signal to a pid the system may have given another process


def test_a_command_changing_what_the_interpreter_read_at_its_start_needs_a_real_exec(
    reporter: list[str], tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="PYTHONHASHSEED"):
        preimported.launch([*reporter, "exit", "0"], env={**os.environ, "PYTHONHASHSEED": "1"}, cwd=tmp_path)
