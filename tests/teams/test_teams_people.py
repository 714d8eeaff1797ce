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


class Everyone:
    """Graph's `GET /users/{key}` for a directory where every sign-in name is someone, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def person(self, key: str) -> DirectoryPerson | None:
        self.calls += 1
        name = key.removeprefix("id-")
        return DirectoryPerson(f"id-{name}", name, name.title())


def test_a_wave_to_twenty_thousand_people_keeps_only_the_look_ups_of_the_last_cache_time() -> None:
    """`serve` sends a list to each of 20,000 people, one a second here: what is past the cache time
    would be asked again anyway, so it is not kept for the life of the process (perf28, walk30 finding 5)."""
    directory, now = Everyone(), [0.0]
    people = People(cast(TeamsApi, directory), cache_seconds=300.0, clock=lambda: now[0])

    async def wave() -> None:
        for number in range(20_000):
            now[0] = float(number)
            assert await people.find(f"user{number}@contoso.com") is not None

    asyncio.run(wave())
    # three keys a person (the address asked, object id, sign-in name), for the last 300 s, at most doubled
    assert people.remembered <= 2 * 3 * 301, people.remembered
    calls = directory.calls
    assert asyncio.run(people.find("id-user19990@contoso.com")) is not None  # recent: still remembered
    assert asyncio.run(people.find("user19700@contoso.com")) is not None
    assert directory.calls == calls
    asyncio.run(people.find("user100@contoso.com"))  # long expired: asked again
    assert directory.calls == calls + 1
