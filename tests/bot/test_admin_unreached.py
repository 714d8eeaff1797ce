"""An approval prompt that reached nobody is not left for the migration to wait on unseen: the admins hear
whom it missed and what to do, and `status` says it while the approval is pending."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from bot.conversation import approval_views
from bot.conversation.messages import Channel, Text
from bot.delivery.render import envelope_of
from bot.delivery.sender import DeliveryFailed, Envelope, Receipt
from bot.delivery.settings import DeliverySettings
from bot.delivery.tracked import tracked_worker
from storage import Migration, OutboundMessage
from storage.outbox import NOT_IN_CHAT
from tests.bot.conftest import Chat, approved, started
from tests.delivery.conftest import FakeTime
from workflows import notices
from workflows.results_approving import AdminUnreached

DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"
BOTH = ("Slack", "Teams")
WHY = "Slack: no Slack account with the email lee@fabrikam.com; Teams: they blocked the bot in Teams (403)"
SAID = (
    f"⚠️ The approval prompt #1 could not reach {LEE} in chat ({WHY}), so they have not been asked. Tell them"
    " another way: they can type `approve 1` (or `help`) to the bot wherever they have it, in Slack or Teams,"
    " or press *Approve* on the prompt in this channel."
)


def _lees_prompt(session: Session) -> OutboundMessage:
    return session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.kind == notices.APPROVAL_PROMPT)
        .where(OutboundMessage.recipient == LEE)
    ).one()


def _lees_prompt_failed(chat: Chat) -> OutboundMessage:
    """Lee's copy of the prompt, as the outbox worker records it when neither surface has him."""
    with chat.runtime.database.session() as session:
        prompt = _lees_prompt(session)
        prompt.status, prompt.error_code, prompt.last_error = "failed", NOT_IN_CHAT, WHY
        session.commit()
        session.refresh(prompt)
        return prompt


def _status_lines(chat: Chat, who: str) -> list[str]:
    (answer,) = chat.say(who, "status")
    return [block.markdown for block in answer.message.blocks if isinstance(block, Text)]


def test_an_approver_the_prompt_missed_is_named_to_the_channel_once_and_in_status(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "request-approval anyway")
    assert SAID not in _status_lines(chat, DANA)  # nothing failed yet

    prompt = _lees_prompt_failed(chat)
    chat.runtime.tracking.undeliverable(prompt, NOT_IN_CHAT, WHY, BOTH)
    chat.runtime.tracking.undeliverable(prompt, NOT_IN_CHAT, WHY, BOTH)  # a second report says nothing new

    with chat.runtime.database.session() as session:
        told = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.kind == notices.ADMIN_UNREACHED)
            .order_by(col(OutboundMessage.id))
        ).all()
        migration = session.get(Migration, prompt.migration_id)
        assert migration is not None and migration.channel_id
        channel = notices.admins_address(migration)
    assert [message.recipient for message in told] == [channel]
    envelope = envelope_of(told[0])
    assert (envelope.to, envelope.message.summary) == (Channel(migration.channel_id), SAID.removeprefix("⚠️ "))
    assert SAID in _status_lines(chat, DANA)
    assert SAID not in _status_lines(chat, "ann@fabrikam.com")  # not an admin: not the one to chase Lee


def test_a_prompt_the_channel_could_not_get_is_no_approver_missed(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "request-approval anyway")
    with chat.runtime.database.session() as session:
        prompt = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.kind == notices.APPROVAL_PROMPT)
            .where(col(OutboundMessage.recipient).startswith(notices.CHANNEL_PREFIX))
        ).one()
    chat.runtime.tracking.undeliverable(prompt, "channel_not_found", "the channel is archived", BOTH)
    with chat.runtime.database.session() as session:
        assert (
            session.exec(select(OutboundMessage).where(OutboundMessage.kind == notices.ADMIN_UNREACHED)).all()
            == []
        )


def test_portal_steps_that_reached_nobody_give_the_channel_the_portal_path() -> None:
    unreached = AdminUnreached("portal_steps", LEE, WHY, "fabrikam-fiber", 1, "Fabrikam")
    assert approval_views.admin_unreached(unreached).summary == (
        f"The portal steps could not reach {LEE}, who connects fabrikam-fiber, in chat ({WHY}). Tell them"
        " another way: https://dev.azure.com/fabrikam-fiber > Organization settings > Microsoft Entra ID >"
        " Connect directory > Fabrikam > Connect; I say here once it is connected."
    )


def test_status_names_the_connector_the_portal_steps_missed_while_the_connection_is_awaited(
    chat: Chat,
) -> None:
    approved(chat)
    assert chat.state() == "connecting"
    with chat.runtime.database.session() as session:
        steps = session.exec(
            select(OutboundMessage).where(OutboundMessage.kind == notices.PORTAL_STEPS)
        ).one()
        steps.status, steps.error_code, steps.last_error = "failed", NOT_IN_CHAT, WHY
        session.commit()
        connector = steps.recipient
    said = [line for line in _status_lines(chat, DANA) if "portal steps could not reach" in line]
    assert said == [
        f"⚠️ The portal steps could not reach {connector}, who connects fabrikam-fiber, in chat ({WHY}). Tell"
        " them another way: https://dev.azure.com/fabrikam-fiber > Organization settings > Microsoft Entra ID"
        " > Connect directory > Fabrikam > Connect; I say here once it is connected."
    ]


class _SlackDown:
    """Every send answered as an outage answers: transient, so retried until the worker gives up."""

    async def send(self, envelope: Envelope) -> Receipt:
        raise DeliveryFailed("http_503", "Slack answered 503 (service unavailable)")


def test_a_prompt_given_up_after_its_retries_is_told_to_the_channel_and_in_status(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "request-approval anyway")
    with chat.runtime.database.session() as session:  # queued, as a Slack or Teams server finds it
        for message in session.exec(select(OutboundMessage).where(OutboundMessage.status == "sent")):
            message.status, message.attempts, message.delivered_ref = "pending", 0, None
        session.commit()
    settings = DeliverySettings()
    time = FakeTime(datetime.now(UTC))
    worker = tracked_worker(
        chat.runtime.database,
        _SlackDown(),
        chat.runtime.tracking,
        clock=time,
        sleep=time.sleep,
        settings=settings,
        delivery_to=lambda organization: None,
        surfaces=("Slack",),  # a Slack-alone `serve`: Lee is pointed nowhere else
    )
    for _ in range(settings.max_attempts):
        asyncio.run(worker.run_once())
        time.now += settings.backoff * 2**settings.max_attempts
    why = "sending failed on the bot's side, not theirs: Slack answered 503 (service unavailable)"
    said = (
        f"⚠️ The approval prompt #1 could not reach {LEE} in chat ({why}), so they have not been asked. Tell"
        " them another way: they can type `approve 1` (or `help`) to the bot in Slack, or press *Approve* on"
        " the prompt in this channel."
    )
    with chat.runtime.database.session() as session:
        lees = _lees_prompt(session)
        told = session.exec(
            select(OutboundMessage).where(OutboundMessage.kind == notices.ADMIN_UNREACHED)
        ).all()
    assert (lees.status, lees.attempts) == ("failed", settings.max_attempts)
    assert [envelope_of(message).message.summary for message in told] == [said.removeprefix("⚠️ ")]
    assert said in _status_lines(chat, DANA)
