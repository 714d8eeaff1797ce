"""`invite` while Microsoft's directory search does not show the guests it just made (the sandbox's
`directory_lag`): nobody gets a second invitation email, by this migration or by one started after a
cancel."""

from __future__ import annotations

from sqlmodel import col, select

from bot.conversation.messages import Outgoing, Reply, Text
from sandbox import Sandbox
from storage import Invitation
from tests.bot.conftest import DANA, ORG, Chat, invitation_emails, started

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
