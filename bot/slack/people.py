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

What Slack says is kept in the database (`memory`, `bot.slack.memory`), page by page and look-up by
look-up: a restarted `serve`, or another on the same database, sends from the member list that one of them
read whole within the bound below, and asks no look-up again that Slack answered within its time.

The outbox's sends never use a directory more than `MAX_AGE_SECONDS` plus `READ_SECONDS` (70 minutes) old.
Once it is `MAX_AGE_SECONDS` old, a hit has `keep_fresh` (which `serve` runs beside the sends) read it again
while the sends go on with the old one, and swaps the new one in. A send that finds it older still (the
first after idle time between waves, or while reads fail) asks `overdue`, which asks `keep_fresh` for that
read, and goes no further: the outbox tries it again later, uncounted, so no send waits for a read nor
reads itself, and a failing read is tried once per `CACHE_SECONDS` however many sends find it overdue.
Only the very first sends wait for the first read (there is no directory to send from), and not for all of
it: the outbox's DMs to people on the pages read so far go (`listing`), the others are put back until their
page is in, and nobody is found missing before the last one is; sends that waited with it share a failed
read's error instead of each reading again. Replies in a conversation only `find`,
and never wait for a read under way. So someone deactivated in Slack is not DMed for long (Slack still
accepts a `chat.postMessage` to their user id, slackapi/python-slack-sdk #1156, and the message would be
recorded as sent): `users.list` shows them with `deleted: true`, and the send fails with why. The bot does
not follow Slack's `user_change` event instead: Slack sends it with every status, profile and huddle change
of every member, which in a large workspace can go over the Events API's hourly limit per app, and Slack then
drops events, people's messages to the bot among them; and it reaches one `serve` process of several.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alongside import Loop
from bot.slack._errors import (
    NOT_ANSWERED,
    RATE_LIMITING,
    LookupsLimited,
    error_code,
    fix_for,
    not_answered,
    retry_after_header,
    retry_after_seconds,
)
from bot.slack.memory import PeopleMemory
from storage.slack_people import Said, address_key
from workflows.results import Actor
from workflows.working_hours import offset_name

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
"""How long a single lookup is kept, how long the directory says who is deactivated without a look-up, and
the wait before a failed read is tried again."""
MAX_AGE_SECONDS = 3600.0
"""How old the directory may be before a hit has it read again in the background. Reading 20,000 members is
100 pages, about five minutes at Tier 2 (20 a minute), so an hourly read keeps `users.list`'s budget free
for the first read of a `serve` that starts meanwhile."""
READ_SECONDS = 600.0
"""How much longer the sends may go on with the old directory while it is read again: twice a 20,000-member
read at `PAGE_SECONDS`, so that a steady wave does not stop for it. A send that finds it older is put back
until a read is in: for at most `MAX_AGE_SECONDS` plus this, someone deactivated in Slack is still DMed."""
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

SAME_READ_SECONDS = 1.0
"""Whole reads whose starts, as recorded, are closer than this are taken for one: a read's start goes in on
the wall clock from its age on the monotonic one, read a moment apart."""

_Cached = TypeVar("_Cached")


@dataclass(frozen=True)
class Person:
    user_id: str
    time_zone: str | None
    """IANA name from the profile (`tz`), else its `tz_offset` as `+HH:MM`."""


@dataclass
class _Directory:
    """The workspace's members that can be messaged, by case-folded email, as one read showed them."""

    loaded_at: float
    """When the read began: its first pages are that old."""
    by_email: dict[str, Person] = field(default_factory=dict)
    deactivated: dict[str, str] = field(default_factory=dict)
    """Emails of deactivated members (`users.list` keeps them, with `deleted: true`) that no active member
    holds, with the user id of one of them: why they are not found."""

    def put(self, member: dict[str, Any]) -> None:
        """A member of a `users.list` page. An email an active member holds is theirs, whichever of them
        and the deactivated holder comes first (an address handed on to someone else)."""
        email = _email(member)
        if not email or member.get("is_bot"):
            return
        if not member.get("deleted"):
            self.by_email[email] = _person(member)
            self.deactivated.pop(email, None)
        elif email not in self.by_email:
            self.deactivated[email] = str(member["id"])


