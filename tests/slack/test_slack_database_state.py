"""The database-backed Slack state: every process on one database sees the same requests and copies."""

from __future__ import annotations

import asyncio

from bot.slack.state import REQUEST_MEMORY_SECONDS, DatabaseSlackState, MessageCopy
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
