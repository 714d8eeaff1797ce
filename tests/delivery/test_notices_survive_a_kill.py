"""A process killed right after a step commits, where it used to queue the step's messages only then:
the messages were recorded with the step, so the next process delivers each of them exactly once.
A `start` killed between its two commits (the busy state, then the check's result) leaves its summary
owed: the `resume` that finishes the check tells it, once.

`ProcessKilled` is raised at the very point between the two former steps (the step has returned, its
commit is done, nothing after it runs); the restart is a new runtime and a new outbox worker over the
same database, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import httpx
import pytest

from bot.conversation import approval_views, closing_views
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.runtime import Runtime, utc_now
from bot.slack.app import build_web_client
from bot.slack.people import People
from bot.slack.sender import SlackSender
from bot.slack.state import DatabaseSlackState
from sandbox import Sandbox
from tests.delivery.conftest import TOKEN
from tests.fakes.runtimes import runtime_on
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import texts
from tests.workflows.fakes import ProcessKilled
from workflows.results import Actor
from workflows.settings import WorkflowSettings
from workflows.stages import checking

ORGANIZATION = "fabrikam-fiber"
CHANNEL = "CMIGRATE"
DANA = Actor("UDANA", "dana@fabrikam.com", "Dana Owner")
LEE = Actor("ULEE", "lee@fabrikam.com", "Lee Admin")
UNPACED = DeliverySettings.unpaced()
PEOPLE = {"UDANA": ("dana@fabrikam.com", "Dana Owner"), "ULEE": ("lee@fabrikam.com", "Lee Admin")}


class Process:
    """One life of the bot over the database: its runtime, and its outbox worker sending to Slack."""

    def __init__(
        self, box: Sandbox, database_url: str, fake: FakeSlack, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.runtime = runtime_on(box, database_url, surface="slack", clock=clock)
        lookups = build_web_client(TOKEN, base_url=f"{fake.url}/api/")
        posting = build_web_client(TOKEN, base_url=f"{fake.url}/api/", retries=False)
        self.state = DatabaseSlackState(self.runtime.database, clock=clock)  # as serve keeps it
        sender = SlackSender(posting, People(lookups), self.state)
        self.worker = OutboxWorker(self.runtime.database, sender, clock=clock, settings=UNPACED)

    def say(self, actor: Actor, text: str) -> list[Any]:
        return self.runtime.conversation.command(actor, text, channel=CHANNEL)

    def deliver(self) -> int:
        return asyncio.run(self.worker.drain())


@pytest.fixture
def fake(served_slack: FakeSlack) -> FakeSlack:
    served_slack.reset(users=dict(PEOPLE))
    return served_slack


@pytest.fixture
def lives(box: Sandbox, database_url: str, fake: FakeSlack) -> Iterator[Callable[..., Process]]:
    """A new life of the bot; `later` starts it that long after now (a lease may have run out). Every life
    talks to the same Microsoft: the module's sandbox, reset for the test."""
    started: list[Runtime] = []

    def life(later: timedelta = timedelta(0)) -> Process:
        process = Process(box, database_url, fake, clock=lambda: utc_now() + later)
        started.append(process.runtime)
        return process

    yield life
    for runtime in started:
        runtime.close()


def killed_after(monkeypatch: pytest.MonkeyPatch, view: str, module: ModuleType = approval_views) -> None:
    """The process dies as the conversation turns the committed step into messages."""

    def die(*_: object, **__: object) -> Any:
        raise ProcessKilled

    monkeypatch.setattr(module, view, die)


