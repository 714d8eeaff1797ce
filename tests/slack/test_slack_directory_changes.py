"""The Slack directory kept fresh in a long-running `serve`, without Slack's events.

`serve` sends from one read of the workspace directory; once that read is `MAX_AGE_SECONDS` old, the next
send that finds someone in it has it read again beside the sends, which go on with the old one until the
new one is in, or until it is `READ_SECONDS` older still: a DM is then put back, uncounted, until a read is
in. These conversations
show someone deactivated in Slack after the read (Slack would still take a post to their user id, and the
bot would record it sent), the first wave after idle time, someone reactivated, reads that fail or are
rate limited, and a stop in the middle of a read.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select

from bot.alongside import Loop, alongside
from bot.delivery.worker import OutboxWorker
from bot.slack.app import build_web_client
from bot.slack.member_list import CACHE_SECONDS, MAX_AGE_SECONDS, READ_SECONDS
from bot.slack.member_pages import (
    PAGE_SECONDS,
    PAGE_SIZE,
    PAGE_TRIES,
    READ_WAITS,
    RETRY_AFTER_AT_MOST,
    MemberListRead,
)
from bot.slack.people import People
from bot.slack.sender import DIRECTORY_LATER_SECONDS, SlackSender
from storage import Database, OutboundMessage
from storage.outbox import NOT_IN_CHAT, enqueue, retry_failed
from tests.delivery.conftest import FakeTime, queue_lists
from tests.fakes.slack_api import Failure, FakeSlack
from tests.fakes.slack_harness import ADMIN, ADMIN_EMAIL, BOT_TOKEN, COLLEAGUE, COLLEAGUE_EMAIL, Clock
from workflows.stages.list_messages import REMINDER_MESSAGE

WAIT_SECONDS = 5.0
LATE = "still running when the time to stop was up"
DEACTIVATED = "their Slack account is deactivated"
OUTDATED = "directory_outdated"
MISSING_SCOPE = (
    "the app lacks the users:read scope (missing_scope): add it under OAuth & Permissions, then reinstall"
    " the app"
)


def beside_reads(people: People, scenario: Coroutine[Any, Any, None], name: str = "the sends") -> None:
    """The scenario as `serve` runs the sends, with `People.refreshing` beside it, stopped at its end."""
    asyncio.run(alongside([people.refreshing()], Loop(name, scenario), grace=WAIT_SECONDS))


class ReadingPeople(People):
    """People that tells the test each time its background read has been tried: it runs beside the sends."""

    def __init__(self, client: AsyncWebClient, clock: Clock) -> None:
        super().__init__(client, clock=clock, sleep=self._pause)
        self.tried: asyncio.Queue[None] = asyncio.Queue()
        self.pauses: list[float] = []
        """The pauses between pages and after 429s, taken at once (the test moves no real time)."""
        self.paused = asyncio.Event()
        self.resume: asyncio.Event | None = None
        """While set to an event, a pause lasts until it is set."""

    async def _pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.paused.set()
        if self.resume is not None:
            await self.resume.wait()

    async def _read(self, *, paced: bool = False) -> Any:
        try:
            return await super()._read(paced=paced)
        finally:
            # only a read tried: a refresh asked for before the cache time is up reads nothing, and telling
            # of it let `read_again` return before the read it waits for (seen under load)
            if paced:  # the background read's: a send's miss reads unpaced and waits for it itself
                self.tried.put_nowait(None)

    async def read_again(self) -> None:
        """Waits for the background read a send asked for to end."""
        async with asyncio.timeout(WAIT_SECONDS):
            await self.tried.get()


@dataclass
class Wave:
    """A notification wave sent by the outbox worker through the People `serve` shares with the app."""

    fake: FakeSlack
    people: ReadingPeople
    clock: Clock
    worker: OutboxWorker
    database: Database
    time: FakeTime
    reminders: Iterator[int] = field(default_factory=lambda: iter(range(1, 100)))

    def run(self, scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """The scenario as `serve` runs the sends, with `People.refreshing` beside it, stopped at its end."""
        beside_reads(self.people, scenario(), "the wave")

    async def lists_to(self, *emails: str) -> list[OutboundMessage]:
        """A to-do list to each, queued as `notify` queues them and sent by the outbox worker."""
        migration_id = queue_lists(self.database, list(emails), self.time.now)
        await self.drain()
        return self.rows(OutboundMessage.migration_id == migration_id)

    async def remind(self, listed: OutboundMessage, *, at: str | None = None) -> OutboundMessage:
        """A reminder of that list (`at` another address), queued as the watch queues one, and sent by
        the outbox worker."""
        key = self.queue_reminder(listed, at=at)
        await self.drain()
        (sent,) = self.rows(OutboundMessage.idempotency_key == key)
        return sent

    def queue_reminder(self, listed: OutboundMessage, *, at: str | None = None) -> str:
        """A reminder of that list queued as the watch queues one; its idempotency key."""
        number = next(self.reminders)
        with self.database.session() as session:
            reminder = enqueue(
                session,
                idempotency_key=f"{listed.idempotency_key}-reminder-{number}",
                recipient=at or listed.recipient,
                kind=REMINDER_MESSAGE,
                payload=listed.payload | {"total": 1, "reminder_id": number},
                now=self.time.now,
            )
            session.commit()
            return reminder.idempotency_key

    async def later(self, seconds: float = DIRECTORY_LATER_SECONDS) -> None:
        """The outbox's clock on by `seconds` (by default to when a DM put back for the directory is due at
        the soonest), and what is due sent."""
        self.time.now += timedelta(seconds=seconds)
        await self.drain()

    async def read_due(self) -> None:
        """Both clocks on by the cache time: a failed read may be tried again, and the DMs put back until
        then are due, and sent if they may."""
        self.clock.now += CACHE_SECONDS
        await self.later(CACHE_SECONDS)

    async def drain(self) -> None:
        async with asyncio.timeout(WAIT_SECONDS):  # a send held up by a read would hang here
            await self.worker.drain()

    def rows(self, where: Any) -> list[OutboundMessage]:
        with self.database.session() as session:
            query = select(OutboundMessage).where(where).order_by(OutboundMessage.id)  # type: ignore[arg-type]
            return list(session.exec(query).all())

    def dms(self) -> int:
        return len(self.fake.posts_to(f"D{COLLEAGUE}"))


@pytest.fixture
def fake(fake_slack: FakeSlack) -> Iterator[FakeSlack]:
    """The fake Slack, made to answer what a test held (a read when the wave stopped, a test that failed)."""
    yield fake_slack
    if fake_slack.held is not None:
        fake_slack.held.set()


@pytest.fixture
def wave(fake: FakeSlack, sqlite_database: Database) -> Wave:
    return _wave(fake, sqlite_database, build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/"))


def _wave(fake: FakeSlack, database: Database, client: AsyncWebClient) -> Wave:
    """The wave, its People reading the directory with `client`."""
    clock = Clock()
    people = ReadingPeople(client, clock)
    posting = build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/", retries=False)
    time = FakeTime()
    worker = OutboxWorker(database, SlackSender(posting, people), clock=time, sleep=time.sleep)
    return Wave(fake, people, clock, worker, database, time)


def test_someone_deactivated_after_the_read_gets_nothing_once_the_hourly_read_is_in(wave: Wave) -> None:
    async def scenario() -> None:
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)  # the directory is read for the wave
        wave.fake.deactivated.add(COLLEAGUE)  # an admin deactivates them in Slack
        wave.clock.now += MAX_AGE_SECONDS

        held = wave.fake.held = threading.Event()
        wave.fake.held_method = "users.list"
        meanwhile = await wave.remind(listed)  # found in the old directory, which is read again beside it
        await asyncio.to_thread(wave.fake.wait_for_calls, "users.list", 2)
        assert meanwhile.status == "sent"  # while the read is under way: the sends are not held up by it
        stranger = await wave.remind(listed, at="stranger@contoso.com")  # nor a miss: looked up alone
        assert (stranger.error_code, stranger.last_error) == (
            NOT_IN_CHAT,
            "no Slack account with the email stranger@contoso.com",
        )
        assert not held.is_set()

        held.set()
        await wave.people.read_again()
        after = await wave.remind(listed)

        assert (after.status, after.error_code, after.last_error) == ("failed", NOT_IN_CHAT, DEACTIVATED)
        assert wave.dms() == 2  # the list and the reminder sent before the new read was in
        assert len(wave.fake.calls_of("users.list")) == 2
        # the stranger only: Slack would say users_not_found for them
        assert [call.params["email"] for call in wave.fake.calls_of("users.lookupByEmail")] == [
            "stranger@contoso.com"
        ]

    wave.run(scenario)


def test_the_first_wave_after_idle_time_is_put_back_uncounted_and_sent_once_the_read_is_in(
    wave: Wave,
) -> None:
    async def scenario() -> None:
        colleague, admin = await wave.lists_to(COLLEAGUE_EMAIL, ADMIN_EMAIL)
        wave.fake.deactivated.add(COLLEAGUE)  # offboarded overnight
        wave.clock.now += 24 * 3600  # serve sat idle until the next day's reminders

        wave.fake.held, wave.fake.held_method = threading.Event(), "users.list"
        put_back = [await wave.remind(colleague), await wave.remind(admin)]  # the worker is not held up
        await asyncio.to_thread(wave.fake.wait_for_calls, "users.list", 2)  # the read they asked for
        # while it is under way: nothing sent, nothing in flight, no attempt counted, nothing to look for
        assert [(m.status, m.in_flight, m.attempts, m.uncertain, m.error_code) for m in put_back] == [
            ("pending", False, 0, False, OUTDATED)
        ] * 2
        assert (wave.dms(), len(wave.fake.posts_to(f"D{ADMIN}"))) == (1, 1)
        wave.fake.held.set()
        await wave.people.read_again()
        await wave.later()

        after = [wave.rows(OutboundMessage.id == message.id)[0] for message in put_back]
        assert [(m.status, m.attempts, m.error_code) for m in after] == [
            ("failed", 1, NOT_IN_CHAT),
            ("sent", 1, None),
        ]
        assert after[0].last_error == DEACTIVATED
        assert (wave.dms(), len(wave.fake.posts_to(f"D{ADMIN}"))) == (1, 2)
        assert len(wave.fake.calls_of("users.list")) == 2

    wave.run(scenario)


def test_a_failing_read_burns_no_attempt_nor_pace_and_is_not_read_once_per_send(wave: Wave) -> None:
    async def scenario() -> None:
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)
        wave.clock.now += MAX_AGE_SECONDS + READ_SECONDS + 1
        wave.fake.fail("users.list", *[Failure(error="fatal_error")] * 10)
        rate = wave.worker.pacer.rate
        keys = [wave.queue_reminder(listed) for _ in range(8)]

        await wave.drain()
        await wave.people.read_again()  # the one read the wave asked for: failed
        await wave.later()  # each tried again: the read is not, before the cache time
        assert len(wave.fake.calls_of("users.list")) == 2
        until_the_read = wave.time.now + timedelta(seconds=CACHE_SECONDS)
        assert {m.not_before for m in wave.rows(col(OutboundMessage.idempotency_key).in_(keys))} == {
            until_the_read  # put back until the read is tried again, not every minute
        }
        await wave.read_due()  # the first asks for the read again, the others are put back meanwhile
        await wave.people.read_again()

        put_back = wave.rows(col(OutboundMessage.idempotency_key).in_(keys))
        assert [(m.status, m.attempts, m.uncertain, m.error_code) for m in put_back] == [
            ("pending", 0, False, OUTDATED)
        ] * 8
        assert len(wave.fake.calls_of("users.list")) == 3
        assert wave.worker.pacer.rate == rate  # neither cut as after a 429 nor grown: nothing was posted
        assert wave.dms() == 1

    wave.run(scenario)


def test_dms_held_while_the_member_list_cannot_be_read_show_the_fix_and_each_goes_out_once_it_can(
    wave: Wave, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone took the app's users:read scope away: the DMs wait, costing no turn of the pace, with the
    reason and the fix where admins look; the operator reads it once, and once that the DMs go again."""

    async def scenario() -> None:
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)
        paced = list(wave.time.slept)
        wave.clock.now += MAX_AGE_SECONDS + READ_SECONDS + 1  # the next DMs find the directory overdue
        wave.fake.fail("users.list", *[Failure(error="missing_scope", needed="users:read")] * 2)
        keys = [wave.queue_reminder(listed) for _ in range(3)]

        await wave.drain()  # put back: the read they asked for fails
        await wave.people.read_again()
        await wave.later()
        held = wave.rows(col(OutboundMessage.idempotency_key).in_(keys))
        assert [(m.status, m.attempts, m.in_flight, m.error_code, m.last_error) for m in held] == [
            ("pending", 0, False, OUTDATED, f"Slack's member list cannot be read: {MISSING_SCOPE}")
        ] * 3

        await wave.read_due()  # read again, and failing again: nothing new for the operator
        await wave.people.read_again()
        await wave.later()
        assert (wave.dms(), len(wave.fake.calls_of("users.list"))) == (1, 3)
        assert wave.time.slept == paced  # no DM held took a turn of the pace

        await wave.read_due()  # the scope is back (the app reinstalled): the next read works
        await wave.people.read_again()
        await wave.later()
        sent = wave.rows(col(OutboundMessage.idempotency_key).in_(keys))
        assert [(m.status, m.attempts, m.error_code) for m in sent] == [("sent", 1, None)] * 3
        assert wave.dms() == 4  # each reminder once

    with caplog.at_level(logging.INFO):
        wave.run(scenario)
    said = [record.getMessage() for record in caplog.records if record.name == "bot.slack.sender"]
    assert said == [
        "Slack DMs are held until the member list can be read: Slack's member list cannot be read: "
        + MISSING_SCOPE,
        "Slack's member list was read again: the DMs held for it go out",
    ]
    assert [record.getMessage() for record in caplog.records if record.name == "bot.delivery.worker"] == []
    assert BOT_TOKEN not in caplog.text


