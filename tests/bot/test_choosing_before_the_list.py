"""Hana, whose address two directory accounts carry, before her to-do list goes out: what she is told about
saying which account is hers points to what she has then (`todo`'s *Choose my account*, `my-account`), not
to an item of a list still to come, and promises no message when the admins decide, which only that list
brings before `notify` (fix159). Once her list is out, its item and a message of its own do."""

from __future__ import annotations

from bot.conversation.messages import DirectMessage, Reply
from tests.bot.conftest import DANA, Chat, notified, started, text_of
from tests.bot.test_decisions import HANA, HANA_MEMBER

ADMINS = "the migration admins (dana@fabrikam.com, lee@fabrikam.com)"


def _said(chat: Chat, text: str) -> str:
    """The bot's answer to what Hana wrote it, one space between words (not what it tells the admins)."""
    answers = [m for m in chat.say(HANA, text, in_dm=True) if isinstance(m.to, Reply)]
    return " ".join(text_of(answers).split())


def test_before_her_list_she_is_pointed_to_todo_and_told_todo_shows_the_decision(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "announce Friday 14:00 UTC")

    happens = _said(chat, "what happens to me?")
    assert (
        "What you must do: several directory accounts match your address; tell the admins which one you sign"
        " in with (Choose my account under `todo`, or say `my-account`)."
    ) in happens
    assert "on your list" not in happens
    choices = _said(chat, "my-account")
    assert (
        f"Press it and I tell {ADMINS}: only they can record it, and `todo` shows it once they have."
        in choices
    )
    assert _said(chat, f"my-account {HANA_MEMBER}") == (
        f"Thanks: I told {ADMINS} that you sign in with {HANA_MEMBER}. Only they can record it; `todo`"
        " shows it once they have, and your own to-do list says what to do next when it comes by direct"
        " message."
    )

    decided = chat.say(DANA, f"decide {HANA} {HANA_MEMBER}")
    assert not [m for m in decided if isinstance(m.to, DirectMessage) and HANA in m.to.addresses]
    assert f"An admin maps your identity to {HANA_MEMBER} by hand after the change" in _said(chat, "todo")


def test_once_her_list_is_out_its_item_is_where_she_says_it_and_a_message_tells_her(chat: Chat) -> None:
    notified(chat)
    assert "(Tell the admins which work account is yours on your list)" in _said(chat, "what happens to me?")
    assert _said(chat, f"my-account {HANA_MEMBER}") == (
        f"Thanks: I told {ADMINS} that you sign in with {HANA_MEMBER}. Only they can record it; I tell you as"
        " soon as they have, and your list then says what to do next."
    )
