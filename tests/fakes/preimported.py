"""Processes the tests start without paying Python's imports each time: a pre-imported launcher.

Starting `aadbot serve` costs about 0.8 s of CPU, most of it importing (SQLAlchemy, SQLModel's tables, Slack's
and Teams' libraries, uvicorn): the same modules in every process a test starts. One launcher serves the whole
run: the run's first process (pytest's own, or xdist's controller) starts it, as `python -m
tests.fakes.preimported`, listening on a Unix socket in a folder of /tmp that `LAUNCHER_VARIABLE` names to
the test processes it starts (tests/fakes/one_launcher.py). A test process connects at its first `launch`;
the launcher imports what those processes import at its first connection (a run that launches nothing pays
only an interpreter's start), and then forks one child for each `launch(...)`. The child is a real process on
real sockets: it takes the command's environment whole, its working directory and its standard streams, and
runs the module's `main()` as `python -m MODULE ARGS` would run it, ending through the interpreter's own exit
(atexit, threads joined, logging flushed). What it does not repeat is the interpreter's start and the imports;
what that changes (the hash seed shared by the launcher's children, `__main__` being this module,
`sys.orig_argv`, modules imported that the command alone would not import) is listed in docs/testing.md,
session 22. A command whose environment changes anything read before it runs is refused
(`SETTINGS_READ_WHEN_RUN`).

The launcher is a fork server as the zygote is (tests/forkserver.py): single-threaded, no signal disposition
changed; it waits on its listening socket, on one connection per test process, on its owner's socket and on
one pidfd per child (Linux; elsewhere `launch` is not available and the harnesses exec). When a test process
goes (end of file on its connection), the launcher kills the children started for it, and only those, and
reaps them. When its owner goes (end of file on the owner's socket: the run's end, or its first process
killed), it kills and reaps all its children and exits. The owner waits for the launcher at its end, so that
the children's CPU counts in its own, as a child's does when `subprocess` reaps it. A process that launches
outside such a run (no `LAUNCHER_VARIABLE`) starts a launcher of its own at its first `launch`, and owns it.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

from tests import forkserver

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
LAUNCHER_VARIABLE = "TESTS_PREIMPORTED_LAUNCHER"
"""The path of the run's launcher's socket, which the run's first process gives the test processes it starts
(tests/fakes/one_launcher.py); only `launch` reads it."""
SETTINGS_READ_WHEN_RUN = (
    "SLACK_",
    "TEAMS_",
    "AZURE_",
    "AADBOT_",
    "PYTEST_CURRENT_TEST",
    "PYTEST_XDIST_",
    LAUNCHER_VARIABLE,
)
"""The only variables a command's environment may change from the launcher's (with `TERMINAL_SIZE`): the
product reads them when it runs, never on import; pytest names the test under way in `PYTEST_CURRENT_TEST`
and xdist the test process in `PYTEST_XDIST_WORKER`..., which only pytest reads (the launcher has the
environment of the run's first process, without them); `LAUNCHER_VARIABLE` is set once the launcher runs.
Any other would reach a forked child too late: `PYTHON*` and the locale are read at the interpreter's
start, `HOME` by msapi on import, the libraries' switches by aiohttp, pydantic, yarl... on import. A command
that changes one needs a real `subprocess.Popen`."""
TERMINAL_SIZE = ("LINES", "COLUMNS")
"""Put into the C library's environment by readline, which pytest imports at its start: in the launcher's and
the test processes' (which inherit it), not in the `os.environ` of the process that imported it. Read only
when a program asks for the terminal's size (`shutil.get_terminal_size`, click), never before it runs."""
START_SECONDS = 60.0
"""How long a live launcher may take to answer a test process's connection (its imports, at the first, for
which the other test processes' requests wait) or to fork a child: generous, on a busy machine. Only a hung
launcher is waited for that long: one that has died has closed its sockets, and the test process learns it
at once (`_connect`, `launch`)."""


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
    if execs or not forkserver.AVAILABLE:
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
                self._ended(self._reply.recv(forkserver.MESSAGE_BYTES))
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._reply.settimeout(timeout)
            try:
                self._ended(self._reply.recv(forkserver.MESSAGE_BYTES))
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
    """`python -m MODULE ARGS` forked by the run's launcher (reached at the first call), or by this process's
    own outside a run that has one. `stdout`: None (this process's), `subprocess.PIPE` (read as text) or a
    file; `stderr`: None or a file."""
    if list(command[:2]) != [sys.executable, "-m"]:
        raise ValueError(f"not `python -m MODULE ...`: {command}")
    connection = _connected()
    control = connection.control
    differing = _fixed_at_start(env).symmetric_difference(_fixed_at_start(connection.environment))
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
        started = ours.recv(forkserver.MESSAGE_BYTES)
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
class _Connection:
    """This process's connection to a launcher."""

    control: socket.socket
    environment: dict[str, str]
    """The launcher's when it started (the run's first process's), which it imported under."""
    launcher_pidfd: int
    pid: int
    """This process's: a process forked from it has a copy of the socket, not a connection of its own."""


_connection: _Connection | None = None


def own(imports: Sequence[str] = PREIMPORTED) -> forkserver.Server:
    """A launcher of this process's, listening at its `address` (in a new folder of the system's), for this
    process and the processes given `LAUNCHER_VARIABLE` = that address. It imports `imports` at its first
    connection, and runs until this process ends it (`stop`) or ends."""
    return forkserver.start(
        lambda owner, listener: [sys.executable, "-m", __name__, str(owner), str(listener), *imports],
        "launcher-",
        forkserver.Server,
        cwd=Path(__file__).resolve().parents[2],
    )


def _connected() -> _Connection:
    """This process's connection to the run's launcher (`LAUNCHER_VARIABLE`), made at the first call; outside
    a run that has one, to a launcher of this process's own, started then and ended at its exit."""
    global _connection
    if _connection is not None and _connection.pid != os.getpid():
        _connection.control.close()  # the copy a fork inherited: the launcher knows its parent's children
        os.close(_connection.launcher_pidfd)
        _connection = None
    if _connection is None:
        path = os.environ.get(LAUNCHER_VARIABLE)
        if path is None:
            owned = own()
            atexit.register(owned.stop)
            path = owned.address
        _connection = _connect(Path(path))
        atexit.register(_disconnect)  # before `owned.stop` (last in, first out)
    return _connection


def _disconnect() -> None:
    """At this process's exit: the launcher ends the children started for it that are still running."""
    global _connection
    if _connection is not None:
        _connection.control.close()
        os.close(_connection.launcher_pidfd)
        _connection = None


def _connect(path: Path) -> _Connection:
    control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        control.settimeout(START_SECONDS)  # the launcher imports before it answers its first connection
        control.connect(str(path))
        hello = control.recv(forkserver.MESSAGE_BYTES)
        if not hello:
            raise ConnectionError("it closed the connection")
        said = json.loads(hello)
        pidfd = os.pidfd_open(said["pid"])
    except TimeoutError:
        control.close()
        raise RuntimeError(f"the launcher at {path} did not answer in {START_SECONDS:.0f} s") from None
    except OSError as error:  # refused, reset, or closed: nothing listens there any more
        control.close()
        raise RuntimeError(
            f"the launcher at {path} has ended ({error}): its error, if any, is on its starter's stderr"
        ) from None
    control.settimeout(None)
    return _Connection(control, said["environment"], pidfd, os.getpid())


def _launcher_status() -> str:
    if _connection is None:
        return "not connected"
    ended, _, _ = select.select([_connection.launcher_pidfd], [], [], 0)
    return "exited" if ended else "still running"


def _fixed_at_start(env: Mapping[str, str]) -> set[tuple[str, str]]:
    return {
        (name, value)
        for name, value in env.items()
        if not name.startswith(SETTINGS_READ_WHEN_RUN) and name not in TERMINAL_SIZE
    }


def _fileno(stream: int | IO[Any] | None, inherited: int) -> int:
    if stream is None:
        return inherited
    return stream if isinstance(stream, int) else stream.fileno()


# The launcher's side: everything below runs in the launcher process, or in a child it forked.


def _run(request: forkserver.Request) -> Any:
    """In the forked child: the command's environment, directory and streams, then its module's `main()`,
    whose result `sys.exit` takes, as the console script's does."""
    request.take()
    sys.dont_write_bytecode = bool(sys.flags.dont_write_bytecode)  # tests/__init__.py's change undone
    sys.path[0] = os.getcwd()  # as `python -m` puts it
    module = importlib.import_module(request.command[2])
    sys.argv = [str(module.__file__), *request.command[3:]]
    return module.main()


class _Launching(forkserver.Serving):
    """The launcher's loop: answers each test process's connection (importing at the first), forks a child
    for each of its requests and tells it the child's pid, then its exit status, over a socket of the
    child's own (the request's first descriptor)."""

    streams = 4

    def __init__(self, owner: int, listener: int, imports: Sequence[str]) -> None:
        super().__init__(owner, listener)
        self.imports: Sequence[str] | None = imports
        """Until the first connection: a run that launches nothing does without."""
        self.hello = json.dumps({"pid": os.getpid(), "environment": dict(os.environ)}).encode()

    def accepted(self, connection: socket.socket) -> bool:
        imports = self.imports
        if imports is not None:
            forkserver.preimport(lambda: _import(imports))
            self.imports = None
        try:
            connection.send(self.hello)
        except OSError:  # it left before its answer (timed out, killed): the others go on
            return False
        return True

    def asked(
        self, connection: socket.socket, message: bytes, streams: list[int]
    ) -> forkserver.Request | None:
        request = json.loads(message)
        reply = socket.socket(fileno=streams[0])
        forked = forkserver.Request(request["command"], request["env"], request["cwd"], streams[1:])
        child = self.fork(forked, reply, connection)
        if child is None:
            return forked
        with suppress(OSError):  # a test process gone meanwhile: its end of file comes next
            reply.send(json.dumps({"pid": child.pid}).encode())
        return None


def _import(imports: Sequence[str]) -> None:
    """As `serve` imports at its start, which then freezes what it made (bot/start_up.py), as the launcher
    does (`forkserver.preimport`)."""
    for module in imports:
        importlib.import_module(module)


if __name__ == "__main__":
    forked = _Launching(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]).serve()
    if forked is not None:
        sys.exit(_run(forked))