def test_a_fresh_install_without_users_read_holds_the_lists_with_the_fix_until_the_scope_is_added(
    wave: Wave,
) -> None:
    """No directory to send from yet, and Slack refuses the first read for a scope only an admin can add:
    the lists wait, uncounted, with what Slack says is needed, however long it takes; none fails."""

    async def scenario() -> None:
        wave.fake.fail("users.list", *[Failure(error="missing_scope", needed="users:read")] * 2)
        listed = await wave.lists_to(COLLEAGUE_EMAIL, ADMIN_EMAIL)
        assert [(m.status, m.attempts, m.error_code, m.last_error) for m in listed] == [
            ("pending", 0, OUTDATED, f"Slack's member list cannot be read: {MISSING_SCOPE}")
        ] * 2

        for _ in range(10):  # more than the attempts a list has: uncounted, none gives up
            await wave.later()
        await wave.read_due()  # read again in the background: refused again
        await wave.people.read_again()
        await wave.later(CACHE_SECONDS)
        assert [(m.status, m.attempts) for m in wave.rows(OutboundMessage.kind == "todo_list")] == [
            ("pending", 0)
        ] * 2

        await wave.read_due()  # the admin added the scope: the next read works
        await wave.people.read_again()
        await wave.later()
        sent = wave.rows(OutboundMessage.kind == "todo_list")
        assert [(m.status, m.attempts, m.error_code) for m in sent] == [("sent", 1, None)] * 2
        assert wave.dms() == 1 and len(wave.fake.calls_of("users.list")) == 3

    wave.run(scenario)


