"""Slack beside Teams in one `serve`: one outbox worker, one pace. DMs Slack is not ready for (its member
list overdue and not read) are put back before their turn, so Teams' lists queued behind them go at once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from bot.delivery.sender import Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.serve import RoutingSender
from bot.slack.app import build_web_client
from bot.slack.people import MAX_AGE_SECONDS, READ_SECONDS, People
from bot.slack.sender import DIRECTORY_OUTDATED, SlackSender
from bot.teams.delivery import CHANNEL_PREFIX
from storage import Database, Migration, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from tests.delivery.conftest import TOKEN, FakeTime, people, queue_lists
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import Clock
from tests.storage.rows import add_migration

HELD_SLACK_DMS = 50
RATE = 2.0
"""Messages a second: 50 turns are 25 s of the pace."""


@dataclass
class TeamsChats:
    """Teams' sender: when (on the outbox's clock) each list reached its person."""

    time: FakeTime
    reached: dict[str, datetime] = field(default_factory=dict)

    async def send(self, envelope: Envelope) -> Receipt:
        self.reached[envelope.key] = self.time.now
        return Receipt(f"teams/{envelope.key}")


def _teams_list(database: Database, now: datetime) -> str:
    """A to-do list of a migration started in a Teams channel, queued after Slack's; its key."""
    migration_id = add_migration(database, "contoso")
    with database.session() as session:
        migration = session.get(Migration, migration_id)
        assert migration is not None
        migration.channel_id = f"{CHANNEL_PREFIX}19:migrate@thread.tacv2"
        key = f"migration-{migration_id}-todo-0"
        payload = {
            "migration_id": migration_id,
            "organization": "contoso",
            "affected_user_id": 1,
            "email": "ann@contoso.com",
            "display_name": "Ann",
            "outcome": "auto",
            "notes": [],
            "items": [{"id": 1, "key": "sign-in-work-account", "title": "Sign in", "body": "b", "link": "l"}],
        }
        enqueue_all(session, [NewMessage(key, "ann@contoso.com", "todo_list", payload)], now=now)
        session.commit()
    return key


def test_a_teams_list_queued_behind_slack_dms_held_for_the_member_list_goes_out_without_waiting(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    clock = Clock()
    slack_people = People(build_web_client(TOKEN, base_url=f"{fake_slack.url}/api/"), clock=clock)
    emails = people(fake_slack, HELD_SLACK_DMS)
    teams = TeamsChats(time)
    senders = {
        "slack": SlackSender(
            build_web_client(TOKEN, base_url=f"{fake_slack.url}/api/", retries=False), slack_people
        ),
        "teams": teams,
    }
    settings = DeliverySettings(max_rate_per_second=RATE, initial_rate_per_second=RATE)
    worker = OutboxWorker(
        database, RoutingSender(database, senders), clock=time, sleep=time.sleep, settings=settings
    )

    async def scenario() -> None:
        assert await slack_people.find(emails[0]) is not None  # read once, then serve sat idle
        clock.now += MAX_AGE_SECONDS + READ_SECONDS + 1  # and its read again has not come (nor would it)
        queue_lists(database, emails, time.now)
        key = _teams_list(database, time.now)
        started = time.now

        await worker.drain()

        assert teams.reached == {key: started}  # its turn came first: no held DM took one before it
        with database.session() as session:
            slack = session.exec(
                select(OutboundMessage).where(col(OutboundMessage.idempotency_key) != key)
            ).all()
        assert {(m.status, m.attempts, m.error_code) for m in slack} == {("pending", 0, DIRECTORY_OUTDATED)}
        assert len(slack) == HELD_SLACK_DMS and fake_slack.calls_of("chat.postMessage") == []

    asyncio.run(scenario())
