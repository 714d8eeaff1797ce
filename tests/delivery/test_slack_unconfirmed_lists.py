"""Slack, over real HTTP (the fake Web API on loopback): a to-do list whose post Slack stored but whose answer
was lost is looked for before it is posted again. Where the DM's history cannot be read (the app lacks
`im:history`), the bot cannot tell whether it arrived: it is not posted again on its own, and the admins see
it as Teams' lists it could not confirm, *may have arrived* in `progress` and the digest, with *Retry
failed*, which posts it once more saying so. Where the history shows it, it is simply sent."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from sqlmodel import select

from bot.console.render import render
from bot.conversation import progress_views
from bot.conversation.messages import SENT_AGAIN
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.routing import RoutingSender
from storage import Database, OutboundMessage
from storage.outbox_sends import UNCONFIRMED
from tests.delivery.conftest import slack_sender
from tests.fakes.slack_api import Failure, FakeSlack
from tests.workflows.fakes import FakeClock
from tests.workflows.replays import CHANNEL
from workflows.service import MigrationService
from workflows.stages.list_messages import TODO_LIST_MESSAGE
from workflows.tracking import Tracking

LOST_ANSWER = Failure(status=503, acted=True)
"""Slack stored the post, and its answer went wrong on the way back (a gateway's 503)."""


async def _paced(seconds: float) -> None:
    """The pace, not waited."""


def _lists(database: Database) -> list[OutboundMessage]:
    with database.session() as session:
        query = select(OutboundMessage).where(OutboundMessage.kind == TODO_LIST_MESSAGE)
        return list(session.exec(query.order_by(OutboundMessage.id)).all())  # type: ignore[arg-type]


def _in_slack(database: Database, fake_slack: FakeSlack) -> None:
    """Everyone of fabrikam in Slack, and the notices before the lists delivered already."""
    fake_slack.reset(
        users={f"U{number}": (lst.recipient, lst.recipient) for number, lst in enumerate(_lists(database))}
    )
    with database.session() as session:
        for earlier in session.exec(select(OutboundMessage).where(OutboundMessage.status == "pending")):
            if earlier.kind != TODO_LIST_MESSAGE:
                earlier.status = "sent"
        session.commit()


def _delivered(
    database: Database, fake_slack: FakeSlack, clock: FakeClock, lost: int = 1
) -> list[OutboundMessage]:
    """The first `lost` lists' posts stored by Slack with their answers lost, then looked for once their
    back-off is over: the lists that were in doubt, as recorded."""
    fake_slack.fail("chat.postMessage", *[LOST_ANSWER] * lost)
    # as `serve` sends: through the router, which logs each surface's outage
    routing = RoutingSender(database, {"slack": slack_sender(fake_slack)})
    sending = OutboxWorker(database, routing, clock=clock, sleep=_paced)
    asyncio.run(sending.drain())
    doubted = [lst.id for lst in _lists(database) if lst.status == "pending"]
    assert len(doubted) == lost
    clock.advance(seconds=DeliverySettings().backoff.total_seconds() * 4)
    asyncio.run(sending.drain())
    looked = fake_slack.calls_of("conversations.history")
    assert [call.params["channel"][:1] for call in looked] == ["D"] * lost  # their DMs, opened to look in
    return [lst for lst in _lists(database) if lst.id in doubted]


def _posts_to(fake_slack: FakeSlack, recipient: str) -> list[str]:
    """The text of each post to `recipient`'s DM, in order."""
    (user,) = [user for user, (email, _) in fake_slack.users.items() if email == recipient]
    return [str(call.params.get("text")) for call in fake_slack.posts_to(f"D{user}")]


def test_a_list_whose_history_cannot_be_read_may_have_arrived_and_retry_failed_sends_it_once_saying_so(
    database: Database,
    fake_slack: FakeSlack,
    clock: FakeClock,
    notified: MigrationService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    _in_slack(database, fake_slack)
    fake_slack.fail("conversations.history", Failure(error="missing_scope", needed="im:history"))
    with caplog.at_level(logging.INFO):
        (doubted,) = _delivered(database, fake_slack, clock)

    assert (doubted.status, doubted.error_code) == ("sent", UNCONFIRMED)
    whose = doubted.recipient
    assert len(_posts_to(fake_slack, whose)) == 1  # not posted again on its own
    logged = [(record.name, record.levelname, record.getMessage()) for record in caplog.records]
    dm = str(doubted.delivered_ref).split("/")[0]
    assert (
        "bot.delivery.worker",
        "WARNING",
        "1 todo_list message(s) may not have arrived, and an earlier attempt could not be looked for (the"
        " app lacks the im:history scope (missing_scope): add it under OAuth & Permissions, then reinstall"
        " the app): recorded as sent, unconfirmed; `progress` lists who (`retry-failed` sends them again)",
    ) in logged
    assert [message for name, level, message in logged if level == "WARNING" and dm in message] == []
    # Slack answered the look: no outage of Slack's is said (its lost answer is, as a 503)
    assert [message for name, _, message in logged if name == "bot.delivery.outages"] == [
        "deliveries to Slack are failing (internal_error: Slack answered 503 internal_error): each is"
        " retried; this log says when they work again"
    ]

    report = tracking.progress("fabrikam")
    assert {user.email: user.delivery for user in report.listed}[whose] == "maybe-sent"
    shown = " ".join(render(progress_views.progress(report)).split())
    assert f"1 to-do list may have reached 1 person or not: {whose}. Each was handed to chat" in shown

    tracking.tick()  # the digest two working days on, queued with the first reminders
    clock.advance(days=2)
    tracking.tick()
    # pressed before their reminder, which would settle it
    assert tracking.retry_failed("fabrikam").total == 1
    asyncio.run(OutboxWorker(database, slack_sender(fake_slack), clock=clock, sleep=_paced).drain())

    (digest,) = [post for post in fake_slack.posts_to(CHANNEL) if "still have open" in post.params["text"]]
    said = " ".join(json.dumps(digest.params["blocks"]).split())
    # the channel's digest counts them and names nobody: *Progress* names them to the admin who asks
    assert "1 to-do list may have reached 1 person or not: *Progress* names them to you." in said
    assert whose not in said
    assert '"action_id": "retry-failed"' in said
    first, *_ = posts = _posts_to(fake_slack, whose)
    assert [post for post in posts if post.startswith(SENT_AGAIN)] == [f"{SENT_AGAIN} {first}"]
    assert {user.email: user.delivery for user in tracking.progress("fabrikam").listed}[whose] == "sent"
    assert tracking.retry_failed("fabrikam").total == 0


@pytest.mark.parametrize(
    ("refusal", "why"),
    [
        (
            Failure(error="missing_scope"),
            "the app lacks the im:history scope (missing_scope): add it under OAuth & Permissions, then"
            " reinstall the app",
        ),
        (
            Failure(error="not_allowed_token_type"),
            "Slack does not read history for this kind of token (not_allowed_token_type): configure the app's"
            " bot token (xoxb-), with its history scopes",
        ),
    ],
    ids=["scope-not-named", "token-type"],
)
def test_the_log_says_what_lets_the_bot_read_the_history_it_could_not(
    database: Database,
    fake_slack: FakeSlack,
    clock: FakeClock,
    notified: MigrationService,
    caplog: pytest.LogCaptureFixture,
    refusal: Failure,
    why: str,
) -> None:
    """Slack's answer names no scope (`needed`), or refuses the token's kind: the operator still reads the
    fix, for a DM the scope that reads a DM's history."""
    _in_slack(database, fake_slack)
    fake_slack.fail("conversations.history", refusal)
    with caplog.at_level(logging.INFO):
        _delivered(database, fake_slack, clock)

    warned = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warned[1:] == [
        f"1 todo_list message(s) may not have arrived, and an earlier attempt could not be looked for"
        f" ({why}): recorded as sent, unconfirmed; `progress` lists who (`retry-failed` sends them again)"
    ]


def test_posts_in_doubt_are_counted_in_one_warning_a_batch(
    database: Database,
    fake_slack: FakeSlack,
    clock: FakeClock,
    notified: MigrationService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two lists' answers lost, and neither DM's history readable: one line counts both (at 20,000 people a
    line each would bury the rest of the log), and names no conversation."""
    _in_slack(database, fake_slack)
    fake_slack.fail("conversations.history", *[Failure(error="missing_scope", needed="im:history")] * 2)
    with caplog.at_level(logging.INFO):
        doubted = _delivered(database, fake_slack, clock, lost=2)

    assert [lst.error_code for lst in doubted] == [UNCONFIRMED, UNCONFIRMED]
    warned = [record for record in caplog.records if record.levelname == "WARNING"]
    assert [record.getMessage() for record in warned if record.name != "bot.delivery.outages"] == [
        "2 todo_list message(s) may not have arrived, and an earlier attempt could not be looked for (the app"
        " lacks the im:history scope (missing_scope): add it under OAuth & Permissions, then reinstall the"
        " app): recorded as sent, unconfirmed; `progress` lists who (`retry-failed` sends them again)"
    ]


def test_a_list_the_readable_history_shows_is_sent_and_never_sent_again(
    database: Database, fake_slack: FakeSlack, clock: FakeClock, notified: MigrationService
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    _in_slack(database, fake_slack)
    (found,) = _delivered(database, fake_slack, clock)

    assert (found.status, found.error_code) == ("sent", None)
    deliveries = {user.email: user.delivery for user in tracking.progress("fabrikam").listed}
    assert deliveries[found.recipient] == "sent"
    assert tracking.retry_failed("fabrikam").total == 0
    asyncio.run(OutboxWorker(database, slack_sender(fake_slack), clock=clock, sleep=_paced).drain())
    assert len(_posts_to(fake_slack, found.recipient)) == 1
