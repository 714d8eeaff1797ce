"""`aadbot serve` as an operator starts it, in its own process, talking to the fake Slack over real sockets.

HTTP mode gets signed requests at `POST /slack/events`; Socket Mode gets envelopes over the WebSocket the
process opened itself after `apps.connections.open`. Either way the test holds one `Driver` with the
same three verbs, so one test checks both.

The process is forked by the test process's pre-imported launcher (tests/fakes/preimported.py): a real process
with the real settings, on real sockets, without paying the imports again (0.7 s of CPU a start). With
`execs=True` it is the real command instead (`python -m bot.cli serve`: the interpreter's start and every
import included), so that the entry an operator runs stays covered in each mode: over HTTP and in Socket
Mode by the shared `serve_over_http` and `serve_in_socket_mode` (tests/slack/conftest.py), Teams alone and
beside Slack by tests/teams/serving.py's; tests/test_start_up.py checks what the real entry imports. Failing
starts (`serve_until_it_exits`) fork too: what they check is the message and the exit status, which an exec
would only pay the imports again for (about 1 s of CPU each).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx

from bot.alongside import CANCELLED_SECONDS
from bot.settings import STOP_SECONDS
from bot.stopping import CLOSING_SECONDS
from tests.fakes.cli import Finished
from tests.fakes.preimported import Process, start
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_harness import ADMIN, BOT_TOKEN, CHANNEL, SIGNING_SECRET, SlackSender
from tests.fakes.socket_harness import APP_TOKEN, Acked, SocketModeSender
from tests.fakes.socket_mode import FakeSocketMode

if TYPE_CHECKING:
    from storage import OutboundMessage

Mode = Literal["http", "socket"]
MODES: tuple[Mode, ...] = ("http", "socket")
START_SECONDS = 60.0
"""Generous: the process imports everything and migrates its database, on a shared, busy machine."""
TEST_STOP_SECONDS = "3"
"""AADBOT_STOP_SECONDS of a `serve` whose test sets none: most do not test the stop's bound, and `serve`'s own
default (20 s) would make a stop that uses it outlast their waits. A test of the stop sets its own."""
SERVES_OWN_STOP = {"AADBOT_STOP_SECONDS": f"{STOP_SECONDS:g}"}
"""For a test of the stop itself: `serve`'s default bound, within which a send under way is let finish."""
STOP_MARGIN = 15.0
"""Past the longest a stop may take, for a shared, busy machine."""
NO_NEW_WORK_SECONDS = 30.0
"""Generous: told to stop, `serve` closes its Socket Mode link and stops listening first, at once."""
UNCLEAN = (
    "Traceback",
    "Task was destroyed but it is pending",
    "Task exception was never retrieved",
    "Event loop is closed",
    "still running when the time to stop was up",
    "exiting without them",
)
"""What a clean stop never leaves in the log."""


class Driver(Protocol):
    def command(self, text: str, *, user: str = ADMIN, channel: str = CHANNEL) -> Acked: ...

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_attempt: int = 0
    ) -> Acked: ...

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = ADMIN,
        channel: str | None = CHANNEL,
        home: bool = False,
    ) -> Acked: ...


@dataclass
class HttpDriver:
    """SlackSender's requests, answered as Acked like Socket Mode's acknowledgements."""

    send: SlackSender

    def command(self, text: str, *, user: str = ADMIN, channel: str = CHANNEL) -> Acked:
        return _acked(self.send.command(text, user=user, channel=channel))

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_attempt: int = 0) -> Acked:
        retry = {"x-slack-retry-num": str(retry_attempt), "x-slack-retry-reason": "timeout"}
        body = self.send.event_body(event, event_id=event_id)
        return _acked(self.send.post(body, "application/json", headers=retry if retry_attempt else None))

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = ADMIN,
        channel: str | None = CHANNEL,
        home: bool = False,
    ) -> Acked:
        return _acked(self.send.click(action_id, value, user=user, channel=channel, home=home))


@dataclass
class Served:
    mode: Mode
    process: Process
    log: Path
    """Everything the process wrote to stderr (its log)."""
    said: list[str]
    """Its first lines on stdout."""
    drive: Driver
    url: str | None
    """HTTP mode: where it listens."""
    database_url: str
    stop_seconds: float
    """Its AADBOT_STOP_SECONDS."""

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, number: signal.Signals = signal.SIGTERM) -> int:
        """Signals it as a service manager (SIGTERM) or an operator (SIGINT) does; its exit status."""
        self.process.send_signal(number)
        return self.ended()

    def ended(self) -> int:
        """Its exit status, once it ends after being told to stop (see `ended`)."""
        return ended(self.process, self.stop_seconds)

    def unclean(self) -> list[str]:
        """The lines of its log that a clean stop never leaves."""
        return [line for line in self.log_text().splitlines() if any(sign in line for sign in UNCLEAN)]

    def tracebacks(self) -> str:
        """Every traceback in the log with the lines before it, whole: `assert not served.tracebacks(), ...`
        shows what went wrong, where pytest would cut a long log short."""
        lines = self.log_text().splitlines()
        starts = [index for index, line in enumerate(lines) if line.startswith("Traceback")]
        return "\n...\n".join("\n".join(lines[max(0, start - 3) : start + 40]) for start in starts)


