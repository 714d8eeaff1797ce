"""A list the platform took but could not confirm (Teams: a stop or a timeout cut its request short) is not
sent again on its own, and admins see it apart from the lists sent, named, with the command that sends it
again: once, saying that it is sent again in case the first did not arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlmodel import Session

from bot.console.render import render
from bot.conversation import progress_views
from bot.conversation.messages import SENT_AGAIN, DirectMessage, Text
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.worker import OutboxWorker
from storage import Database, OutboundMessage
from storage.outbox import messages_of, retry_failed
from storage.outbox_sends import UNCONFIRMED as UNCONFIRMED_CODE
from storage.teams import TeamsDispatch
from tests.workflows.fakes import FakeClock
from workflows.reach import PERSONAL_LISTS, unconfirmed_lists
from workflows.service import MigrationService
from workflows.stages import resending
from workflows.stages.list_messages import LIST_MESSAGES, REMINDER_MESSAGE
from workflows.tracking import Tracking

UNCONFIRMED = "ann@fabrikam.com"


class TimesOutForCarol:
    """Every list arrives; Carol's request is cut short after it was handed over, as Teams' times out."""

    async def send(self, envelope: Envelope) -> Receipt:
        unconfirmed = isinstance(envelope.to, DirectMessage) and UNCONFIRMED in envelope.to.addresses
        return Receipt(f"chat/{envelope.key}", unconfirmed=unconfirmed)


async def _paced(seconds: float) -> None:
    """The channel posts' pace, not waited."""


def test_a_list_teams_could_not_confirm_is_shown_apart_by_name_with_what_to_do(
    database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    asyncio.run(OutboxWorker(database, TimesOutForCarol(), clock=clock, sleep=_paced).drain())

    report = tracking.progress("fabrikam")
    delivery = {user.email: user.delivery for user in report.listed}
    assert delivery.pop(UNCONFIRMED) == "maybe-sent"
    assert set(delivery.values()) == {"sent"}
    # named to whoever asks; the channel's report, which is for everyone there, says how to get the name
    for message, who in (
        (progress_views.progress(report), UNCONFIRMED),
        (progress_views.delivery_update(report).message, "Refresh names them to you"),
    ):
        said = " ".join(render(message).split())
        assert f"To-do lists: {len(delivery)} sent, 1 may have arrived." in said
        assert (
            f"1 to-do list may have reached 1 person or not: {who}. Each was handed to chat, which"
            " did not confirm it (the bot stopped, or chat's answer never came or was an error), and no"
            " history can be read to check it (Teams keeps none a bot can read; Slack's needs the app's"
            " history scopes), so it is not sent again on its own. Retry failed sends each again, saying it"
            " is sent again in case the first did not arrive."
        ) in said
        assert "retry-failed" in [button.action for button in message.buttons]


class Recording:
    """Every list arrives, and is confirmed; what was sent is kept."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    async def send(self, envelope: Envelope) -> Receipt:
        self.sent.append(envelope)
        return Receipt(f"chat/{envelope.key}")


def test_retry_failed_sends_a_list_that_may_not_have_arrived_again_once_saying_so(
    database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    asyncio.run(OutboxWorker(database, TimesOutForCarol(), clock=clock, sleep=_paced).drain())
    migration = notified.status("fabrikam").id
    doubted = next(m for m in messages_of(database, migration) if m.error_code == UNCONFIRMED_CODE)
    with database.session() as session:  # Teams had it in hand, and an attempt before was cut short
        session.add(
            TeamsDispatch(key=doubted.idempotency_key, conversation_id="a:ann", dispatched_at=clock())
        )
        row = session.get(OutboundMessage, doubted.id)
        assert row is not None
        row.uncertain = True
        session.commit()

    assert tracking.retry_failed("fabrikam").total == 1
    # a crash in the new attempt finds no record of the old one's: a send that never began is sent
    with database.session() as session:
        assert session.get(TeamsDispatch, doubted.idempotency_key) is None
    again = Recording()
    asyncio.run(OutboxWorker(database, again, clock=clock, sleep=_paced).drain())

    (resent,) = again.sent
    assert isinstance(resent.to, DirectMessage) and UNCONFIRMED in resent.to.addresses
    assert not resent.check_first  # sent, not taken for the first attempt found again
    assert resent.message.blocks[0] == Text(SENT_AGAIN)
    assert resent.message.summary.startswith(SENT_AGAIN)
    assert render(resent.message).count(SENT_AGAIN) == 1
    assert {user.delivery for user in tracking.progress("fabrikam").listed} == {"sent"}
    # confirmed now: nothing more to send again, and the answer says so
    assert tracking.retry_failed("fabrikam").total == 0
    asyncio.run(OutboxWorker(database, again, clock=clock, sleep=_paced).drain())
    assert len(again.sent) == 1


def test_a_retry_another_admins_retry_beat_queues_nothing_and_the_list_goes_once(
    database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    asyncio.run(OutboxWorker(database, TimesOutForCarol(), clock=clock, sleep=_paced).drain())
    rivals: list[int] = []

    def beaten(session: Session, messages: Sequence[OutboundMessage]) -> Sequence[OutboundMessage]:
        """Another admin presses Retry failed, and theirs commits after this one read the same list."""
        if not rivals:
            rivals.append(tracking.retry_failed("fabrikam").total)
        return resending.as_now(session, messages)

    migration = notified.status("fabrikam").id
    mine = retry_failed(
        database, migration, PERSONAL_LISTS, now=clock(), revise=beaten, unconfirmed=unconfirmed_lists
    )

    assert (rivals, mine) == ([1], 0)
    again = Recording()
    asyncio.run(OutboxWorker(database, again, clock=clock, sleep=_paced).drain())
    (resent,) = again.sent
    assert isinstance(resent.to, DirectMessage) and UNCONFIRMED in resent.to.addresses


def test_a_reminder_teams_could_not_confirm_leaves_a_list_that_arrived_sent_with_nothing_to_retry(
    database: Database, clock: FakeClock, notified: MigrationService
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    migration = notified.status("fabrikam").id
    asyncio.run(OutboxWorker(database, Recording(), clock=clock, sleep=_paced).drain())
    for message in messages_of(database, migration, LIST_MESSAGES):  # as the worker reports each delivery
        tracking.delivered(message.kind, message.payload, None)
    clock.advance(days=7)
    assert tracking.tick() > 0
    asyncio.run(OutboxWorker(database, TimesOutForCarol(), clock=clock, sleep=_paced).drain())

    (anns,) = [m for m in messages_of(database, migration, {REMINDER_MESSAGE}) if m.recipient == UNCONFIRMED]
    assert (anns.status, anns.error_code) == ("sent", UNCONFIRMED_CODE)
    assert {user.email: user.delivery for user in tracking.progress("fabrikam").listed}[UNCONFIRMED] == "sent"
    assert tracking.retry_failed("fabrikam").total == 0
