"""Restoring the steps before the one under test (tests/bot/replays.py) is indistinguishable from
replaying them: the same outgoing messages, database rows, sandbox and transcript, then and after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.conversation.messages import DirectMessage, Outgoing
from sandbox import Sandbox
from storage import Database
from tests.bot import replays
from tests.bot.conftest import DANA, Chat, notified, text_of
from tests.fakes.runtimes import runtime_on
from tests.storage.databases import replace_sqlite_file
from tests.workflows.fakes import FakeClock

ANN, IVAN = "ann@fabrikam.com", "ivan@fabrikam.com"


def _follow_on(chat: Chat, lists: list[Outgoing]) -> list[Outgoing]:
    """Steps that read what the prefix left: a list ticked off, progress, the watch, a person's list, and a
    refusal that names the migrations the runtime remembers her an admin of."""
    ann = [message for message in lists if message.to == DirectMessage(ANN)]
    return [
        *chat.click(ANN, ann, "Done"),
        *chat.say(DANA, "progress"),
        *chat.runtime.conversation.watch(),
        *chat.say(IVAN, "todo"),
        *chat.say(DANA, "start no-such-org fabrikam.com"),
    ]


def _observed(chat: Chat, returned: list[Outgoing], after: list[Outgoing]) -> str:
    return replays.observed(
        chat.runtime,
        chat.out.getvalue(),
        chat.surface.delivered,
        returned=[(repr(message.to), text_of([message])) for message in returned],
        after=[(repr(message.to), text_of([message])) for message in after],
    )


@pytest.fixture
def world(sqlite_database: Database, sqlite_template: Any, box: Sandbox) -> Iterator[Any]:
    """Runs the prefix and the follow-on on a fresh world (a new runtime on a fresh database and sandbox),
    on a clock no other test uses, so that the first run replays for real and saves."""
    clock = FakeClock(datetime(2031, 3, 4, 10, 0, tzinfo=UTC))

    def run(before: Callable[[Chat], object] = lambda chat: None) -> str:
        replace_sqlite_file(sqlite_database, sqlite_template)
        box.reset()
        runtime = runtime_on(box, sqlite_database, clock=clock)
        try:
            chat = Chat(runtime)
            before(chat)
            returned = notified(chat)
            return _observed(chat, returned, _follow_on(chat, returned))
        finally:
            runtime.close()

    yield run


def test_a_restored_prefix_is_indistinguishable_from_a_replayed_one(world: Any) -> None:
    restored_before = replays.RESTORED["notified"]
    replayed = world()
    assert replays.RESTORED["notified"] == restored_before  # the first run replayed for real
    restored = world()
    assert replays.RESTORED["notified"] == restored_before + 1
    unwrapped = " ".join(restored.replace("\\n", " ").split())  # lines as the console wraps them, joined
    assert "are an admin of `fabrikam-fiber`" in unwrapped  # remembered by the runtime, not the database
    assert restored == replayed


def test_steps_from_another_world_run_for_real(world: Any, box: Sandbox) -> None:
    """Faults set, or something said before: the snapshot of the plain world cannot stand in for it."""
    world()  # the plain world, saved if no earlier run saved it
    restored_before = replays.RESTORED["notified"]
    lagging = world(lambda chat: box.set_faults(directory_lag=3600))
    asked = world(lambda chat: chat.say(ANN, "help"))
    assert replays.RESTORED["notified"] == restored_before
    assert "Ann <ann@fabrikam.com> in #aad-migration" in asked
    assert lagging != asked
