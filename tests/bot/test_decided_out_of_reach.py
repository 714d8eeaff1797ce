"""An admin decides in the channel that Gus loses access after the lists went out (walk 37, finding 1): the
channel reads that a decision was recorded, not his address; the admin alone reads what it means, and
when chat could not reach Gus with his list, that he is not told by the bot either."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.conversation.messages import DirectMessage, Outgoing
from storage import OutboundMessage
from storage.outbox import NOT_IN_CHAT
from tests.bot.conftest import ORG, Chat, notified, text_of
from tests.bot.test_unreached_given_an_account import fail, notices_to
from workflows.stages.list_messages import out_of_chat

LEE, GUS = "lee@fabrikam.com", "gus@fabrikam.com"
HANA, HANA_MEMBER = "hana@contoso.com", "hana.hart@fabrikam.com"


def _flat(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def _replies(sent: list[Outgoing]) -> tuple[list[Outgoing], list[Outgoing]]:
    """The answers to the admin who decided: (the channel's, their own)."""
    answers = [each for each in sent if not isinstance(each.to, DirectMessage)]
    return [a for a in answers if not a.message.private], [a for a in answers if a.message.private]


def test_deciding_out_someone_chat_cannot_reach_says_so_to_the_admin_alone(chat: Chat) -> None:
    notified(chat)
    fail(chat, notices_to(chat, GUS, "todo_list"), f"no Slack account with the email {GUS}")

    sent = chat.say(LEE, f"decide {ORG} {GUS} no-access")

    public, private = _replies(sent)
    assert public[0].message.summary == (
        f"Recorded your decision for 1 person of {ORG}. 📬 Who, and what it means, I send to you alone, in a"
        " message only you see."
    )
    assert GUS not in _flat(public)
    assert _flat(private).startswith(
        f"Recorded: {GUS} loses access to {ORG}, as you decided; their history is kept. Changed your mind?"
        " `plan` shows their choices again. Their to-do list is withdrawn. My message telling them they lose"
        " access waits to go out, but chat could not reach them with my last one, so it may never arrive:"
        f" tell them another way (`retry-failed {ORG}` sends what failed again once chat reaches them)."
    )


def test_deciding_out_someone_chat_reached_still_tells_the_admin_they_were_told(chat: Chat) -> None:
    notified(chat)

    sent = chat.say(LEE, f"decide {ORG} {GUS} no-access", in_dm=True)

    public, private = _replies(sent)
    assert private == []
    withdrawn = "Their to-do list is withdrawn; my message telling them they lose access is on its way."
    assert withdrawn in _flat(public)


def test_a_message_being_sent_after_one_chat_could_not_deliver_is_no_sign_of_being_out_of_chat() -> None:
    """Gus's list failed (chat could not reach him); his newest message is being sent now, and may reach him:
    the older failure no longer says a message queued now would fail too (rev72 5)."""
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    failed = OutboundMessage(
        idempotency_key="list",
        recipient=GUS,
        kind="todo_list",
        status="failed",
        error_code=NOT_IN_CHAT,
        not_before=now,
        created_at=now,
    )
    sending = OutboundMessage(
        idempotency_key="reminder",
        recipient=GUS,
        kind="reminder",
        in_flight=True,
        not_before=now,
        created_at=now,
    )
    assert out_of_chat([failed]) is True
    assert out_of_chat([failed, sending]) is False


def test_deciding_the_account_of_someone_chat_cannot_reach_does_not_say_they_were_told(chat: Chat) -> None:
    """Hana's list failed (chat could not reach her); Lee decides which account is hers: her list changes,
    and the admin reads that the message saying so may never arrive, not that she was told (rev72 5)."""
    notified(chat)
    fail(chat, notices_to(chat, HANA, "todo_list"), f"no Slack account with the email {HANA}")

    sent = chat.say(LEE, f"decide {ORG} {HANA} {HANA_MEMBER}", in_dm=True)

    public, _ = _replies(sent)
    assert _flat(public).startswith(
        f"Recorded: {HANA}'s directory account is {HANA_MEMBER}; the plan maps them to it. Map them now:"
    ), _flat(public)
    assert (
        "Their to-do list now says to sign in with it. My message telling them waits to go out, but chat"
        " could not reach them with my last one, so it may never arrive: tell them another way"
        f" (`retry-failed {ORG}` sends what failed again once chat reaches them)."
    ) in _flat(public)
