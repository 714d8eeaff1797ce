"""xdist's test processes forked by a pre-imported zygote (tests/zygote.py): what a forked process gets,
how it ends, and what happens when the zygote cannot fork one."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from tests import forkserver, zygote

pytestmark = pytest.mark.skipif(not forkserver.AVAILABLE, reason="the zygote is Linux's")

REPORT = """
import json, os, signal, sys, threading
line = sys.stdin.readline()
with open(f"/proc/{os.getppid()}/cmdline", "rb") as parent:
    parent_arguments = parent.read().decode().split("\\0")
print(json.dumps({
    "pid": os.getpid(),
    "parent_pid": os.getppid(),
    "parent": parent_arguments,
    "preimported": "colorsys" in sys.modules,
    "line": line,
    "argv": sys.argv,
    "orig_argv": sys.orig_argv,
    "flags": list(sys.flags),
    "path": sys.path,
    "cwd": os.getcwd(),
    "env": dict(os.environ),
    "threads": threading.active_count(),
    "signals": {str(number): repr(signal.getsignal(number)) for number in signal.valid_signals()
                if number not in (signal.SIGKILL, signal.SIGSTOP)},
    "group": os.getpgrp(),
    "main": sorted(name for name in vars(sys.modules["__main__"]) if name.startswith("__")),
    "streams": [(stream.fileno(), stream.encoding, stream.errors, stream.line_buffering,
                 getattr(stream, "write_through", None)) for stream in (sys.stdin, sys.stdout, sys.stderr)],
    "descriptors": sorted(os.listdir("/proc/self/fd")),
}), flush=True)
print("to stderr", file=sys.stderr, flush=True)
if line == "wait\\n":
    sys.stdin.read()
