"""A look of the watch finding nothing due (serve's, once a poll): plain reads on connections, no ORM
session and no write, so that it costs little and takes no lock another replica's look or command waits on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.runtime import Runtime
from tests.bot.conftest import Chat, notified, started
from tests.storage.statements import statements, verbs
from tests.workflows.fakes import FakeClock

POLL = timedelta(seconds=60)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # Monday 2 November 2026, 09:00 UTC


@contextmanager
def sessions_begun() -> Iterator[list[object]]:
    """Every ORM session transaction begun meanwhile, on any engine."""
    begun: list[object] = []

    def record(session: Any, transaction: Any, connection: Any) -> None:
        begun.append(transaction)

    event.listen(Session, "after_begin", record)
    try:
        yield begun
    finally:
        event.remove(Session, "after_begin", record)


def _quiet_look(runtime: Runtime, clock: FakeClock) -> tuple[dict[str, int], int]:
    """A look once the look before found what was due: the statements of each verb, and the sessions."""
    runtime.conversation.watch()
    clock.now += POLL
    with statements(runtime.database) as seen, sessions_begun() as begun:
        assert runtime.conversation.watch() == []
    return verbs(seen), len(begun)


def test_a_look_with_nothing_due_only_reads_and_opens_no_session(runtime: Runtime, clock: FakeClock) -> None:
    """Before, 6 sessions and two DELETEs (the admin verdicts it forgets) at every poll."""
    chat = Chat(runtime, restores=False)
    started(chat)
    counted, sessions = _quiet_look(runtime, clock)
    assert set(counted) == {"SELECT"}, counted
    assert counted["SELECT"] == 7  # approvals lapsed, verdicts to forget, connections, sign-ins, digests,
    # reminders, the outbox
    assert sessions == 0


def test_once_lists_are_out_a_quiet_look_still_only_reads(runtime: Runtime, clock: FakeClock) -> None:
    """The digest is open and every list has its schedule: asked, in reads, and nothing opened."""
    chat = Chat(runtime, restores=False)
    notified(chat)
    counted, sessions = _quiet_look(runtime, clock)
    assert set(counted) == {"SELECT"}, counted
    assert sessions == 0
