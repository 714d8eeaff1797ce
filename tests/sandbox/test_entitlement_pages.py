"""The emulator's pages of user entitlements find where a continuation token resumes by bisection, so a
whole read of many users costs the emulator about as much as it costs the service, and a benchmark of
100,000 users measures the bot."""

from __future__ import annotations

import base64
import math
from typing import Any

import pytest

from sandbox import parse_scenario
from sandbox._common import Call
from sandbox._devops import vsaex
from sandbox._state import State
from sandbox.generate import generate

USERS = 1000
PAT = {"authorization": "Basic " + base64.b64encode(b":pat").decode()}


class _CountingLookups(dict[str, int]):
    """`State.listing_order`, counting the places looked up in it."""

    lookups = 0

    def __getitem__(self, entitlement_id: str) -> int:
        self.lookups += 1
        return super().__getitem__(entitlement_id)


def _page(state: State, **query: str) -> dict[str, Any]:
    call = Call("GET", "vsaex.dev.azure.com", "/contoso-synthetic/_apis/userentitlements", query, PAT)
    reply = vsaex(state, call)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


@pytest.mark.parametrize("order_by", [{}, {"$orderBy": "lastAccessed desc"}])
def test_a_later_page_looks_up_a_few_places_not_every_user(order_by: dict[str, str]) -> None:
    state = State(parse_scenario(generate(USERS, 10, seed=3)), page_size=100)
    counting = state.listing_order = _CountingLookups(state.listing_order)
    token = _page(state, **{"api-version": "7.1"}, **order_by)["continuationToken"]
    counting.lookups = 0
    second = _page(state, **{"api-version": "7.1", "continuationToken": token}, **order_by)
    assert len(second["items"]) == 100
    assert counting.lookups <= 1 + math.ceil(math.log2(USERS + 1))  # the token's user, then a bisection