sys.exit(3)
"""
"""A test process's stand-in: what it got, on stdout (`colorsys` is what these tests' zygote imports)."""


@pytest.fixture
def forking() -> Iterator[zygote.Zygote]:
    started = zygote.start(("colorsys",), env=_environment())
    yield started
    if started.directory.exists():  # not stopped by the test
        started.stop()


def _environment() -> dict[str, str]:
    """This process's for the zygote and its clients alike, but pytest's name of the phase under way (as
    xdist's controller has none); given whole, as the C library's may hold more (`zygote.start`)."""
    return {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}


def _client(started: zygote.Zygote, *interpreter: str, **options: Any) -> subprocess.Popen[str]:
    """`python -u -c REPORT` (or the `interpreter` options given for `-u`) through the zygote's client."""
    options.setdefault("env", _environment())
    return subprocess.Popen(
        [*started.client(), *(interpreter or ["-u"]), "-c", REPORT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


def _report(process: subprocess.Popen[str], line: str) -> dict[str, Any]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(line)
    process.stdin.flush()
    report: dict[str, Any] = json.loads(process.stdout.readline())
    return report


def _ended(pid: int) -> bool:
    """Whether process `pid` has ended (and been reaped), waiting for it up to a minute."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([pidfd], [], [], 60)[0])
    finally:
        os.close(pidfd)


def test_a_forked_process_is_what_python_u_c_starts_with_the_clients_streams_and_status(
    forking: zygote.Zygote,
) -> None:
    """Everything a test process can see of its start is what `python -u -c` gives it, but its parent and the
    modules imported already."""
    with _client(forking) as process:
        forked = _report(process, "hello\n")
        out, err = process.communicate()
    assert (out, err, process.returncode) == ("", "to stderr\n", 3)
    with subprocess.Popen(
        [sys.executable, "-u", "-c", REPORT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    ) as process:
        execd = _report(process, "hello\n")
        process.communicate()
    assert forked["parent_pid"] == forking.process.pid and forked["parent"][4] == zygote.ZYGOTE_MARK
    assert execd["parent_pid"] == os.getpid()
    assert forked["preimported"] and not execd["preimported"]
    assert forked["threads"] == 1 and forked["group"] == os.getpgrp()  # a Ctrl-C reaches it from the terminal
    for fact in ("pid", "parent_pid", "parent", "preimported"):
        del forked[fact], execd[fact]
    assert forked == execd


def _forks_on(forking: zygote.Zygote) -> None:
    """The zygote still forks a test process that runs to its exit status."""
    with _client(forking) as process:
        assert _report(process, "hello\n")["parent"][4] == zygote.ZYGOTE_MARK
        process.communicate()
    assert process.returncode == 3


def test_a_killed_client_takes_its_test_process_with_it_and_the_zygote_forks_on(
    forking: zygote.Zygote,
) -> None:
    with _client(forking) as process:
        report = _report(process, "wait\n")
        process.kill()
    assert _ended(report["pid"])
    _forks_on(forking)


def test_sigterm_to_the_client_ends_the_test_process_and_the_client_reports_it(
    forking: zygote.Zygote,
) -> None:
    with _client(forking) as process:
        report = _report(process, "wait\n")
        process.terminate()
        # not `communicate()` yet: it closes the test process's stdin, which ends it (exit 3) should the
        # client, descheduled under load, not have relayed the SIGTERM by then
        process.wait(timeout=60)
        process.communicate()
    assert process.returncode == -signal.SIGTERM
    assert _ended(report["pid"])


def test_the_controllers_end_ends_the_zygote_and_what_it_forked(forking: zygote.Zygote) -> None:
    with _client(forking) as process:
        report = _report(process, "wait\n")
        forking.stop()
        process.communicate()
    assert forking.process.returncode == 0 and _ended(report["pid"])
    assert process.returncode == -signal.SIGKILL
    assert not forking.directory.exists()


def test_a_controller_gone_without_stop_leaves_no_socket_behind(forking: zygote.Zygote) -> None:
    """Killed, or ended by `os._exit`: its end of the owner's socket closes all the same."""
    forking.owner.close()
    assert forking.process.wait(timeout=60) == 0
    assert not forking.directory.exists()


def test_the_answer_carries_a_pidfd_that_names_the_test_process_after_it_has_been_reaped(
    forking: zygote.Zygote,
) -> None:
    """The client, descheduled after the answer (as under load), runs on once its test process has been killed
    and reaped at the controller's end: a pid opened then was gone (the client died of `ProcessLookupError`
    where execnet expected -9) or could be another process's; the pidfd sent with the answer is neither."""
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    request = {
        "arguments": ["-u", "-c", REPORT],
        "env": _environment(),
        "cwd": os.getcwd(),
        "pid": os.getpid(),
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as asking:
        asking.connect(forking.address)
        socket.send_fds(asking, [json.dumps(request).encode()], [stdin_read, stdout_write, 2])
        os.close(stdin_read)
        os.close(stdout_write)
        answer, pidfds, _, _ = socket.recv_fds(asking, forkserver.MESSAGE_BYTES, 1)
        assert len(pidfds) == 1
        os.write(stdin_write, b"wait\n")
        with os.fdopen(stdout_read) as out:
            assert json.loads(out.readline())["pid"] == json.loads(answer)["pid"]
        forking.stop()
        with pytest.raises(ProcessLookupError):  # reaped: the signal reaches nobody
            signal.pidfd_send_signal(pidfds[0], signal.SIGTERM)
        assert json.loads(asking.recv(forkserver.MESSAGE_BYTES))["returncode"] == -signal.SIGKILL
    os.close(pidfds[0])
    os.close(stdin_write)


def test_a_sigterm_while_the_client_asks_is_relayed_to_its_test_process() -> None:
    """execnet's SIGTERM before the answer waits for it, then reaches the test process (it used to end the
    client alone, and the zygote then killed the test process). A zygote played here answers when the
    SIGTERM has been sent; its "test process" is one this test started."""
    folder = tempfile.TemporaryDirectory(dir=forkserver.SHORT_TEMPORARY_FOLDER)  # whatever TMPDIR says
    played = zygote.Zygote(None, Path(folder.name), None, os.getpid())  # type: ignore[arg-type]  # address only
    with folder, socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listening:
        listening.bind(played.address)
        listening.listen(1)
        listening.settimeout(60)
        client = subprocess.Popen(
            [*played.client(), "-u", "-c", "pass"],
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        with client, subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE) as child:
            connection, _ = listening.accept()
            with connection:
                # asked: the client holds SIGTERM by now
                _, streams, _, _ = socket.recv_fds(connection, forkserver.MESSAGE_BYTES, 3)
                for stream in streams:  # its stderr's pipe among them, which `communicate` reads to the end
                    os.close(stream)
                client.terminate()
                pidfd = os.pidfd_open(child.pid)
                with suppress(OSError):  # a client that died of the SIGTERM has closed its end
                    socket.send_fds(connection, [json.dumps({"pid": child.pid}).encode()], [pidfd])
                os.close(pidfd)
                try:
                    assert child.wait(timeout=60) == -signal.SIGTERM
                finally:
                    child.kill()
                connection.send(json.dumps({"returncode": -signal.SIGTERM}).encode())
                _, err = client.communicate(timeout=60)
    assert (client.returncode, err) == (-signal.SIGTERM, "")


def test_a_process_the_zygote_cannot_fork_starts_as_a_new_interpreter_and_says_so(
    forking: zygote.Zygote,
) -> None:
    """An environment read at the interpreter's start differs: the client execs what execnet asked for."""
    with _client(forking, env={**_environment(), "PYTHONHASHSEED": "7"}) as process:
        report = _report(process, "hello\n")
        _, err = process.communicate()
    assert report["pid"] == process.pid and report["env"]["PYTHONHASHSEED"] == "7"
    assert "not forked (its environment differs from the zygote's in ['PYTHONHASHSEED'])" in err
    assert process.returncode == 3


def test_a_process_asked_with_other_interpreter_options_starts_as_a_new_interpreter(
    forking: zygote.Zygote,
) -> None:
    """Only `-u -c CODE` is forked (the zygote's check; the client asks whatever it is given): `-B -c` is
    exec'd as asked."""
    with _client(forking, "-B") as process:
        report = _report(process, "hello\n")
        _, err = process.communicate()
    assert report["pid"] == process.pid and not report["preimported"]
    assert "test process not forked (not `-u -c CODE`: ['-B', '-c'])" in err
    assert process.returncode == 3
    _forks_on(forking)


def test_without_a_zygote_the_test_process_starts_as_a_new_interpreter(forking: zygote.Zygote) -> None:
    forking.process.kill()
    forking.process.wait()
    with _client(forking) as process:
        report = _report(process, "hello\n")
        _, err = process.communicate()
    assert report["pid"] == process.pid and not report["preimported"]
    assert f"test process not forked (the zygote at {forking.address}: " in err
    assert process.returncode == 3


def test_this_test_process_was_forked_by_the_runs_zygote(pytestconfig: pytest.Config) -> None:
    """The run's own test processes are forks, unless there is no zygote to fork them."""
    if "PYTEST_XDIST_WORKER" not in os.environ or not zygote.usable(pytestconfig):
        pytest.skip("not a test process xdist started with a zygote")
    parent = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().decode().split("\0")
    assert parent[4] == zygote.ZYGOTE_MARK
    assert sys.orig_argv[1:3] == ["-u", "-c"]
    assert set(zygote.PREIMPORTED) <= set(sys.modules)
    assert {"tests.conftest", __name__} <= set(zygote.imported_for_collection)  # found imported: collected


def test_a_client_that_died_after_asking_is_refused_and_the_zygote_forks_on(forking: zygote.Zygote) -> None:
    """Its pid gone before the zygote looked at it: that request is dropped, not every test process (the
    zygote used to end on the `ProcessLookupError`, killing all it had forked)."""
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    request = {
        "arguments": ["-u", "-c", "pass"],
        "env": _environment(),
        "cwd": os.getcwd(),
        "pid": dead.pid,
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as asking:
        asking.connect(forking.address)
        socket.send_fds(asking, [json.dumps(request).encode()], [0, 1, 2])
        asking.settimeout(60)
        assert json.loads(asking.recv(forkserver.MESSAGE_BYTES)) == {"refused": "the client has gone"}
    _forks_on(forking)


def test_a_second_request_on_one_connection_is_refused_and_the_first_process_answers_on_it(
    forking: zygote.Zygote,
) -> None:
    """A connection carries one process's answer and exit status: a second child asked on it would have its
    status lost when the first's reaping closes the connection, and be killed by whoever reused its number."""
    request = {
        "arguments": ["-u", "-c", "import sys; sys.stdin.read()"],
        "env": _environment(),
        "cwd": os.getcwd(),
        "pid": os.getpid(),
    }
    stdin_read, stdin_write = os.pipe()
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as asking:
        asking.connect(forking.address)
        asking.settimeout(60)
        socket.send_fds(asking, [json.dumps(request).encode()], [stdin_read, 1, 2])
        _, pidfds, _, _ = socket.recv_fds(asking, forkserver.MESSAGE_BYTES, 1)
        socket.send_fds(asking, [json.dumps(request).encode()], [stdin_read, 1, 2])
        refused = json.loads(asking.recv(forkserver.MESSAGE_BYTES))
        os.close(stdin_read)
        os.close(stdin_write)
        assert json.loads(asking.recv(forkserver.MESSAGE_BYTES))["returncode"] == 0
    assert refused == {"refused": "one process a connection: ask on a new one"}
    os.close(pidfds[0])
    _forks_on(forking)


def test_a_test_process_and_its_client_ending_together_leave_the_zygote_serving(
    forking: zygote.Zygote,
) -> None:
    """Both ends seen in one wake-up: handling the test process's end closes the client's connection, whose
    number the rest of that wake-up's list still held (the zygote took it for a new client and blocked in
    `accept`; its controller's end then waited 60 s for it)."""
    with _client(forking) as process:
        child = _report(process, "wait\n")["pid"]
        pidfd = os.pidfd_open(child)
        os.kill(forking.process.pid, signal.SIGSTOP)  # until both have ended
        try:
            assert process.stdin is not None
            process.stdin.close()  # the test process reads to the end of its stdin, then exits
            assert select.select([pidfd], [], [], 60)[0]
            process.kill()
            process.wait()
        finally:
            os.kill(forking.process.pid, signal.SIGCONT)
            os.close(pidfd)
    forking.stop()
    assert forking.process.returncode == 0


SAMPLE = {
    "__init__.py": "",
    "conftest.py": 'pytest_plugins = ["sample.plugin"]\n',
    "plugin.py": "import pytest\n\n\n@pytest.fixture\ndef answer():\n    return 42\n",
    "test_one.py": "def test_answer(answer):\n    assert answer == 42\n",
    "test_two.py": "import pytest\n\n\n@pytest.mark.parametrize('n', [1, 2])\ndef test_n(n):\n    assert n\n",
}
"""A test folder as the suite's: a package, a conftest naming a plugin (rewritten, as pytest marks it)."""
COLLECTS = """
import json, sys
import pytest

before = sorted(name for name in sys.modules if name.startswith("sample"))


class Report:
    def pytest_collection_finish(self, session):
        modules = {
            name: [module.__file__, "@py_builtins" in vars(module), type(module.__loader__).__name__]
            for name, module in sorted(sys.modules.items())
            if name.startswith("sample")
        }
        conftests = sorted(
            plugin.__file__ for plugin in session.config.pluginmanager.get_plugins()
            if getattr(plugin, "__file__", "").endswith("conftest.py")
        )
        with open(sys.argv[1], "w") as report:
            json.dump({
                "before": before,
                "modules": modules,
                "items": [item.nodeid for item in session.items],
                "theirs": all(item.module is sys.modules[item.module.__name__] for item in session.items),
                "conftests": conftests,
                "path": sys.path,
            }, report)


arguments = ["-p", "no:xdist", "-p", "no:cacheprovider", "--collect-only", sys.argv[2]]
sys.exit(pytest.main(arguments, plugins=[Report()]))
"""
"""A collection in a test process's stead, reporting what it imported."""


def test_a_forked_test_process_collects_the_modules_a_new_interpreter_would_import(tmp_path: Path) -> None:
    """The zygote imported the test modules, rewritten, under their names: the forked process's collection
    takes them, and finds what a new interpreter's collection makes itself."""
    folder = tmp_path / "sample"
    folder.mkdir()
    for name, source in SAMPLE.items():
        (folder / name).write_text(source)
    started = zygote.start(
        (),
        collected=[folder / "conftest.py", folder / "test_one.py", folder / "test_two.py"],
        env=_environment(),
    )
    reports = {}
    try:
        for way, command in (("forked", started.client()), ("execed", [sys.executable])):
            report = tmp_path / way
            subprocess.run(
                [*command, "-u", "-c", COLLECTS, str(report), str(folder)],
                env=_environment(),
                stdout=subprocess.DEVNULL,
                check=True,
                timeout=120,
            )
            reports[way] = json.loads(report.read_text())
    finally:
        started.stop()
    forked, execed = reports["forked"], reports["execed"]
    assert forked["before"] == [
        "sample",
        "sample.conftest",
        "sample.plugin",
        "sample.test_one",
        "sample.test_two",
    ]
    assert execed["before"] == []
    assert forked["modules"]["sample.test_one"][1:] == [True, "AssertionRewritingHook"]
    assert forked["modules"]["sample.plugin"][1:] == [True, "AssertionRewritingHook"]
    assert len(forked["items"]) == 3 and forked["theirs"]
    del forked["before"], execed["before"]
    assert forked == execed


BROKEN = {
    "test_missing.py": "import not_a_module_at_all\n",
    "test_skipped.py": "import pytest\n\npytest.skip('not here', allow_module_level=True)\n",
    "test_warns.py": "import warnings\n\nwarnings.warn('at import')\n\n\ndef test_it():\n    pass\n",
}
"""Test modules the zygote cannot import: an ImportError, a module-level skip, a warning at import (an error
in the zygote, a recorded warning in a collection)."""


def test_a_test_module_the_zygote_cannot_import_is_left_to_the_test_processes_to_report(
    tmp_path: Path,
) -> None:
    """Each is skipped by the zygote (it used to end it, every test process then exec'd), imported by the
    forked process's collection, which reports it as a new interpreter's does."""
    folder = tmp_path / "sample"
    folder.mkdir()
    for name, source in {**SAMPLE, **BROKEN}.items():
        (folder / name).write_text(source)
    started = zygote.start(
        (),
        collected=[
            folder / "conftest.py",
            *(folder / name for name in sorted(BROKEN)),
            folder / "test_one.py",
        ],
        env=_environment(),
    )
    reports = {}
    try:
        for way, command in (("forked", started.client()), ("execed", [sys.executable])):
            report = tmp_path / way
            collecting = subprocess.run(
                [*command, "-u", "-c", COLLECTS, str(report), str(folder)],
                env=_environment(),
                capture_output=True,
                text=True,
                timeout=120,
            )
            reports[way] = {**json.loads(report.read_text()), "returncode": collecting.returncode}
            assert "not forked" not in collecting.stderr
            assert "collected 4 items / 1 error / 1 skipped" in collecting.stdout
            assert "test_warns.py:3: UserWarning: at import" in collecting.stdout
    finally:
        started.stop()
    forked, execed = reports["forked"], reports["execed"]
    assert forked["before"] == ["sample", "sample.conftest", "sample.plugin", "sample.test_one"]
    assert forked["returncode"] == pytest.ExitCode.INTERRUPTED
    del forked["before"], execed["before"]
    assert forked == execed


def test_a_plugin_the_zygote_cannot_import_is_left_to_the_test_processes_to_report(tmp_path: Path) -> None:
    """A conftest naming a plugin that fails to import ended the zygote (each test process then exec'd); now
    the forked process's collection meets the error itself, as a new interpreter's does."""
    folder = tmp_path / "sample"
    folder.mkdir()
    for name, source in {**SAMPLE, "conftest.py": 'pytest_plugins = ["sample.not_there"]\n'}.items():
        (folder / name).write_text(source)
    started = zygote.start((), collected=[folder / "conftest.py", folder / "test_one.py"], env=_environment())
    try:
        collecting = subprocess.run(
            [*started.client(), "-u", "-c", COLLECTS, str(tmp_path / "forked"), str(folder)],
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "not forked" not in collecting.stderr
        assert "No module named 'sample.not_there'" in collecting.stdout + collecting.stderr
        assert started.process.poll() is None  # the zygote forks on for the run's other test processes
    finally:
        started.stop()
