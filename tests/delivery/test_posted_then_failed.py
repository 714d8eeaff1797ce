"""Slack took the post, then refused a later step of that send: the retry finishes it, never posts again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.conversation.messages import Attachment, Message, Text
from bot.delivery.notices import CHAT_MESSAGE, ChatNotice
from storage import Database, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from tests.delivery.conftest import FakeTime, people, worker
from tests.fakes.slack_api import Failure, FakeSlack

PLAN = Attachment("plan.csv", "email,outcome\nuser00000@fabrikam.com,auto\n", "The plan", "fabrikam")
RETRY_AFTER = 3


def test_a_429_on_the_file_after_the_post_shares_the_file_on_the_retry_without_posting_again(
    database: Database, fake_slack: FakeSlack, time: FakeTime
) -> None:
    (email,) = people(fake_slack, 1)
    notice = ChatNotice(Message("Your plan", (Text("Here is the plan."), PLAN)))
    queued = NewMessage("chat:plan", email, CHAT_MESSAGE, notice.to_payload())
    with database.session() as session:
        enqueue_all(session, [queued], now=time.now)
        session.commit()
    fake_slack.fail("files.getUploadURLExternal", Failure(status=429, retry_after=RETRY_AFTER))
    delivering = worker(database, fake_slack, time)

    asyncio.run(delivering.drain())
    (row,) = _rows(database)
    assert (row.status, row.error_code, row.attempts) == ("pending", "ratelimited", 0)
    assert len(fake_slack.posts_to("DU00000")) == 1
    assert fake_slack.shared == []

    time.now += timedelta(seconds=RETRY_AFTER)
    asyncio.run(delivering.drain())

    assert len(fake_slack.posts_to("DU00000")) == 1
    assert fake_slack.shared == [("DU00000", "The plan", PLAN.content.encode())]
    assert len(fake_slack.calls_of("conversations.history")) == 1
    (row,) = _rows(database)
    assert (row.status, row.uncertain, row.attempts) == ("sent", True, 1)


def _rows(database: Database) -> list[OutboundMessage]:
    with database.session() as session:
        return list(session.exec(select(OutboundMessage)).all())
