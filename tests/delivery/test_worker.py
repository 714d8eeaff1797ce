"""The outbox worker against the fake Slack over loopback: once each, paced, 429s honoured, crashes."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.conversation.messages import Channel, DirectMessage, Message, Text
from bot.delivery.sender import DeliveryFailed, Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.slack._errors import RETRY_AFTER_AT_MOST, retry_after_seconds
from bot.slack.app import build_web_client
from bot.slack.people import People
from bot.slack.sender import EVENT_TYPE, SlackSender
from storage import Database, OutboundMessage
from storage.outbox import NOT_IN_CHAT, enqueue, retry_failed
from tests.delivery.conftest import TOKEN, FakeTime, people, queue_lists, slack_sender, worker
from tests.fakes.slack_api import Failure, FakeSlack
from tests.storage.databases import POSTGRES_URL
from tests.storage.rows import add_migration
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
    # whichever of the two concurrent sends met the 429 was tried again; the other went through once
    assert sorted(len(fake_slack.posts_to(channel)) for channel in ("DU00000", "DU00001")) == [1, 2]
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
    database: Database, fake_slack: FakeSlack, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.delivery.worker")
    member = people(fake_slack, 1)
    migration_id = queue_lists(database, [*member, "newcomer@fabrikam.com"], time.now)

    asyncio.run(worker(database, fake_slack, time).drain())
    sent, missing = _rows(database)
    assert sent.status == "sent"
    assert (missing.status, missing.error_code, missing.attempts) == ("failed", "not_in_chat", 1)
    assert "newcomer@fabrikam.com" in (missing.last_error or "")
    warned = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert [record.getMessage() for record in warned] == [  # counted, as the admins see who in `progress`
        "1 todo_list message(s) not delivered, not retried (not_in_chat): `progress` lists who, its CSV"
        " their addresses (`retry-failed` tries them again)"
    ]
    named = [record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG]
    assert f"todo_list outbox message {missing.id} not delivered, not retried (not_in_chat)" in named
    assert [line for line in caplog.messages if "newcomer@fabrikam.com" in line] == []  # not even at DEBUG
    assert [c.params["email"] for c in fake_slack.calls_of("users.lookupByEmail")] == [
        "newcomer@fabrikam.com"
    ]

    fake_slack.users["UNEW"] = ("newcomer@fabrikam.com", "New Comer")
    assert retry_failed(database, migration_id, {"todo_list"}, now=time.now) == 1
    asyncio.run(worker(database, fake_slack, time).drain())
    assert [row.status for row in _rows(database)] == ["sent", "sent"]
    assert len(fake_slack.posts_to("DUNEW")) == 1 and len(fake_slack.posts_to("DU00000")) == 1


def test_a_wave_of_people_not_in_slack_is_one_warning_with_a_count_and_no_address(
    database: Database, fake_slack: FakeSlack, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    member = people(fake_slack, 1)
    strangers = [f"stranger{number:02d}@fabrikam.com" for number in range(20)]
    queue_lists(database, [*member, *strangers], time.now)

    asyncio.run(worker(database, fake_slack, time).drain())

    assert sorted(row.status for row in _rows(database)) == ["failed"] * 20 + ["sent"]
    warned = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert warned == [  # one line for the batch, never 20 addresses
        "20 todo_list message(s) not delivered, not retried (not_in_chat): `progress` lists who, its CSV"
        " their addresses (`retry-failed` tries them again)"
    ]


def test_a_person_slack_knows_by_another_of_their_addresses_gets_their_list_there(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    fake_slack.users["UKIM"] = ("kim@fabrikam-old.com", "Kim")  # her profile still on the old address
    fake_slack.users["UANN"] = ("ann@fabrikam.com", "Ann")
    others = {
        "kim@fabrikam.com": ["kim@fabrikam-old.com"],
        "ann@fabrikam.com": ["ann@outlook.com"],
        "lost@fabrikam.com": ["lost@outlook.com"],
    }
    queue_lists(database, list(others), time.now, also=others)

    asyncio.run(worker(database, fake_slack, time).drain())
    kim, ann, lost = _rows(database)
    assert kim.status == "sent" and (kim.delivered_ref or "").startswith("DUKIM/")
    assert (ann.status, len(fake_slack.posts_to("DUANN"))) == ("sent", 1)
    assert (lost.status, lost.error_code) == ("failed", "not_in_chat")
    assert lost.last_error == "no Slack account with the email lost@fabrikam.com or lost@outlook.com"
    asked = [c.params["email"] for c in fake_slack.calls_of("users.lookupByEmail")]
    assert "ann@outlook.com" not in asked  # the first address that works ends the search


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
    database_url: str, fake_slack: FakeSlack
) -> None:
    from storage import open_database

    assert database_url.startswith(POSTGRES_URL)
    first, second = open_database(database_url), open_database(database_url)
    try:
        emails = people(fake_slack, 60)
        queue_lists(first, emails, datetime.now(UTC))
        settings = DeliverySettings(
            max_rate_per_second=1000.0, initial_rate_per_second=1000.0, batch=7, concurrency=3
        )
        start = threading.Barrier(2)

        def process(db: Database) -> int:
            """A process of its own: its own thread, event loop, connection pool and real clock."""
            delivering = OutboxWorker(
                db, slack_sender(fake_slack), clock=lambda: datetime.now(UTC), settings=settings
            )
            start.wait()
            return asyncio.run(delivering.drain())

        with ThreadPoolExecutor(2) as pool:
            handled = list(pool.map(process, (first, second)))
        assert sum(handled) == 60 and all(handled)  # both took part
        for number in range(60):
            assert len(fake_slack.posts_to(f"DU{number:05d}")) == 1
        assert {row.status for row in _rows(first)} == {"sent"}
    finally:
        first.dispose()
        second.dispose()


class _Stalls:
    """Forwards to a real sender; on the first send the process stalls past its lease, then gets a 429."""

    def __init__(
        self, sender: SlackSender, time: FakeTime, stall: timedelta, meanwhile: OutboxWorker
    ) -> None:
        self._sender, self._time, self._stall, self._meanwhile = sender, time, stall, meanwhile
        self.handled_meanwhile: int | None = None

    async def send(self, envelope: Envelope) -> Receipt:
        if self.handled_meanwhile is None:
            self._time.now += self._stall
            self.handled_meanwhile = await self._meanwhile.drain()  # another process takes the batch over
            raise DeliveryFailed("ratelimited", "rate limited", retry_after=1.0)
        return await self._sender.send(envelope)


def test_a_worker_whose_lease_ran_out_mid_batch_sends_nothing_another_worker_took_over(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    queue_lists(database, people(fake_slack, 3), time.now)
    settings = DeliverySettings(max_rate_per_second=1.0, batch=20, concurrency=1)
    other = OutboxWorker(database, slack_sender(fake_slack), clock=time, sleep=time.sleep, settings=settings)
    stalling = _Stalls(slack_sender(fake_slack), time, settings.lease + timedelta(seconds=20), other)
    first = OutboxWorker(database, stalling, clock=time, sleep=time.sleep, settings=settings, name="first")

    assert asyncio.run(first.run_once()) == 3

    assert stalling.handled_meanwhile == 3
    for number in range(3):
        assert len(fake_slack.posts_to(f"DU{number:05d}")) == 1
    assert {row.status for row in _rows(database)} == {"sent"}


class _RateLimited:
    async def send(self, envelope: Envelope) -> Receipt:
        raise DeliveryFailed("ratelimited", "rate limited", retry_after=1.0)


def test_a_message_given_up_on_a_rate_limit_after_claims_lost_to_crashes_tells_whoever_waits_on_it(
    database: Database, fake_slack: FakeSlack, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    """A rate limit is not counted, but a message claimed past its last try (each lease lost to a crash)
    still ends `failed` on it: the hook and the operator's WARNING follow the row, not a guess at it."""
    settings = DeliverySettings()
    queue_lists(database, people(fake_slack, 1), time.now)
    with database.session() as session:
        row = session.exec(select(OutboundMessage)).one()
        row.attempts = settings.max_attempts  # the claim below makes it one past the last
        session.commit()
    told: list[tuple[int | None, str]] = []
    outbox = OutboxWorker(
        database,
        _RateLimited(),
        clock=time,
        sleep=time.sleep,
        settings=settings,
        on_undeliverable=lambda message, failure: told.append((message.id, failure.code)),
    )
    caplog.set_level(logging.INFO, logger="bot.delivery.worker")

    asyncio.run(outbox.run_once())

    [row] = _rows(database)
    assert row.status == "failed"
    assert told == [(row.id, "ratelimited")]
    assert [r.levelno for r in caplog.records if "not retried" in r.getMessage()] == [logging.WARNING]


