"""The bot's memory of directory users: whoever cannot read Teams yet is asked about again, not remembered."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import cast

from bot.teams.connector import DirectoryPerson, TeamsApi
from bot.teams.people import People

PENDING = DirectoryPerson(
    "g-erin", "erin_gmail.com#EXT#@f.com", "Erin", external_user_state="PendingAcceptance"
)


class Directory:
    """Graph's `GET /users/{key}` for one guest, counting the calls."""

    def __init__(self) -> None:
        self.erin = PENDING
        self.calls = 0

    async def person(self, key: str) -> DirectoryPerson | None:
        self.calls += 1
        return self.erin if key == self.erin.id else None


def test_a_guest_is_reached_as_soon_as_they_accept_and_then_remembered() -> None:
    directory = Directory()
    people = People(cast(TeamsApi, directory), clock=lambda: 0.0)

    async def reach() -> tuple[DirectoryPerson | None, str]:
        return await people.reachable(["g-erin"])

    not_yet = "has not accepted the invitation yet: cannot see Teams messages in this tenant"
    assert asyncio.run(reach()) == (None, not_yet)
    directory.erin = replace(PENDING, external_user_state="Accepted")
    accepted = asyncio.run(reach())  # within the cache time: asked again, as she was not reachable
    assert accepted == (directory.erin, "") and directory.calls == 2
    assert asyncio.run(reach()) == accepted and directory.calls == 2  # now remembered
