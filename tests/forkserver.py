"""What the suite's two fork servers share: the zygote that forks xdist's test processes (tests/zygote.py) and
the launcher that forks `aadbot serve` processes (tests/fakes/preimported.py).

Each is a single-threaded process that imports once, freezes what it made out of the garbage collector's
reach, then forks a child per request: the child takes the request's standard streams, environment and
directory, and runs it. The server watches one pidfd per child, reaps it and sends its exit status to whoever
asked; when its owner goes (end of file on a descriptor only the owner holds), it kills and reaps them all
and removes its socket (`Serving`, whose loop both run). Linux only (pidfds, `SOCK_SEQPACKET`, file
descriptors over Unix sockets). Standard library only: the zygote imports this before pytest has started.
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
    reply: socket.socket
    """Where its exit status goes."""
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

    def close(self) -> None:
        """In the server: the streams are the child's (forked) or nobody's (refused)."""
        for stream in self.streams:
            os.close(stream)


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


class Serving:
    """A fork server's loop over its owner's socket, its listening socket, its clients' connections and one
    pidfd per child; a server says what a new connection gets (`accepted`) and what a request is
    (`asked`)."""

    streams = 3
    """How many descriptors a request brings."""

    def __init__(self, owner: int, listener: int) -> None:
        self.owner = owner
        self.listening = socket.socket(fileno=listener)
        self.children: dict[int, Child] = {}
        """By pidfd."""
        self.clients: dict[int, socket.socket] = {}
        """The connections it reads requests from, by descriptor: one whose end ends its children."""

    def accepted(self, connection: socket.socket) -> bool:
        """Whether `connection` is kept as a client, once accepted."""
        return True

    def asked(self, connection: socket.socket, message: bytes, streams: list[int]) -> Request | None:
        """Answers a client's request, forking (`fork`) or not: the request in the child, None here."""
        raise NotImplementedError

    def serve(self) -> Request | None:
        """Forks a child for each request until its owner goes; then the children are killed and reaped,
        its socket removed (`_leave`), and None returned. In each child it forks, the child's request."""
        server = os.getpid()
        try:
            while True:
                ready = _next_ready(self.owner, [self.listening.fileno(), *self.clients, *self.children])
                if ready == self.owner:  # the run has ended, or its first process is gone: so do they all
                    end_all(self.children.values())
                    _leave(self.listening)
                    return None
                if ready in self.children:
                    self._reap(self.children.pop(ready))
                elif ready in self.clients:
                    forked = self._read(ready)
                    if forked is not None:
                        return forked
                else:
                    connection, _ = self.listening.accept()
                    if self.accepted(connection):
                        self.clients[connection.fileno()] = connection
                    else:
                        connection.close()
        except BaseException:
            if os.getpid() == server:  # never a forked child killing the server's others
                end_all(self.children.values())
            raise

    def fork(self, request: Request, reply: socket.socket, asker: socket.socket) -> Child | None:
        """`os.fork()` for `request`: None in the child, which has closed what the server holds but the
        request's streams; here, the child, watched, its exit status to go to `reply` and its end to come
        with `asker`'s."""
        assert threading.active_count() == 1, f"the server has threads: {threading.enumerate()}"
        pid = os.fork()
        if pid == 0:
            os.close(self.owner)
            for held in (self.listening, reply, *self.clients.values()):
                held.close()
            for child in self.children.values():
                os.close(child.pidfd)
                child.reply.close()
            return None
        request.close()
        child = Child(pid, os.pidfd_open(pid), reply, asker.fileno())
        self.children[child.pidfd] = child
        return child

    def drop(self, connection: socket.socket) -> None:
        """A client that is to ask nothing more: its connection is closed and no longer watched."""
        self.clients.pop(connection.fileno(), None)
        connection.close()

    def _read(self, descriptor: int) -> Request | None:
        connection = self.clients[descriptor]
        try:
            message, streams, _, _ = socket.recv_fds(connection, MESSAGE_BYTES, self.streams)
        except OSError:  # reset by a client that died: gone, as at the end of file
            message, streams = b"", []
        if message:
            return self.asked(connection, message, streams)
        # that client has gone (killed, or its process ended): so do the children started for it
        gone = [pidfd for pidfd, child in self.children.items() if child.asker == descriptor]
        end_all([self.children.pop(pidfd) for pidfd in gone])
        del self.clients[descriptor]
        connection.close()
        return None

    def _reap(self, child: Child) -> None:
        if self.clients.get(child.asker) is child.reply:
            del self.clients[child.asker]  # a connection that was its child's alone goes with it
        reap(child)


def _next_ready(owner: int, others: Iterable[int]) -> int:
    """The next descriptor to handle, the owner's first. One a turn: handling one may close descriptors or
    open new ones under the same numbers, which the rest of a `select`'s list would then misname (a test
    process and its client ending together: the client's closed number taken for the listener left the
    zygote blocked in `accept`)."""
    readable, _, _ = select.select([owner, *others], [], [])
    return owner if owner in readable else readable[0]


def reap(child: Child) -> None:
    """Waits for `child` (ended or killed) and tells whoever waits its exit status and CPU."""
    _, status, usage = os.wait4(child.pid, 0)
    ended = {"returncode": os.waitstatus_to_exitcode(status), "cpu_seconds": usage.ru_utime + usage.ru_stime}
    with suppress(OSError):  # nobody waits for it any more (its client killed)
        child.reply.send(json.dumps(ended).encode())
    child.reply.close()
    os.close(child.pidfd)


def end_all(children: Iterable[Child]) -> None:
    ending = list(children)
    for child in ending:
        signal.pidfd_send_signal(child.pidfd, signal.SIGKILL)
    for child in ending:
        reap(child)


def _leave(listening: socket.socket) -> None:
    """In the server, at its owner's end: its socket and folder go, as `stop` removes them, whether or not the
    owner lived to call it (killed, `os._exit`, a SIGTERM without atexit)."""
    _remove(Path(listening.getsockname()))


def _remove(address: Path) -> None:
    """A server's socket and its folder, unless the other of `stop` and `_leave` was first."""
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
