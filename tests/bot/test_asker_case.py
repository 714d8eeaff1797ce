"""The FAQ answers each person for their own case, from the same records as their notices and to-do list."""

from __future__ import annotations

from tests.bot.conftest import ORG, Chat, text_of
from tests.bot.test_conversation import start

DANA, LEE, ERIN, KIM = "dana@fabrikam.com", "lee@fabrikam.com", "erin.eng@gmail.com", "kim@fabrikam.com"
PATS = "do my personal access tokens keep working?"
EVERY_CASE = "First connection, your email matched"


def test_an_invited_guest_is_told_to_recreate_her_tokens_as_her_notice_says(chat: Chat) -> None:
    start(chat)
    chat.say(DANA, "invite")  # remakes the plan: Erin now matches her guest account
    notice = text_of(chat.say(DANA, f"announce {ORG} Friday 14:00 UTC"))
    assert "personal access tokens you made before stop working" in notice
    answer = text_of(chat.say(ERIN, PATS, in_dm=True))
    assert "create new PATs once you have accepted the invitation" in answer
    assert "PATs keep working" not in answer and EVERY_CASE not in answer


def test_someone_known_by_their_directory_account_gets_only_their_own_case(chat: Chat) -> None:
    start(chat)
    before = text_of(chat.say(KIM, PATS, in_dm=True))  # in the plan as kim@fabrikam-old.com
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(DANA, "notify")
    after = text_of(chat.say(KIM, PATS, in_dm=True))
    for answer in (before, after):
        assert "Yes: you get a new identity, so recreate your PATs" in answer
        assert EVERY_CASE not in answer


def test_an_organization_found_connected_is_answered_as_the_first_connection_its_lists_describe(
    chat: Chat,
) -> None:
    chat.portal_connect()  # someone connected it before the bot was asked
    start(chat)
    assert chat.state() == "connected"
    chat.say(DANA, "invite")
    chat.say(DANA, "notify")
    answer = text_of(chat.say(ERIN, PATS, in_dm=True))
    assert "create new PATs once you have accepted the invitation" in answer
    assert "Switching directories" not in answer and EVERY_CASE not in answer