def died_after(step: Callable[..., Any]) -> Callable[..., Any]:
    """The step runs to its end, its commits done; the process dies before anything after it runs."""

    def dying(*args: Any, **kwargs: Any) -> Any:
        step(*args, **kwargs)
        raise ProcessKilled

    return dying


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
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    first.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    first.say(DANA, "invite")
    first.say(DANA, "request-approval")
    approval_id = str(first.runtime.service.status(ORGANIZATION).pending_approval_id)
    assert first.deliver() == 3  # the start's summary; the prompt, in the channel and to Lee
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
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
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
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    first.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    assert first.deliver() == 1  # the start's summary
    with monkeypatch.context() as dying:
        killed_after(dying, "cancelled", closing_views)
        with pytest.raises(ProcessKilled):
            first.say(DANA, f"cancel {ORGANIZATION} wrong tenant")
    assert first.runtime.service.status(ORGANIZATION).state == "cancelled"

    second = lives()
    assert second.deliver() == 1
    assert _posted(fake, "cancelled the migration") == ["chat.postMessage"]
    assert lives().deliver() == 0


def test_a_kill_right_after_start_commits_loses_no_summary(
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    with monkeypatch.context() as dying:
        dying.setattr(first.runtime.service, "start", died_after(first.runtime.service.start))
        with pytest.raises(ProcessKilled):
            first.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    assert first.runtime.service.status(ORGANIZATION).state == "planned"  # the check did commit

    second = lives()
    assert second.deliver() == 1
    assert _posted(fake, f"Dana Owner started moving {ORGANIZATION}") == ["chat.postMessage"]
    second.say(DANA, f"recheck {ORGANIZATION}")  # a later check has no start to tell about
    assert second.deliver() == 0 and lives().deliver() == 0


def test_a_start_killed_mid_check_tells_its_summary_once_the_check_is_resumed(
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    with monkeypatch.context() as dying:
        dying.setattr(checking, "check_prerequisites", died_after(lambda _: None))
        with pytest.raises(ProcessKilled):
            first.say(DANA, f"start {ORGANIZATION} fabrikam.com")  # dies between its two commits
    assert first.runtime.service.status(ORGANIZATION).state == "checking_prerequisites"
    assert first.deliver() == 0  # no result yet, so nothing to tell

    second = lives(WorkflowSettings().step_lease)  # back once the dead check's lease has run out
    with monkeypatch.context() as dying:
        dying.setattr(second.runtime.service, "resume", died_after(second.runtime.service.resume))
        with pytest.raises(ProcessKilled):
            second.say(DANA, f"resume {ORGANIZATION}")  # and dies again, right after the check commits
    assert second.runtime.service.status(ORGANIZATION).state == "planned"

    third = lives(WorkflowSettings().step_lease)
    assert third.deliver() == 1
    assert _posted(fake, f"Dana Owner started moving {ORGANIZATION}") == ["chat.postMessage"]
    third.say(DANA, f"recheck {ORGANIZATION}")
    assert third.deliver() == 0 and lives().deliver() == 0


def _awaiting_approval(process: Process) -> None:
    """Started, invited, approval requested; its summary and the prompt's two copies delivered."""
    process.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    process.say(DANA, "invite")
    process.say(DANA, "request-approval")
    assert process.deliver() == 3


def test_a_prompt_voided_by_a_recheck_loses_its_buttons_everywhere_even_after_a_kill(
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    _awaiting_approval(first)
    with monkeypatch.context() as dying:
        dying.setattr(first.runtime.service, "recheck", died_after(first.runtime.service.recheck))
        with pytest.raises(ProcessKilled):
            first.say(DANA, f"recheck {ORGANIZATION}")
    assert first.runtime.service.status(ORGANIZATION).state == "planned"

    second = lives()
    assert second.deliver() == 1  # one notice: it updates the channel's copy and Lee's
    assert _posted(fake, "no longer holds: the prerequisites were re-checked") == ["chat.update"] * 2
    assert lives().deliver() == 0


def test_a_prompt_that_expired_loses_its_buttons_when_the_next_look_finds_it(
    lives: Callable[..., Process], fake: FakeSlack
) -> None:
    first = lives()
    _awaiting_approval(first)
    later = lives(WorkflowSettings().approval_ttl)
    assert later.runtime.service.status(ORGANIZATION).state == "planned"  # the look that expires it
    assert later.deliver() == 1
    assert _posted(fake, "expired at") == ["chat.update"] * 2
    assert later.runtime.service.status(ORGANIZATION).state == "planned" and later.deliver() == 0
