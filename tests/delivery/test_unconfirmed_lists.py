"""A list the platform took but could not confirm (Teams: a stop or a timeout cut its request short) is not
sent again on its own, and admins see it apart from the lists sent, named, with the command that sends it
again: once, saying that it is sent again in case the first did not arrive."""

from __future__ import annotations

import asyncio

from bot.console.render import render
from bot.conversation import progress_views, todo_views
from bot.conversation.messages import DirectMessage, Text
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.worker import OutboxWorker
from storage import Database
from storage.outbox import messages_of
from storage.outbox_sends import UNCONFIRMED as UNCONFIRMED_CODE
from storage.teams import TeamsDispatch
from tests.workflows.fakes import FakeClock
from workflows.service import MigrationService
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
            f"1 to-do list may have reached 1 person or not: {who}. Each was handed to Teams, which"
            " did not confirm it (the bot stopped or Teams did not answer in time) and keeps no history to"
            " check, so it is not sent again on its own. Retry failed sends each again, saying it is sent"
            " again in case the first did not arrive."
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
    with database.session() as session:  # Teams had it in hand
        session.add(
            TeamsDispatch(key=doubted.idempotency_key, conversation_id="a:ann", dispatched_at=clock())
        )
        session.commit()

    assert tracking.retry_failed("fabrikam") == 1
    # a crash in the new attempt finds no record of the old one's: a send that never began is sent
    with database.session() as session:
        assert session.get(TeamsDispatch, doubted.idempotency_key) is None
    again = Recording()
    asyncio.run(OutboxWorker(database, again, clock=clock, sleep=_paced).drain())

    (resent,) = again.sent
    assert isinstance(resent.to, DirectMessage) and UNCONFIRMED in resent.to.addresses
    assert not resent.check_first  # sent, not taken for the first attempt found again
    assert resent.message.blocks[0] == Text(todo_views.SENT_AGAIN)
    assert resent.message.summary.startswith(todo_views.SENT_AGAIN)
    assert render(resent.message).count(todo_views.SENT_AGAIN) == 1
    assert {user.delivery for user in tracking.progress("fabrikam").listed} == {"sent"}
    # confirmed now: nothing more to send again, and the answer says so
    assert tracking.retry_failed("fabrikam") == 0
    asyncio.run(OutboxWorker(database, again, clock=clock, sleep=_paced).drain())
    assert len(again.sent) == 1
