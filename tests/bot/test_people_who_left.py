"""Someone who left the company, whose only directory account is disabled (Gus, in the bundled scenario):
Microsoft's procedure removes them before the change (prerequisite 4; its FAQ reads a user "you don't see
active in your directory" as one who "likely left your company"), so the next steps offer removing them
before the advance notice, and the notice, which asks people to get ready, is not sent to them (walk33
finding 6). That the next steps offer removing them first: tests/bot/test_telling_users_first.py."""

from __future__ import annotations

from bot.conversation.messages import DirectMessage
from tests.bot.conftest import ORG, Chat, text_of
from tests.bot.test_decisions import DANA, GUS


def test_the_notice_is_not_sent_to_someone_whose_only_account_is_disabled_and_the_admins_hear_why(
    chat: Chat,
) -> None:
    chat.say(DANA, f"/aad start {ORG} fabrikam.com")
    announced = chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    told = [message.to.email for message in announced if isinstance(message.to, DirectMessage)]
    assert told and GUS not in told
    said = " ".join(text_of([m for m in announced if not isinstance(m.to, DirectMessage)]).split())
    assert (
        f"Not told: {GUS}, whose only directory account is disabled (likely someone who left): remove them"
        f" before connecting (`stale-users {ORG}`, then `remove-users`); if they still need access, have the"
        f" account enabled and `recheck`, then `announce` again reaches them."
    ) in said
