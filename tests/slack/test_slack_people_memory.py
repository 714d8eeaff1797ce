"""What Slack said of people, as a 20,000-person wave needs it: DMs go as soon as the member list shows
their person, not after its last page; a restarted `serve`, or another on the same database, sends from
the list one of them read lately and does not ask Slack again what a look-up answered
(`bot.slack.memory`); and the sends' read keeps within Tier 2 instead of meeting a 429 at every page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

import bot.slack.member_pages as member_pages
import bot.slack.memory as memory_module
from bot.alongside import Loop, alongside
from bot.delivery.worker import OutboxWorker
from bot.slack._errors import LookupsLimited
from bot.slack.app import build_web_client
from bot.slack.member_list import CACHE_SECONDS, MAX_AGE_SECONDS, READ_SECONDS
from bot.slack.member_pages import BURST_PAGES, NOT_IN_SLACK_SECONDS, PAGE_SECONDS, PAGE_SIZE, Person
from bot.slack.memory import DatabaseMemory
from bot.slack.people import People
from bot.slack.sender import READING, READING_LATER_SECONDS, SlackSender
from storage import Database, OutboundMessage, slack_people
from storage.slack_people import Said, record
from tests.delivery.conftest import FakeTime, queue_lists
from tests.fakes.slack_api import Failure, FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, COLLEAGUE, COLLEAGUE_EMAIL, Clock

WAIT_SECONDS = 5.0
GUEST = "guest@outlook.com"
"""Nobody in Slack has it: only a look-up can tell."""
NEWCOMER, NEWCOMER_EMAIL = "UNEW", "newcomer@contoso.com"
FIRST_ON_THE_LIST = "member0@fabrikam.com"


@dataclass
class Wall:
    """The wall clock the database's memory stamps answers with, moved by the test."""

    now: datetime = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def on(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Pauses:
    """People's sleep between pages: recorded, and held until `go` is set."""

    taken: list[float] = field(default_factory=list)
    go: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        await self.go.wait()


def _pages(fake: FakeSlack, count: int) -> None:
    """Members enough for `count` pages, the test's people (`U` and letters) on the last."""
    fake.users |= {
        f"U{n:05}": (f"member{n}@fabrikam.com", f"Member {n}") for n in range((count - 1) * PAGE_SIZE)
    }


def _people(fake: FakeSlack, memory: DatabaseMemory | None, **options: Any) -> People:
    return People(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/"), memory=memory, **options)


def _looked_up(fake: FakeSlack) -> list[str]:
    return [str(call.params["email"]) for call in fake.calls_of("users.lookupByEmail")]


def _beside_reads(people: People, scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(alongside([people.refreshing()], Loop("the wave", scenario), grace=WAIT_SECONDS))


def test_a_dm_goes_once_its_persons_page_is_in_and_one_to_a_later_page_waits_without_failing(
    fake_slack: FakeSlack, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_pages, "BURST_PAGES", 1)  # the read pauses after its first page
    _pages(fake_slack, 3)
    pauses, time = Pauses(), FakeTime()
    posting = build_web_client(BOT_TOKEN, base_url=f"{fake_slack.url}/api/", retries=False)
    people = _people(fake_slack, None, clock=Clock(), sleep=pauses, lookups=posting)
    worker = OutboxWorker(sqlite_database, SlackSender(posting, people), clock=time, sleep=time.sleep)

    def outcomes() -> dict[str, tuple[str, int, str | None]]:
        with sqlite_database.session() as session:
            rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
            return {row.recipient: (row.status, row.attempts, row.last_error) for row in rows}

    async def scenario() -> None:
        queue_lists(sqlite_database, [FIRST_ON_THE_LIST, COLLEAGUE_EMAIL], time.now)
        async with asyncio.timeout(WAIT_SECONDS):
            await worker.drain()
        assert outcomes() == {FIRST_ON_THE_LIST: ("sent", 1, None), COLLEAGUE_EMAIL: ("pending", 0, READING)}
        assert (len(fake_slack.calls_of("users.list")), _looked_up(fake_slack)) == (1, [])

        pauses.go.set()
        assert await people.find(COLLEAGUE_EMAIL) is not None  # the last page is in
        time.now += timedelta(seconds=READING_LATER_SECONDS)
        async with asyncio.timeout(WAIT_SECONDS):
            await worker.drain()
        assert outcomes()[COLLEAGUE_EMAIL][:2] == ("sent", 1)
        assert (len(fake_slack.calls_of("users.list")), _looked_up(fake_slack)) == (3, [])

    _beside_reads(people, scenario())


def test_a_dm_to_someone_not_on_a_one_page_list_waits_for_its_read_not_put_back_while_it_is_kept(
    fake_slack: FakeSlack, sqlite_database: Database
) -> None:
    """Its page being kept in the database is no page still to come: the DM goes on to the look-up at once."""
    people = _people(fake_slack, DatabaseMemory(sqlite_database, clock=Wall()), clock=Clock())

    async def scenario() -> None:
        assert await people.listing([GUEST]) is False
        assert await people.find(GUEST) is None
        assert (len(fake_slack.calls_of("users.list")), _looked_up(fake_slack)) == (1, [GUEST])

    asyncio.run(scenario())


def test_the_sends_read_is_paced_after_a_minutes_worth_of_tier_2(fake_slack: FakeSlack) -> None:
    _pages(fake_slack, BURST_PAGES + 2)
    pauses = Pauses()
    pauses.go.set()
    people = _people(fake_slack, None, clock=Clock(), sleep=pauses)

    assert asyncio.run(people.find(COLLEAGUE_EMAIL)) is not None
    assert len(fake_slack.calls_of("users.list")) == BURST_PAGES + 2
    assert pauses.taken == [PAGE_SECONDS] * 2  # after the 20th page and the 21st, not after the last


def test_a_restarted_serve_sends_from_the_list_read_before_and_asks_slack_nothing_it_answered(
    fake_slack: FakeSlack, sqlite_database: Database
) -> None:
    wall = Wall()
    memory = DatabaseMemory(sqlite_database, clock=wall)

    async def scenario() -> None:
        before = _people(fake_slack, memory, clock=Clock())
        assert await before.find(COLLEAGUE_EMAIL) is not None
        assert await before.find(GUEST) is None  # looked up: no such member

        wall.on(CACHE_SECONDS)
        restarted = _people(fake_slack, memory, clock=Clock())
        assert await restarted.find(COLLEAGUE_EMAIL) == Person(COLLEAGUE, None)
        assert await restarted.find(GUEST) is None
        assert (len(fake_slack.calls_of("users.list")), _looked_up(fake_slack)) == (1, [GUEST])

        wall.on(NOT_IN_SLACK_SECONDS)  # they may have joined Slack since: asked again
        fake_slack.users[NEWCOMER] = (GUEST, "Guest, now in Slack")
        again = _people(fake_slack, memory, clock=Clock())
        assert await again.find(GUEST) == Person(NEWCOMER, None)
        assert (len(fake_slack.calls_of("users.list")), _looked_up(fake_slack)) == (1, [GUEST, GUEST])

        wall.on(MAX_AGE_SECONDS + READ_SECONDS)  # the list is too old to send from: read again
        assert await _people(fake_slack, memory, clock=Clock()).find(COLLEAGUE_EMAIL) is not None
        assert len(fake_slack.calls_of("users.list")) == 2

    asyncio.run(scenario())


def test_two_serves_on_one_database_read_the_list_once_and_never_ask_twice_for_one_address(
    fake_slack: FakeSlack, sqlite_database: Database
) -> None:
    memory = DatabaseMemory(sqlite_database, clock=Wall())
    clock = Clock()

    async def scenario() -> None:
        one, other = _people(fake_slack, memory, clock=clock), _people(fake_slack, memory, clock=clock)
        assert await one.find(COLLEAGUE_EMAIL) is not None
        assert await other.find(COLLEAGUE_EMAIL) is not None  # from the list the first one read
        fake_slack.users[NEWCOMER] = (NEWCOMER_EMAIL, "New Comer")  # joins after the read
        assert await one.find(GUEST) is None
        assert await one.find(NEWCOMER_EMAIL) == Person(NEWCOMER, None)
        assert await other.find(GUEST) is None
        assert await other.find(NEWCOMER_EMAIL) == Person(NEWCOMER, None)
        assert len(fake_slack.calls_of("users.list")) == 1
        assert _looked_up(fake_slack) == [GUEST, NEWCOMER_EMAIL]

    asyncio.run(scenario())


def test_someone_a_restarted_serve_finds_deactivated_in_the_list_it_recalls_is_not_found(
    fake_slack: FakeSlack, sqlite_database: Database
) -> None:
    memory = DatabaseMemory(sqlite_database, clock=Wall())
    fake_slack.deactivated.add(COLLEAGUE)

    async def scenario() -> None:
        assert await _people(fake_slack, memory, clock=Clock()).find(COLLEAGUE_EMAIL) is None
        restarted = _people(fake_slack, memory, clock=Clock())
        assert await restarted.find(COLLEAGUE_EMAIL) is None
        assert restarted.deactivated([COLLEAGUE_EMAIL])
        assert (len(fake_slack.calls_of("users.list")), _looked_up(fake_slack)) == (1, [])

    asyncio.run(scenario())


HANDED = "handed@fabrikam.com"
LEFT, TAKER = "U00000X", "UTAKER"
"""`LEFT` (deactivated) sorts onto the first page, `TAKER` (who holds `HANDED` now) onto the second."""


def test_an_address_handed_on_is_not_reported_deactivated_after_a_read_stopped_between_its_holders(
    fake_slack: FakeSlack, sqlite_database: Database
) -> None:
    """A refresh saw the deactivated holder's page and was stopped before the new holder's: the restarted
    `serve` asks Slack, which names the new holder, instead of failing the DM as deactivated."""
    _pages(fake_slack, 2)
    wall, clock, pauses = Wall(), Clock(), Pauses()
    memory = DatabaseMemory(sqlite_database, clock=wall)
    before = _people(fake_slack, memory, clock=clock, sleep=pauses)

    async def refreshed_to_its_first_page() -> None:
        assert await before.find(COLLEAGUE_EMAIL) is not None  # read whole: nobody holds HANDED
        fake_slack.users |= {LEFT: (HANDED, "Left"), TAKER: (HANDED, "Taker")}
        fake_slack.deactivated.add(LEFT)
        clock.now += MAX_AGE_SECONDS
        wall.on(MAX_AGE_SECONDS)
        assert await before.find(COLLEAGUE_EMAIL) is not None  # asks for the hourly read
        async with asyncio.timeout(WAIT_SECONDS):
            while not pauses.taken:  # its first page is in: the stop comes before the second
                await asyncio.sleep(0)

    _beside_reads(before, refreshed_to_its_first_page())

    async def restarted() -> None:
        again = _people(fake_slack, memory, clock=Clock())
        assert await again.find(HANDED) == Person(TAKER, None)
        assert not again.deactivated([HANDED])
        assert len(fake_slack.calls_of("users.list")) == 3  # the list read before is recalled

    asyncio.run(restarted())


@dataclass
class FirstWriteFails:
    """`storage.slack_people.record` whose first call the database fails, as a dropped connection would."""

    calls: int = 0

    def __call__(self, database: Database, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        if self.calls == 1:
            raise OperationalError("INSERT", {}, ConnectionError("the database went away"))
        record(database, *args, **kwargs)


def test_a_list_whose_page_the_database_did_not_keep_is_not_recorded_whole(
    fake_slack: FakeSlack, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restarted `serve` would otherwise send from a list missing that page: its people looked up one by
    one, or failed as deactivated from an older read's answers."""
    _pages(fake_slack, 3)
    monkeypatch.setattr(memory_module, "record", FirstWriteFails())
    memory = DatabaseMemory(sqlite_database, clock=Wall())

    async def scenario() -> None:
        assert await _people(fake_slack, memory, clock=Clock()).find(COLLEAGUE_EMAIL) is not None
        restarted = _people(fake_slack, memory, clock=Clock())
        assert await restarted.find(FIRST_ON_THE_LIST) is not None
        assert (len(fake_slack.calls_of("users.list")), _looked_up(fake_slack)) == (6, [])

    asyncio.run(scenario())


def test_a_read_stops_writing_to_a_database_that_failed_one_of_its_pages(
    fake_slack: FakeSlack, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page waits for its write holding the directory's lock: a database that is down (each write
    waiting out its timeout) would slow the first read by as much again, for a list that is not kept."""
    _pages(fake_slack, 3)
    writes = FirstWriteFails()
    monkeypatch.setattr(memory_module, "record", writes)
    people = _people(fake_slack, DatabaseMemory(sqlite_database, clock=Wall()), clock=Clock())

    assert asyncio.run(people.find(COLLEAGUE_EMAIL)) is not None
    assert (len(fake_slack.calls_of("users.list")), writes.calls) == (3, 1)


def _refreshed(people: People) -> bool:
    """Whether the read a hit asked for is over (`keep_fresh` took it and let go of the directory)."""
    return not (people._refresh_wanted.is_set() or people._directory_lock.locked())


async def _hit_and_refresh(people: People, clock: Clock) -> None:
    """Moves `clock` past the hour: a hit asks for the hourly read, which the test waits out."""
    clock.now += MAX_AGE_SECONDS
    assert await people.find(COLLEAGUE_EMAIL) is not None
    async with asyncio.timeout(WAIT_SECONDS):
        while not _refreshed(people):
            await asyncio.sleep(0.01)


def test_the_hourly_read_loads_another_serves_newer_list_instead_of_reading_it_again(
    fake_slack: FakeSlack, sqlite_database: Database
) -> None:
    wall, clock = Wall(), Clock()
    memory = DatabaseMemory(sqlite_database, clock=wall)
    one, other = _people(fake_slack, memory, clock=clock), _people(fake_slack, memory, clock=clock)

    async def scenario() -> None:
        assert await one.find(COLLEAGUE_EMAIL) is not None
        assert await other.find(COLLEAGUE_EMAIL) is not None  # the list `one` read
        fake_slack.users[NEWCOMER] = (NEWCOMER_EMAIL, "New Comer")
        wall.on(MAX_AGE_SECONDS)
        await _hit_and_refresh(other, clock)  # `other` reads it again
        clock.now -= MAX_AGE_SECONDS  # `one`'s hit comes at the same time
        await _hit_and_refresh(one, clock)
        assert await one.find(NEWCOMER_EMAIL) == Person(NEWCOMER, None)
        assert (len(fake_slack.calls_of("users.list")), _looked_up(fake_slack)) == (2, [])

    asyncio.run(alongside([one.refreshing(), other.refreshing()], Loop("the hits", scenario()), grace=1.0))


def test_the_hourly_read_loads_no_answer_when_no_other_serve_read_the_list_since(
    fake_slack: FakeSlack, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20,000 rows took a second to load (316 ms of it stalling the event loop) for a list not used."""
    loaded: list[int] = []

    def recall(database: Database, **kwargs: Any) -> Any:
        read_at, rows = slack_people.recall(database, **kwargs)
        loaded.append(len(rows))
        return read_at, rows

    monkeypatch.setattr(memory_module, "recall", recall)
    wall, clock = Wall(), Clock()
    people = _people(fake_slack, DatabaseMemory(sqlite_database, clock=wall), clock=clock)

    async def scenario() -> None:
        assert await people.find(COLLEAGUE_EMAIL) is not None
        wall.on(MAX_AGE_SECONDS)
        await _hit_and_refresh(people, clock)
        assert (len(fake_slack.calls_of("users.list")), loaded) == (2, [0, 0])

    asyncio.run(alongside([people.refreshing()], Loop("the hits", scenario()), grace=1.0))


def test_a_database_that_fails_every_call_costs_questions_to_slack_not_a_send(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    tableless = Database(create_engine("sqlite://"))
    people = _people(fake_slack, DatabaseMemory(tableless, clock=Wall()), clock=Clock())

    async def scenario() -> None:
        assert await people.find(COLLEAGUE_EMAIL) == Person(COLLEAGUE, None)
        assert await people.find(GUEST) is None
        assert (len(fake_slack.calls_of("users.list")), _looked_up(fake_slack)) == (1, [GUEST])

    asyncio.run(scenario())
    warned = {record.getMessage() for record in caplog.records if record.levelname == "WARNING"}
    assert warned == {"the database's memory of Slack's people failed (OperationalError)"}


def test_the_sends_first_read_is_cancelled_once_the_sends_stopped_not_waited_out(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Nobody waits for it any more: a stop would otherwise wait its whole time for it, and warn."""
    monkeypatch.setattr(member_pages, "BURST_PAGES", 1)
    _pages(fake_slack, 3)
    pauses = Pauses()  # the read holds after its first page
    people = _people(fake_slack, None, clock=Clock(), sleep=pauses)
    stopped = asyncio.Event()

    async def sends() -> None:
        assert await people.listing([COLLEAGUE_EMAIL])  # put back: their page is not in
        await stopped.wait()

    async def until_the_first_page() -> None:
        async with asyncio.timeout(WAIT_SECONDS):
            while not pauses.taken:
                await asyncio.sleep(0)

    sending = Loop("the sends", people.closed_after(sends()), stopped.set)
    asyncio.run(alongside([sending], Loop("the stop", until_the_first_page()), grace=WAIT_SECONDS))
    assert [record.getMessage() for record in caplog.records if record.levelname == "WARNING"] == []
    assert len(fake_slack.calls_of("users.list")) == 1


def test_a_fault_other_than_the_databases_in_the_memory_is_not_taken_for_an_outage(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug would otherwise hide behind a warning naming only its type, once a call."""

    def broken(*args: Any, **kwargs: Any) -> None:
        raise TypeError("record() got an unexpected keyword argument")

    monkeypatch.setattr(memory_module, "record", broken)
    with pytest.raises(TypeError):
        asyncio.run(DatabaseMemory(sqlite_database, clock=Wall()).remember([]))


def test_a_dm_to_someone_slack_said_lately_it_has_no_member_for_is_not_held_for_the_lookups_pause(
    fake_slack: FakeSlack, sqlite_database: Database
) -> None:
    """Its send fails them as not in Slack without a look-up: the Retry-After is nothing to wait for."""
    wall = Wall()
    record(sqlite_database, [Said(GUEST, None)], at=wall.now)  # another serve's look-up
    posting = build_web_client(BOT_TOKEN, base_url=f"{fake_slack.url}/api/", retries=False)
    people = _people(fake_slack, DatabaseMemory(sqlite_database, clock=wall), clock=Clock(), lookups=posting)

    async def scenario() -> None:
        assert await people.find(COLLEAGUE_EMAIL) is not None
        fake_slack.fail("users.lookupByEmail", Failure(status=429, retry_after=30))
        with pytest.raises(LookupsLimited):
            await people.find(NEWCOMER_EMAIL)
        assert await people.lookups_held_for([NEWCOMER_EMAIL]) == 30
        assert await people.lookups_held_for([GUEST]) == 0
        assert await people.find(GUEST) is None

    asyncio.run(scenario())
