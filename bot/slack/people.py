"""Slack users as the bot's people: user id -> Actor (email from the profile), email -> user, DM channels.

Emails are resolved in bulk: the whole workspace directory comes in `users.list` pages of 200 (Tier 2),
and only the emails it does not show are looked up one by one with `users.lookupByEmail` (Tier 3). A
notification wave to 2,000 people thus costs about ten calls, however long it takes to send. A miss is
looked up alone, never by reading the directory again: that takes minutes in a large workspace, and the
send waiting for it would hold its batch, so the whole wave (walk35: a 20,000-person wave stood still for
three minutes every five). Look-ups go one at a time, and a 429 to one holds them all for its Retry-After
(`LookupsLimited`): only the DMs that need one wait. A look-up's "no such member" is kept (in the
database) for `NOT_IN_SLACK_SECONDS`, then they are looked up again, as they may have joined; someone the
directory shows deactivated is looked up once it is older than the cache time, as they may be back.

The member list itself, what is kept of it and of the look-ups in the database, and how it is read again
beside the sends: `bot.slack.member_list` (reading its pages: `bot.slack.member_pages`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack._errors import LookupsLimited
from bot.slack.member_list import CACHE_SECONDS, MemberList
from bot.slack.member_pages import (
    NOT_IN_SLACK_SECONDS,
    MemberListRead,
    Person,
    email_of,
    person_of,
    retry_after,
)
from bot.slack.memory import PeopleMemory
from storage.slack_people import Said, address_key
from workflows.results import Actor
from workflows.working_hours import zone

_Cached = TypeVar("_Cached")


class People(MemberList):
    """Who is who in Slack: the member list read whole (`MemberList`), and a look-up for whom it does not
    show; the people behind user ids, and the bot's DM channels with them."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lookups: AsyncWebClient | None = None,
        memory: PeopleMemory | None = None,
    ) -> None:
        """`lookups` is the client `users.lookupByEmail` goes through (`client` by default): `serve` gives
        the outbox's, which hands a 429 back at once instead of waiting in the call, so that its Retry-After
        holds every look-up (`LookupsLimited`), not only the one that got it while the others ask on.
        `memory` keeps what Slack said across restarts and for the other `serve`s on the database."""
        super().__init__(client, cache_seconds=cache_seconds, clock=clock, sleep=sleep, memory=memory)
        self._lookup_client = lookups or client
        self._lookups_resume_at = -math.inf
        """Until when Slack's last 429 to a look-up asked to wait."""
        self._lookup_lock = asyncio.Lock()
        """One look-up at a time: the sends' look-ups would otherwise go out together (16 at a time) and
        come back 429 together, before the first one's Retry-After could hold the others."""
        self._by_email: dict[str, tuple[float, Person]] = {}
        """Members found alone (by a look-up, or behind a user id), forgotten by each read (`_loaded`)."""
        self._actors: dict[str, tuple[float, Actor | None]] = {}
        self._actor_locks: dict[str, asyncio.Lock] = {}
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
        person = person_of(user)  # their profile's zone too, cached with them: no call of its own
        actor = (
            Actor(id=user_id, email=email, name=name, surface="slack", zone=zone(person.time_zone))
            if email
            else None
        )
        self._actors[user_id] = (self._clock(), actor)
        key = email_of(user)
        if actor is not None and not user.get("deleted") and not self._deactivated_now(key):
            self._by_email[key] = (self._clock(), person)
        return actor

    async def find_first(self, emails: Sequence[str]) -> tuple[str, Person] | None:
        """The first of these emails that a workspace member has, with that member.

        Every email is checked against the directory and the cache before any is looked up: a look-up is
        a Tier 3 call (its "no member" stands `NOT_IN_SLACK_SECONDS`), and while look-ups are held
        (`LookupsLimited`) a DM to someone the directory shows under another of their emails need not wait
        for them.
        """
        keyed = [(email, address_key(email)) for email in emails]
        for email, key in keyed:
            person = self._at_hand(key)
            if person is not None:
                return email, person
        directory = await self._directory_with()
        for email, key in keyed:
            person = directory.by_email.get(key)
            if person is not None:
                return email, person
        for email, key in keyed:
            if self._deactivated_lately(key, directory):
                continue
            found = await self._look_up(email.strip(), key)
            # a read that landed while Slack answered may show them deactivated: the send fails with why
            if found is None or self._deactivated_since(key, directory):
                continue
            self._by_email[key] = (self._clock(), found)
            return email, found
        return None

    async def find(self, email: str) -> Person | None:
        """The workspace member with this email: from the bulk directory, else looked up alone.

        Nobody deactivated is found, nor looked up (Slack's answer would be `users_not_found`).
        """
        found = await self.find_first((email,))
        return found[1] if found else None

    async def lookups_held_for(self, emails: Sequence[str]) -> float:
        """Seconds until Slack takes look-ups again, when only a look-up would find someone with these
        emails (none is in the directory or the cache, nor deactivated there within the cache time, nor
        answered by a look-up lately, `memory`); 0 otherwise, and while there is no directory yet. Asks
        Slack nothing."""
        waiting = self._lookups_resume_at - self._clock()
        directory = self._directory
        if waiting <= 0 or directory is None:
            return 0.0
        keys = [address_key(email) for email in emails]
        if any(self._at_hand(key) is not None for key in keys):
            return 0.0
        for key in keys:  # in `find_first`'s order
            if self._deactivated_lately(key, directory):
                continue
            remembered = await self._remembered(key)
            if remembered is None:
                return waiting
            if remembered[0] is not None:
                return 0.0
        return 0.0  # the send fails them as deactivated or not in Slack without a look-up

    def _at_hand(self, key: str) -> Person | None:
        """The member with this casefolded email in the member list (`_listed`), or in the cache."""
        listed = self._listed(key)
        if listed is not None:
            return listed
        cached = self._fresh(self._by_email.get(key))
        return cached[0] if cached is not None else None

    def _loaded(self, directory: MemberListRead) -> MemberListRead:
        """Single look-ups are forgotten with each read swapped in, as it shows whoever they found as they
        are now (someone who joined after the last read, maybe deactivated since)."""
        self._by_email.clear()
        return super()._loaded(directory)

    async def dm_channel(self, user_id: str) -> str:
        """The bot's direct-message channel with a user; channel ids never change, so no expiry."""
        channel = self._dm_channels.get(user_id)
        if channel is None:
            response = await self._client.conversations_open(users=user_id)
            channel = str(response["channel"]["id"])
            self._dm_channels[user_id] = channel
        return channel

    async def _look_up(self, email: str, key: str) -> Person | None:
        """The member with this email, as Slack told this or another `serve` lately (`memory`), else
        asked of Slack alone; `LookupsLimited` while a Retry-After lasts."""
        async with self._lookup_lock:
            remembered = await self._remembered(key)
            if remembered is not None:
                return remembered[0]
            waiting = self._lookups_resume_at - self._clock()
            if waiting > 0:
                raise LookupsLimited(waiting)
            found = await self._ask_for(email)
            await self._remember(
                [Said(key, found.user_id if found else None, found.time_zone if found else None)]
            )
            return found

    async def _remembered(self, key: str) -> tuple[Person | None] | None:
        """What a look-up (or a page) told this or another `serve` of this address lately (`memory`), while
        it stands: (the member,) or (None,) for no member; None: only Slack can tell."""
        told = await self._memory.recall_one(key) if self._memory is not None else None
        if told is None:
            return None
        said = told.said
        if said.user_id is None:
            return (None,) if told.age <= NOT_IN_SLACK_SECONDS else None
        # a deactivated holder is asked about again: the address may be someone else's since
        if said.deactivated or told.age > self._cache_seconds:
            return None
        return (Person(said.user_id, said.time_zone),)

    async def _ask_for(self, email: str) -> Person | None:
        try:
            response = await self._lookup_client.users_lookupByEmail(email=email)
        except SlackApiError as error:
            if error.response.status_code == 429:
                waiting = retry_after(error)
                self._lookups_resume_at = max(self._lookups_resume_at, self._clock() + waiting)
                raise LookupsLimited(waiting) from error
            if error.response.get("error") != "users_not_found":
                raise
            return None
        return person_of(response["user"])

    def _fresh(self, entry: tuple[float, _Cached] | None) -> tuple[_Cached] | None:
        if entry is None or self._clock() - entry[0] > self._cache_seconds:
            return None
        return (entry[1],)
