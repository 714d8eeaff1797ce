"""Gus, whose only directory account is disabled, before his to-do list goes out: what he is told about saying
he still needs access points to what he has then (`todo`, which names the admins to tell), not to an item
of a list still to come, as Hana is (fix159). Once his list is out, its item is where he says it (fix160)."""

from __future__ import annotations

from tests.bot.conftest import Chat, connected, notified, started, text_of

GUS = "gus@fabrikam.com"
ON_THE_LIST = "Tell the admins if you still need access"


def _said(chat: Chat, text: str) -> str:
    """The bot's answer to what Gus wrote it, one space between words."""
    return " ".join(text_of(chat.say(GUS, text, in_dm=True)).split())


def test_before_his_list_he_is_pointed_to_todo_which_names_the_admins(chat: Chat) -> None:
    started(chat)
    assert "If you still need access, tell the migration admins (dana@fabrikam.com, lee@fabrikam.com)" in (
        _said(chat, "todo")
    )
    answers = {
        "what happens to me?": "ask your directory administrator to enable it (`todo` names the admins to"
        " tell).",
        "which account do I sign in with?": "until it is enabled or the admins give you another (`todo` names"
        " the admins to tell).",
        "my account is disabled, what do I do?": "Until your to-do list comes, `todo` names the admins to"
        " tell: if you still need access, tell them, and they settle it with you (your directory",
        "where is my invitation email?": "If you still need access, tell the migration admins (`todo` names"
        " them).",
    }
    for question, expected in answers.items():
        answer = _said(chat, question)
        assert expected in answer, (question, answer)
        assert ON_THE_LIST not in answer and "to-do list has the button" not in answer, question


def test_connected_before_his_list_a_refusal_points_to_todo(chat: Chat) -> None:
    connected(chat)
    assert "If you still need access, tell the migration admins: `todo` names them." in _said(
        chat, "git push fails with 401"
    )


def test_once_his_list_is_out_its_item_is_where_he_says_it(chat: Chat) -> None:
    notified(chat)
    assert f"({ON_THE_LIST} on your list has the words to use)" in _said(chat, "what happens to me?")
    assert f"The first item of your to-do list, {ON_THE_LIST}, says what to do" in _said(
        chat, "my account is disabled, what do I do?"
    )
    assert "tell the migration admins (your to-do list has the button for it)" in _said(
        chat, "where is my invitation email?"
    )
