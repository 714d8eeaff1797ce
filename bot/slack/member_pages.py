"""Reading the Slack workspace's member list whole: `users.list` pages of 200 (Tier 2), paced past a
burst and after a 429, each page kept in the database as it comes (`bot.slack.memory`); and a member as
the bot knows them (`Person`), by their email (`email_of`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack._errors import retry_after_header, retry_after_seconds
from bot.slack.memory import PeopleMemory
from storage.slack_people import Said, address_key
from workflows.working_hours import offset_name

PAGE_SECONDS = 3.0
"""The pause between two pages of a background read: Tier 2's 20 calls a minute, so that it leaves the
budget to the read someone waits for (the very first), which is not paced: a 429's Retry-After paces it."""
PAGE_TRIES = 3
"""How many more times a page Slack still rate-limits after the client's own retries is asked for, after
its Retry-After: the read goes on from that page instead of failing and starting over from the first."""
READ_WAITS = 6
"""How many Retry-After waits of its own one read takes at most, over all its pages, before it fails: with
`RETRY_AFTER_AT_MOST` they add at most 30 minutes to a read, which holds the directory's lock throughout.
The client's own retries on a 429 (`RATE_LIMIT_RETRIES` per call, waiting Slack's Retry-After as given)
come on top."""
RETRY_AFTER_SECONDS = 60.0
"""When a 429 has no readable Retry-After: Tier 2's limit is per minute."""
RETRY_AFTER_AT_MOST = 300.0
"""A longer Retry-After is waited this long: a read failing meanwhile is tried again after `CACHE_SECONDS`
(as long) anyway."""
PAGE_SIZE = 200
"""Slack's recommended `users.list` page size."""
BURST_PAGES = 20
"""Pages the sends' read asks for without a pause before it is paced as a background read: Tier 2's
minute (20 calls), which Slack's bursts allow. Unpaced throughout, every page after them came back 429
first and was asked again after its Retry-After (walk35: 175 calls for a 100-page read, 75 of them 429s),
and took no less time."""
NOT_IN_SLACK_SECONDS = 900.0
"""How long a look-up's "no such member" kept in the database (`memory`) stands: a restart, another `serve`
or a send put back meanwhile does not ask again; after it, they are looked up again, as they may have
joined Slack (the member list shows a newcomer by its next read, within the hour, anyway). `retry-failed`
forgets it for whom it queues again: an admin retries once someone joined."""


@dataclass(frozen=True)
class Person:
    user_id: str
    time_zone: str | None
    """IANA name from the profile (`tz`), else its `tz_offset` as `+HH:MM`."""


@dataclass
class MemberListRead:
    """The Slack workspace's members that can be messaged, by case-folded email, as one read of its member
    list (`users.list`) showed them."""

    loaded_at: float
    """When the read began: its first pages are that old."""
    by_email: dict[str, Person] = field(default_factory=dict)
    deactivated: dict[str, str] = field(default_factory=dict)
    """Emails of deactivated members (`users.list` keeps them, with `deleted: true`) that no active member
    holds, with the user id of one of them: why they are not found."""

    def put(self, member: dict[str, Any]) -> None:
        """A member of a `users.list` page. An email an active member holds is theirs, whichever of them
        and the deactivated holder comes first (an address handed on to someone else)."""
        email = email_of(member)
        if not email or member.get("is_bot"):
            return
        if not member.get("deleted"):
            self.by_email[email] = person_of(member)
            self.deactivated.pop(email, None)
        elif email not in self.by_email:
            self.deactivated[email] = str(member["id"])


