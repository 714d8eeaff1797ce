"""Slack users as the bot's people: user id -> Actor (email from the profile), email -> user, DM channels.

Emails are resolved in bulk: the whole workspace directory comes in `users.list` pages of 200 (Tier 2),
and only the emails it does not show are looked up one by one with `users.lookupByEmail` (Tier 3). A
notification wave to 2,000 people thus costs about ten calls, however long it takes to send: the
directory is kept while it answers and reloaded only on a miss once it is older than the cache time.
Nobody is remembered as missing, so a person who joins is found the next time they are asked for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.results import Actor
from workflows.working_hours import offset_name

CACHE_SECONDS = 300.0
PAGE_SIZE = 200
"""Slack's recommended `users.list` page size."""

_Cached = TypeVar("_Cached")


@dataclass(frozen=True)
class Person:
    user_id: str
    time_zone: str | None
    """IANA name from the profile (`tz`), else its `tz_offset` as `+HH:MM`."""


class People:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._actors: dict[str, tuple[float, Actor | None]] = {}
        self._actor_locks: dict[str, asyncio.Lock] = {}
        self._by_email: dict[str, tuple[float, Person]] = {}
        self._directory: tuple[float, dict[str, Person]] | None = None
        self._directory_lock = asyncio.Lock()
        self._dm_channels: dict[str, str] = {}

    async def actor(self, user_id: str) -> Actor | None:
        """The person behind a Slack user id, or None when Slack shows no email for them (bots, hidden).

        One lookup per person at a time: requests arriving together (Socket Mode hands them over at once)
        wait for the first one's answer instead of each asking Slack.
        """
        async with self._actor_locks.setdefault(user_id, asyncio.Lock()):
            cached = self._fresh(self._actors.get(user_id))
            if cached is not None:
                return cached[0]
            return await self._look_up_actor(user_id)

    async def _look_up_actor(self, user_id: str) -> Actor | None:
        response = await self._client.users_info(user=user_id)
        user: dict[str, Any] = response["user"]
        profile: dict[str, Any] = user.get("profile", {})
        email = str(profile.get("email") or "").strip()
        name = str(profile.get("real_name") or user.get("real_name") or user.get("name") or user_id)
        actor = Actor(id=user_id, email=email, name=name) if email else None
        self._actors[user_id] = (self._clock(), actor)
        if actor is not None:
            self._by_email[email.casefold()] = (self._clock(), _person(user))
        return actor

    async def find_first(self, emails: Sequence[str]) -> tuple[str, Person] | None:
        """The first of these emails that a workspace member has, with that member."""
        for email in emails:
            person = await self.find(email)
            if person is not None:
                return email, person
        return None

    async def find(self, email: str) -> Person | None:
        """The workspace member with this email: from the bulk directory, else looked up alone."""
        key = email.strip().casefold()
        cached = self._fresh(self._by_email.get(key))
        if cached is not None and cached[0] is not None:
            return cached[0]
        directory = await self._directory_with(key)
        person = directory.get(key)
        if person is None:
            person = await self._look_up(email.strip())
        if person is not None:
            self._by_email[key] = (self._clock(), person)
        return person

    async def dm_channel(self, user_id: str) -> str:
        """The bot's direct-message channel with a user; channel ids never change, so no expiry."""
        channel = self._dm_channels.get(user_id)
        if channel is None:
            response = await self._client.conversations_open(users=user_id)
            channel = str(response["channel"]["id"])
            self._dm_channels[user_id] = channel
        return channel

    async def _directory_with(self, key: str) -> dict[str, Person]:
        """Every member with a visible email, by case-folded email; one load at a time.

        Loaded once, then reloaded only when it does not have `key` and is older than the cache time.
        """
        async with self._directory_lock:
            if self._directory is not None:
                loaded_at, known = self._directory
                if key in known or self._clock() - loaded_at <= self._cache_seconds:
                    return known
            directory: dict[str, Person] = {}
            cursor: str | None = None
            while True:
                response = await self._client.users_list(limit=PAGE_SIZE, cursor=cursor)
                for member in response.get("members") or []:
                    email = str((member.get("profile") or {}).get("email") or "").strip()
                    if email and not member.get("deleted") and not member.get("is_bot"):
                        directory[email.casefold()] = _person(member)
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
            self._directory = (self._clock(), directory)
            return directory

    async def _look_up(self, email: str) -> Person | None:
        try:
            response = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                raise
            return None
        return _person(response["user"])

    def _fresh(self, entry: tuple[float, _Cached] | None) -> tuple[_Cached] | None:
        if entry is None or self._clock() - entry[0] > self._cache_seconds:
            return None
        return (entry[1],)


def _person(user: dict[str, Any]) -> Person:
    time_zone = user.get("tz")
    if not time_zone and isinstance(user.get("tz_offset"), int):
        time_zone = offset_name(user["tz_offset"])
    return Person(str(user["id"]), str(time_zone) if time_zone else None)