class People:
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
        self._client = client
        self._memory = memory
        self._lookup_client = lookups or client
        self._lookups_resume_at = -math.inf
        """Until when Slack's last 429 to a look-up asked to wait."""
        self._lookup_lock = asyncio.Lock()
        """One look-up at a time: the sends' look-ups would otherwise go out together (16 at a time) and
        come back 429 together, before the first one's Retry-After could hold the others."""
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._sleep = sleep
        self._actors: dict[str, tuple[float, Actor | None]] = {}
        self._actor_locks: dict[str, asyncio.Lock] = {}
        self._by_email: dict[str, tuple[float, Person]] = {}
        self._directory: _Directory | None = None
        self._directory_lock = asyncio.Lock()
        self._first: asyncio.Task[_Directory] | None = None
        """The read the sends wait for while there is no directory (they share its failure)."""
        self._reading: _Directory | None = None
        """Its pages so far: a member on them is found before the last page is in."""
        self._paged = asyncio.Event()
        """Set once a page of the read under way is in."""
        self._refresh_at = math.inf
        """When a hit asks `keep_fresh` for a new read: `MAX_AGE_SECONDS` after the last read, or the cache
        time after a failed one."""
        self._refresh_wanted = asyncio.Event()
        self._unreadable: str | None = None
        """Why the background reads fail, in words admins may see, since the last one that worked."""
        self._waits_left = READ_WAITS
        """Retry-After waits the read under way may still take (one read at a time, under the lock)."""
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
        actor = Actor(id=user_id, email=email, name=name, surface="slack") if email else None
        self._actors[user_id] = (self._clock(), actor)
        key = _email(user)
        if actor is not None and not user.get("deleted") and not self._deactivated_now(key):
            self._by_email[key] = (self._clock(), _person(user))
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
            if found is None or (self._directory is not directory and self._deactivated_now(key)):
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

    def _deactivated_lately(self, key: str, directory: _Directory) -> bool:
        """Whether the directory, read within the cache time, shows them deactivated: then they are not
        looked up; past it they are, since they may be back."""
        return key in directory.deactivated and self._clock() - directory.loaded_at <= self._cache_seconds

    def _at_hand(self, key: str) -> Person | None:
        """The member with this casefolded email in the directory already read (or on the pages of the
        first one so far), or in the cache."""
        known = self._directory
        if known is not None and key in known.by_email:
            if self._clock() >= self._refresh_at:
                self._refresh_wanted.set()
            return known.by_email[key]
        reading = self._reading
        if known is None and reading is not None and key in reading.by_email:
            return reading.by_email[key]
        cached = self._fresh(self._by_email.get(key))
        return cached[0] if cached is not None else None

    async def listing(self, emails: Sequence[str]) -> bool:
        """Whether the member list is being read for the sends, there being none yet (the read starts
        here if need be), and its pages so far, once the first is in, show none of these emails: the DM
        waits, put back, while those to whom the pages show go. Nobody is found missing before the last
        page is in (and a look-up)."""
        if self._directory is not None or self._unreadable is not None:
            return False
        read = self._first_read()
        if not self._paged.is_set():
            paged = asyncio.ensure_future(self._paged.wait())
            try:
                await asyncio.wait((read, paged), return_when=asyncio.FIRST_COMPLETED)
            finally:
                paged.cancel()
        if read.done() or self._directory is not None:
            if not read.cancelled():
                read.exception()  # the send's `find` gets it, or reads again
            return False
        reading = self._reading
        keys = [address_key(email) for email in emails]
        return reading is None or not any(key in reading.by_email for key in keys)

    def overdue(self) -> bool:
        """Whether the directory is over `MAX_AGE_SECONDS` plus `READ_SECONDS` old, or there is none because
        Slack refused the first read for something only an admin can fix (`fix_for`: a scope, the token);
        then asks `keep_fresh` for a read (which after a failed one waits out the cache time). The outbox's
        sends ask this first and go no further while it holds: none goes out from an older directory, none
        waits for the read, and none fails for want of a scope while admins add it. False when there is
        no directory yet otherwise: the first send waits for the first read in `find`."""
        known = self._directory
        if known is None and self._unreadable is None:
            return False
        if known is not None and self._clock() - known.loaded_at <= MAX_AGE_SECONDS + READ_SECONDS:
            return False
        self._refresh_wanted.set()
        return True

    def unreadable(self) -> str | None:
        """Why the directory cannot be read again, when its last background read (or a first read, for a
        cause `fix_for` names) failed: what Slack said and what fixes it, without the token. None once a
        read works."""
        return self._unreadable

    def next_read_in(self) -> float:
        """Seconds until a read asked for now would start: after a failed one, the rest of the cache time;
        0 otherwise."""
        return max(self._refresh_at - self._clock(), 0.0) if self._unreadable is not None else 0.0

    def deactivated(self, emails: Sequence[str]) -> bool:
        """Whether the directory shows a deactivated member with one of these emails."""
        return any(self._deactivated_now(address_key(email)) for email in emails)

    def _deactivated_now(self, key: str) -> bool:
        return self._directory is not None and key in self._directory.deactivated

    async def keep_fresh(self) -> None:
        """Reads the directory again, pacing its pages, each time a hit finds it over `MAX_AGE_SECONDS` old,
        while the sends go on with the one they have, then swaps it in; a read that fails, whatever the error,
        is logged and tried again on a hit after the cache time, with the old directory kept. Runs until
        cancelled: `serve` runs it beside the sends and cancels it when it stops."""
        while True:
            await self._refresh_wanted.wait()
            await self._refresh()

    async def _refresh(self) -> None:
        """One read for `keep_fresh`, unless one has landed since it was asked for."""
        async with self._directory_lock:
            self._refresh_wanted.clear()
            if self._clock() < self._refresh_at:
                return
            recalled = await self._recalled(newer_than=self._directory)
            if recalled is not None:
                self._loaded(recalled)  # another `serve` read it since
                if self._clock() < self._refresh_at:
                    return
            try:
                self._loaded(await self._read(paced=True))
            # best effort, beside the sends: no error of a read may end `serve` (CancelledError is no
            # Exception: a stop still ends it)
            except Exception as error:
                self._unreadable_since(error)
                logger.warning(
                    "reading the Slack directory again failed (%s): the last one is kept, tried again in"
                    " %.0f min",
                    error_code(error),
                    self._cache_seconds / 60,
                )

    def _unreadable_since(self, error: Exception) -> None:
        """A read failed: the sends are told why, and the next one waits out the cache time."""
        self._refresh_at = self._clock() + self._cache_seconds
        self._unreadable = _unreadable_because(error)

    async def closed_after(self, sends: Awaitable[None]) -> None:
        """`sends` (the outbox worker's run), then the sends' first read cancelled if it is still under way:
        no send waits for it any more, and a stop would otherwise wait its whole time for it, and warn."""
        try:
            await sends
        finally:
            if self._first is not None:
                self._first.cancel()

    def refreshing(self) -> Loop:
        """`keep_fresh` as `serve` runs it beside the sends: holding no work, it is cancelled at a stop."""
        return Loop("the Slack directory refresh", self.keep_fresh())

    async def dm_channel(self, user_id: str) -> str:
        """The bot's direct-message channel with a user; channel ids never change, so no expiry."""
        channel = self._dm_channels.get(user_id)
        if channel is None:
            response = await self._client.conversations_open(users=user_id)
            channel = str(response["channel"]["id"])
            self._dm_channels[user_id] = channel
        return channel

    async def _directory_with(self) -> _Directory:
        """The directory, read first if there is none yet. A miss does not read it again: that takes
        minutes in a large workspace (100 pages at Tier 2 for 20,000 members), and the send waiting for it
        held its whole batch, so a wave of 20,000 stood still for minutes every `CACHE_SECONDS` while
        one of its misses waited (walk35); a look-up finds someone who joined since, and the hourly read
        (`keep_fresh`) the rest. The sends waiting for the first read share it, and its failure."""
        known = self._directory
        if known is not None:
            return known
        read = self._first_read()
        try:
            return await asyncio.shield(read)
        except BaseException:
            if self._first is read and read.done():
                self._first = None  # its failure told: the next send reads again
            raise

    def _first_read(self) -> asyncio.Task[_Directory]:
        """The read the sends wait for, started unless there is one, under way or failed: a send that saw it
        fail in `listing` gets its failure in `find`."""
        if self._first is None:
            self._paged.clear()
            self._first = asyncio.ensure_future(self._read_first())
        return self._first

    async def _read_first(self) -> _Directory:
        """The member list that a `serve` read whole lately (`memory`), else read now."""
        async with self._directory_lock:
            known = self._directory
            if known is not None:
                return known
            recalled = await self._recalled()
            if recalled is not None:
                return self._loaded(recalled)
            try:
                return self._loaded(await self._read())
            except SlackApiError as error:
                if fix_for(error) is not None:  # the sends wait for an admin's fix
                    self._unreadable_since(error)
                raise

    async def _recalled(self, *, newer_than: _Directory | None = None) -> _Directory | None:
        """The newest member list read whole within `MAX_AGE_SECONDS` plus `READ_SECONDS`, by this `serve`
        before a restart or by another, as what Slack said since shows it; only if its read began
        `SAME_READ_SECONDS` after the one of `newer_than` (this `serve`'s own, recorded, is not loaded)."""
        if self._memory is None:
            return None
        bound = MAX_AGE_SECONDS + READ_SECONDS
        younger_than = None
        if newer_than is not None:
            younger_than = self._clock() - newer_than.loaded_at - SAME_READ_SECONDS
        listed_ago, answers = await self._memory.recall(bound, younger_than=younger_than)
        if listed_ago is None or listed_ago > bound:
            return None
        now = self._clock()
        directory = _Directory(loaded_at=now - listed_ago)
        for answer in answers:
            said = answer.said
            if said.user_id is None or answer.age > listed_ago:
                continue
            if said.deactivated:
                directory.deactivated[said.address] = said.user_id
            else:
                directory.by_email[said.address] = Person(said.user_id, said.time_zone)
        return directory

    async def _read(self, *, paced: bool = False) -> _Directory:
        """The whole directory, under the lock, each page remembered as it comes (until the database fails
        one: then the read is not recorded whole, nor does it write again); the sends' read (not
        `paced`) shows its pages as they come (`_reading`), and is paced after `BURST_PAGES`."""
        directory = _Directory(loaded_at=self._clock())
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
                self._paged.set()
                # after a failure the list is not kept anyway: no page waits for a database that is down
                kept = kept and await self._remember(_page_said(members, directory))
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
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
                await self._sleep(_retry_after(error))
        return await self._client.users_list(limit=PAGE_SIZE, cursor=cursor)

    def _loaded(self, directory: _Directory) -> _Directory:
        """Swaps `directory` in; single lookups are forgotten, as it shows whoever they found as they are
        now (someone who joined after the last read, maybe deactivated since)."""
        self._directory = directory
        self._unreadable = None
        self._by_email.clear()
        self._refresh_at = directory.loaded_at + MAX_AGE_SECONDS
        return directory

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
                waiting = _retry_after(error)
                self._lookups_resume_at = max(self._lookups_resume_at, self._clock() + waiting)
                raise LookupsLimited(waiting) from error
            if error.response.get("error") != "users_not_found":
                raise
            return None
        return _person(response["user"])

    def _fresh(self, entry: tuple[float, _Cached] | None) -> tuple[_Cached] | None:
        if entry is None or self._clock() - entry[0] > self._cache_seconds:
            return None
        return (entry[1],)


