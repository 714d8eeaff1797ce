"""A process killed right after a step commits, where it used to queue the step's messages only then:
the messages were recorded with the step, so the next process delivers each of them exactly once.
A `start` killed between its two commits (the busy state, then the check's result) leaves its summary
owed: the `resume` that finishes the check tells it, once.

`ProcessKilled` is raised at the very point between the two former steps (the step has returned, its
commit is done, nothing after it runs); the restart is a new runtime and a new outbox worker over the
same database, on SQLite and on PostgreSQL.

The steps before the kill (started, awaiting approval, approved) run for real once per test process, on
a clock that stands still, and are restored after (tests/bot/replays.py); the first test runs them for
real and proves that a restore leaves what they leave.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from bot.conversation import approval_views, closing_views
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.runtime import Runtime
from bot.slack.app import build_web_client
from bot.slack.people import People
from bot.slack.sender import SlackSender
from bot.slack.state import DatabaseSlackState
from sandbox import Sandbox
from tests.bot import replays
from tests.bot.replays import replayed
from tests.delivery.conftest import TOKEN
from tests.fakes.runtimes import runtime_on
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import texts
from tests.storage.databases import RunSchema, all_rows, replace_sqlite_file, reset_postgres_schema
from tests.workflows.fakes import FakeClock, ProcessKilled
from workflows.results import Actor
from workflows.settings import WorkflowSettings
from workflows.stages import checking

ORGANIZATION = "fabrikam-fiber"
CHANNEL = "CMIGRATE"
DANA = Actor("UDANA", "dana@fabrikam.com", "Dana Owner")
LEE = Actor("ULEE", "lee@fabrikam.com", "Lee Admin")
# one send at a time: two lives' sends compared call by call (the admins' DMs are sent side by side else)
UNPACED = replace(DeliverySettings.unpaced(), concurrency=1)
SIGN_IN_HOST = "login.microsoftonline.com"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PEOPLE = {"UDANA": ("dana@fabrikam.com", "Dana Owner"), "ULEE": ("lee@fabrikam.com", "Lee Admin")}


class Process:
    """One life of the bot over the database: its runtime, and its outbox worker sending to Slack. A
    `Scene` of tests/bot/replays.py: the steps before a kill may be restored into its first life."""

    def __init__(
        self,
        box: Sandbox,
        database_url: str,
        fake: FakeSlack,
        schema: RunSchema | None,
        clock: Callable[[], datetime],
        *,
        restores: bool = True,
    ) -> None:
        self.fake, self.schema, self.restores = fake, schema, restores
        self.runtime = runtime_on(box, database_url, surface="slack", clock=clock)
        self._clock = clock
        self.state = DatabaseSlackState(self.runtime.database, clock=clock)  # as serve keeps it
        self.forget_slack_directory()

    def forget_slack_directory(self) -> None:
        """A worker whose Slack directory (`People`, in memory) is unread, as after steps restored: a restore
        brings back what was stored, not what a process remembers."""
        lookups = build_web_client(TOKEN, base_url=f"{self.fake.url}/api/")
        posting = build_web_client(TOKEN, base_url=f"{self.fake.url}/api/", retries=False)
        sender = SlackSender(posting, People(lookups), self.state)
        self.worker = OutboxWorker(self.runtime.database, sender, clock=self._clock, settings=UNPACED)

    def say(self, actor: Actor, text: str) -> list[Any]:
        return self.runtime.conversation.command(actor, text, channel=CHANNEL)

    def deliver(self) -> int:
        return asyncio.run(self.worker.drain())

    def untouched(self) -> bool:
        with self.runtime.database.engine.connect() as connection:
            started = connection.execute(text("SELECT count(*) FROM migration")).scalar_one()
        return not started and not self.fake.calls

    def surface_saved(self) -> dict[str, Any]:
        return self.fake.save()

    def restore_surface(self, saved: dict[str, Any]) -> None:
        self.fake.restore(saved)


@pytest.fixture
def fake(served_slack: FakeSlack) -> FakeSlack:
    served_slack.reset(users=dict(PEOPLE))
    return served_slack


@pytest.fixture
def schema(request: pytest.FixtureRequest, database_url: str) -> RunSchema | None:
    """The run's PostgreSQL schema `database_url` names; None on SQLite."""
    return None if database_url.startswith("sqlite") else request.getfixturevalue("postgres_schema")