class MemberPages:
    """Reads the member list one page after another, one read at a time (`MemberList` holds the lock)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        memory: PeopleMemory | None,
    ) -> None:
        self._client = client
        self._memory = memory
        self._clock = clock
        self._sleep = sleep
        self._reading: MemberListRead | None = None
        """The pages so far of the read the sends wait for (`MemberList._first`): a member on them is found
        before the last page is in."""
        self._paged = asyncio.Event()
        """Set once a page of the read under way is in and kept, and another follows."""
        self._waits_left = READ_WAITS
        """Retry-After waits the read under way may still take (one read at a time, under the lock)."""

    async def _read(self, *, paced: bool = False) -> MemberListRead:
        """The whole directory, under the lock, each page remembered as it comes (until the database fails
        one: then the read is not recorded whole, nor does it write again); the sends' read (not
        `paced`) shows its pages as they come (`_reading`), and is paced after `BURST_PAGES`."""
        directory = MemberListRead(loaded_at=self._clock())
        cursor: str | None = None
        self._waits_left = READ_WAITS
        self._paged.clear()
        if not paced:
            self._reading = directory
        try:
            pages = 0
            kept = True
            while True:
                pages += 1
                response = await self._page(cursor)
                members = response.get("members") or []
                for member in members:
                    directory.put(member)
                # after a failure the list is not kept anyway: no page waits for a database that is down
                kept = kept and await self._remember(_page_said(members, directory))
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if cursor:
                    # not after the last: a DM woken then, while that page was still being kept, found its
                    # person on no page and was put back for `READING_LATER_SECONDS`, where the read's end a
                    # moment later has them looked up (every guest of a one-page list waited 15 s, perf39)
                    self._paged.set()
                else:
                    # a page the database did not keep would be missing from the list recalled as whole
                    if self._memory is not None and kept:
                        began_ago = self._clock() - directory.loaded_at
                        # what the read shows supersedes any older answer but a look-up's "no member"
                        said = _deactivated_said(directory)
                        await self._memory.listed(began_ago, said, kept_for=NOT_IN_SLACK_SECONDS)
                    return directory
                if paced or pages >= BURST_PAGES:
                    await self._sleep(PAGE_SECONDS)
        finally:
            if not paced:
                self._reading = None

    async def _remember(self, said: Sequence[Said]) -> bool:
        """Whether the database kept them (without one, nothing is lost)."""
        return await self._memory.remember(said) if self._memory is not None else True

    async def _page(self, cursor: str | None) -> Any:
        """One `users.list` page, asked for again after a 429 the client's retries did not get past, while
        the read has waits left."""
        for _ in range(PAGE_TRIES):
            try:
                return await self._client.users_list(limit=PAGE_SIZE, cursor=cursor)
            except SlackApiError as error:
                if error.response.status_code != 429 or not self._waits_left:
                    raise
                self._waits_left -= 1
                await self._sleep(retry_after(error))
        return await self._client.users_list(limit=PAGE_SIZE, cursor=cursor)


def retry_after(error: SlackApiError) -> float:
    """The wait a 429 asks for, `RETRY_AFTER_SECONDS` when it says none, at most `RETRY_AFTER_AT_MOST`."""
    header = retry_after_header(error)
    return retry_after_seconds(header, missing=RETRY_AFTER_SECONDS, at_most=RETRY_AFTER_AT_MOST)


def _page_said(members: list[dict[str, Any]], directory: MemberListRead) -> list[Said]:
    """A page's members that hold their emails as the read so far shows them (an active holder's over a
    deactivated one); the deactivated wait for the whole read (`_deactivated_said`), as an active member
    on a later page may hold their email."""
    said: dict[str, Said] = {}
    for member in members:
        key = email_of(member)
        person = directory.by_email.get(key)
        if person is not None:
            said[key] = Said(key, person.user_id, person.time_zone)
    return list(said.values())


def _deactivated_said(directory: MemberListRead) -> list[Said]:
    return [Said(key, user_id, deactivated=True) for key, user_id in directory.deactivated.items()]


def email_of(member: dict[str, Any]) -> str:
    return address_key(str((member.get("profile") or {}).get("email") or ""))


def person_of(user: dict[str, Any]) -> Person:
    time_zone = user.get("tz")
    if not time_zone and isinstance(user.get("tz_offset"), int):
        time_zone = offset_name(user["tz_offset"])
    return Person(str(user["id"]), str(time_zone) if time_zone else None)
