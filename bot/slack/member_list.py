"""The Slack workspace's member list, which `People` finds people in before it looks anyone up: which
read the sends use, and when it is read again beside them.

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
from collections.abc import Awaitable, Callable, Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alongside import Loop
from bot.slack._errors import NOT_ANSWERED, RATE_LIMITING, error_code, fix_for, not_answered
from bot.slack.member_pages import MemberListRead, MemberPages, Person
from bot.slack.memory import PeopleMemory
from storage.slack_people import address_key

logger = logging.getLogger("bot.slack.people")
"""People's log: the member list's reads are logged under its name, where the operator looks for them."""

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
SAME_READ_SECONDS = 1.0
"""Whole reads whose starts, as recorded, are closer than this are taken for one: a read's start goes in on
the wall clock from its age on the monotonic one, read a moment apart."""


class MemberList(MemberPages):
    """The member list as the last read showed it, the read under way, and when to read it again."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        cache_seconds: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        memory: PeopleMemory | None,
    ) -> None:
        super().__init__(client, clock=clock, sleep=sleep, memory=memory)
        self._cache_seconds = cache_seconds
        self._directory: MemberListRead | None = None
        self._directory_lock = asyncio.Lock()
        self._first: asyncio.Task[MemberListRead] | None = None
        """The read the sends wait for while there is no directory (they share its failure)."""
        self._refresh_at = math.inf
        """When a hit asks `keep_fresh` for a new read: `MAX_AGE_SECONDS` after the last read, or the cache
        time after a failed one."""
        self._refresh_wanted = asyncio.Event()
        self._unreadable: str | None = None
        """Why the background reads fail, in words admins may see, since the last one that worked."""

    def _listed(self, key: str) -> Person | None:
        """The member with this casefolded email in the directory already read, or on the pages of the
        first one so far. A hit on a directory due for another read (`_refresh_at`) asks `keep_fresh`
        for it."""
        known = self._directory
        if known is not None and key in known.by_email:
            if self._clock() >= self._refresh_at:
                self._refresh_wanted.set()
            return known.by_email[key]
        reading = self._reading
        if known is None and reading is not None:
            return reading.by_email.get(key)
        return None

    def _deactivated_lately(self, key: str, directory: MemberListRead) -> bool:
        """Whether the directory, read within the cache time, shows them deactivated: then they are not
        looked up; past it they are, since they may be back."""
        return key in directory.deactivated and self._clock() - directory.loaded_at <= self._cache_seconds

    async def listing(self, emails: Sequence[str]) -> bool:
        """Whether the member list is being read for the sends, there being none yet (the read starts
        here if need be), and its pages so far, once the first is in and kept with another to come, show
        none of these emails: the DM waits, put back, while those to whom the pages show go. A list of one
        page is waited for whole. Nobody is found missing before the last page is in (and a look-up)."""
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

    def _deactivated_since(self, key: str, directory: MemberListRead) -> bool:
        """Whether a read that landed after `directory` shows them deactivated."""
        return self._directory is not directory and self._deactivated_now(key)

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

    async def _directory_with(self) -> MemberListRead:
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

    def _first_read(self) -> asyncio.Task[MemberListRead]:
        """The read the sends wait for, started unless there is one, under way or failed: a send that saw it
        fail in `listing` gets its failure in `find`."""
        if self._first is None:
            self._paged.clear()
            self._first = asyncio.ensure_future(self._read_first())
        return self._first

    async def _read_first(self) -> MemberListRead:
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

    async def _recalled(self, *, newer_than: MemberListRead | None = None) -> MemberListRead | None:
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
        directory = MemberListRead(loaded_at=now - listed_ago)
        for answer in answers:
            said = answer.said
            if said.user_id is None or answer.age > listed_ago:
                continue
            if said.deactivated:
                directory.deactivated[said.address] = said.user_id
            else:
                directory.by_email[said.address] = Person(said.user_id, said.time_zone)
        return directory

    def _loaded(self, directory: MemberListRead) -> MemberListRead:
        """Swaps `directory` in (`People` forgets its single look-ups then)."""
        self._directory = directory
        self._unreadable = None
        self._refresh_at = directory.loaded_at + MAX_AGE_SECONDS
        return directory


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