def test_a_first_read_failing_for_slacks_own_error_fails_the_lists_counted_with_its_answer(
    wave: Wave,
) -> None:
    """Slack failing the first read for no cause an admin could fix (its own error): the list's attempt
    fails, counted, and is tried again with the usual backoff, so it fails for good after its attempts
    rather than wait without end for a read that may never work."""

    async def scenario() -> None:
        wave.fake.fail("users.list", Failure(error="fatal_error"))
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)
        assert (listed.status, listed.attempts, listed.error_code, listed.last_error) == (
            "pending",
            1,
            "fatal_error",
            "Slack answered 200 fatal_error",
        )

    wave.run(scenario)


def test_the_sends_go_on_with_the_old_directory_until_the_bound_then_are_put_back(wave: Wave) -> None:
    async def scenario() -> None:
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)
        wave.fake.deactivated.add(COLLEAGUE)
        wave.fake.held, wave.fake.held_method = threading.Event(), "users.list"  # a slow background read
        wave.clock.now += MAX_AGE_SECONDS + READ_SECONDS
        assert (await wave.remind(listed)).status == "sent"  # the bound's price
        await asyncio.to_thread(wave.fake.wait_for_calls, "users.list", 2)

        wave.clock.now += 1
        put_back = await wave.remind(listed)
        assert (put_back.status, put_back.error_code) == ("pending", OUTDATED)
        wave.fake.held.set()
        await wave.people.read_again()
        await wave.later()
        assert wave.rows(OutboundMessage.id == put_back.id)[0].last_error == DEACTIVATED
        assert len(wave.fake.calls_of("users.list")) == 2  # the background read's only

    wave.run(scenario)


