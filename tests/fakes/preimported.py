"""Processes the tests start without paying Python's imports each time: a pre-imported launcher.

Starting `aadbot serve` costs about 0.8 s of CPU, most of it importing (SQLAlchemy, SQLModel's tables, Slack's
and Teams' libraries, uvicorn): the same modules in every process a test starts. The launcher is started once
per test process, as `python -m tests.fakes.preimported`, imports what those processes import, and then forks
one child for each `launch(...)`. The child is a real process on real sockets: it takes the command's
environment whole, its working directory and its standard streams, and runs the module's `main()` as
`python -m MODULE ARGS` would run it, ending through the interpreter's own exit (atexit, threads joined,
logging flushed). What it does not repeat is the interpreter's start and the imports; what that changes
(the hash seed shared by the launcher's children, `__main__` being this module, `sys.orig_argv`, modules
imported that the command alone would not import) is listed in docs/testing.md, session 22. A command
whose environment changes anything read before it runs is refused (`SETTINGS_READ_WHEN_RUN`).

The launcher is single-threaded and changes no signal disposition: it waits on its control socket and on
one pidfd per child (Linux; elsewhere `launch` is not available and the harnesses exec). When the test
process goes (end of file on the control socket), it kills its children and reaps them before it exits.
The test process waits for the launcher at its exit, so that the children's CPU counts in its own, as a
child's does when `subprocess` reaps it.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

PREIMPORTED = (
    "bot.cli",
    "bot.commands",
    "bot.serve",
    "bot.runtime",
    "bot.slack.app",
    "bot.slack.envelopes",
    "bot.slack.http",
    "bot.slack.people",
    "bot.slack.sender",
    "bot.slack.serve",
    "bot.slack.state",
    "bot.teams.auth",
    "bot.teams.delivery",
    "bot.teams.surface",
    "bot.web_server",
    "slack_bolt.adapter.socket_mode.async_handler",
    "slack_sdk.socket_mode.aiohttp",
    "starlette.applications",
    "uvicorn",
    "uvicorn.lifespan.on",
    "uvicorn.lifespan.off",
    "uvicorn.loops.asyncio",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.protocols.websockets.auto",
    "httpcore",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "bench.teams_notify_benchmark",
)
"""What `aadbot serve` imports in each mode (Slack over HTTP or Socket Mode, Teams, both) once it runs, and
the Teams sending processes of tests/teams/test_teams_shared_rate.py. Not Alembic (with Mako and Pygments):
only a `serve` on a new database migrates it, and that one execs (`serve_over_http`). None of them starts a
thread or opens a connection when imported (docs/testing.md, session 22): that would differ between a fork
and an exec."""
SETTINGS_READ_WHEN_RUN = ("SLACK_", "TEAMS_", "AZURE_", "AADBOT_", "PYTEST_CURRENT_TEST")
"""The only variables a command's environment may change from the test process's: the product reads them
when it runs, never on import (and pytest names the test under way in the last). Any other would reach a
forked child too late: `PYTHON*` and the locale are read at the interpreter's start, `HOME` by msapi on
import, the libraries' switches by aiohttp, pydantic, yarl... on import. A command that changes one needs a
real `subprocess.Popen`."""
AVAILABLE = hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")
MESSAGE_BYTES = 1 << 20
START_SECONDS = 60.0
"""How long the launcher may take to fork a child, or to end at the test process's exit: generous, on a
busy machine (its children are killed first)."""


class Process(Protocol):
    """What the harnesses use of `subprocess.Popen`; a `Launched` process has it too."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | Any: ...

    @property
    def stdout(self) -> IO[str] | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...

    def __enter__(self) -> Process: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None: ...


def start(
    command: Sequence[str],
    *,
    execs: bool = False,
    env: Mapping[str, str],
    cwd: Path,
    stdout: int | IO[Any] | None = None,
    stderr: IO[Any] | None = None,
) -> Process:
    """`command` (`python -m MODULE ARGS`) started as `subprocess.Popen(..., text=True)` starts it: exec'd
    for real when `execs` (or where the launcher is not available), else forked by the launcher."""
    if execs or not AVAILABLE:
        return subprocess.Popen(
            list(command), env=dict(env), cwd=cwd, stdout=stdout, stderr=stderr, text=True
        )
    return launch(command, env=env, cwd=cwd, stdout=stdout, stderr=stderr)


