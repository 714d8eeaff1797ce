"""Teams users as the bot's people: an activity's `aadObjectId` is a directory user, known by sign-in name.

The same person as in Slack: Slack matches by the profile's email, Teams by the directory's user
principal name, and the workflow decides admins by that address (owner or Project Collection
Administrator), so an admin is an admin on both surfaces.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from bot.teams.connector import DirectoryPerson, TeamsApi
from workflows.directory import PENDING_ACCEPTANCE
from workflows.results import Actor

CACHE_SECONDS = 300.0
_SWEEP_FROM = 1_000
"""Look-ups kept before the first sweep of expired ones; each sweep lets the cache double before the next."""


def out_of_teams(person: DirectoryPerson) -> str | None:
    """Why this directory user cannot read a Teams message in this tenant, None when they can: a disabled
    account cannot sign in, and a guest sees nothing of the host's Teams before redeeming the invitation."""
    if not person.account_enabled:
        return "has a disabled directory account: cannot sign in to Teams"
    if person.external_user_state == PENDING_ACCEPTANCE:
        return "has not accepted the invitation yet: cannot see Teams messages in this tenant"
    return None


def mri(user_id: str) -> str:
    """A user's Teams MRI from their directory object id, as `refresh.userIds` names people."""
    return f"8:orgid:{user_id}"


class People:
    def __init__(
        self,
        api: TeamsApi,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._known: dict[str, tuple[float, DirectoryPerson | None]] = {}
        self._sweep_at = _SWEEP_FROM

    async def actor(self, aad_object_id: str) -> Actor | None:
        person = await self.find(aad_object_id)
        if person is None or not person.principal_name:
            return None
        return Actor(id=person.id, email=person.principal_name, name=person.name, surface="teams")

    async def reachable(self, keys: Sequence[str]) -> tuple[DirectoryPerson | None, str]:
        """The first directory user known by one of these object ids or sign-in names who can read Teams
        here; else None and why the first account found cannot ("" when the directory knows none of them)."""
        why = ""
        for key in keys:
            person = await self.find(key)
            if person is None:
                continue
            refused = out_of_teams(person)
            if refused is None:
                return person, ""
            why = why or refused
        return None, why

    async def find(self, key: str) -> DirectoryPerson | None:
        """A directory user by object id or sign-in name; cached, a miss asked again after the cache time."""
        wanted = key.strip().casefold()
        cached = self._known.get(wanted)
        if cached is not None and self._clock() - cached[0] <= self._cache_seconds:
            return cached[1]
        person = await self._api.person(key.strip())
        if person is not None and out_of_teams(person) is not None:
            return person  # asked again next time: accepting the invitation is the next step we wait for
        now = self._clock()
        self._known[wanted] = (now, person)
        if person is not None:
            self._known[person.id.casefold()] = (now, person)
            self._known[person.principal_name.casefold()] = (now, person)
        if len(self._known) >= self._sweep_at:
            self._forget_expired(now)
        return person

    @property
    def remembered(self) -> int:
        """How many look-ups are kept (by object id, sign-in name and the key asked)."""
        return len(self._known)

    def _forget_expired(self, now: float) -> None:
        """Drop what would be asked again anyway: a wave of 20,000 lists asks for everyone once, and keeping
        each answer for good held them all for the life of `serve` (perf28). Swept when the cache has doubled,
        so a cache of fresh answers costs a sweep per so many look-ups, never one each."""
        fresh = now - self._cache_seconds
        self._known = {key: found for key, found in self._known.items() if found[0] >= fresh}
        self._sweep_at = max(_SWEEP_FROM, 2 * len(self._known))
