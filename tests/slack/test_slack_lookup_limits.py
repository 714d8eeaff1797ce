"""A wave of DMs where some people are only found by `users.lookupByEmail` (Slack's Tier 3, 50 a minute).

At 20,000 people, the hundreds the workspace's member list does not show are each looked up alone, and
Slack answers 429 past its tier. The outbox worker sends as `serve` wires it, over loopback HTTP to the fake
Slack: a look-up's Retry-After holds that person's DM (uncounted) and every other look-up until it is over,
while the DMs to everyone the member list shows go on at their own pace; and a miss never waits for the
whole member list to be read again (minutes at 20,000 members, its batch and so the wave waiting with it).
Slack limits each method apart: only chat.postMessage's 429 slows the pace of every DM.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select

from bot.conversation.messages import DirectMessage, Message, Outgoing, Text
from bot.delivery.outboxes import NoticeOutbox
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.slack._errors import LookupsLimited
from bot.slack.app import build_delivery, build_web_client
from bot.slack.member_list import CACHE_SECONDS
from bot.slack.member_pages import Person
from bot.slack.people import People
from bot.slack.sender import LOOKUPS_LATER_SECONDS, LOOKUPS_LIMITED_REASON, SlackSender
from bot.slack.state import InMemorySlackState
from storage import Database, OutboundMessage
from storage.outbox import NOT_IN_CHAT, enqueue
from tests.delivery.conftest import FakeTime, queue_lists
from tests.fakes.slack_api import Failure, FakeSlack
from tests.fakes.slack_harness import ADMIN, ADMIN_EMAIL, BOT_TOKEN, COLLEAGUE, COLLEAGUE_EMAIL, Clock

WAIT_SECONDS = 5.0
RETRY_AFTER = 30
GUEST, CONTRACTOR = "guest@outlook.com", "contractor@gmail.com"
"""Two people with no Slack account: only a look-up can tell."""
COLLEAGUE_UPN = "colleague.upn@contoso.com"
"""The colleague's sign-in name, which is not their Slack email."""
NEWCOMER, NEWCOMER_EMAIL, NEWCOMER_UPN = "UNEW", "newcomer@contoso.com", "newcomer.upn@contoso.com"
"""Someone who joined Slack after the member list was read: only a look-up of their email finds them."""


@dataclass
class Wave:
    fake: FakeSlack
    client: AsyncWebClient
    """The app's, which retries on its own: what the conversation's delivery uses."""
    people: People
    clock: Clock
    time: FakeTime
    worker: OutboxWorker
    database: Database

    async def drain(self) -> None:
        async with asyncio.timeout(WAIT_SECONDS):
            await self.worker.drain()

    async def later(self, seconds: float) -> None:
        """Both clocks (People's and the outbox's) on by `seconds`, and what is due sent."""
        self.clock.now += seconds
        self.time.now += timedelta(seconds=seconds)
        await self.drain()

    def outcomes(self) -> dict[str, tuple[str, int, str | None, str | None]]:
        """Recipient -> (status, attempts, error code, why) of every list."""
        with self.database.session() as session:
            rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
            return {row.recipient: (row.status, row.attempts, row.error_code, row.last_error) for row in rows}

    def queue_like(self, sent_to: str, recipient: str) -> None:
        """A to-do list to `recipient` like the one queued for `sent_to`, in the same migration."""
        with self.database.session() as session:
            first = session.exec(select(OutboundMessage).where(OutboundMessage.recipient == sent_to)).one()
            enqueue(
                session,
                idempotency_key=f"{first.idempotency_key}-to-{recipient}",
                recipient=recipient,
                kind=first.kind,
                payload=first.payload | {"email": recipient},
                now=self.time.now,
            )
            session.commit()

    def looked_up(self) -> list[str]:
        return [str(call.params["email"]) for call in self.fake.calls_of("users.lookupByEmail")]


@pytest.fixture
def wave(fake_slack: FakeSlack, sqlite_database: Database) -> Wave:
    """As `serve` wires it: the app's client retries on its own, the outbox's and the look-ups' do not."""
    url = f"{fake_slack.url}/api/"
    posting = build_web_client(BOT_TOKEN, base_url=url, retries=False)
    clock, time = Clock(), FakeTime()
    client = build_web_client(BOT_TOKEN, base_url=url)
    people = People(client, clock=clock, lookups=posting)
    worker = OutboxWorker(sqlite_database, SlackSender(posting, people), clock=time, sleep=time.sleep)
    return Wave(fake_slack, client, people, clock, time, worker, sqlite_database)


