"""A process killed right after a step commits, where it used to queue the step's messages only then:
the messages were recorded with the step, so the next process delivers each of them exactly once.

`ProcessKilled` is raised at the very point between the two former steps (the step has returned, its
commit is done, nothing after it runs); the restart is a new runtime and a new outbox worker over the
same database, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bot.conversation import views
from bot.delivery import DeliverySettings, OutboxWorker
from bot.demo import bundled_scenario
from bot.runtime import Runtime, build_runtime, utc_now
from bot.settings import Settings
from bot.slack import DatabaseSlackState, build_web_client
from bot.slack.people import People
from bot.slack.sender import SlackSender
from tests.delivery.conftest import TOKEN
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import texts
from tests.workflows.fakes import ProcessKilled
from workflows.results import Actor

ORGANIZATION = "fabrikam-fiber"
CHANNEL = "CMIGRATE"
DANA = Actor("UDANA", "dana@fabrikam.com", "Dana Owner")
LEE = Actor("ULEE", "lee@fabrikam.com", "Lee Admin")
UNPACED = DeliverySettings.unpaced()
PEOPLE = {"UDANA": ("dana@fabrikam.com", "Dana Owner"), "ULEE": ("lee@fabrikam.com", "Lee Admin")}


class Process:
    """One life of the bot over the database: its runtime, and its outbox worker sending to Slack."""

    def __init__(self, database_url: str, fake: FakeSlack) -> None:
        settings = Settings(database_url=database_url, sandbox_scenario=str(bundled_scenario()))
        self.runtime = build_runtime(settings, surface="slack")
        lookups = build_web_client(TOKEN, base_url=f"{fake.url}/api/")
        posting = build_web_client(TOKEN, base_url=f"{fake.url}/api/", retries=False)
        self.state = DatabaseSlackState(self.runtime.database, clock=utc_now)  # as serve keeps it
        sender = SlackSender(posting, People(lookups), self.state)
        self.worker = OutboxWorker(self.runtime.database, sender, clock=utc_now, settings=UNPACED)

    def say(self, actor: Actor, text: str) -> list[Any]:
        return self.runtime.conversation.command(actor, text, channel=CHANNEL)

    def deliver(self) -> int:
        return asyncio.run(self.worker.drain())


@pytest.fixture
def fake(served_slack: FakeSlack) -> FakeSlack:
    served_slack.reset(users=dict(PEOPLE))
    return served_slack


@pytest.fixture
def lives(database_url: str, fake: FakeSlack) -> Iterator[Callable[[], Process]]:
    started: list[Runtime] = []

    def life() -> Process:
        process = Process(database_url, fake)
        started.append(process.runtime)
        return process

    yield life
    for runtime in started:
        runtime.close()


def killed_after(monkeypatch: pytest.MonkeyPatch, view: str) -> None:
    """The process dies as the conversation turns the committed step into messages."""

    def die(*_: object, **__: object) -> Any:
        raise ProcessKilled

    monkeypatch.setattr(views, view, die)


def _connect(process: Process) -> None:
    sandbox = process.runtime.sandbox
    assert sandbox is not None
    tenant = str(sandbox.state()["tenant"]["id"])
    httpx.post(
        f"{sandbox.url}/_sandbox/connect", json={"organization": ORGANIZATION, "tenantId": tenant}
    ).raise_for_status()


def _posted(fake: FakeSlack, marker: str) -> list[str]:
    calls = fake.calls_of("chat.postMessage") + fake.calls_of("chat.update")
    return [call.method for call in calls if marker in texts(call.params)]


def test_a_kill_right_after_the_decision_commits_loses_none_of_its_messages(
    lives: Callable[[], Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    first.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    first.say(DANA, "invite")
    first.say(DANA, "request-approval")
    approval_id = str(first.runtime.service.status(ORGANIZATION).pending_approval_id)
    assert first.deliver() == 2  # the prompt, in the channel and to Lee
    with monkeypatch.context() as dying:
        killed_after(dying, "decision")
        with pytest.raises(ProcessKilled):
            first.runtime.conversation.action(LEE, "approve", approval_id, channel=CHANNEL)
    assert first.runtime.service.status(ORGANIZATION).state == "connecting"  # the step did commit

    second = lives()  # the restart: its worker finds what the step recorded
    assert second.deliver() == 3
    assert _posted(fake, "Approved by Lee Admin") == ["chat.update", "chat.update"]  # both copies
    assert _posted(fake, "There is no API for this step") == ["chat.postMessage"]  # Lee's portal steps
    assert _posted(fake, "Lee Admin has the portal steps") == ["chat.postMessage"]
    assert second.deliver() == 0 and lives().deliver() == 0  # exactly once, whoever looks next


def test_a_kill_right_after_the_watch_sees_the_connection_loses_no_announcement(
    lives: Callable[[], Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    first.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    first.say(DANA, "invite")
    first.say(DANA, "request-approval")
    approval_id = str(first.runtime.service.status(ORGANIZATION).pending_approval_id)
    first.runtime.conversation.action(LEE, "approve", approval_id, channel=CHANNEL)
    first.deliver()
    _connect(first)
    with monkeypatch.context() as dying:
        dying.setattr(first.runtime.tracking, "tick", lambda: (_ for _ in ()).throw(ProcessKilled()))
        with pytest.raises(ProcessKilled):
            first.runtime.conversation.watch()  # dies after its look, before anything is sent
    assert first.runtime.service.status(ORGANIZATION).state == "connected"

    second = lives()
    assert second.deliver() == 1
    assert _posted(fake, "is now connected") == ["chat.postMessage"]
    second.runtime.conversation.watch()  # the next look: nothing new to say
    assert second.deliver() == 0 and _posted(fake, "is now connected") == ["chat.postMessage"]


def test_a_kill_right_after_a_cancel_commits_loses_no_announcement(
    lives: Callable[[], Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    first.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    with monkeypatch.context() as dying:
        killed_after(dying, "cancelled")
        with pytest.raises(ProcessKilled):
            first.say(DANA, f"cancel {ORGANIZATION} wrong tenant")
    assert first.runtime.service.status(ORGANIZATION).state == "cancelled"

    second = lives()
    assert second.deliver() == 1
    assert _posted(fake, "cancelled the migration") == ["chat.postMessage"]
    assert lives().deliver() == 0
