"""What the suite's two fork servers share: the zygote that forks xdist's test processes (tests/zygote.py) and
the launcher that forks `aadbot serve` processes (tests/fakes/preimported.py).

Each is a single-threaded process that imports once, freezes what it made out of the garbage collector's
reach, then forks a child per request: the child takes the request's standard streams, environment and
directory, and runs it. The server watches one pidfd per child, reaps it and sends its exit status to whoever
asked; when its owner goes (end of file on a descriptor only the owner holds), it kills and reaps them all
and removes its socket (`leave`). Linux only (pidfds, `SOCK_SEQPACKET`, file descriptors over Unix sockets).
Standard library only: the zygote imports this before pytest has started.
"""

from __future__ import annotations

import gc
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

AVAILABLE = sys.platform == "linux" and hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")
MESSAGE_BYTES = 1 << 20
SHORT_TEMPORARY_FOLDER = "/tmp"
"""Where a server's Unix socket's folder is made, whatever TMPDIR says: a socket's path is at most 107 bytes,
and a long TMPDIR (a CI's work folder) failed every run with `AF_UNIX path too long`."""
STOP_SECONDS = 60.0
"""How long a server may take to end at its owner's end: generous, on a busy machine (its children are
killed first)."""


@dataclass
class Child:
    pid: int
    pidfd: int
    reply: socket.socket | None
    """Where its exit status goes: None once nobody waits for it."""
    asker: int
    """The descriptor of the connection it was forked for, whose end ends it."""


@dataclass
class Request:
    """What a child is to run: its command, environment, directory and standard streams."""

    command: list[str]
    env: dict[str, str]
    cwd: str
    streams: list[int]
    """stdin, stdout and stderr."""

    def take(self) -> None:
        """In the forked child: the request's streams, environment and directory become the process's."""
        for target, stream in enumerate(self.streams):
            os.dup2(stream, target)
        for stream in set(self.streams) - {0, 1, 2}:
            os.close(stream)
        os.environ.clear()
        os.environ.update(self.env)
        os.chdir(self.cwd)


@dataclass
class Server:
    """A fork server this process started: it listens at `directory / "socket"` until `stop`."""

    process: subprocess.Popen[bytes]
    directory: Path
    """Private to this user (`mkdtemp`): only its processes may ask the server for a child."""
    owner: socket.socket
    """End of file on it (`stop`, or this process's death however) ends the server and its children."""
    pid: int
    """This process's: a process forked from it owns nothing."""

    @property
    def address(self) -> str:
        return str(self.directory / "socket")

    def stop(self) -> None:
        """The server kills what is left of its children, removes its socket and is reaped here (their CPU
        with it, as a child's counts when `subprocess` reaps it)."""
        if os.getpid() != self.pid or self.owner.fileno() == -1:
            return
        self.owner.close()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:  # never a run that cannot end because of it
            self.process.kill()
            self.process.wait()
        _remove(Path(self.address))  # the server's to remove, unless it died before


S = TypeVar("S", bound=Server)


def start(command: Callable[[int, int], list[str]], prefix: str, kind: type[S], **popen: Any) -> S:
    """The server `command(owner's descriptor, listener's descriptor)`, as a `kind` of `Server`, listening in
    a new folder of `SHORT_TEMPORARY_FOLDER`: the clients that connect before it accepts wait in its
    backlog."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=SHORT_TEMPORARY_FOLDER))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        listener.bind(str(folder / "socket"))
        listener.listen(64)
        process = subprocess.Popen(
            command(theirs.fileno(), listener.fileno()),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(), listener.fileno()),
            **popen,
        )
    except BaseException:
        ours.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        theirs.close()
        listener.close()  # the server's only: if it dies, a client is refused instead of waiting forever
    return kind(process, folder, ours, os.getpid())


def next_ready(owner: int, others: Iterable[int]) -> int:
    """The next descriptor to handle, the owner's first. One a turn: handling one may close descriptors or
    open new ones under the same numbers, which the rest of a `select`'s list would then misname (a test
    process and its client ending together: the client's closed number taken for the listener left the
    zygote blocked in `accept`)."""
    readable, _, _ = select.select([owner, *others], [], [])
    return owner if owner in readable else readable[0]


def fork(held: Iterable[socket.socket | int], children: Iterable[Child]) -> int:
    """`os.fork()`, the child closing what the server holds: `held`, and its other children's pidfds and
    connections."""
    assert threading.active_count() == 1, f"the server has threads: {threading.enumerate()}"
    pid = os.fork()
    if pid == 0:
        for descriptor in held:
            if isinstance(descriptor, socket.socket):
                descriptor.close()
            else:
                os.close(descriptor)
        for child in children:
            os.close(child.pidfd)
            if child.reply is not None:
                child.reply.close()
    return pid


def reap(child: Child) -> None:
    """Waits for `child` (ended or killed) and tells whoever waits its exit status and CPU."""
    _, status, usage = os.wait4(child.pid, 0)
    ended = {"returncode": os.waitstatus_to_exitcode(status), "cpu_seconds": usage.ru_utime + usage.ru_stime}
    if child.reply is not None:
        with suppress(OSError):  # nobody waits for it any more
            child.reply.send(json.dumps(ended).encode())
        child.reply.close()
    os.close(child.pidfd)


def end_all(children: Iterable[Child]) -> None:
    ending = list(children)
    for child in ending:
        signal.pidfd_send_signal(child.pidfd, signal.SIGKILL)
    for child in ending:
        reap(child)


def leave(listening: socket.socket) -> None:
    """In the server, at its owner's end: its socket and folder go, as `stop` removes them, whether or not the
    owner lived to call it (killed, `os._exit`, a SIGTERM without atexit)."""
    _remove(Path(listening.getsockname()))


def _remove(address: Path) -> None:
    """A server's socket and its folder, unless the other of `stop` and `leave` was first."""
    with suppress(FileNotFoundError):
        address.unlink()
        address.parent.rmdir()


def preimport(load: Callable[[], None]) -> None:
    """Runs `load` (the server's imports) with the collector off, then keeps what it made out of every later
    collection: the children start with it frozen. No import may start a thread (a fork would not have it)
    nor leave a file or a connection open (every child would share it)."""
    opened = set(os.listdir("/proc/self/fd"))
    gc.disable()
    load()
    gc.freeze()
    gc.enable()
    assert threading.active_count() == 1, f"importing started threads: {threading.enumerate()}"
    left = {os.readlink(f"/proc/self/fd/{fd}") for fd in set(os.listdir("/proc/self/fd")) - opened}
    assert not left, f"importing left descriptors open: {left}"