class Launched:
    """A process the launcher forked, seen as `subprocess.Popen` shows one: its exit status comes from the
    launcher (which reaps it) over a socket of its own."""

    def __init__(self, args: list[str], pid: int, reply: socket.socket, stdout: IO[str] | None) -> None:
        self.args = args
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self.cpu_seconds: float | None = None
        """User and system CPU, from the launcher's `wait4`, once it has ended."""
        self._reply = reply

    def poll(self) -> int | None:
        if self.returncode is None:
            self._reply.setblocking(False)
            with suppress(BlockingIOError):  # not ended yet
                self._ended(self._reply.recv(MESSAGE_BYTES))
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._reply.settimeout(timeout)
            try:
                self._ended(self._reply.recv(MESSAGE_BYTES))
            except TimeoutError:
                raise subprocess.TimeoutExpired(self.args, timeout or 0) from None
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # as `Popen`: never a signal to a process known to have ended
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def __enter__(self) -> Launched:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.stdout is not None:
            self.stdout.close()
        try:
            self.wait()
        finally:
            self._reply.close()

    def _ended(self, message: bytes) -> None:
        if not message:
            raise RuntimeError(f"the launcher ended before process {self.pid}: {_launcher_status()}")
        ended = json.loads(message)
        self.returncode = int(ended["returncode"])
        self.cpu_seconds = float(ended["cpu_seconds"])


def launch(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdout: int | IO[Any] | None = None,
    stderr: IO[Any] | None = None,
) -> Launched:
    """`python -m MODULE ARGS` forked by this test process's launcher (started at the first call). `stdout`:
    None (this process's), `subprocess.PIPE` (read as text) or a file; `stderr`: None or a file."""
    if list(command[:2]) != [sys.executable, "-m"]:
        raise ValueError(f"not `python -m MODULE ...`: {command}")
    control, launcher_environment = _launcher()
    differing = _fixed_at_start(env).symmetric_difference(_fixed_at_start(launcher_environment))
    if differing:
        raise ValueError(f"read before a forked process runs, so not for one: {sorted(differing)}")
    read_end: int | None = None
    if stdout == subprocess.PIPE:
        read_end, write_end = os.pipe()
        out = write_end
    else:
        out = _fileno(stdout, 1)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    request = {"command": list(command), "env": dict(env), "cwd": str(cwd)}
    try:
        try:
            streams = [theirs.fileno(), 0, out, _fileno(stderr, 2)]
            socket.send_fds(control, [json.dumps(request).encode()], streams)
        finally:
            theirs.close()
            if read_end is not None:
                os.close(out)
        ours.settimeout(START_SECONDS)  # a launcher that hangs fails the test instead of the whole run
        started = ours.recv(MESSAGE_BYTES)
        ours.settimeout(None)
        if not started:
            raise ConnectionError("it closed the process's socket")
    except OSError as error:  # a launcher that died or hangs: say so, not a bare broken pipe or timeout
        ours.close()
        if read_end is not None:
            os.close(read_end)
        raise RuntimeError(f"the launcher did not start {command} ({error}): {_launcher_status()}") from None
    reader = open(read_end, encoding=None) if read_end is not None else None  # noqa: SIM115 (closed on exit)
    return Launched(list(command), int(json.loads(started)["pid"]), ours, reader)


@dataclass
class _Running:
    launcher: subprocess.Popen[bytes]
    control: socket.socket
    environment: dict[str, str]
    """The test process's, which the launcher started with."""


_running: _Running | None = None


def _launcher() -> tuple[socket.socket, dict[str, str]]:
    """The control socket of this test process's launcher, started at the first call, and its environment."""
    global _running
    if _running is None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        root = Path(__file__).resolve().parents[2]
        launcher = subprocess.Popen(
            [sys.executable, "-m", __name__, str(theirs.fileno())],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=[theirs.fileno()],
        )
        theirs.close()
        _running = _Running(launcher, ours, dict(os.environ))
        atexit.register(_stop_launcher)
    return _running.control, _running.environment


