"""A wave of DMs where some people are only found by `users.lookupByEmail` (Slack's Tier 3, 50 a minute).

At 20,000 people, the hundreds the workspace's member list does not show are each looked up alone, and
Slack answers 429 past its tier. The outbox worker sends as `serve` wires it, over loopback HTTP to the fake
Slack: a look-up's Retry-After holds that person's DM (uncounted) and every other look-up until it is over,
while the DMs to everyone the member list shows go on at their own pace; and a miss never waits for the
whole member list to be read again (minutes at 20,000 members, its batch and so the wave waiting with it).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.slack.app import build_web_client
from bot.slack.people import CACHE_SECONDS, People
from bot.slack.sender import LOOKUPS_LATER_SECONDS, LOOKUPS_LIMITED_REASON, SlackSender
from storage import Database, OutboundMessage
from storage.outbox import NOT_IN_CHAT, enqueue
from tests.delivery.conftest import FakeTime, queue_lists
from tests.fakes.slack_api import Failure, FakeSlack
from tests.fakes.slack_harness import ADMIN, ADMIN_EMAIL, BOT_TOKEN, COLLEAGUE, COLLEAGUE_EMAIL, Clock

WAIT_SECONDS = 5.0
RETRY_AFTER = 30
GUEST, CONTRACTOR = "guest@outlook.com", "contractor@gmail.com"
"""Two people with no Slack account: only a look-up can tell."""


@dataclass
class Wave:
    fake: FakeSlack
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
    people = People(build_web_client(BOT_TOKEN, base_url=url), clock=clock, lookups=posting)
    worker = OutboxWorker(sqlite_database, SlackSender(posting, people), clock=time, sleep=time.sleep)
    return Wave(fake_slack, people, clock, time, worker, sqlite_database)


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
        # four turns at the starting pace: none waited the Retry-After, so neither did the DMs to those
        # Slack's member list shows
        assert wave.time.slept == [1 / DeliverySettings().initial_rate_per_second] * 3
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
