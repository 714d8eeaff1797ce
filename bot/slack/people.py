"""Slack users as the bot's people: user id -> Actor (email from the profile), email -> user, DM channels.

Emails are resolved in bulk: the whole workspace directory comes in `users.list` pages of 200 (Tier 2),
and only the emails it does not show are looked up one by one with `users.lookupByEmail` (Tier 3). A
notification wave to 2,000 people thus costs about ten calls, however long it takes to send: the
directory is kept while it answers and reloaded only on a miss once it is older than the cache time.
Nobody is remembered as missing, so a person who joins is found the next time they are asked for.

A wave to 20,000 people takes hours and reading their directory again about five minutes, so between
reads Slack's own `user_change` events keep it current (`changed`): someone deactivated during the wave
is no longer found (Slack still accepts a `chat.postMessage` to their user id, slackapi/python-slack-sdk
#1156, so without this their message would be recorded as sent), someone reactivated is found again, and
a changed email moves their entry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


@dataclass
class _Directory:
    """The workspace's members that can be messaged, by case-folded email."""

    loaded_at: float = 0.0
    by_email: dict[str, Person] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    """user id -> the key of their entry in `by_email`, to move or remove it when they change."""
    deactivated: set[str] = field(default_factory=set)
    """Emails of deactivated members: why they are not found."""

    def put(self, member: dict[str, Any]) -> None:
        """A member as Slack shows them now, from `users.list` or a `user_change` event.

        A member shown without an email keeps the one they had: Slack leaves it out of some events
        (the profile of a deactivation may be elided), which says nothing about it having changed.
        """
        user_id = str(member["id"])
        email = _email(member)
        old = self.emails.pop(user_id, None)
        if old is not None:
            email = email or old
            if (held := self.by_email.get(old)) is not None and held.user_id == user_id:
                del self.by_email[old]
        if not email or member.get("is_bot"):
            return
        if member.get("deleted"):
            self.deactivated.add(email)
            return
        self.deactivated.discard(email)
        self.by_email[email] = _person(member)
        self.emails[user_id] = email


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
        self._directory: _Directory | None = None
        self._directory_lock = asyncio.Lock()
        self._changes_while_loading: list[dict[str, Any]] | None = None
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
        """The workspace member with this email: from the bulk directory, else looked up alone.

        Nobody deactivated is found, nor looked up (Slack's answer would be `users_not_found`).
        """
        key = email.strip().casefold()
        if self._directory is not None and key in self._directory.by_email:
            return self._directory.by_email[key]
        cached = self._fresh(self._by_email.get(key))
        if cached is not None and cached[0] is not None:
            return cached[0]
        directory = await self._directory_with(key)
        person = directory.by_email.get(key)
        if person is None and key not in directory.deactivated:
            person = await self._look_up(email.strip())
            if person is not None:
                self._by_email[key] = (self._clock(), person)
        return person

    def deactivated(self, emails: Sequence[str]) -> bool:
        """Whether Slack said that a member with one of these emails is deactivated."""
        known = self._directory.deactivated if self._directory is not None else set()
        return any(email.strip().casefold() in known for email in emails)

    def changed(self, member: dict[str, Any]) -> None:
        """Slack's `user_change` event: this member as they are now (deactivated, a new email...).

        Whatever was looked up about them alone is forgotten, so that it is read again when needed.
        """
        user_id = str(member["id"])
        self._actors.pop(user_id, None)
        for key in [key for key, (_, person) in self._by_email.items() if person.user_id == user_id]:
            del self._by_email[key]
        if self._directory is not None:
            self._directory.put(member)
        if self._changes_while_loading is not None:
            self._changes_while_loading.append(member)

    async def dm_channel(self, user_id: str) -> str:
        """The bot's direct-message channel with a user; channel ids never change, so no expiry."""
        channel = self._dm_channels.get(user_id)
        if channel is None:
            response = await self._client.conversations_open(users=user_id)
            channel = str(response["channel"]["id"])
            self._dm_channels[user_id] = channel
        return channel

    async def _directory_with(self, key: str) -> _Directory:
        """Every member with a visible email, by case-folded email; one load at a time.

        Loaded once, then reloaded only when it does not have `key` and is older than the cache time.
        """
        async with self._directory_lock:
            known = self._directory
            # someone deactivated is looked for in a fresh read too: without the event subscription (an
            # app installed from an older manifest) that is how their reactivation is seen
            if known is not None and (
                key in known.by_email or self._clock() - known.loaded_at <= self._cache_seconds
            ):
                return known
            directory = _Directory()
            self._changes_while_loading = []
            try:
                cursor: str | None = None
                while True:
                    response = await self._client.users_list(limit=PAGE_SIZE, cursor=cursor)
                    for member in response.get("members") or []:
                        directory.put(member)
                    cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                    if not cursor:
                        break
                # a page read before a change Slack told of since shows the member as they were
                for member in self._changes_while_loading:
                    directory.put(member)
            finally:
                self._changes_while_loading = None
            directory.loaded_at = self._clock()
            self._directory = directory
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


def _email(member: dict[str, Any]) -> str:
    return str((member.get("profile") or {}).get("email") or "").strip().casefold()


def _person(user: dict[str, Any]) -> Person:
    time_zone = user.get("tz")
    if not time_zone and isinstance(user.get("tz_offset"), int):
        time_zone = offset_name(user["tz_offset"])
    return Person(str(user["id"]), str(time_zone) if time_zone else None)
