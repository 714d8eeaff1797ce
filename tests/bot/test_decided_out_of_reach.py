"""An admin decides in the channel that Gus loses access after the lists went out (walk 37, finding 1): the
channel reads that a decision was recorded, not his address; the admin alone reads what it means, and
when chat could not reach Gus with his list, that he is not told by the bot either."""

from __future__ import annotations

from sqlmodel import col, select

from bot.conversation.messages import DirectMessage, Outgoing
from storage import OutboundMessage
from tests.bot.conftest import ORG, Chat, notified, text_of
from tests.bot.test_unreached_given_an_account import fail

LEE, GUS = "lee@fabrikam.com", "gus@fabrikam.com"


def _lists_to(chat: Chat, address: str) -> list[OutboundMessage]:
    with chat.runtime.database.session() as session:
        return list(
            session.exec(
                select(OutboundMessage)
                .where(OutboundMessage.kind == "todo_list", OutboundMessage.recipient == address)
                .order_by(col(OutboundMessage.id))
            ).all()
        )


def _flat(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def _replies(sent: list[Outgoing]) -> tuple[list[Outgoing], list[Outgoing]]:
    """The answers to the admin who decided: (the channel's, their own)."""
    answers = [each for each in sent if not isinstance(each.to, DirectMessage)]
    return [a for a in answers if not a.message.private], [a for a in answers if a.message.private]


def test_deciding_out_someone_chat_cannot_reach_says_so_to_the_admin_alone(chat: Chat) -> None:
    notified(chat)
    fail(chat, _lists_to(chat, GUS), f"no Slack account with the email {GUS}")

    sent = chat.say(LEE, f"decide {ORG} {GUS} no-access")

    public, private = _replies(sent)
    assert public[0].message.summary == (
        f"Recorded your decision for 1 person of {ORG}. 📬 Who, and what it means, went to you in a message"
        " only you see."
    )
    assert GUS not in _flat(public)
    assert _flat(private).startswith(
        f"Recorded: {GUS} loses access to {ORG}, as you decided; their history is kept. Changed your mind?"
        " `plan` shows their choices again. Their to-do list is withdrawn, but I cannot tell them they lose"
        " access: chat could not reach them with my last message to them. Tell them another way."
    )


def test_deciding_out_someone_chat_reached_still_tells_the_admin_they_were_told(chat: Chat) -> None:
    notified(chat)

    sent = chat.say(LEE, f"decide {ORG} {GUS} no-access", in_dm=True)

    public, private = _replies(sent)
    assert private == []
    assert "Their to-do list is withdrawn, and I told them they lose access." in _flat(public)
