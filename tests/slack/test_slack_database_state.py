"""The database-backed Slack state: every process on one database sees the same requests, copies and
files uploaded for a message."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import Session

from bot.slack.state import REQUEST_MEMORY_SECONDS, DatabaseSlackState, MessageCopy, Uploads
from storage import Database, open_database
from tests.workflows.fakes import FakeClock


def test_of_two_processes_handed_one_request_exactly_one_acts(database_url: str) -> None:
    clock = FakeClock()
    first, second = open_database(database_url), open_database(database_url)
    try:
        states = [DatabaseSlackState(db, clock=clock) for db in (first, second)]

        async def race() -> list[bool]:
            return list(await asyncio.gather(*(state.claim_request("event:Ev1") for state in states)))

        assert sorted(asyncio.run(race())) == [False, True]
        assert not asyncio.run(states[0].claim_request("event:Ev1"))
        clock.advance(seconds=REQUEST_MEMORY_SECONDS + 1)
        assert asyncio.run(states[1].claim_request("event:Ev1"))  # forgotten after the retry window
    finally:
        first.dispose()
        second.dispose()


def test_copies_of_a_shared_message_are_remembered_once_per_channel(database: Database) -> None:
    clock = FakeClock()
    state = DatabaseSlackState(database, clock=clock)

    async def scenario() -> list[MessageCopy]:
        await state.add_copy("approval:1", MessageCopy("CMIGRATE", "1.000100"))
        clock.advance(seconds=1)
        await state.add_copy("approval:1", MessageCopy("DULEE", "2.000100"))
        await state.add_copy("approval:1", MessageCopy("CMIGRATE", "1.000100"))  # a repeat changes nothing
        return await state.copies("approval:1")

    assert asyncio.run(scenario()) == [MessageCopy("CMIGRATE", "1.000100"), MessageCopy("DULEE", "2.000100")]
    assert asyncio.run(DatabaseSlackState(database, clock=clock).copies("approval:2")) == []


def test_the_files_of_a_post_are_kept_per_conversation_until_their_share_is_answered(
    database: Database,
) -> None:
    state = DatabaseSlackState(database, clock=FakeClock())

    async def scenario() -> list[Uploads | None]:
        seen = [await state.uploaded("chat:plan", "DULEE")]
        await state.add_uploaded("chat:plan", "DULEE", ())  # right after the post
        seen.append(await state.uploaded("chat:plan", "DULEE"))
        await state.add_uploaded("chat:plan", "DULEE", ["F2", "F1"])
        seen.append(await state.uploaded("chat:plan", "DULEE"))
        await state.mark_shared("chat:plan", "DULEE")
        seen.append(await state.uploaded("chat:plan", "DULEE"))
        await state.add_uploaded("chat:plan", "DULEE", ["F3"])  # uploaded afresh: shared again
        seen.append(await state.uploaded("chat:plan", "DULEE"))
        seen.append(await state.uploaded("chat:plan", "CMIGRATE"))
        return seen

    assert asyncio.run(scenario()) == [
        None,
        Uploads(),
        Uploads(frozenset({"F1", "F2"})),
        Uploads(frozenset({"F1", "F2"}), shared=True),
        Uploads(frozenset({"F1", "F2", "F3"})),
        None,
    ]
    assert asyncio.run(state.copies("chat:plan")) == []  # a message's files are none of its copies


def test_a_first_upload_racing_another_process_keeps_both_writes(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    state, other = DatabaseSlackState(database, clock=clock), DatabaseSlackState(database, clock=clock)
    reading = Session.get

    def read_before_the_other_writes(session: Session, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Session, "get", reading)
        found = reading(session, *args, **kwargs)
        asyncio.run(other.add_uploaded("chat:plan", "DULEE", ["F1"]))  # between our read and our insert
        return found

    monkeypatch.setattr(Session, "get", read_before_the_other_writes)
    asyncio.run(state.add_uploaded("chat:plan", "DULEE", ["F2"]))

    assert asyncio.run(state.uploaded("chat:plan", "DULEE")) == Uploads(frozenset({"F1", "F2"}))
