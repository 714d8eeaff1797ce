"""The in-memory Slack state: requests claimed once within the memory window, copies remembered."""

from __future__ import annotations

import asyncio

from bot.slack.state import REQUEST_MEMORY_SECONDS, InMemorySlackState, MessageCopy
from tests.fakes.slack_harness import Clock


def test_a_request_is_claimed_once_until_it_is_forgotten() -> None:
    clock = Clock()
    state = InMemorySlackState(clock=clock)

    async def scenario() -> list[bool]:
        results = [await state.claim_request("event:Ev1"), await state.claim_request("event:Ev1")]
        clock.now += REQUEST_MEMORY_SECONDS + 1
        results.append(await state.claim_request("event:Ev1"))
        return results

    assert asyncio.run(scenario()) == [True, False, True]


def test_copies_are_kept_per_key_in_order_without_duplicates() -> None:
    state = InMemorySlackState()

    async def scenario() -> tuple[list[MessageCopy], list[MessageCopy]]:
        await state.add_copy("approval-1", MessageCopy("C1", "1.1"))
        await state.add_copy("approval-1", MessageCopy("D2", "2.1"))
        await state.add_copy("approval-1", MessageCopy("C1", "1.1"))
        return await state.copies("approval-1"), await state.copies("approval-2")

    assert asyncio.run(scenario()) == ([MessageCopy("C1", "1.1"), MessageCopy("D2", "2.1")], [])
