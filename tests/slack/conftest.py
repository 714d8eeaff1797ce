"""Fixtures: a fake Slack Web API and the app, both served on loopback (port 0), and a signing sender."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from bot.slack.app import build_web_client, create_app
from bot.slack.http import create_asgi
from bot.slack.ports import Conversation
from bot.slack.state import InMemorySlackState, SlackState
from tests.fakes.serve_process import ServedSlack, serve_with_fakes
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_backoff import back_off_on
from tests.fakes.slack_harness import (
    ADMIN,
    ADMIN_EMAIL,
    BOT_TOKEN,
    COLLEAGUE,
    COLLEAGUE_EMAIL,
    SIGNING_SECRET,
    Harness,
    ScriptedConversation,
    ServeBot,
    SlackSender,
    Transport,
)
from tests.fakes.socket_harness import SocketModeSender, SocketModeThread
from tests.fakes.socket_mode import FakeSocketMode

MEMBERS = {
    ADMIN: (ADMIN_EMAIL, "Ada Admin"),
    COLLEAGUE: (COLLEAGUE_EMAIL, "Cole League"),
    "UHIDDEN": ("", "Hid"),
}

SERVED_PEOPLE = {
    "UDANA": ("dana@fabrikam.com", "Dana Owner"),
    "UANN": ("ann@fabrikam.com", "Ann User"),
}
"""Who the fake Slack of the shared `aadbot serve` processes knows."""


@pytest.fixture(scope="package")
def serve_over_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSlack]:
    """One `aadbot serve` over HTTP for every module that drives it (starting one costs 2 s of CPU);
    `SHARED_SERVES` in tests/scheduling.py keeps those modules in one test process. Each test uses its own
    request ids, threads and users' messages, so tests don't see each other's answers. Stopped once the test
    process leaves tests/slack, not at its end: idle, a `serve` still costs CPU (its loops, its sandbox), and
    it was idle for most of the run (2026-11-29: its last test 87 s into a 330 s run).

    The one `serve` of a run that starts on a new database and migrates it, as at an install's first start;
    the others start on a copy of the migrated template, as at a restart. Exec'd for real, imports included,
    as an operator starts it: the other `serve`s over HTTP are forked (tests/fakes/serve_process.py)."""
    with serve_with_fakes("http", tmp_path_factory.mktemp("serve-http"), SERVED_PEOPLE, execs=True) as served:
        yield served


@pytest.fixture(scope="package")
def serve_in_socket_mode(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[ServedSlack]:
    """One `aadbot serve` in Socket Mode for every module that drives it, exec'd and stopped as
    `serve_over_http` is."""
    folder = tmp_path_factory.mktemp("serve-socket")
    with serve_with_fakes("socket", folder, SERVED_PEOPLE, migrated=sqlite_template, execs=True) as served:
        yield served


@pytest.fixture
def fake_slack(served_slack: FakeSlack) -> FakeSlack:
    """The test process's fake Slack, reset to a new one's state with the workspace's members."""
    served_slack.reset(users=MEMBERS)
    return served_slack


@pytest.fixture
def serve_bot(fake_slack: FakeSlack) -> Iterator[ServeBot]:
    """Serves the app around a given Conversation, over HTTP on loopback or in Socket Mode (its link to a
    fake Socket Mode server); everything stops after the test."""
    with ExitStack() as stack:

        def serve(
            conversation: Conversation,
            health: Callable[[], bool] = lambda: True,
            state: SlackState | None = None,
            transport: Transport = "http",
        ) -> Harness:
            client = build_web_client(BOT_TOKEN, base_url=f"{fake_slack.url}/api/")
            back_off_on(client)  # errors are retried as in production, without waiting 0.5 s and 1 s
            app = create_app(
                conversation=conversation,
                client=client,
                signing_secret=SIGNING_SECRET,
                state=state or InMemorySlackState(),
            )
            if transport == "socket":
                socket = stack.enter_context(FakeSocketMode())
                fake_slack.socket_links = socket.open_link
                stack.enter_context(SocketModeThread(app, client, socket))
                return Harness(fake_slack, SocketModeSender(socket, fake_slack), "", None)
            server = stack.enter_context(
                ServerThread(create_asgi(app, health=health, signing_secret=SIGNING_SECRET))
            )
            http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
            return Harness(fake_slack, SlackSender(http, fake_slack), server.url, http)

        yield serve


@pytest.fixture
def scripted() -> ScriptedConversation:
    return ScriptedConversation()


@pytest.fixture
def bot(serve_bot: ServeBot, scripted: ScriptedConversation) -> Harness:
    return serve_bot(scripted)