def test_the_directory_is_not_read_again_before_the_hour_is_up(wave: Wave) -> None:
    async def scenario() -> None:
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)
        wave.fake.deactivated.add(COLLEAGUE)
        wave.clock.now += MAX_AGE_SECONDS - 1

        assert (await wave.remind(listed)).status == "sent"  # the bound's price: still DMed within the hour
        assert (await wave.remind(listed)).status == "sent"
        assert len(wave.fake.calls_of("users.list")) == 1

    wave.run(scenario)


def test_someone_reactivated_is_reached_again_when_what_failed_is_retried(wave: Wave) -> None:
    async def scenario() -> None:
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)
        wave.fake.deactivated.add(COLLEAGUE)
        wave.clock.now += MAX_AGE_SECONDS
        await wave.remind(listed)
        await wave.people.read_again()
        unreached = await wave.remind(listed)
        assert unreached.last_error == DEACTIVATED

        wave.fake.deactivated.discard(COLLEAGUE)  # an admin reactivates them; an operator retries later
        wave.clock.now += CACHE_SECONDS + 1
        assert listed.migration_id is not None
        retry_failed(wave.database, listed.migration_id, {REMINDER_MESSAGE}, now=wave.time.now)
        await wave.drain()

        (reached,) = wave.rows(OutboundMessage.id == unreached.id)
        assert reached.status == "sent"
        assert wave.dms() == 3
        # past the cache time, someone the directory shows deactivated is looked up: no read for it
        assert len(wave.fake.calls_of("users.list")) == 2
        assert [call.params["email"] for call in wave.fake.calls_of("users.lookupByEmail")] == [
            COLLEAGUE_EMAIL
        ]

    wave.run(scenario)


