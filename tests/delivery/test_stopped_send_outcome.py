"""A send stopped by newer news counts as one that may have reached the person only while that may be so.
Replica A is posting Hana's advance notice, through the Slack sender and the fake Slack over loopback, when
Lee decides that she loses access: the notice is stopped. If Slack then refuses it, or a try after a 429
finds it stopped, it never reached her, and Dana's cancel tells her nothing of a move she never heard of.
If its post landed and a later step of the same send was limited (a 429 with Retry-After), it did reach
her, whatever follows: the cancel tells her that the move is off. Over both databases."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.delivery.sender import DeliveryFailed, Envelope, Receipt
from bot.delivery.worker import OutboxWorker
from bot.slack.sender import SlackSender
from storage import Database, OutboundMessage
from storage.outbox_threads import SUPERSEDED
from tests.delivery.conftest import outbox_rows, slack_sender
from tests.delivery.test_news_after_a_send_in_flight import HANA_ID, SETTINGS
from tests.fakes.slack_api import Failure, FakeSlack
from tests.workflows.fakes import FakeClock
from tests.workflows.outbox import queued
from tests.workflows.test_lists_given_again import HANA, announced, with_hana
from workflows.notices import CALLED_OFF
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.stages.list_messages import may_have_reached

__all__ = ["announced", "with_hana"]
"""`test_lists_given_again`'s Hana, her advance notice queued; over both databases here."""

ONE_AT_A_TIME = replace(SETTINGS, concurrency=1)
"""While Hana's send is held nothing else is being sent: Slack's next `chat.postMessage` is hers."""
HANAS_DM = "DUHANA"


def _is_her_notice(key: str) -> bool:
    """Whether `key` is that of Hana's advance notice (`announcing.notice_key`)."""
    return "-notice-" in key and key.endswith(f"-{HANA_ID}")


LIMITED_AFTER_THE_POST = DeliveryFailed(
    "ratelimited", "Slack answered 429", retry_after=1, maybe_delivered=True
)
"""A later step of a send whose post landed, limited with a Retry-After the worker waits out within the send
(Teams answers so updating an earlier copy of a shared card; Slack's later steps wait apart, `later`): the
sender says that it may have got through."""


class HeldForHana:
    """The Slack sender; the first send of Hana's advance notice is held until `answer` is set: before it
    reaches Slack, or, with `then`, after its post landed, the send then failing with `then`."""

    def __init__(self, slack: SlackSender, then: DeliveryFailed | None = None) -> None:
        self._slack = slack
        self._then = then
        self._held = False
        self.holding = asyncio.Event()
        self.answer = asyncio.Event()

    async def send(self, envelope: Envelope) -> Receipt:
        if not _is_her_notice(envelope.key) or self._held:
            return await self._slack.send(envelope)
        self._held = True
        if self._then is not None:
            await self._slack.send(envelope)
        self.holding.set()
        await self.answer.wait()
        if self._then is not None:
            raise self._then
        return await self._slack.send(envelope)


def _her_notice(database: Database) -> OutboundMessage:
    (notice,) = [message for message in outbox_rows(database) if _is_her_notice(message.idempotency_key)]
    return notice


def _notices_landed(fake: FakeSlack) -> int:
    """How many of Hana's advance notices are in her direct message with the bot."""
    keys = [
        post["metadata"]["event_payload"]["key"] for (at, _), post in fake.messages.items() if at == HANAS_DM
    ]
    return sum(1 for key in keys if _is_her_notice(key))


def _in_slack(fake: FakeSlack, database: Database) -> None:
    """Everyone the notices go to is a Slack member, Hana as `UHANA`."""
    recipients = sorted({message.recipient for message in outbox_rows(database)} - {HANA})
    fake.users["UHANA"] = (HANA, "Hana Hart")
    fake.users |= {f"U{number:05d}": (email, email) for number, email in enumerate(recipients)}


def _replica_a(database: Database, clock: FakeClock, slack: HeldForHana) -> OutboxWorker:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    return OutboxWorker(database, slack, clock=clock, sleep=sleep, settings=ONE_AT_A_TIME, name="replica-a")


@pytest.mark.parametrize(
    ("slack_answers", "after_the_post", "reached"),
    [
        (Failure(error="channel_not_found"), None, False),
        (Failure(status=429, retry_after=1), None, False),
        (None, LIMITED_AFTER_THE_POST, True),
    ],
    ids=["refused", "429-then-stopped", "posted-429-then-stopped"],
)
def test_a_cancel_after_a_stopped_notice_tells_her_that_the_move_is_off_only_if_it_may_have_reached_her(
    announced: MigrationService,
    database: Database,
    clock: FakeClock,
    fake_slack: FakeSlack,
    dana: Actor,
    lee: Actor,
    slack_answers: Failure | None,
    after_the_post: DeliveryFailed | None,
    reached: bool,
) -> None:
    """Replica A's batch holds Hana's notice while Lee decides that she loses access, then Slack answers its
    post with `slack_answers`, or the post lands and a later step fails with `after_the_post`; the try
    after a 429 finds the notice stopped. "You lose access", queued by the decision, has not gone when Dana
    cancels."""
    _in_slack(fake_slack, database)
    held = HeldForHana(slack_sender(fake_slack), then=after_the_post)

    async def stopped_while_held() -> None:
        batch = asyncio.create_task(_replica_a(database, clock, held).run_once())
        await held.holding.wait()
        await asyncio.to_thread(announced.decide_account, None, HANA, "no-access", lee)
        if slack_answers is not None:
            fake_slack.fail("chat.postMessage", slack_answers)
        held.answer.set()
        await batch

    asyncio.run(stopped_while_held())
    notice = _her_notice(database)
    cancelled = announced.cancel(None, dana, "the budget moved")

    assert _notices_landed(fake_slack) == int(reached)
    assert (notice.status, notice.claimed_by, may_have_reached(notice)) == (SUPERSEDED, None, reached)
    assert (HANA in {person.email for person in cancelled.told}) is reached
    called_off = {message.recipient for message in queued(database, CALLED_OFF)}
    assert (HANA in called_off) is reached and called_off - {HANA}  # the others the notices reached are told


def test_a_notice_posted_then_limited_is_looked_for_on_the_next_try_not_posted_again(
    announced: MigrationService, database: Database, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    """Nothing stops it: the try after the 429 looks for the post first and finds it."""
    _in_slack(fake_slack, database)
    held = HeldForHana(slack_sender(fake_slack), then=LIMITED_AFTER_THE_POST)
    held.answer.set()

    asyncio.run(_replica_a(database, clock, held).drain())

    notice = _her_notice(database)
    assert _notices_landed(fake_slack) == 1
    assert (notice.status, notice.uncertain) == ("sent", True)