def _stop_launcher() -> None:
    """At the test process's exit: the launcher kills what is left of its children, and is reaped."""
    if _running is not None:
        _running.control.close()
        try:
            _running.launcher.wait(timeout=START_SECONDS)
        except subprocess.TimeoutExpired:  # never a test process that cannot end because of it
            _running.launcher.kill()
            _running.launcher.wait()


def _launcher_status() -> str:
    code = _running.launcher.poll() if _running is not None else None
    return "still running" if code is None else f"exited with {code}"


def _fixed_at_start(env: Mapping[str, str]) -> set[tuple[str, str]]:
    return {(name, value) for name, value in env.items() if not name.startswith(SETTINGS_READ_WHEN_RUN)}


def _fileno(stream: int | IO[Any] | None, inherited: int) -> int:
    if stream is None:
        return inherited
    return stream if isinstance(stream, int) else stream.fileno()


# The launcher's side: everything below runs in the launcher process, or in a child it forked.


@dataclass
class _Request:
    """What a child is to run, and where its standard streams go."""

    command: list[str]
    env: dict[str, str]
    cwd: str
    streams: list[int]
    """stdin, stdout and stderr."""

    def run(self) -> Any:
        """In the forked child: the command's environment, directory and streams, then its module's `main()`,
        whose result `sys.exit` takes, as the console script's does."""
        os.environ.clear()
        os.environ.update(self.env)
        sys.dont_write_bytecode = bool(sys.flags.dont_write_bytecode)  # tests/__init__.py's change undone
        os.chdir(self.cwd)
        sys.path[0] = os.getcwd()  # as `python -m` puts it
        for target, stream in enumerate(self.streams):
            os.dup2(stream, target)
        for stream in set(self.streams) - {0, 1, 2}:
            os.close(stream)
        module = importlib.import_module(self.command[2])
        sys.argv = [str(module.__file__), *self.command[3:]]
        return module.main()


@dataclass
class _Child:
    pid: int
    pidfd: int
    reply: socket.socket


def _serve(control: socket.socket) -> _Request | None:
    """The launcher's loop: forks a child for each request and tells the test process its pid, then its exit
    status. Returns None in the launcher once the test process has gone; returns the request in each child."""
    children: dict[int, _Child] = {}  # by pidfd
    try:
        while True:
            readable, _, _ = select.select([control.fileno(), *children], [], [])
            for ready in readable:
                if ready != control.fileno():
                    _reap(children.pop(ready))
                    continue
                message, streams, _, _ = socket.recv_fds(control, MESSAGE_BYTES, 4)
                if not message:  # the test process has gone: so do its children
                    _end_all(children)
                    return None
                request = json.loads(message)
                reply = socket.socket(fileno=streams[0])
                pid = os.fork()
                if pid == 0:
                    control.close()
                    reply.close()
                    for child in children.values():
                        child.reply.close()
                        os.close(child.pidfd)
                    return _Request(request["command"], request["env"], request["cwd"], streams[1:])
                for stream in streams[1:]:
                    os.close(stream)
                pidfd = os.pidfd_open(pid)
                children[pidfd] = _Child(pid, pidfd, reply)
                reply.send(json.dumps({"pid": pid}).encode())
    except BaseException:
        _end_all(children)
        raise


def _reap(child: _Child) -> None:
    _, status, usage = os.wait4(child.pid, 0)
    ended = {"returncode": os.waitstatus_to_exitcode(status), "cpu_seconds": usage.ru_utime + usage.ru_stime}
    with suppress(OSError):  # nobody waits for it any more
        child.reply.send(json.dumps(ended).encode())
    child.reply.close()
    os.close(child.pidfd)


def _end_all(children: dict[int, _Child]) -> None:
    for child in children.values():
        signal.pidfd_send_signal(child.pidfd, signal.SIGKILL)
    for child in children.values():
        _reap(child)


def _preimport() -> None:
    """Imports as `serve` does at its start, with the collector off, then keeps what it made out of every
    later collection (bot/start_up.py): the children start with it frozen, as `serve` freezes its own."""
    gc.disable()
    for module in PREIMPORTED:
        importlib.import_module(module)
    gc.freeze()
    gc.enable()
    assert threading.active_count() == 1, f"importing started threads: {threading.enumerate()}"


if __name__ == "__main__":
    _preimport()
    forked = _serve(socket.socket(fileno=int(sys.argv[1])))
    if forked is not None:
        sys.exit(forked.run())
