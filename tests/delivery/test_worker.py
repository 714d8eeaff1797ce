"""The outbox worker against the fake Slack over loopback: once each, paced, 429s honoured, crashes."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.delivery import DeliverySettings, Envelope, OutboxWorker, Receipt
from bot.slack.sender import EVENT_TYPE, SlackSender
from storage import Database, OutboundMessage
from storage.outbox import retry_failed
from tests.delivery.conftest import FakeTime, people, queue_lists, slack_sender, worker
from tests.fakes.slack_api import Failure, FakeSlack
from tests.storage.databases import POSTGRES_URL
from tests.workflows.fakes import ProcessKilled


def _rows(database: Database) -> list[OutboundMessage]:
    with database.session() as session:
        return list(session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all())  # type: ignore[arg-type]


def _blocks(params: dict[str, object]) -> str:
    blocks = params["blocks"]
    return blocks if isinstance(blocks, str) else json.dumps(blocks)


def test_each_list_is_posted_once_paced_and_stamped_with_its_key(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    emails = people(fake_slack, 3)
    queue_lists(database, emails, time.now)
    started = time.now

    assert asyncio.run(worker(database, fake_slack, time, rate=2.0).drain()) == 3

    for number, row in enumerate(_rows(database)):
        (post,) = fake_slack.posts_to(f"DU{number:05d}")
        assert post.params["metadata"] == {
            "event_type": EVENT_TYPE,
            "event_payload": {"key": row.idempotency_key},
        }
        assert '"Done"' in _blocks(post.params) and "I need help" in _blocks(post.params)
        assert (row.status, row.attempts, row.in_flight) == ("sent", 1, False)
        assert (row.delivered_ref or "").startswith(f"DU{number:05d}/")
    assert time.now - started >= timedelta(seconds=1.0)  # three starts at 2 per second
    assert fake_slack.calls_of("conversations.open") == []  # posting to a user id opens the DM
    assert len(fake_slack.calls_of("users.list")) == 1


def test_a_429_pauses_sending_for_retry_after_and_costs_no_attempt(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    queue_lists(database, people(fake_slack, 2), time.now)
    fake_slack.fail("chat.postMessage", Failure(status=429, retry_after=7))
    started = time.now

    asyncio.run(worker(database, fake_slack, time, rate=10.0).drain())

    assert time.now - started >= timedelta(seconds=7)
    assert [len(fake_slack.posts_to(channel)) for channel in ("DU00000", "DU00001")] == [2, 1]
    assert len(fake_slack.messages) == 2
    assert [(row.status, row.attempts) for row in _rows(database)] == [("sent", 1), ("sent", 1)]


def test_a_process_killed_between_posting_and_recording_does_not_post_twice(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    queue_lists(database, people(fake_slack, 1), time.now)

    class DiesAfterPosting:
        def __init__(self, sender: SlackSender) -> None:
            self._sender = sender

        async def send(self, envelope: Envelope) -> Receipt:
            await self._sender.send(envelope)
            raise ProcessKilled  # the process dies before it can record the post

    doomed = OutboxWorker(database, DiesAfterPosting(slack_sender(fake_slack)), clock=time, sleep=time.sleep)
    with pytest.raises(ProcessKilled):
        asyncio.run(doomed.run_once())
    (row,) = _rows(database)
    assert (row.status, row.in_flight) == ("pending", True)

    time.now += DeliverySettings().lease * 2  # the dead worker's lease runs out
    assert asyncio.run(worker(database, fake_slack, time).drain()) == 1

    assert len(fake_slack.posts_to("DU00000")) == 1
    assert len(fake_slack.calls_of("conversations.history")) == 1
    (row,) = _rows(database)
    assert (row.status, row.uncertain, row.attempts) == ("sent", True, 2)


def test_a_server_error_is_retried_with_backoff_after_looking_for_the_message(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    queue_lists(database, people(fake_slack, 1), time.now)
    fake_slack.fail("chat.postMessage", Failure(status=503))
    delivering = worker(database, fake_slack, time)

    asyncio.run(delivering.drain())
    (row,) = _rows(database)
    assert (row.status, row.error_code, row.uncertain) == ("pending", "internal_error", True)
    assert asyncio.run(delivering.drain()) == 0  # not due before the back-off

    time.now += DeliverySettings().backoff
    asyncio.run(delivering.drain())
    assert len(fake_slack.calls_of("conversations.history")) == 1
    assert len(fake_slack.messages) == 1
    assert _rows(database)[0].status == "sent"


def test_people_not_in_slack_fail_at_once_and_retry_failed_sends_them_once_they_join(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    member = people(fake_slack, 1)
    migration_id = queue_lists(database, [*member, "newcomer@fabrikam.com"], time.now)

    asyncio.run(worker(database, fake_slack, time).drain())
    sent, missing = _rows(database)
    assert sent.status == "sent"
    assert (missing.status, missing.error_code, missing.attempts) == ("failed", "not_in_chat", 1)
    assert "newcomer@fabrikam.com" in (missing.last_error or "")
    assert [c.params["email"] for c in fake_slack.calls_of("users.lookupByEmail")] == [
        "newcomer@fabrikam.com"
    ]

    fake_slack.users["UNEW"] = ("newcomer@fabrikam.com", "New Comer")
    assert retry_failed(database, migration_id, now=time.now) == 1
    asyncio.run(worker(database, fake_slack, time).drain())
    assert [row.status for row in _rows(database)] == ["sent", "sent"]
    assert len(fake_slack.posts_to("DUNEW")) == 1 and len(fake_slack.posts_to("DU00000")) == 1


def test_the_directory_is_read_in_pages_of_200_without_lookups(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    emails = people(fake_slack, 450)
    queue_lists(database, emails[:30], time.now)
    asyncio.run(worker(database, fake_slack, time, rate=1000.0, batch=50).drain())
    assert len(fake_slack.calls_of("users.list")) == 3
    assert fake_slack.calls_of("users.lookupByEmail") == []
    assert len(fake_slack.calls_of("chat.postMessage")) == 30


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_on_one_postgresql_database_send_nothing_twice(
    database_url: str, fake_slack: FakeSlack, time: FakeTime
) -> None:
    from storage import open_database

    assert database_url.startswith(POSTGRES_URL)
    first, second = open_database(database_url), open_database(database_url)
    try:
        emails = people(fake_slack, 60)
        queue_lists(first, emails, time.now)
        settings = DeliverySettings(rate_per_second=1000.0, batch=7, concurrency=3)

        async def both() -> list[int]:
            workers = [
                OutboxWorker(db, slack_sender(fake_slack), clock=time, sleep=time.sleep, settings=settings)
                for db in (first, second)
            ]
            return list(await asyncio.gather(*(w.drain() for w in workers)))

        handled = asyncio.run(both())
        assert sum(handled) == 60 and all(handled)  # both took part
        for number in range(60):
            assert len(fake_slack.posts_to(f"DU{number:05d}")) == 1
        assert {row.status for row in _rows(first)} == {"sent"}
    finally:
        first.dispose()
        second.dispose()