def _unreadable_because(error: Exception) -> str:
    """Why a `users.list` read failed, and what fixes it where admins can (`fix_for`). Slack's Web API spec
    (slackapi/slack-api-specs) lists its codes: the token's, `no_permission`, `request_timeout`,
    `fatal_error`..., and every method may answer `missing_scope` or `ratelimited`."""
    if not isinstance(error, SlackApiError):
        if isinstance(error, NOT_ANSWERED):
            return not_answered(error)
        return f"the read failed ({type(error).__name__}); the log has more"
    if error.response.status_code == 429:
        return f"{RATE_LIMITING} the reads (ratelimited)"
    return fix_for(error) or f"Slack answered {error_code(error)}"


def _retry_after(error: SlackApiError) -> float:
    """The wait a 429 asks for, `RETRY_AFTER_SECONDS` when it says none, at most `RETRY_AFTER_AT_MOST`."""
    header = retry_after_header(error)
    return retry_after_seconds(header, missing=RETRY_AFTER_SECONDS, at_most=RETRY_AFTER_AT_MOST)


def _page_said(members: list[dict[str, Any]], directory: _Directory) -> list[Said]:
    """A page's members that hold their emails as the read so far shows them (an active holder's over a
    deactivated one); the deactivated wait for the whole read (`_deactivated_said`), as an active member
    on a later page may hold their email."""
    said: dict[str, Said] = {}
    for member in members:
        key = _email(member)
        person = directory.by_email.get(key)
        if person is not None:
            said[key] = Said(key, person.user_id, person.time_zone)
    return list(said.values())


def _deactivated_said(directory: _Directory) -> list[Said]:
    return [Said(key, user_id, deactivated=True) for key, user_id in directory.deactivated.items()]


def _email(member: dict[str, Any]) -> str:
    return address_key(str((member.get("profile") or {}).get("email") or ""))


def _person(user: dict[str, Any]) -> Person:
    time_zone = user.get("tz")
    if not time_zone and isinstance(user.get("tz_offset"), int):
        time_zone = offset_name(user["tz_offset"])
    return Person(str(user["id"]), str(time_zone) if time_zone else None)
