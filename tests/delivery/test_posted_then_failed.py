"""Slack took the post, then refused a later step of that send, or the process died before recording it:
the retry finishes what is missing, never posts nor shares a file again. A conversation gone after the
post (a copy elsewhere, the file's channel) leaves the message sent, not failed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.conversation.messages import Attachment, Message, Text
from bot.delivery.notices import ChatNotice
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.slack.sender import SlackSender
from bot.slack.state import DatabaseSlackState, InMemorySlackState, MessageCopy
from storage import Database
from tests.delivery.conftest import FakeTime, outbox_rows, people, queue_notice, slack_sender, worker
from tests.fakes.slack_api import Failure, FakeSlack
from tests.workflows.fakes import ProcessKilled

PLAN = Attachment("plan.csv", "email,outcome\nuser00000@fabrikam.com,auto\n", "The plan", "fabrikam")
RETRY_AFTER = 3


def test_a_429_on_the_file_after_the_post_shares_the_file_on_the_retry_without_posting_again(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, ChatNotice(Message("Your plan", (Text("Here is the plan."), PLAN))))
    fake_slack.fail("files.getUploadURLExternal", Failure(status=429, retry_after=RETRY_AFTER))
    delivering = worker(database, fake_slack, time)

    asyncio.run(delivering.drain())
    (row,) = outbox_rows(database)
    assert (row.status, row.error_code, row.attempts) == ("pending", "ratelimited", 0)
    assert len(fake_slack.posts_to("DU00000")) == 1
    assert fake_slack.shared == []

    time.now += timedelta(seconds=RETRY_AFTER)
    asyncio.run(delivering.drain())

    assert len(fake_slack.posts_to("DU00000")) == 1
    assert fake_slack.shared == [("DU00000", "The plan", PLAN.content.encode())]
    assert len(fake_slack.calls_of("conversations.history")) == 1
    (row,) = outbox_rows(database)
    assert (row.status, row.uncertain, row.attempts) == ("sent", True, 1)


def test_a_process_killed_after_sharing_the_file_shares_it_once_after_the_restart(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    (email,) = people(fake_slack, 1)
    queue_notice(database, time, email, ChatNotice(Message("Your plan", (Text("Here is the plan."), PLAN))))

    class DiesAfterSending:
        def __init__(self, sender: SlackSender) -> None:
            self._sender = sender

        async def send(self, envelope: Envelope) -> Receipt:
            await self._sender.send(envelope)
            raise ProcessKilled  # posted and shared, then the process dies before recording it

    state = DatabaseSlackState(database, clock=time)
    doomed = OutboxWorker(
        database, DiesAfterSending(slack_sender(fake_slack, state)), clock=time, sleep=time.sleep
    )
    with pytest.raises(ProcessKilled):
        asyncio.run(doomed.run_once())
    assert fake_slack.shared == [("DU00000", "The plan", PLAN.content.encode())]

    time.now += DeliverySettings().lease * 2  # the dead worker's lease runs out
    restarted = worker(database, fake_slack, time, state=DatabaseSlackState(database, clock=time))
    assert asyncio.run(restarted.drain()) == 1

    assert len(fake_slack.posts_to("DU00000")) == 1
    assert fake_slack.shared == [("DU00000", "The plan", PLAN.content.encode())]
    (row,) = outbox_rows(database)
    assert (row.status, row.uncertain) == ("sent", True)


def test_a_copy_posted_then_refused_its_file_shares_the_file_on_the_retry(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    (email,) = people(fake_slack, 1)
    notice = ChatNotice(Message("Your plan", (Text("Here is the plan."), PLAN)), updates="plan-fabrikam")
    queue_notice(database, time, email, notice)
    fake_slack.fail("files.getUploadURLExternal", Failure(status=429, retry_after=RETRY_AFTER))
    delivering = worker(database, fake_slack, time, state=InMemorySlackState())

    asyncio.run(delivering.drain())
    time.now += timedelta(seconds=RETRY_AFTER)
    asyncio.run(delivering.drain())

    # the copy known from the first try is this message's own post: its file still goes, once
    assert len(fake_slack.posts_to("DU00000")) == 1
    assert fake_slack.shared == [("DU00000", "The plan", PLAN.content.encode())]
    assert [row.status for row in outbox_rows(database)] == ["sent"]


def test_a_conversation_gone_after_the_post_leaves_the_message_sent(
    database: Database, fake_slack: FakeSlack, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    (email,) = people(fake_slack, 1)
    state = InMemorySlackState()
    asyncio.run(state.add_copy("plan-fabrikam", MessageCopy("CARCHIVED", "1.000100")))
    notice = ChatNotice(Message("Your plan", (Text("Here is the plan."), PLAN)), updates="plan-fabrikam")
    queue_notice(database, time, email, notice, key=f"approval-1-prompt-{email}")  # as a prompt's key
    fake_slack.fail("files.completeUploadExternal", Failure(error="channel_not_found"))
    fake_slack.fail("chat.update", Failure(error="channel_not_found"))

    asyncio.run(worker(database, fake_slack, time, state=state).drain())

    assert len(fake_slack.posts_to("DU00000")) == 1
    assert [call.params["channel"] for call in fake_slack.calls_of("chat.update")] == ["CARCHIVED"]
    (row,) = outbox_rows(database)
    assert (row.status, row.error_code) == ("sent", None)  # not failed, nor they marked not in Slack
    warned = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warned == [  # where the post is and what is gone, never the key's address
        "an outbox message is in DU00000, but its files could not follow (channel_not_found):"
        " recorded as sent",
        "an outbox message is in DU00000, but its copy in CARCHIVED could not follow (channel_not_found):"
        " recorded as sent",
    ]