@pytest.fixture
def lives(
    box: Sandbox, database_url: str, fake: FakeSlack, schema: RunSchema | None
) -> Iterator[Callable[..., Process]]:
    """A new life of the bot; `later` starts it that long after `NOW` (a lease may have run out). Every life
    talks to the same Microsoft: the test process's sandbox, reset for the test. The clock stands still, so
    that every test starts from the world the steps before a kill left in the first (`replayed`)."""
    started: list[Runtime] = []

    def life(later: timedelta = timedelta(0)) -> Process:
        now = FakeClock(NOW + later)
        process = Process(box, database_url, fake, schema, now)
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


def _connect(process: Process, tenant: str | None = None) -> None:
    """Someone clicks Connect in the portal: to the migration's directory, unless `tenant` is another."""
    sandbox = process.runtime.sandbox
    assert sandbox is not None
    tenant = tenant or str(sandbox.state()["tenant"]["id"])
    httpx.post(
        f"{sandbox.url}/_sandbox/connect", json={"organization": ORGANIZATION, "tenantId": tenant}
    ).raise_for_status()


def _posted(fake: FakeSlack, marker: str) -> list[str]:
    calls = fake.calls_of("chat.postMessage") + fake.calls_of("chat.update")
    return [call.method for call in calls if marker in texts(call.params)]


def _started(process: Process) -> None:
    """Dana started the migration; its summary delivered."""

    def steps() -> None:
        process.say(DANA, f"start {ORGANIZATION} fabrikam.com")
        assert process.deliver() == 1

    replayed(process, ("started on slack",), steps)


def _awaiting_approval(process: Process) -> None:
    """Started, invited, approval requested; the prompt's two copies (the channel's, Lee's) and Lee's
    message naming whom it affects delivered."""

    def steps() -> None:
        _started(process)
        process.say(DANA, "invite")
        process.say(DANA, "request-approval")
        assert process.deliver() == 3

    replayed(process, ("awaiting approval on slack",), steps)


def _approved(process: Process) -> None:
    """Awaiting approval, then approved by Lee; what the approval said delivered (the decision, Lee's
    message naming whom it affects settled, the portal steps, who connects)."""

    def steps() -> None:
        _awaiting_approval(process)
        approval_id = str(process.runtime.service.status(ORGANIZATION).pending_approval_id)
        process.runtime.conversation.action(LEE, "approve", approval_id, channel=CHANNEL)
        assert process.deliver() == 4

    replayed(process, ("approved on slack",), steps)


_RANDOM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|rd=[\w-]+")


def _observed(process: Process, fake: FakeSlack) -> str:
    """What a test here could look at, with the sandbox's random invitation ids and links named by their
    order of appearance (they differ between two real replays too); not the sign-ins, which a restore's
    new Microsoft clients make again."""
    box = process.runtime.sandbox
    assert box is not None
    seen = {
        "rows": all_rows(process.runtime.database),
        "sandbox": box.state(),
        "requests": {host: n for host, n in box.request_counts().items() if host != SIGN_IN_HOST},
        "slack": [(call.method, call.params) for call in fake.calls],
        "messages": sorted(map(repr, fake.messages.items())),
    }
    text = json.dumps(seen, sort_keys=True, default=str)
    names: dict[str, str] = {}
    return _RANDOM.sub(lambda found: names.setdefault(found[0], f"<random {len(names)}>"), text)


def test_restored_steps_before_a_kill_are_indistinguishable_from_replayed_ones(
    request: pytest.FixtureRequest,
    box: Sandbox,
    database_url: str,
    fake: FakeSlack,
    schema: RunSchema | None,
    sqlite_template: Path,
) -> None:
    """Approved (started and awaiting approval on the way), then the connection announced, a recheck and a
    second life's look: once with the steps run for real (and saved, for the tests after this one), once
    with them restored."""
    clock = FakeClock(NOW)

    def run(*, restores: bool) -> str:
        if schema is None:
            replace_sqlite_file(request.getfixturevalue("process_sqlite"), sqlite_template)
        else:
            reset_postgres_schema(schema)
        box.reset()
        fake.reset(users=dict(PEOPLE))
        first = Process(box, database_url, fake, schema, clock, restores=restores)
        try:
            _approved(first)
            first.forget_slack_directory()  # the admins' copies of the connection look people up anew
            _connect(first)
            first.runtime.conversation.watch()
            first.say(DANA, f"recheck {ORGANIZATION}")  # Dana, whom the first life remembers an admin
            first.deliver()
        finally:
            first.runtime.close()
        second = Process(box, database_url, fake, schema, clock)
        try:
            second.runtime.conversation.watch()
            second.deliver()
            return _observed(second, fake)
        finally:
            second.runtime.close()

    restored_before = replays.RESTORED["approved on slack"]
    replayed_for_real = run(restores=False)
    assert replays.RESTORED["approved on slack"] == restored_before
    restored = run(restores=True)
    assert replays.RESTORED["approved on slack"] == restored_before + 1
    assert "is now connected" in restored and "Approved by Lee Admin" in restored
    assert restored == replayed_for_real


