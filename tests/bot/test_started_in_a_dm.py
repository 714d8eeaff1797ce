"""A migration started in a direct message (walk 33, finding 4): `start` says where its notices go and how
to move them to a channel; what every admin must see (approved, connected, billing due, whom a prompt
missed) reaches each admin privately, not only the starter; `move-here` in a channel moves them there."""

from __future__ import annotations

from bot.conversation.messages import Channel, DirectMessage, Outgoing
from tests.bot.conftest import DANA, LEE, ORG, Chat, text_of

START = f"start {ORG} fabrikam.com"


def flat(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def delivered_to(chat: Chat, email: str, summary_part: str) -> list[Outgoing]:
    return [
        message
        for _, message in chat.surface.delivered
        if isinstance(message.to, DirectMessage)
        and message.to.email.casefold() == email
        and summary_part in message.message.summary
    ]


def test_start_in_a_dm_says_where_notices_go_and_every_admin_hears_approved_and_connected(chat: Chat) -> None:
    started = flat(chat.say(DANA, START, in_dm=True))
    assert (
        "you started this in a direct message, so the migration's notices come here, where only you read"
        " them. What every admin must see (approved, connected, billing due, who could not be reached) also"
        " goes to each admin by direct message. To have the notices in a channel instead, add me to that"
        f" channel and give me `move-here {ORG}` there."
    ) in started, started
    chat.say(DANA, "invite", in_dm=True)
    chat.click(LEE, chat.say(DANA, "request-approval", in_dm=True), "Approve")
    approved = "Lee approved connecting fabrikam-fiber"
    assert len(delivered_to(chat, LEE, approved)) == 1, [m.message.summary for _, m in chat.surface.delivered]
    assert len(delivered_to(chat, DANA, approved)) == 1
    chat.portal_connect()
    chat.surface.deliver(chat.runtime.conversation.watch())
    connected = "fabrikam-fiber is now connected"
    assert len(delivered_to(chat, LEE, connected)) == 1, [
        m.message.summary for _, m in chat.surface.delivered
    ]
    assert len(delivered_to(chat, DANA, connected)) == 1


def test_move_here_sends_the_notices_to_the_channel_it_is_typed_in_and_is_audited(chat: Chat) -> None:
    chat.say(DANA, START, in_dm=True)
    refused = flat(chat.say(DANA, f"move-here {ORG}", in_dm=True))
    assert refused.startswith("Type `move-here` in the channel"), refused
    moved = flat(chat.say(DANA, f"move-here {ORG}"))
    assert moved == f"From now on the notices of {ORG} come to this channel.", moved
    assert [
        entry.details for entry in chat.runtime.service.audit_trail(ORG) if entry.action == "move_here"
    ] == [{"from": None, "to": chat.surface.channel}]
    chat.say(DANA, "invite")
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    approved = [m for _, m in chat.surface.delivered if "Lee approved connecting" in m.message.summary]
    assert approved and all(isinstance(m.to, Channel) for m in approved), approved