def test_a_read_that_fails_keeps_the_old_directory_and_is_tried_again_later(
    wave: Wave, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)
        wave.fake.deactivated.add(COLLEAGUE)
        wave.clock.now += MAX_AGE_SECONDS
        wave.fake.fail("users.list", Failure(error="fatal_error"))

        assert (await wave.remind(listed)).status == "sent"
        await wave.people.read_again()
        assert "reading the Slack directory again failed (fatal_error): the last one is kept" in caplog.text
        wave.clock.now += CACHE_SECONDS - 1
        assert (await wave.remind(listed)).status == "sent"  # from the old directory, not read again yet
        assert len(wave.fake.calls_of("users.list")) == 2

        wave.clock.now += 1
        assert (await wave.remind(listed)).status == "sent"  # asks again
        await wave.people.read_again()
        assert (await wave.remind(listed)).last_error == DEACTIVATED
        assert len(wave.fake.calls_of("users.list")) == 3

    with caplog.at_level(logging.WARNING, logger="bot.slack.people"):
        wave.run(scenario)


def test_a_read_under_way_when_serve_stops_is_cancelled_not_waited_for(
    wave: Wave, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)
        wave.clock.now += MAX_AGE_SECONDS
        wave.fake.held, wave.fake.held_method = threading.Event(), "users.list"
        await wave.remind(listed)
        await asyncio.to_thread(wave.fake.wait_for_calls, "users.list", 2)  # Slack never answers it

    with caplog.at_level(logging.WARNING):
        wave.run(scenario)
    assert LATE not in caplog.text


