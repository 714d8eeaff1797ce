"""A Slack message's file is shared once: a share Slack answered is not looked for in the history, which
shows it only once Slack has finished it, seconds later; one without an answer is; a known copy of the
message's own post shares its file even where the history cannot be read."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.conversation.messages import Attachment, Message, Text
from bot.delivery.notices import ChatNotice
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.operator_log import OPERATORS_LOGGERS
from bot.slack.state import DatabaseSlackState, MessageCopy
from storage import Database
from tests.delivery.conftest import FakeTime, outbox_rows, people, queue_notice, slack_sender, worker
from tests.fakes.slack_api import Failure, FakeSlack
from tests.workflows.fakes import ProcessKilled

PLAN = Attachment("plan.csv", "email,outcome\nuser00000@fabrikam.com,auto\n", "The plan", "fabrikam")
SHARED_ONCE = [("DU00000", "The plan", PLAN.content.encode())]
LATER = timedelta(hours=1)
"""Past any retry's wait (a 429's Retry-After, the backoff after a 5xx)."""


def test_a_quick_retry_after_an_answered_share_does_not_share_again_before_slack_shows_it(
    database: Database, fake_slack: FakeSlack, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    for name in OPERATORS_LOGGERS:
        caplog.set_level(logging.INFO, logger=name)
    state = _elsewhere(database, fake_slack, time, "CMIGRATE")
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan(updates="plan-fabrikam"))
    fake_slack.fail("chat.update", Failure(status=429, retry_after=1))  # the other copy's, after the share
    delivering = worker(database, fake_slack, time, state=state)

    asyncio.run(delivering.drain())
    time.now += timedelta(seconds=1)
    asyncio.run(delivering.drain())

    assert fake_slack.unfinished_shares  # the history does not show the share yet
    assert fake_slack.shared == SHARED_ONCE
    assert len(fake_slack.posts_to("DU00000")) == 1
    assert [row.status for row in outbox_rows(database)] == ["sent"]
    assert (
        "bot.slack.sender",
        logging.INFO,
        "the files of the post in DU00000 were shared already; not shared again",
    ) in caplog.record_tuples


def test_the_upload_url_is_logged_at_no_level(
    database: Database, fake_slack: FakeSlack, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan())

    asyncio.run(worker(database, fake_slack, time).drain())

    assert fake_slack.shared == SHARED_ONCE
    assert [line for line in caplog.messages if f"{fake_slack.url}/upload/" in line] == []


def test_a_known_copy_of_its_own_shares_its_file_when_the_history_cannot_be_read(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan(updates="plan-fabrikam"))
    fake_slack.fail("files.getUploadURLExternal", Failure(status=429, retry_after=3))
    fake_slack.fail("conversations.history", Failure(error="missing_scope", needed="im:history"))

    _tried_twice(worker(database, fake_slack, time, state=DatabaseSlackState(database, clock=time)), time)

    assert len(fake_slack.calls_of("conversations.history")) == 1  # refused
    assert len(fake_slack.posts_to("DU00000")) == 1
    assert fake_slack.shared == SHARED_ONCE
    assert [row.status for row in outbox_rows(database)] == ["sent"]


def test_a_share_without_answer_is_not_made_again_where_the_history_cannot_be_read_and_the_log_says_so(
    database: Database, fake_slack: FakeSlack, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan(updates="plan-fabrikam"))
    fake_slack.fail("files.completeUploadExternal", Failure(status=504, acted=True))
    fake_slack.fail("conversations.history", Failure(error="missing_scope", needed="im:history"))

    _tried_twice(worker(database, fake_slack, time, state=DatabaseSlackState(database, clock=time)), time)

    assert fake_slack.shared == SHARED_ONCE
    assert [row.status for row in outbox_rows(database)] == ["sent"]
    assert (
        "bot.slack.sender",
        logging.WARNING,
        "the files of the post in DU00000 may have been shared (no answer came) and its history cannot be"
        " read to check: not shared again",
    ) in caplog.record_tuples


def test_a_retry_of_a_known_copy_without_files_reads_no_history(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    state = _elsewhere(database, fake_slack, time, "CMIGRATE")
    (email,) = people(fake_slack, 1)
    notice = ChatNotice(Message("Your plan", (Text("Here is the plan."),)), updates="plan-fabrikam")
    queue_notice(database, time, email, notice)
    fake_slack.fail("chat.update", Failure(status=429, retry_after=1))

    _tried_twice(worker(database, fake_slack, time, state=state), time)

    assert fake_slack.calls_of("conversations.history") == []
    assert len(fake_slack.posts_to("DU00000")) == 1
    assert [row.status for row in outbox_rows(database)] == ["sent"]


def test_an_upload_url_refusing_the_file_says_what_it_answered(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan())
    fake_slack.fail("upload", Failure(status=500))
    delivering = worker(database, fake_slack, time)

    asyncio.run(delivering.drain())
    (row,) = outbox_rows(database)
    assert (row.status, row.error_code) == ("pending", "upload_refused")
    assert row.last_error == "Slack's upload URL answered HTTP 500"

    time.now += LATER
    asyncio.run(delivering.drain())
    assert fake_slack.shared == SHARED_ONCE
    assert len(fake_slack.posts_to("DU00000")) == 1


@pytest.mark.parametrize("status", [400, 403, 413])
def test_an_upload_url_refusing_the_file_as_it_is_is_not_tried_again(
    database: Database, fake_slack: FakeSlack, time: FakeTime, status: int
) -> None:
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan())
    fake_slack.fail("upload", Failure(status=status))
    delivering = worker(database, fake_slack, time)

    asyncio.run(delivering.drain())
    (row,) = outbox_rows(database)
    assert (row.status, row.error_code, row.attempts) == ("failed", "upload_refused", 1)
    assert row.last_error == f"Slack's upload URL answered HTTP {status}"

    time.now += LATER
    assert asyncio.run(delivering.drain()) == 0
    assert fake_slack.shared == []
    assert len(fake_slack.posts_to("DU00000")) == 1


@pytest.mark.parametrize("status", [408, 429])
def test_an_upload_url_timing_out_or_limiting_is_tried_again(
    database: Database, fake_slack: FakeSlack, time: FakeTime, status: int
) -> None:
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan())
    fake_slack.fail("upload", Failure(status=status))

    _tried_twice(worker(database, fake_slack, time), time)

    assert fake_slack.shared == SHARED_ONCE
    assert [row.status for row in outbox_rows(database)] == ["sent"]


def test_a_process_killed_as_its_post_became_a_known_copy_shares_the_file_without_the_history(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    """Killed once the post is a known copy of the message, the retry, unable to read the history, still
    knows the post its own (`FileShares.own`) and shares the file, not ending `sent` without it."""

    class DiesAfterKeepingTheCopy(DatabaseSlackState):
        async def add_copy(self, key: str, copy: MessageCopy) -> None:
            await super().add_copy(key, copy)
            raise ProcessKilled

    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan(updates="plan-fabrikam"))
    fake_slack.fail("conversations.history", Failure(error="missing_scope", needed="im:history"))
    _killed_then_restarted(database, fake_slack, time, DiesAfterKeepingTheCopy(database, clock=time))

    assert fake_slack.shared == SHARED_ONCE
    assert len(fake_slack.posts_to("DU00000")) == 1
    assert [row.status for row in outbox_rows(database)] == ["sent"]


@pytest.mark.parametrize(
    "failure", [Failure(status=429, retry_after=2), Failure(status=504, acted=True)], ids=["429", "lost"]
)
def test_a_share_that_failed_after_its_files_were_kept_shares_them_once(
    database: Database, fake_slack: FakeSlack, time: FakeTime, failure: Failure
) -> None:
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan())
    fake_slack.fail("files.completeUploadExternal", failure)
    delivering = worker(database, fake_slack, time, state=DatabaseSlackState(database, clock=time))

    asyncio.run(delivering.drain())
    fake_slack.finish_shares()  # a share made without its answer shows in the history by the retry
    time.now += LATER
    asyncio.run(delivering.drain())

    assert fake_slack.shared == SHARED_ONCE
    assert len(fake_slack.posts_to("DU00000")) == 1
    assert [row.status for row in outbox_rows(database)] == ["sent"]


def test_a_process_killed_between_keeping_the_file_ids_and_the_share_shares_once_after_the_restart(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    class DiesAfterKeepingTheIds(DatabaseSlackState):
        async def add_uploaded(self, key: str, channel: str, file_ids: Sequence[str]) -> None:
            await super().add_uploaded(key, channel, file_ids)
            if file_ids:
                raise ProcessKilled

    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, _plan())
    _killed_then_restarted(database, fake_slack, time, DiesAfterKeepingTheIds(database, clock=time))

    assert fake_slack.shared == SHARED_ONCE
    assert len(fake_slack.posts_to("DU00000")) == 1
    assert [(row.status, row.uncertain) for row in outbox_rows(database)] == [("sent", True)]


def _killed_then_restarted(
    database: Database, fake_slack: FakeSlack, time: FakeTime, dying: DatabaseSlackState
) -> None:
    """A worker whose state `dying` kills it sends nothing; one started after its lease sends the row."""
    doomed = OutboxWorker(database, slack_sender(fake_slack, dying), clock=time, sleep=time.sleep)
    with pytest.raises(ProcessKilled):
        asyncio.run(doomed.run_once())
    assert fake_slack.shared == []

    time.now += DeliverySettings().lease * 2  # the dead worker's lease runs out
    restarted = worker(database, fake_slack, time, state=DatabaseSlackState(database, clock=time))
    assert asyncio.run(restarted.drain()) == 1


def _plan(updates: str | None = None) -> ChatNotice:
    return ChatNotice(Message("Your plan", (Text("Here is the plan."), PLAN)), updates=updates)


def _elsewhere(database: Database, fake_slack: FakeSlack, time: FakeTime, channel: str) -> DatabaseSlackState:
    """A state knowing an earlier copy of "plan-fabrikam" in `channel`, which Slack has."""
    fake_slack.messages[(channel, "1.000100")] = {"text": "The plan"}
    state = DatabaseSlackState(database, clock=time)
    asyncio.run(state.add_copy("plan-fabrikam", MessageCopy(channel, "1.000100")))
    return state


def _tried_twice(delivering: OutboxWorker, time: FakeTime) -> None:
    asyncio.run(delivering.drain())
    time.now += LATER
    asyncio.run(delivering.drain())