@dataclass
class ServedSlack:
    """A running `aadbot serve` with the fake Slack and the fake Socket Mode server it talks to."""

    served: Served
    fake: FakeSlack
    socket: FakeSocketMode
    opened_at_start: list[Call]
    """The `apps.connections.open` calls it made while starting (Socket Mode: exactly one)."""

    def taking_no_new_work(self) -> None:
        """Returns once `serve` has begun to stop: it no longer listens for HTTP (Slack's events, Teams'
        activities), and its Socket Mode link is closed (Slack sends the next requests to the other
        processes)."""
        if self.served.mode == "socket":
            self.socket.wait_closed(self.socket.links[-1], NO_NEW_WORK_SECONDS)
        if self.served.url is None:
            return
        deadline = time.monotonic() + NO_NEW_WORK_SECONDS
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.served.url}/healthz", timeout=1)
            except httpx.TransportError:
                return
            time.sleep(0.05)
        raise AssertionError(f"still listening {NO_NEW_WORK_SECONDS:g} s after the signal")


@contextmanager
def serve_with_fakes(
    mode: Mode,
    folder: Path,
    users: Mapping[str, tuple[str, str]],
    *,
    migrated: Path | None = None,
    environment: Mapping[str, str] | None = None,
    execs: bool = False,
) -> Iterator[ServedSlack]:
    """`serve_process` with a fake Slack knowing `users` and a fake Socket Mode server of its own."""
    fake = FakeSlack(users=dict(users))
    with ServerThread(fake.asgi()) as server, FakeSocketMode() as socket:
        fake.url = server.url
        with serve_process(
            mode, fake, folder, socket=socket, migrated=migrated, environment=environment, execs=execs
        ) as served:
            yield ServedSlack(served, fake, socket, fake.calls_of("apps.connections.open"))


@contextmanager
def serve_process(
    mode: Mode,
    fake: FakeSlack,
    folder: Path,
    *,
    socket: FakeSocketMode | None = None,
    environment: Mapping[str, str] | None = None,
    migrated: Path | None = None,
    execs: bool = False,
) -> Iterator[Served]:
    """Starts `aadbot serve --port 0` and waits until it says it serves; stops it afterwards.

    `migrated`: see `serve_database`. `execs`: the real command, not a fork of the launcher (see above)."""
    scenario = Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json"
    env = {name: value for name, value in os.environ.items() if not name.startswith(("SLACK_", "AADBOT_"))}
    env |= {
        "AADBOT_SANDBOX": str(scenario),
        "AADBOT_DATABASE_URL": serve_database(folder, migrated),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": f"{fake.url}/api/",
    }
    if mode == "socket":
        assert socket is not None, "Socket Mode needs the fake Socket Mode server"
        fake.socket_links = socket.open_link
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    env |= {"AADBOT_STOP_SECONDS": TEST_STOP_SECONDS, **(environment or {})}
    stop_seconds = float(env["AADBOT_STOP_SECONDS"])
    log = folder / f"serve-{mode}.log"
    links = len(socket.links) if socket is not None else 0
    with (
        log.open("w") as errors,
        start(
            [sys.executable, "-m", "bot.cli", "serve", "--port", "0"],
            execs=execs,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            cwd=folder,
        ) as process,
    ):
        lines = lines_of(process)
        try:
            said = [next_line(lines, process, log)]
            if mode == "socket":
                url = None
                if said[0].startswith("listening on http://"):  # Teams beside Slack: HTTP for /api/messages
                    url = said.pop().split()[-1]
                    said.append(next_line(lines, process, log))
                said.append(next_line(lines, process, log))
                assert said == ["connecting to Slack in Socket Mode", "connected to Slack in Socket Mode"], (
                    said
                )
                socket.wait_for_links(links + 1)  # Slack's side of the link is registered too
                driver: Driver = SocketModeSender(socket, fake)
                yield Served(mode, process, log, said, driver, url, env["AADBOT_DATABASE_URL"], stop_seconds)
            else:
                assert said[0].startswith("listening on http://127.0.0.1:"), said
                url = said[0].split()[-1]
                with httpx.Client(base_url=url, timeout=10) as http:
                    driver = HttpDriver(SlackSender(http, fake))
                    yield Served(
                        mode, process, log, said, driver, url, env["AADBOT_DATABASE_URL"], stop_seconds
                    )
        finally:
            process.terminate()
            ended(process, stop_seconds)