def test_a_lookups_retry_after_holds_every_lookup_and_no_dm_to_someone_slack_lists(wave: Wave) -> None:
    async def scenario() -> None:
        wave.fake.fail("users.lookupByEmail", Failure(status=429, retry_after=RETRY_AFTER))
        queue_lists(wave.database, [GUEST, COLLEAGUE_EMAIL, ADMIN_EMAIL], wave.time.now)
        await wave.drain()
        wave.queue_like(GUEST, CONTRACTOR)  # the next batch, within the Retry-After
        await wave.drain()

        waiting = ("pending", 0, "ratelimited", LOOKUPS_LIMITED_REASON)
        assert wave.outcomes() == {
            GUEST: waiting,
            COLLEAGUE_EMAIL: ("sent", 1, None, None),
            ADMIN_EMAIL: ("sent", 1, None, None),
            CONTRACTOR: waiting,  # not asked of Slack while the Retry-After lasts
        }
        assert wave.looked_up() == [GUEST]
        # three turns at the starting pace: none waited the Retry-After, so neither did the DMs to those
        # Slack's member list shows; the contractor, held before any turn, took none
        assert wave.time.slept == [1 / DeliverySettings().initial_rate_per_second] * 2
        assert [len(wave.fake.posts_to(f"D{user}")) for user in (COLLEAGUE, ADMIN)] == [1, 1]

        await wave.later(RETRY_AFTER)
        assert wave.looked_up() == [GUEST]  # the Retry-After is over, but they come due once a minute
        await wave.later(LOOKUPS_LATER_SECONDS - RETRY_AFTER - 1)
        assert wave.looked_up() == [GUEST]

        await wave.later(1)
        gone = ("failed", 1, NOT_IN_CHAT)
        assert {recipient: outcome[:3] for recipient, outcome in wave.outcomes().items()} == {
            GUEST: gone,
            COLLEAGUE_EMAIL: ("sent", 1, None),
            ADMIN_EMAIL: ("sent", 1, None),
            CONTRACTOR: gone,
        }
        assert sorted(wave.looked_up()) == sorted([GUEST, GUEST, CONTRACTOR])

    asyncio.run(scenario())


def test_someone_missing_long_after_the_read_is_looked_up_and_the_wave_never_waits_for_a_new_read(
    wave: Wave,
) -> None:
    async def scenario() -> None:
        queue_lists(wave.database, [COLLEAGUE_EMAIL], wave.time.now)
        await wave.drain()  # the member list is read for the wave
        wave.clock.now += CACHE_SECONDS + 1  # a long wave, its list still well within the hour
        wave.fake.held, wave.fake.held_method = threading.Event(), "users.list"  # a read would take long
        try:
            wave.queue_like(COLLEAGUE_EMAIL, GUEST)
            wave.queue_like(COLLEAGUE_EMAIL, ADMIN_EMAIL)
            await wave.drain()  # a send waiting for a read would hold its batch (and this) for minutes
        finally:
            wave.fake.held.set()

        assert {recipient: outcome[:3] for recipient, outcome in wave.outcomes().items()} == {
            COLLEAGUE_EMAIL: ("sent", 1, None),
            GUEST: ("failed", 1, NOT_IN_CHAT),
            ADMIN_EMAIL: ("sent", 1, None),
        }
        assert (len(wave.fake.calls_of("users.list")), wave.looked_up()) == (1, [GUEST])

    asyncio.run(scenario())


async def _lookups_held(wave: Wave) -> None:
    """A wave's look-up was just refused: Slack holds every look-up for `RETRY_AFTER` seconds."""
    wave.fake.fail("users.lookupByEmail", Failure(status=429, retry_after=RETRY_AFTER))
    with pytest.raises(LookupsLimited):
        await wave.people.find(CONTRACTOR)


def test_a_dm_queued_while_lookups_are_held_keeps_every_address_and_reaches_the_one_slack_knows(
    wave: Wave,
) -> None:
    async def scenario() -> None:
        assert await wave.people.find(ADMIN_EMAIL) == Person(ADMIN, None)  # the wave's member list is read
        wave.fake.users[NEWCOMER] = (NEWCOMER_EMAIL, "New Comer")
        await _lookups_held(wave)
        outbox = NoticeOutbox(wave.database, clock=wave.time)
        delivery = build_delivery(wave.client, wave.people, InMemorySlackState(), outbox)
        to = DirectMessage(NEWCOMER_UPN, also=(NEWCOMER_EMAIL,))
        await delivery.deliver([Outgoing(Message("Your list", (Text("Your list is ready."),)), to)], None)

        await wave.later(LOOKUPS_LATER_SECONDS)

        assert {recipient: outcome[:3] for recipient, outcome in wave.outcomes().items()} == {
            NEWCOMER_UPN: ("sent", 1, None),
        }
        assert [call.params["text"] for call in wave.fake.posts_to(f"D{NEWCOMER}")] == ["Your list"]
        assert wave.looked_up() == [CONTRACTOR, NEWCOMER_UPN, NEWCOMER_EMAIL]

    asyncio.run(scenario())