def test_a_kill_right_after_the_decision_commits_loses_none_of_its_messages(
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    _awaiting_approval(first)
    approval_id = str(first.runtime.service.status(ORGANIZATION).pending_approval_id)
    with monkeypatch.context() as dying:
        killed_after(dying, "decision")
        with pytest.raises(ProcessKilled):
            first.runtime.conversation.action(LEE, "approve", approval_id, channel=CHANNEL)
    assert first.runtime.service.status(ORGANIZATION).state == "connecting"  # the step did commit

    second = lives()  # the restart: its worker finds what the step recorded
    assert second.deliver() == 4
    assert _posted(fake, "Approved by Lee Admin") == ["chat.update", "chat.update", "chat.update"]
    assert _posted(fake, "Who approval #1 affected") == ["chat.update"]  # Lee's names, settled in place
    assert _posted(fake, "There is no API for this step") == ["chat.postMessage"]  # Lee's portal steps
    assert _posted(fake, "Lee Admin gets the portal steps") == ["chat.postMessage"]
    assert second.deliver() == 0 and lives().deliver() == 0  # exactly once, whoever looks next


def test_a_kill_right_after_the_watch_sees_the_connection_loses_no_announcement(
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    _approved(first)
    _connect(first)
    with monkeypatch.context() as dying:
        dying.setattr(first.runtime.tracking, "tick", lambda: (_ for _ in ()).throw(ProcessKilled()))
        with pytest.raises(ProcessKilled):
            first.runtime.conversation.watch()  # dies after its look, before anything is sent
    assert first.runtime.service.status(ORGANIZATION).state == "connected"

    second = lives()
    assert second.deliver() == 3  # the channel's, and each admin's copy naming whom to map
    announced = ["chat.postMessage"] * 3
    assert _posted(fake, "is now connected") == announced
    second.runtime.conversation.watch()  # the next look: nothing new to say
    assert second.deliver() == 0 and _posted(fake, "is now connected") == announced


def test_a_kill_right_after_a_cancel_commits_loses_no_announcement(
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    _started(first)
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


def test_a_prompt_voided_by_a_recheck_loses_its_buttons_everywhere_even_after_a_kill(
    lives: Callable[..., Process], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lives()
    _awaiting_approval(first)
    _connect(first, "9d3e1c2b-4a5f-4e6d-8b7a-1c2d3e4f5a6b")  # to another directory: a check fails now
    with monkeypatch.context() as dying:
        dying.setattr(first.runtime.service, "recheck", died_after(first.runtime.service.recheck))
        with pytest.raises(ProcessKilled):
            first.say(DANA, f"recheck {ORGANIZATION}")
    assert first.runtime.service.status(ORGANIZATION).state == "blocked"

    second = lives()
    assert second.deliver() == 2  # one notice updates the channel's copy and Lee's; one Lee's names
    changed = "no longer holds: the re-check found the plan or its checks changed"
    assert _posted(fake, changed) == ["chat.update"] * 3
    assert _posted(fake, "Who approval #1 affected") == ["chat.update"]
    assert lives().deliver() == 0


def test_a_prompt_that_expired_loses_its_buttons_when_the_next_look_finds_it(
    lives: Callable[..., Process], fake: FakeSlack
) -> None:
    first = lives()
    _awaiting_approval(first)
    later = lives(WorkflowSettings().approval_ttl)
    assert later.runtime.service.status(ORGANIZATION).state == "planned"  # the look that expires it
    assert later.deliver() == 2  # one notice updates the channel's copy and Lee's; one Lee's names
    assert _posted(fake, "expired at") == ["chat.update"] * 3
    assert _posted(fake, "Who approval #1 affected") == ["chat.update"]
    assert later.runtime.service.status(ORGANIZATION).state == "planned" and later.deliver() == 0
