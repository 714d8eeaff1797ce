"""Fake Slack on loopback, the parametrized database, a clock whose sleep moves it, queued to-do lists or
chat messages, a sender holding DMs, and fabrikam notified (the workflows' tests' fixtures)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.conversation.messages import Channel, DirectMessage
from bot.delivery.notices import CHAT_MESSAGE, ChatNotice
from bot.delivery.sender import DeliveryFailed, Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.slack.app import build_web_client
from bot.slack.people import People
from bot.slack.sender import DIRECTORY_OUTDATED, SlackSender
from bot.slack.state import SlackState
from storage import Database, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from tests.fakes.slack_api import FakeSlack
from tests.storage.rows import add_migration
from tests.workflows.conftest import clock, dana, lee, make_service, microsoft, notified, service

__all__ = ["clock", "dana", "lee", "make_service", "microsoft", "notified", "service"]
"""The workflows' tests' service over the parametrized database, and `notified`, the migration whose lists
are queued: fabrikam started by Dana in `CHANNEL`, connected (Lee approving) and notified."""

TOKEN = "xoxb-delivery-test"


@dataclass
class FakeTime:
    """`now` for the database and the pacer; `sleep` returns at once and moves `now` on."""

    now: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def fake_slack(served_slack: FakeSlack) -> FakeSlack:
    """The test process's fake Slack, reset to a new one's state."""
    served_slack.reset()
    return served_slack


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def slack_sender(fake: FakeSlack, state: SlackState | None = None) -> SlackSender:
    """What `serve` builds: the member list's reads may retry; posts and look-ups never do on their own."""
    posting = build_web_client(TOKEN, base_url=f"{fake.url}/api/", retries=False)
    people = People(build_web_client(TOKEN, base_url=f"{fake.url}/api/"), lookups=posting)
    return SlackSender(posting, people, state)


def worker(
    database: Database,
    fake: FakeSlack,
    time: FakeTime,
    rate: float = 2.0,
    *,
    state: SlackState | None = None,
    **options: object,
) -> OutboxWorker:
    settings = DeliverySettings(
        max_rate_per_second=rate,
        initial_rate_per_second=rate,
        **options,  # type: ignore[arg-type]
    )
    return OutboxWorker(database, slack_sender(fake, state), clock=time, sleep=time.sleep, settings=settings)


def people(fake: FakeSlack, count: int, *, start: int = 0) -> list[str]:
    """Adds `count` Slack members; their emails."""
    emails = []
    for number in range(start, start + count):
        email = f"user{number:05d}@fabrikam.com"
        fake.users[f"U{number:05d}"] = (email, f"User {number}")
        emails.append(email)
    return emails


def queue_lists(
    database: Database, emails: list[str], now: datetime, also: Mapping[str, list[str]] | None = None
) -> int:
    """One to-do list per email, as `notify` queues them (`also`: a person's other addresses); the
    migration's id."""
    migration_id = add_migration(database)
    lists = [
        NewMessage(
            f"migration-{migration_id}-todo-{number}",
            email,
            "todo_list",
            {
                "also": (also or {}).get(email, []),
                "migration_id": migration_id,
                "organization": "fabrikam",
                "affected_user_id": number + 1,
                "email": email,
                "display_name": email.split("@")[0],
                "outcome": "auto",
                "notes": [],
                "items": [
                    {
                        "id": 10 * number + 1,
                        "key": "sign-in-work-account",
                        "title": "Sign in",
                        "body": "b",
                        "link": "l",
                    }
                ],
            },
        )
        for number, email in enumerate(emails)
    ]
    with database.session() as session:
        enqueue_all(session, lists, now=now)
        session.commit()
    return migration_id


def queue_notice(
    database: Database, time: FakeTime, recipient: str, notice: ChatNotice, key: str = "chat:plan"
) -> None:
    with database.session() as session:
        enqueue_all(session, [NewMessage(key, recipient, CHAT_MESSAGE, notice.to_payload())], now=time.now)
        session.commit()


def outbox_rows(database: Database) -> list[OutboundMessage]:
    with database.session() as session:
        return list(session.exec(select(OutboundMessage)).all())


class HeldDMs:
    """Slack's sender while its member list cannot be read: not ready for any DM (for `why`, asking to be
    asked again `later` seconds on); channel posts go. A DM sent all the same is recorded (`dms_sent`), for
    the test to see: the worker takes a send raising for a failure of that message."""

    def __init__(self, why: str, later: float) -> None:
        self.why = why
        self.later = later
        self.dms_sent: list[str] = []

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        if isinstance(to, Channel):
            return None
        return DeliveryFailed(DIRECTORY_OUTDATED, self.why, later=self.later)

    async def send(self, envelope: Envelope) -> Receipt:
        if not isinstance(envelope.to, Channel):
            self.dms_sent.append(envelope.key)
        return Receipt(f"channel/{envelope.key}")