def test_two_members_who_swapped_addresses_are_each_found_at_their_new_one_after_the_read(
    fake: FakeSlack,
) -> None:
    clock = Clock()
    people = ReadingPeople(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/"), clock)

    async def scenario() -> None:
        assert await user_ids(ADMIN_EMAIL, COLLEAGUE_EMAIL) == [ADMIN, COLLEAGUE]
        fake.users[ADMIN] = (COLLEAGUE_EMAIL, "Ada Admin")
        fake.users[COLLEAGUE] = (ADMIN_EMAIL, "Cole League")
        clock.now += MAX_AGE_SECONDS
        assert await user_ids(ADMIN_EMAIL) == [ADMIN]  # the old read until the new one is in
        await people.read_again()

        assert await user_ids(ADMIN_EMAIL, COLLEAGUE_EMAIL) == [COLLEAGUE, ADMIN]
        assert fake.calls_of("users.lookupByEmail") == []

    async def user_ids(*emails: str) -> list[str | None]:
        return [person.user_id if (person := await people.find(email)) else None for email in emails]

    beside_reads(people, scenario())


def test_a_lookup_answered_before_the_read_that_shows_them_deactivated_does_not_find_them(
    fake: FakeSlack,
) -> None:
    """Someone who joined after the read is looked up alone; the read that lands meanwhile wins."""
    clock = Clock()
    people = ReadingPeople(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/"), clock)
    newcomer = "newcomer@fabrikam.com"

    async def scenario() -> None:
        assert await people.find(COLLEAGUE_EMAIL) is not None  # the directory is read
        fake.users["UNEW"] = (newcomer, "New Comer")
        fake.held, fake.held_method = threading.Event(), "users.lookupByEmail"
        looking = asyncio.create_task(people.find(newcomer))
        await asyncio.to_thread(fake.wait_for_calls, "users.lookupByEmail")  # Slack answered: active

        fake.deactivated.add("UNEW")
        clock.now += MAX_AGE_SECONDS
        assert await people.find(COLLEAGUE_EMAIL) is not None  # asks for the read, which shows them deleted
        await people.read_again()
        assert fake.held is not None
        fake.held.set()

        assert await looking is None
        assert await people.find(newcomer) is None  # nor was the answer kept
        assert people.deactivated([newcomer])
        assert len(fake.calls_of("users.lookupByEmail")) == 1

    beside_reads(people, scenario())


def test_someone_found_alone_is_not_found_once_a_read_shows_them_deactivated(fake: FakeSlack) -> None:
    """A lookup is kept for the cache time; a read of the directory meanwhile says how they are now."""
    clock = Clock()
    people = ReadingPeople(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/"), clock)
    newcomer = "newcomer@fabrikam.com"

    async def scenario() -> None:
        assert await people.find(COLLEAGUE_EMAIL) is not None  # the directory is read
        clock.now += 10
        fake.users["UNEW"] = (newcomer, "New Comer")  # joins after the read: looked up alone
        assert await people.find(newcomer) is not None
        fake.deactivated.add("UNEW")
        clock.now += CACHE_SECONDS - 9
        assert await people.find("stranger@contoso.com") is None  # a miss is looked up alone, not read
        assert len(fake.calls_of("users.list")) == 1
        clock.now += MAX_AGE_SECONDS
        assert await people.find(COLLEAGUE_EMAIL) is not None  # a hit past the hour has it read again
        await people.read_again()

        assert await people.find(newcomer) is None
        assert people.deactivated([newcomer])
        assert len(fake.calls_of("users.list")) == 2

    beside_reads(people, scenario())


def test_someone_known_behind_their_user_id_is_not_found_once_a_read_shows_them_deactivated(
    fake: FakeSlack,
) -> None:
    """What `users.info` showed of them is kept for the cache time, unless a read says how they are now."""
    clock = Clock()
    people = ReadingPeople(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/"), clock)

    async def scenario() -> None:
        assert await people.find(COLLEAGUE_EMAIL) is not None  # the directory is read
        clock.now += MAX_AGE_SECONDS - 5
        fake.users["UNEW"] = ("newcomer@fabrikam.com", "New Comer")  # writes to the bot after the read
        assert await people.actor("UNEW") is not None
        fake.deactivated.add("UNEW")
        clock.now += 10  # what `users.info` said is 10 seconds old, the directory past the hour
        assert await people.find(COLLEAGUE_EMAIL) is not None  # a hit has it read again
        await people.read_again()

        assert await people.find("newcomer@fabrikam.com") is None
        assert fake.calls_of("users.lookupByEmail") == []

    beside_reads(people, scenario())


def test_someone_who_wrote_to_the_bot_from_a_deactivated_account_is_not_found_by_their_email(
    fake: FakeSlack,
) -> None:
    """`users.info` tells of a deactivated member too (a late request of theirs): that is no member to DM."""
    people = People(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/"))
    fake.deactivated.add(COLLEAGUE)

    async def scenario() -> None:
        actor = await people.actor(COLLEAGUE)
        assert actor is not None and actor.email == COLLEAGUE_EMAIL
        assert await people.find(COLLEAGUE_EMAIL) is None
        assert people.deactivated([COLLEAGUE_EMAIL])

    asyncio.run(scenario())


def _three_pages(fake: FakeSlack) -> None:
    fake.users |= {f"U{n:04}": (f"member{n}@fabrikam.com", f"Member {n}") for n in range(2 * PAGE_SIZE)}


def test_a_background_read_is_paced_and_the_first_read_is_not(fake: FakeSlack) -> None:
    clock = Clock()
    people = ReadingPeople(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/"), clock)
    _three_pages(fake)

    async def scenario() -> None:
        assert await people.find(COLLEAGUE_EMAIL) is not None  # the first read: the first send waits for it
        assert (people.pauses, len(fake.calls_of("users.list"))) == ([], 3)

        fake.deactivated.add(COLLEAGUE)
        clock.now += MAX_AGE_SECONDS + READ_SECONDS + 1
        assert people.overdue()  # asks for the read, reads nothing itself
        await people.read_again()

        assert people.pauses == [PAGE_SECONDS] * 2  # after each page but the last
        assert len(fake.calls_of("users.list")) == 6
        assert not people.overdue()
        assert await people.find(COLLEAGUE_EMAIL) is None

    beside_reads(people, scenario())


def test_sends_waiting_for_the_very_first_read_share_its_failure_instead_of_each_reading(
    fake: FakeSlack,
) -> None:
    people = ReadingPeople(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/", retries=False), Clock())
    fake.fail("users.list", Failure(error="fatal_error"))

    async def scenario() -> None:
        finding = (people.find(COLLEAGUE_EMAIL) for _ in range(4))
        sends = await asyncio.gather(*finding, return_exceptions=True)
        assert [isinstance(send, SlackApiError) for send in sends] == [True] * 4
        assert len(fake.calls_of("users.list")) == 1
        assert await people.find(COLLEAGUE_EMAIL) is not None  # a later send reads again
        assert len(fake.calls_of("users.list")) == 2

    asyncio.run(scenario())


def test_a_page_slack_still_rate_limits_after_the_retries_is_asked_again_not_the_whole_read(
    fake: FakeSlack,
) -> None:
    # without the client's retries (which sleep for real): it gives up on a page the same way
    people = ReadingPeople(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/", retries=False), Clock())
    _three_pages(fake)
    fake.fail("users.list", Failure(), *[Failure(status=429, retry_after=7)] * PAGE_TRIES)

    assert asyncio.run(people.find(COLLEAGUE_EMAIL)) is not None
    cursors = [call.params.get("cursor") for call in fake.calls_of("users.list")]
    assert cursors == [None, *[str(PAGE_SIZE)] * (PAGE_TRIES + 1), str(2 * PAGE_SIZE)]
    assert people.pauses == [7.0] * PAGE_TRIES  # Slack's Retry-After


def test_a_read_waits_out_a_capped_retry_after_a_bounded_number_of_times_over_its_pages(
    fake: FakeSlack,
) -> None:
    people = ReadingPeople(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/", retries=False), Clock())
    _three_pages(fake)
    limited = Failure(status=429, retry_after=86400)  # a day: absurd
    fake.fail("users.list", *[limited, limited, Failure()] * 2, limited, limited, limited)

    with pytest.raises(SlackApiError):
        asyncio.run(people.find(COLLEAGUE_EMAIL))
    assert people.pauses == [RETRY_AFTER_AT_MOST] * READ_WAITS  # two on each page: the third's third fails
    assert len(fake.calls_of("users.list")) == 9


class BrokenClient(AsyncWebClient):
    """A client whose directory reads fail, once broken, with an error nobody foresaw, quoting the token."""

    broken = False

    async def users_list(self, **kwargs: Any) -> Any:
        if self.broken:
            raise LookupError(f"a bug, with {self.token}")
        return await super().users_list(**kwargs)


@pytest.mark.parametrize("failing", ["times out", "raises an error nobody foresaw"])
def test_a_background_read_that_fails_any_way_keeps_the_old_directory_and_serve_running(
    fake: FakeSlack, sqlite_database: Database, caplog: pytest.LogCaptureFixture, failing: str
) -> None:
    url = f"{fake.url}/api/"
    timing_out = failing == "times out"
    client = (
        build_web_client(BOT_TOKEN, base_url=url, timeout=1, retries=False)
        if timing_out
        else BrokenClient(BOT_TOKEN, base_url=url)
    )
    wave = _wave(fake, sqlite_database, client)

    def fail(broken: bool) -> None:
        if timing_out:
            wave.fake.held_method = "users.list"
            if broken:
                wave.fake.held = threading.Event()
            elif wave.fake.held is not None:
                wave.fake.held.set()  # the read that timed out is answered too, at last
        elif isinstance(client, BrokenClient):
            client.broken = broken

    async def scenario() -> None:
        (listed,) = await wave.lists_to(COLLEAGUE_EMAIL)
        wave.fake.deactivated.add(COLLEAGUE)
        wave.clock.now += MAX_AGE_SECONDS
        fail(True)
        assert (await wave.remind(listed)).status == "sent"
        await wave.people.read_again()
        assert (await wave.remind(listed)).status == "sent"  # from the old directory: serve goes on

        fail(False)
        wave.clock.now += CACHE_SECONDS
        assert (await wave.remind(listed)).status == "sent"  # asks again
        await wave.people.read_again()
        assert (await wave.remind(listed)).last_error == DEACTIVATED

    with caplog.at_level(logging.WARNING, logger="bot.slack.people"):
        wave.run(scenario)
    why = "TimeoutError" if timing_out else "LookupError"
    assert f"reading the Slack directory again failed ({why}): the last one is kept" in caplog.text
    assert BOT_TOKEN not in caplog.text


def _member(user_id: str, email: str, *, deleted: bool = False) -> dict[str, Any]:
    return {"id": user_id, "deleted": deleted, "profile": {"email": email}}


@pytest.mark.parametrize("deleted_first", [True, False])
def test_an_address_an_active_member_holds_is_theirs_whichever_comes_first_in_the_read(
    deleted_first: bool,
) -> None:
    """An address handed on from a deactivated member to someone else."""
    active, deleted = _member("UNEW", "Ops@Fabrikam.com"), _member("UOLD", "ops@fabrikam.com", deleted=True)
    directory = MemberListRead(loaded_at=0.0)
    for member in (deleted, active) if deleted_first else (active, deleted):
        directory.put(member)

    assert directory.by_email["ops@fabrikam.com"].user_id == "UNEW"
    assert directory.deactivated == {}


def test_a_read_keeps_the_deactivated_by_address_and_leaves_out_bots_and_hidden_addresses() -> None:
    directory = MemberListRead(loaded_at=0.0)
    for member in (
        _member("UOLD", "Gone@Fabrikam.com ", deleted=True),
        _member("UHID", ""),
        _member("BOT", "bot@fabrikam.com") | {"is_bot": True},
        _member("UONE", "one@fabrikam.com"),
    ):
        directory.put(member)

    assert set(directory.by_email) == {"one@fabrikam.com"}
    assert directory.deactivated == {"gone@fabrikam.com": "UOLD"}