def ended(process: Process, stop_seconds: float) -> int:
    """The exit status of `serve` told to stop, which ends at most its AADBOT_STOP_SECONDS, then `alongside`'s
    cancelling and the threads' closing (bot/stopping.py) after the signal; killed, and said plainly, if it
    outlasts that bound (and a margin), rather than a bare `TimeoutExpired`."""
    bound = stop_seconds + CANCELLED_SECONDS + CLOSING_SECONDS
    try:
        return process.wait(timeout=bound + STOP_MARGIN)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(
            f"serve did not end within {bound:g} s of being told to stop (AADBOT_STOP_SECONDS="
            f"{stop_seconds:g}, then {CANCELLED_SECONDS:g} + {CLOSING_SECONDS:g} s), nor {STOP_MARGIN:g} s"
            " later: killed"
        ) from None


def serve_until_it_exits(env: Mapping[str, str], folder: Path, *arguments: str) -> Finished:
    """`aadbot serve ARGUMENTS` with `env` whole, in `folder`, run until it exits by itself (a start that
    fails): its exit status and what it printed, as `subprocess.run(..., capture_output=True)` gives them."""
    out, err = folder / "serve-stdout.txt", folder / "serve-stderr.txt"
    command = [sys.executable, "-m", "bot.cli", "serve", *arguments]
    with (
        out.open("w") as stdout,
        err.open("w") as stderr,
        start(command, env=env, cwd=folder, stdout=stdout, stderr=stderr) as process,
    ):
        try:
            code = process.wait(timeout=START_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()  # never a test left waiting on it for good
            raise
    return Finished(code, out.read_text(), err.read_text())


def serve_database(folder: Path, migrated: Path | None) -> str:
    """The URL of `serve`'s SQLite file in `folder`: a copy of `migrated` (the tests' template, already at the
    newest revision: `serve` opens it as it does at every restart), or with None a new file, which `serve`
    migrates as at an install's first start (0.3 s of CPU, in every `serve` the tests started)."""
    database = folder / "serve.db"
    if migrated is not None:
        shutil.copyfile(migrated, database)
    return f"sqlite:///{database}"


def queue_dms(database_url: str, emails: list[str]) -> None:
    """A to-do list for each of `emails`, queued in `serve`'s database as `notify` queues them, from another
    process: nothing wakes `serve`'s outbox worker, which finds them at its next idle look (every 2 s)."""
    from bot.runtime import utc_now
    from storage import open_database
    from tests.delivery.conftest import queue_lists

    database = open_database(database_url)
    queue_lists(database, emails, utc_now())
    database.dispose()  # written through to the file (not left in SQLite's WAL), should it be copied


def lists_waiting(template: Path, folder: Path, emails: list[str]) -> Path:
    """A copy of the migrated `template` in `folder`, with a to-do list queued for each of `emails`, for
    `serve_process(migrated=...)`: `serve` finds them as a restarted `serve` does, and its outbox worker sends
    them at its first look, at start, with no idle wait (`queue_dms` once `serve` runs waits for one)."""
    waiting = folder / "lists-waiting.db"
    shutil.copyfile(template, waiting)
    queue_dms(f"sqlite:///{waiting}", emails)
    return waiting


def until(what: str, holds: Callable[[], bool], seconds: float) -> None:
    """Returns once `holds` (what another process wrote: its database, a fake's log), looked at every 0.1 s;
    a failure naming `what` if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while not holds():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(0.1)


def outbox_of(database_url: str) -> list[OutboundMessage]:
    from sqlmodel import col, select

    from storage import OutboundMessage, open_database

    with open_database(database_url).session() as session:
        return list(session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all())


def _acked(response: httpx.Response) -> Acked:
    is_json = response.headers.get("content-type", "").startswith("application/json")
    return Acked(response.status_code, response.json() if is_json and response.content else None)


def lines_of(process: Process) -> queue.Queue[str | None]:
    """What `process` writes on stdout, a line at a time, read on a thread: `next_line` waits for one with a
    bound (a `readline` has none: a serve stuck before "listening" held the whole suite); None at the end."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def next_line(lines: queue.Queue[str | None], process: Process, log: Path | None) -> str:
    """The next line of `lines_of(process)` within START_SECONDS, or a failure with `log` (the process's
    stderr, None when it writes to the test's own) that says why none came."""
    try:
        line = lines.get(timeout=START_SECONDS)
    except queue.Empty:
        raise AssertionError(f"`aadbot serve` said nothing in {START_SECONDS:g} s; {_shown(log)}") from None
    if line is None:
        raise AssertionError(f"`aadbot serve` exited with {process.wait()}; {_shown(log)}")
    return line


def _shown(log: Path | None) -> str:
    return f"its log:\n{log.read_text()}" if log is not None else "its log is on the stderr the test gave it"
