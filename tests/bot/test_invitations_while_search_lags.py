"""`invite` while Microsoft's directory search does not show the guests it just made (the sandbox's
`directory_lag`): nobody gets a second invitation email, by this migration or by one started after a cancel,
and an answer that leaves nobody to invite offers no *Invite missing users* to press."""

from __future__ import annotations

from sqlmodel import col, select

from bot.conversation.messages import Outgoing, Reply, Text
from sandbox import Sandbox
from storage import Invitation
from tests.bot.conftest import DANA, LEE, ORG, Chat, invitation_emails, started

ERIN, FRANK = "erin.eng@gmail.com", "frank.f@outlook.com"
LAG = 600
"""Seconds the search leaves out a new guest: longer than the test takes."""


def _box(chat: Chat) -> Sandbox:
    assert chat.runtime.sandbox is not None
    return chat.runtime.sandbox


def _answer(outgoing: list[Outgoing]) -> tuple[str, list[str]]:
    """The first line of the answer to the admin who typed it, and its buttons."""
    mine = [m for m in outgoing if isinstance(m.to, Reply)]
    text = "\n".join(b.markdown for m in mine for b in m.message.blocks if isinstance(b, Text))
    return text.splitlines()[0], [button.label for m in mine for button in m.message.buttons]


def test_a_migration_started_again_minutes_after_a_cancel_mails_nobody_a_second_invitation(
    chat: Chat,
) -> None:
    """Dana invites Erin and Frank, cancels, and starts again at once: the new plan, read from a search
    that does not show their guests yet, counts them to invite; the guests the cancelled migration made,
    read by id, are theirs, so `invite` finds them rather than mailing them again."""
    started(chat)
    _box(chat).set_faults(directory_lag=LAG)
    assert _answer(chat.say(DANA, f"invite {ORG}"))[0] == "2 invited."
    chat.say(DANA, f"cancel {ORG}")
    chat.say(DANA, f"/aad start {ORG} fabrikam.com")

    assert _answer(chat.say(DANA, f"invite {ORG}"))[0] == "2 already in the directory."
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}
    with chat.runtime.database.session() as session:
        claims = session.exec(select(Invitation).order_by(col(Invitation.id))).all()
    first, second = claims[:2], claims[2:]
    assert [(c.email, c.status) for c in second] == [(ERIN, "found"), (FRANK, "found")]
    assert [c.invited_user_id for c in second] == [c.invited_user_id for c in first]


def test_invite_after_connecting_while_the_search_lags_mails_nobody_twice_nor_offers_itself_again(
    chat: Chat,
) -> None:
    """After the lists went out Dana invites Erin and Frank, and again at once: the approved plan
    still counts them, and the search does not show them, yet neither gets a second email, and neither
    answer offers *Invite missing users*, which would invite nobody."""
    started(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(DANA, f"notify {ORG}")
    _box(chat).set_faults(directory_lag=LAG)

    first, first_buttons = _answer(chat.say(DANA, f"invite {ORG}"))
    again, again_buttons = _answer(chat.say(DANA, f"invite {ORG}"))
    assert (
        first.startswith("2 invited. Each gets Microsoft's invitation email")
        and again == "2 invited earlier."
    )
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}
    assert "Invite missing users" not in first_buttons + again_buttons
    assert "Check billing" in again_buttons  # the next step is still offered


def test_nobody_needs_an_invitation_now_offers_no_invite_button(chat: Chat) -> None:
    """Once the search shows the guests, `invite` says nobody needs an invitation: the approved plan still
    counts two to invite, but the button would invite nobody."""
    started(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(DANA, f"invite {ORG}")

    said, buttons = _answer(chat.say(DANA, f"invite {ORG}"))
    assert said.startswith("Nobody needs an invitation now: you invited 2 people at ")
    assert "Invite missing users" not in buttons
    assert "Send users their to-do lists" in buttons
