"""A long `invite` or `remove-users` shows its progress line where the admin asked: a button pressed, or
words typed, in their direct messages with the bot put it there, though a direct message is no channel a
migration runs in (rev79 1: after 6a89ff3 a press in a DM ran with no channel, and showed no line at all
for the minutes a 20,000-person invite takes).

The real conversation behind the real app, over loopback HTTP to a fake Slack, and the outbox worker
delivering to it as `serve`'s does."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.worker import OutboxWorker
from bot.slack.app import build_web_client
from bot.slack.blocks import render
from bot.slack.people import People
from bot.slack.sender import SlackSender
from bot.slack.state import InMemorySlackState
from sandbox import Sandbox
from storage import Database
from tests.fakes.runtimes import runtime_on
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, ServeBot, texts
from tests.slack.test_slack_migration import CHANNEL, ORGANIZATION, PEOPLE, Migration, Recording

DM = "DUDANA"
"""Dana's direct messages with the bot, as Slack names them in what she does there."""


class Ticking:
    """A clock twenty seconds on at every reading: each invitation of a step of two is past the ten
    seconds after which a step shows its line (`workflows.step_progress.Paced`), as thousands would be."""

    def __init__(self) -> None:
        self._readings = itertools.count()
        self._start = datetime(2026, 12, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=20 * next(self._readings))


@pytest.fixture
def clock() -> Ticking:
    return Ticking()


@pytest.fixture
def migration(
    serve_bot: ServeBot, fake_slack: FakeSlack, sqlite_database: Database, box: Sandbox, clock: Ticking
) -> Iterator[Migration]:
    """As `serve` runs it: what goes to a conversation waits in the outbox for the worker."""
    runtime = runtime_on(box, sqlite_database, surface="slack", clock=clock)
    fake_slack.users.update(PEOPLE)
    recording = Recording(runtime.conversation)
    yield Migration(serve_bot(recording), runtime, recording)
    runtime.close()


def _delivered(migration: Migration, clock: Ticking) -> None:
    """The outbox worker sends what the turns queued to the fake Slack."""
    fake, database = migration.slack.fake, migration.runtime.database
    client = build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/")
    sender = SlackSender(client, People(client), InMemorySlackState())
    now = clock()  # still while the worker sends: one that ticked would keep making what it put back due
    asyncio.run(OutboxWorker(database, sender, clock=lambda: now).drain())


def _started(migration: Migration, clock: Ticking) -> int:
    """Dana starts the migration and its messages are sent: the turns taken so far."""
    migration.command("UDANA", f"start {ORGANIZATION} fabrikam.com")
    _delivered(migration, clock)
    return len(migration.recording.turns)


def _progress_lines(fake: FakeSlack) -> dict[str, list[str]]:
    """Each conversation's messages that are a progress line, as they read now (updated in place)."""
    lines: dict[str, list[str]] = {}
    for (channel, _), message in fake.messages.items():
        if str(message["text"]).startswith("Inviting"):
            lines.setdefault(channel, []).append(message["text"])
    return lines


def test_an_invite_pressed_in_a_direct_message_shows_its_progress_line_there(
    migration: Migration, clock: Ticking
) -> None:
    turns = _started(migration, clock)

    send = migration.slack.send
    assert send.click("invite", ORGANIZATION, user="UDANA", channel=DM).status_code == 200
    ((answer,),) = migration.recording.wait_for_turns(turns + 1)[turns:]
    _delivered(migration, clock)

    # one line, in the DM where Dana pressed, saying how the step ended; her answer is beside it
    assert _progress_lines(migration.slack.fake) == {DM: ["Inviting 2 users: all done."]}
    assert "2 invited" in texts({"blocks": render(answer.message)})


def test_an_invite_typed_in_a_direct_message_shows_its_progress_line_there(
    migration: Migration, clock: Ticking
) -> None:
    """Words typed to the bot in its direct messages are chat; a command among them runs all the same."""
    turns = _started(migration, clock)

    dm = {"type": "message", "channel_type": "im", "user": "UDANA", "channel": DM, "ts": "3.000001"}
    assert migration.slack.send.event(dm | {"text": f"invite {ORGANIZATION}"}).status_code == 200
    migration.recording.wait_for_turns(turns + 1)
    _delivered(migration, clock)

    assert _progress_lines(migration.slack.fake) == {DM: ["Inviting 2 users: all done."]}


def test_an_invite_typed_in_the_migrations_channel_shows_its_line_in_the_channel(
    migration: Migration, clock: Ticking
) -> None:
    """Where the admin asked is the migration's channel here: the line stays where it always was."""
    migration.command("UDANA", f"start {ORGANIZATION} fabrikam.com")
    migration.command("UDANA", f"invite {ORGANIZATION}")
    _delivered(migration, clock)

    assert _progress_lines(migration.slack.fake) == {CHANNEL: ["Inviting 2 users: all done."]}