def test_a_crash_mid_batch_leaves_only_the_message_being_sent_uncertain(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    queue_lists(database, people(fake_slack, 3), time.now)

    class DiesBeforePosting:
        async def send(self, envelope: Envelope) -> Receipt:
            raise ProcessKilled

    async def dead(seconds: float) -> None:
        raise ProcessKilled  # the process is gone: it never wakes up for the next message

    settings = DeliverySettings(concurrency=1)
    doomed = OutboxWorker(database, DiesBeforePosting(), clock=time, sleep=dead, settings=settings)
    with pytest.raises(ProcessKilled):
        asyncio.run(doomed.run_once())
    assert [row.in_flight for row in _rows(database)] == [True, False, False]

    time.now += DeliverySettings().lease * 2
    asyncio.run(worker(database, fake_slack, time).drain())
    assert [row.uncertain for row in _rows(database)] == [True, False, False]
    assert len(fake_slack.calls_of("conversations.history")) == 1  # one look, not one per queued message
    assert len(fake_slack.messages) == 3


def test_a_retry_after_longer_than_the_lease_allows_puts_the_message_back_in_the_queue(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    queue_lists(database, people(fake_slack, 1), time.now)
    fake_slack.fail("chat.postMessage", Failure(status=429, retry_after=600))
    started = time.now

    asyncio.run(worker(database, fake_slack, time).drain())
    (row,) = _rows(database)
    assert (row.status, row.attempts, row.error_code) == ("pending", 0, "ratelimited")
    assert row.not_before == started + timedelta(seconds=600)
    assert len(fake_slack.messages) == 0
    assert time.now - started < DeliverySettings().lease  # did not sit on its claim for ten minutes

    time.now = row.not_before
    asyncio.run(worker(database, fake_slack, time).drain())
    assert len(fake_slack.messages) == 1 and _rows(database)[0].status == "sent"


def test_an_unexpected_error_is_shown_to_admins_as_a_log_reference_only(
    database: Database, fake_slack: FakeSlack, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    queue_lists(database, people(fake_slack, 1), time.now)

    class Buggy:
        async def send(self, envelope: Envelope) -> Receipt:
            raise RuntimeError("boom")

    asyncio.run(OutboxWorker(database, Buggy(), clock=time, sleep=time.sleep).run_once())
    (row,) = _rows(database)
    assert row.error_code == "internal_error"
    reason = row.last_error or ""
    assert reason.startswith("internal error; see log ref ") and "RuntimeError" not in reason
    assert reason.removeprefix("internal error; see log ref ") in caplog.text


def test_retry_failed_queues_only_the_kinds_named_again_and_forgets_the_old_error(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    migration_id = queue_lists(database, ["gone@fabrikam.com"], time.now)
    with database.session() as session:
        enqueue(
            session,
            idempotency_key="reminder-1-1",
            recipient="gone@fabrikam.com",
            kind="todo_reminder",
            payload={"migration_id": migration_id},
            now=time.now,
        )
        session.commit()
    asyncio.run(worker(database, fake_slack, time).drain())
    assert [row.status for row in _rows(database)] == ["failed", "failed"]

    assert retry_failed(database, migration_id, {"todo_list"}, now=time.now) == 1
    todo, reminder = _rows(database)
    assert (todo.kind, todo.status, todo.error_code, todo.last_error) == ("todo_list", "pending", None, None)
    assert (reminder.kind, reminder.status) == ("todo_reminder", "failed")


def _queue_digest(database: Database, now: datetime) -> None:
    migration_id = add_migration(database)
    with database.session() as session:
        enqueue(
            session,
            idempotency_key="reminder-1-1",
            recipient="channel:CADMINS",
            kind="straggler_digest",
            payload={"migration_id": migration_id, "organization": "fabrikam", "users": 2, "stragglers": []},
            now=now,
        )
        session.commit()


def test_a_channel_post_that_may_have_got_through_is_looked_for_then_posted_once(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    _queue_digest(database, time.now)
    fake_slack.fail("chat.postMessage", Failure(status=503))  # Slack stored nothing
    asyncio.run(worker(database, fake_slack, time).drain())
    time.now += DeliverySettings().backoff * 4
    asyncio.run(worker(database, fake_slack, time).drain())

    (row,) = _rows(database)
    assert (row.status, row.delivered_ref) == ("sent", "CADMINS/1.000100")
    assert len(fake_slack.calls_of("conversations.history")) == 1
    assert len(fake_slack.posts_to("CADMINS")) == 2 and len(fake_slack.messages) == 1


def test_without_history_scopes_a_channel_post_that_may_have_got_through_is_recorded_unconfirmed(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    _queue_digest(database, time.now)
    fake_slack.fail("chat.postMessage", Failure(status=503))
    fake_slack.fail("conversations.history", Failure(error="missing_scope"))
    asyncio.run(worker(database, fake_slack, time).drain())
    time.now += DeliverySettings().backoff * 4
    asyncio.run(worker(database, fake_slack, time).drain())

    (row,) = _rows(database)
    assert (row.status, row.delivered_ref) == ("sent", "CADMINS/unconfirmed")
    assert len(fake_slack.calls_of("chat.postMessage")) == 1


def test_a_channel_post_left_in_flight_by_a_crash_is_not_posted_blindly(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    _queue_digest(database, time.now)

    class DiesAfterPosting:
        def __init__(self, sender: SlackSender) -> None:
            self._sender = sender

        async def send(self, envelope: Envelope) -> Receipt:
            await self._sender.send(envelope)
            raise ProcessKilled

    doomed = OutboxWorker(database, DiesAfterPosting(slack_sender(fake_slack)), clock=time, sleep=time.sleep)
    with pytest.raises(ProcessKilled):
        asyncio.run(doomed.run_once())
    time.now += DeliverySettings().lease * 2
    asyncio.run(worker(database, fake_slack, time).drain())

    assert len(fake_slack.posts_to("CADMINS")) == 1
    assert _rows(database)[0].delivered_ref == "CADMINS/1.000100"  # found in the channel's history


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("2.5", 2.5),
        ("Mon, 02 Nov 2026 09:00:30 GMT", 30.0),  # the HTTP-date form
        ("soon", 1.0),
        (None, 1.0),
        ("-5", 1.0),
        ("86400", RETRY_AFTER_AT_MOST),
        ("inf", RETRY_AFTER_AT_MOST),
    ],
)
def test_retry_after_is_read_in_both_forms_and_kept_within_bounds(header: str | None, seconds: float) -> None:
    assert retry_after_seconds(header, now=datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) == seconds


def test_the_directory_lasts_the_whole_wave_and_nobody_is_remembered_as_missing(
    fake_slack: FakeSlack,
) -> None:
    emails = people(fake_slack, 3)
    moment = [0.0]
    directory = People(build_web_client(TOKEN, base_url=f"{fake_slack.url}/api/"), clock=lambda: moment[0])

    async def wave() -> None:
        assert await directory.find(emails[0]) is not None
        moment[0] += 40 * 60.0  # a long wave: far past the cache time
        assert await directory.find(emails[2]) is not None
        assert len(fake_slack.calls_of("users.list")) == 1

        assert await directory.find("newcomer@fabrikam.com") is None  # a miss is looked up alone
        fake_slack.users["UNEW"] = ("newcomer@fabrikam.com", "New Comer")
        found = await directory.find("newcomer@fabrikam.com")  # retry-failed right after they joined
        assert found is not None and found.user_id == "UNEW"
        # a miss does not read the whole directory again (minutes at 20,000 members)
        assert len(fake_slack.calls_of("users.list")) == 1
        assert [call.params["email"] for call in fake_slack.calls_of("users.lookupByEmail")] == [
            "newcomer@fabrikam.com"
        ] * 2

    asyncio.run(wave())


HELLO = Message("Hello", (Text("Hello"),))


def test_someone_whose_slack_account_was_deactivated_is_not_reachable_in_chat_with_the_reason(
    fake_slack: FakeSlack,
) -> None:
    (email,) = people(fake_slack, 1)
    sender = slack_sender(fake_slack)
    asyncio.run(sender.send(Envelope("list", DirectMessage(email), HELLO)))  # the directory is read now

    fake_slack.deactivated.add("U00000")
    with pytest.raises(DeliveryFailed) as failed:  # an earlier attempt may have got through: look first
        asyncio.run(sender.send(Envelope("reminder", DirectMessage(email), HELLO, check_first=True)))
    assert (failed.value.code, failed.value.permanent) == (NOT_IN_CHAT, True)
    assert failed.value.reason == "their Slack account is deactivated (user_disabled)"

    with pytest.raises(DeliveryFailed) as unknown:  # a bot reading the directory afresh does not find them
        asyncio.run(slack_sender(fake_slack).send(Envelope("again", DirectMessage(email), HELLO)))
    assert (unknown.value.code, unknown.value.reason) == (NOT_IN_CHAT, "their Slack account is deactivated")


def test_a_token_slack_no_longer_accepts_marks_nobody_unreachable_and_says_to_reinstall(
    fake_slack: FakeSlack,
) -> None:
    (email,) = people(fake_slack, 1)
    fake_slack.fail("chat.postMessage", Failure(error="account_inactive"))
    with pytest.raises(DeliveryFailed) as failed:
        asyncio.run(slack_sender(fake_slack).send(Envelope("list", DirectMessage(email), HELLO)))
    assert failed.value.code == "account_inactive" and not failed.value.permanent  # tried again later
    assert failed.value.reason == (
        "Slack refused the bot's token (account_inactive): reinstall the app in the workspace"
    )


def test_a_channel_post_to_an_archived_channel_says_so(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", Failure(error="is_archived"))
    with pytest.raises(DeliveryFailed) as failed:
        asyncio.run(slack_sender(fake_slack).send(Envelope("notice", Channel("C1"), HELLO)))
    assert (failed.value.code, failed.value.permanent) == ("is_archived", True)
    assert failed.value.reason == "the channel is archived (is_archived)"
