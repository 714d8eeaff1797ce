"""walk33 findings 1, 3 and 14: someone clicks Connect in the portal before the approval lets them, and the
watch notices it at its next look (recorded as its own event, nobody's approval, every admin told at once
what happened, who is locked out and what to do); once connected, admins hear at once whom to map by hand
and to which account; `status` after a rejection says who rejected, when and why."""

from __future__ import annotations

from sqlmodel import select

from bot.conversation.messages import Channel, DirectMessage, Outgoing
from storage import Approval
from tests.bot.conftest import DANA, LEE, ORG, Chat, connected, started, text_of

URGENT = "🚨 fabrikam-fiber was connected to Fabrikam outside the approval"
LOCKED_OUT = (
    "Locked out now:"
    " • erin.eng@gmail.com, frank.f@outlook.com (2) — no directory account: `invite` them now"
    " • gus@fabrikam.com, hana@contoso.com (2) — disabled or ambiguous account: decide for them (`plan`"
    " shows their choices)"
)
DO_NOW = (
    "Do this now: send everyone their own to-do list, which tells each person how to get back in:"
    " `notify fabrikam-fiber`."
)
TO_MAP = "• carol.w@outlook.com → carol@fabrikam.com • kim@fabrikam-old.com → kim@fabrikam.com"


def said(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def urgent(outgoing: list[Outgoing]) -> list[Outgoing]:
    return [message for message in outgoing if message.message.summary == URGENT]


def requested_anyway(chat: Chat) -> None:
    """Walk33's repro: nobody invited, approval requested anyway, so Erin and Frank lose access."""
    started(chat)
    chat.say(DANA, "request-approval anyway")


def test_a_click_in_the_portal_while_the_approval_waits_is_recorded_apart_and_every_admin_hears_at_once(
    chat: Chat,
) -> None:
    requested_anyway(chat)
    looked = said(chat.say(DANA, "check-connection"))  # it looks rather than refuses, and says what it found
    assert looked.startswith(
        "fabrikam-fiber is not connected to a directory yet; the migration is awaiting approval. I keep"
        " watching: should someone connect it in the portal, every admin hears at once."
    )
    assert chat.state() == "awaiting_approval"

    chat.portal_connect()
    told = chat.runtime.conversation.watch()

    assert chat.state() == "connected"
    entry = chat.runtime.service.audit_trail(ORG)[-1]
    assert (entry.action, entry.actor_id, entry.state_before, entry.state_after) == (
        "connected_outside_approval",
        "aadbot",
        "awaiting_approval",
        "connected",
    )
    assert entry.details["approved_by"] is None and entry.details["approval_id"] == 1
    with chat.runtime.database.session() as session:
        assert session.exec(select(Approval.status)).all() == ["void"]
    alarms = urgent(told)
    assert len(alarms) == 3
    assert {message.to.email for message in alarms if isinstance(message.to, DirectMessage)} == {DANA, LEE}
    assert sum(isinstance(message.to, Channel) for message in alarms) == 1
    text = said(alarms[:1])
    assert (
        "Someone connected fabrikam-fiber to Fabrikam in the portal while approval #1 was still waiting (it"
        " is void now). Nobody approved it and I did not authorise it: I recorded it as connected outside"
        " the approval."
    ) in text
    assert LOCKED_OUT in text and DO_NOW in text and TO_MAP in text
    assert (alarms[0].message.buttons[0].action, alarms[0].message.buttons[0].value) == ("notify", ORG)
    # every copy of the prompt says the request no longer holds
    assert "This request no longer holds: the organization was connected in the portal meanwhile." in said(
        told
    )
    # the watch carries on from there: the lists go out
    chat.say(DANA, "notify")
    assert chat.state() == "users_notified"


def test_a_rejection_after_the_click_is_overtaken_by_the_connection_rather_than_pointing_back(
    chat: Chat,
) -> None:
    requested_anyway(chat)
    chat.portal_connect()
    chat.say(LEE, "reject 1 wait for release")  # before the watch's next look
    assert chat.state() == "planned"

    alarms = urgent(chat.runtime.conversation.watch())

    assert chat.state() == "connected"
    text = said(alarms[:1])
    assert "in the portal while the migration was planned. Nobody approved it" in text
    assert LOCKED_OUT in text and DO_NOW in text
    status = said(chat.say(DANA, "status"))
    assert "Stage connected" in status and "request approval" not in status


def test_check_connection_before_any_request_records_the_connection_it_finds(chat: Chat) -> None:
    started(chat)
    chat.portal_connect()
    answered = chat.say(LEE, "check-connection")
    assert chat.state() == "connected"
    assert "in the portal while the migration was planned." in said(urgent(answered)[:1])
    assert chat.runtime.service.audit_trail(ORG)[-1].action == "connected_outside_approval"


def test_once_connected_the_admins_hear_at_once_whom_to_map_by_hand_and_to_which_account(chat: Chat) -> None:
    announced = said(connected(chat))
    assert "🎉 fabrikam-fiber is now connected to Fabrikam." in announced
    assert (
        "🔗 Map by hand now (2), so they keep access and history: map each one to the directory account"
        " after the arrow under Organization settings > Microsoft Entra ID: on the notice of disconnected"
        " users select Resolve"
    ) in announced
    assert TO_MAP in announced


def test_status_after_a_rejection_says_who_rejected_when_and_why(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")
    chat.say(LEE, "reject 1 wait for release")
    rejected = next(e for e in chat.runtime.service.audit_trail(ORG) if e.action == "reject")
    when = f"{rejected.at:%Y-%m-%d %H:%M} UTC"

    status = said(chat.say(DANA, "status"))

    assert f"🚫 Approval #1 was rejected by Lee on {when}. Reason: wait for release." in status
    chat.say(DANA, "request-approval")  # a new request is the latest word
    assert "was rejected by" not in said(chat.say(DANA, "status"))