def test_an_address_the_member_list_shows_is_found_without_looking_up_the_ones_before_it(wave: Wave) -> None:
    async def scenario() -> None:
        addresses = (COLLEAGUE_UPN, COLLEAGUE_EMAIL)
        found = [await wave.people.find_first(addresses) for _ in range(3)]
        assert found == [(COLLEAGUE_EMAIL, Person(COLLEAGUE, None))] * 3
        assert wave.looked_up() == []

        await _lookups_held(wave)
        assert await wave.people.find_first(addresses) == (COLLEAGUE_EMAIL, Person(COLLEAGUE, None))
        assert wave.looked_up() == [CONTRACTOR]

    asyncio.run(scenario())


def test_a_429_of_another_method_holds_only_its_own_dm_and_not_the_pace_of_the_others(wave: Wave) -> None:
    async def scenario() -> None:
        queue_lists(wave.database, [COLLEAGUE_EMAIL, ADMIN_EMAIL], wave.time.now)
        with wave.database.session() as session:  # an earlier attempt died midway: its history is searched
            mine = OutboundMessage.recipient == COLLEAGUE_EMAIL
            row = session.exec(select(OutboundMessage).where(mine)).one()
            row.uncertain = True
            session.add(row)
            session.commit()
        wave.fake.fail("conversations.history", Failure(status=429, retry_after=RETRY_AFTER))
        await wave.drain()

        assert {recipient: outcome[:3] for recipient, outcome in wave.outcomes().items()} == {
            COLLEAGUE_EMAIL: ("pending", 0, "ratelimited"),
            ADMIN_EMAIL: ("sent", 1, None),
        }
        # the admin's DM took its turn at the starting pace: chat.postMessage's own limit was never reached
        assert wave.time.slept == [1 / DeliverySettings().initial_rate_per_second]

        await wave.later(RETRY_AFTER)
        assert {recipient: outcome[:3] for recipient, outcome in wave.outcomes().items()} == {
            COLLEAGUE_EMAIL: ("sent", 1, None),
            ADMIN_EMAIL: ("sent", 1, None),
        }
        assert [len(wave.fake.posts_to(f"D{user}")) for user in (COLLEAGUE, ADMIN)] == [1, 1]

    asyncio.run(scenario())


def test_a_dm_held_for_a_lookup_before_its_turn_holds_no_other_dm_of_its_migration(wave: Wave) -> None:
    async def scenario() -> None:
        wave.fake.users[NEWCOMER] = (NEWCOMER_EMAIL, "New Comer")  # listed in the wave's member list
        # one message a batch: the newcomer's DM is still unclaimed when the guest's is held
        posting = build_web_client(BOT_TOKEN, base_url=f"{wave.fake.url}/api/", retries=False)
        sender = SlackSender(posting, wave.people)
        settings = DeliverySettings(batch=1)
        wave.worker = OutboxWorker(
            wave.database, sender, clock=wave.time, sleep=wave.time.sleep, settings=settings
        )
        queue_lists(wave.database, [COLLEAGUE_EMAIL], wave.time.now)
        await wave.drain()
        await _lookups_held(wave)
        wave.queue_like(COLLEAGUE_EMAIL, GUEST)
        wave.queue_like(COLLEAGUE_EMAIL, NEWCOMER_EMAIL)
        await wave.drain()

        assert wave.outcomes() == {
            COLLEAGUE_EMAIL: ("sent", 1, None, None),
            GUEST: ("pending", 0, "ratelimited", LOOKUPS_LIMITED_REASON),
            NEWCOMER_EMAIL: ("sent", 1, None, None),
        }
        assert wave.looked_up() == [CONTRACTOR]  # the guest was not asked of Slack during the Retry-After
        assert wave.time.slept == [1 / DeliverySettings().initial_rate_per_second]  # the guest took no turn

    asyncio.run(scenario())
