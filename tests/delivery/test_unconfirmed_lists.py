"""A list the platform took but could not confirm (Teams: a stop or a timeout cut its request short) is not
sent again, and admins see it apart from the lists sent, named, with what they can do."""

from __future__ import annotations

import asyncio

from bot.console.render import render
from bot.conversation import progress_views
from bot.conversation.messages import DirectMessage
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.worker import OutboxWorker
from storage import Database
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
            " check; it is not sent again, so nobody gets it twice. Ask them whether it arrived. If not,"
            " their first reminder lists their open items anyway, and `todo` in a chat with the bot gives"
            " them the whole list."
        ) in said
