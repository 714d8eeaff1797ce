"""Who hears of an `invite` pressed in the migration's channel (walk37 finding 10): the channel reads how
many, naming nobody; the admin who pressed it alone reads who, in the one message only they see, which says
nothing of "a message only you see"; a second admin pressing *Invite* just after reads who already invited
them, and when, not that nobody needed an invitation. And a requester's slip for `approve` (finding 12)
offers what is theirs to do, withdraw the request, not an approval refused to them."""

from __future__ import annotations

from bot.conversation.messages import Channel, Outgoing, Reply
from tests.bot.conftest import DANA, LEE, ORG, Chat, started, text_of

INVITEES = ("erin.eng@gmail.com", "frank.f@outlook.com")


def in_channel(outgoing: list[Outgoing]) -> list[str]:
    return [" ".join(text_of([m]).split()) for m in outgoing if isinstance(m.to, Channel)]


def answer(outgoing: list[Outgoing]) -> Outgoing:
    (reply,) = [m for m in outgoing if isinstance(m.to, Reply)]
    return reply


def test_the_channel_reads_how_many_were_invited_and_the_admin_alone_who(chat: Chat) -> None:
    summary = started(chat)

    pressed = chat.click(LEE, summary, "Invite missing users")

    assert in_channel(pressed) == [
        f"📨 Invitations for {ORG}, by Lee: 2 invited. Who they are is for Lee alone: I send it to them"
        " privately."
    ]
    lees = answer(pressed)
    assert lees.message.private
    assert lees.message.summary == "2 invited."
    assert all(invitee in text_of([lees]) for invitee in INVITEES)
    assert "only you see" not in text_of(pressed)


def test_a_second_admin_pressing_invite_reads_who_invited_them_a_moment_before(chat: Chat) -> None:
    summary = started(chat)
    chat.click(LEE, summary, "Invite missing users")

    second = chat.click(DANA, summary, "Invite missing users")

    lees, danas_own = [e for e in chat.runtime.service.audit_trail(ORG) if e.action == "invitations_sent"]
    assert (lees.details, danas_own.details) == ({"sent": 2}, {"sent": 0})
    danas = answer(second)
    assert danas.message.private
    assert danas.message.summary == (
        f"Nobody needs an invitation now: Lee invited 2 people at {lees.at:%Y-%m-%d %H:%M} UTC."
    )
    assert in_channel(second) == []  # nothing new for the channel: it read Lee's count


def test_the_requesters_slip_for_approve_offers_to_withdraw_the_request(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")
    refusal = (
        "You requested this approval, so another admin must approve it (four eyes). To withdraw it, say"
        " `reject 1`; `cancel` stops the migration."
    )

    slip = chat.say(DANA, "aprove 1")

    offered = answer(slip)
    assert offered.message.private
    assert offered.message.summary == f"I don't know `aprove`. Did you mean `approve 1`? {refusal}"
    assert [(b.label, b.action, b.value) for b in offered.message.buttons] == [("reject 1", "reject", "1")]
    typed = answer(chat.say(DANA, "approve 1"))  # typed anyway: refused, naming the same way
    assert (typed.message.summary, typed.message.private) == (refusal, True)
    withdrawn = chat.click(DANA, slip, "reject 1")
    assert "🚫 Rejected by Dana" in text_of(withdrawn)
    assert chat.state() == "planned"
