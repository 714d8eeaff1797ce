"""A process forked by the pre-imported launcher is started as `subprocess.Popen` starts one: the command's
environment whole, its directory, arguments and streams, the signal dispositions of a new interpreter, a
single-threaded parent, and its exit status (tests/fakes/preimported.py). One launcher serves the run's test
processes; each one's children end with it, and all of them and the launcher with the launcher's owner."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import forkserver
from tests.fakes import preimported

pytestmark = pytest.mark.skipif(not forkserver.AVAILABLE, reason="the launcher needs Linux's pidfds")

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
        "pid": os.getpid(),
        "parent": os.getppid(),
    }))
    print("to the log", file=sys.stderr)
    if sys.argv[1] == "wait":
        signal.pause()  # until a signal ends it (stdin is /dev/null under pytest: reading it returns at once)
    return int(sys.argv[2])

if __name__ == "__main__":  # run by a real `python -m reporter`; the launcher calls `main()` itself
    sys.exit(main())
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
    # a new interpreter's, as this process would start one: Python's Ctrl-C and the system's default for the
    # others, or Ctrl-C ignored when this run was started with it ignored (`pytest &` in a script)
    execed = subprocess.run(
        [*reporter, "exit", "0"], env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert said["handlers"] == json.loads(execed.stdout)["handlers"]
    assert said["handlers"][1:] == ["<Handlers.SIG_DFL: 0>", "<Handlers.SIG_DFL: 0>"]
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


ROOT = Path(__file__).resolve().parents[1]
CLIENT = """
import atexit, json, os, sys
from pathlib import Path
from tests import forkserver
from tests.fakes import preimported

if sys.argv[1] == "owns":  # a launcher of its own, importing nothing (the run's imports cost 0.8 s)
    owned = preimported.own(imports=())
    atexit.register(owned.stop)
    os.environ[preimported.LAUNCHER_VARIABLE] = owned.address
    print(json.dumps({"launcher": owned.process.pid, "folder": str(owned.directory)}), flush=True)
preimported.launch([sys.executable, "-m", "reporter", "wait", "0"], env=os.environ, cwd=Path(sys.argv[2]))
sys.stdin.read()  # until the test closes it (then `owned.stop()` at the exit), or kills this process
"""
"""Another test process (or a run's first process, `owns`): its reporter writes to its stdout."""


@pytest.fixture
def pidfds() -> Iterator[dict[int, int]]:
    """Each pid's pidfd, opened while it runs: readable once it has ended, whoever reaps it."""
    opened: dict[int, int] = {}
    yield opened
    for pidfd in opened.values():
        os.close(pidfd)


def ended(pidfd: int) -> bool:
    return bool(select.select([pidfd], [], [], 60)[0])


def test_the_run_s_test_processes_share_one_launcher_and_each_one_s_children_end_with_it(
    reporter: list[str], tmp_path: Path, pidfds: dict[int, int]
) -> None:
    assert preimported.LAUNCHER_VARIABLE in os.environ  # the run's (tests/fakes/one_launcher.py)
    with (
        preimported.launch(
            [*reporter, "wait", "0"], env=os.environ, cwd=tmp_path, stdout=subprocess.PIPE
        ) as ours,
        subprocess.Popen(
            [sys.executable, "-c", CLIENT, "connects", str(tmp_path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as other,
    ):
        try:
            assert ours.stdout is not None and other.stdout is not None
            launcher = json.loads(ours.stdout.readline())["parent"]
            theirs = json.loads(other.stdout.readline())
            assert theirs["parent"] == launcher  # the same launcher forked both
            pidfds[theirs["pid"]] = os.pidfd_open(theirs["pid"])
            other.kill()  # as a test process dies: its connection closes
            assert other.wait(timeout=60) == -signal.SIGKILL
            assert ended(pidfds[theirs["pid"]])
            assert ours.poll() is None  # another test process's children go on
        finally:
            ours.terminate()
        assert ours.wait(timeout=60) == -signal.SIGTERM


@pytest.mark.parametrize("owner_ends", ["at its exit", "killed"])
def test_a_launcher_and_its_children_end_with_the_process_that_owns_it(
    owner_ends: str, reporter: list[str], tmp_path: Path, pidfds: dict[int, int]
) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", CLIENT, "owns", str(tmp_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as owner:
        assert owner.stdin is not None and owner.stdout is not None
        owned = json.loads(owner.stdout.readline())
        launcher = owned["launcher"]
        child = json.loads(owner.stdout.readline())
        assert child["parent"] == launcher
        for pid in (launcher, child["pid"]):
            pidfds[pid] = os.pidfd_open(pid)
        if owner_ends == "killed":
            owner.kill()
            assert owner.wait(timeout=60) == -signal.SIGKILL
        else:
            owner.stdin.close()
            assert owner.wait(timeout=60) == 0  # its `stop()` waited for the launcher
        assert ended(pidfds[launcher]) and ended(pidfds[child["pid"]])
        assert not Path(owned["folder"]).exists()  # the launcher's to remove when nobody else did


def test_test_processes_that_leave_before_their_answer_leave_the_launcher_to_the_others() -> None:
    """A test process that times out or dies while the launcher answers it costs the run nothing: the run's
    one launcher serves the next (it used to die of the broken pipe or the reset, and every test process's
    children with it)."""
    owned = preimported.own(imports=())
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as leaving:  # answered, never read: a reset
            leaving.connect(owned.address)
            assert select.select([leaving], [], [], 60)[0]
        os.kill(owned.process.pid, signal.SIGSTOP)  # gone before the launcher accepts it: a broken pipe
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as leaving:
                leaving.connect(owned.address)
        finally:
            os.kill(owned.process.pid, signal.SIGCONT)
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as staying:
            staying.connect(owned.address)
            staying.settimeout(60)
            assert json.loads(staying.recv(forkserver.MESSAGE_BYTES))["pid"] == owned.process.pid
        assert owned.process.poll() is None
    finally:
        owned.stop()


def test_a_launcher_that_dies_at_its_imports_fails_the_launch_at_once_and_says_so(
    reporter: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not after `START_SECONDS`: its sockets close as it dies, which the test process sees at once."""
    owned = preimported.own(imports=("not_a_module_at_all",))
    try:
        monkeypatch.setattr(preimported, "_connection", None)  # this process's, to the run's launcher
        monkeypatch.setenv(preimported.LAUNCHER_VARIABLE, owned.address)
        asked = time.monotonic()
        with pytest.raises(RuntimeError, match=f"the launcher at {owned.address} has ended"):
            preimported.launch([*reporter, "exit", "0"], env=os.environ, cwd=tmp_path)
        assert time.monotonic() - asked < preimported.START_SECONDS / 2
        assert owned.process.wait(timeout=60) == 1  # the ImportError, on its stderr
    finally:
        owned.stop()
