"""In chat: ticking items off the list of a completed migration (console surface, real sandbox and database).
Nobody follows that list any more and the sign-in watch no longer runs, so what the bot says promises neither
a look it no longer takes nor a button the list no longer has."""

from __future__ import annotations

from tests.bot.conftest import DANA, ORG, Chat, notified, text_of
from tests.bot.test_closing import subscription_moved

CAROL = "carol@fabrikam.com"
"""Mapped by hand: her sign-in waits for the admins' mapping, which nobody has done."""


def _completed(chat: Chat) -> None:
    """The lists out, billing moved, and Dana completes the migration, leaving people behind."""
    notified(chat)
    subscription_moved(chat)
    chat.say(DANA, "check-billing")
    chat.say(DANA, f"complete {ORG} confirm")
    chat.runtime.conversation.watch()


def test_ticking_a_sign_in_still_to_map_after_closing_promises_no_look(chat: Chat) -> None:
    """Carol ticks signing in after Dana completed the migration, her mapping never seen: she reads that
    Azure DevOps refuses her work account until the admins map her, and whom to ask, not that I tick it as
    seen at her next sign-in (the watch no longer runs) nor to press *I need help* on a list with no
    buttons (fix121 3)."""
    _completed(chat)
    (ticked,) = chat.say(CAROL, "done 1", in_dm=True)
    said = " ".join(text_of([ticked]).split())
    closing = f"YOUR TO-DO LIST FOR {ORG.upper()}: CLOSED, 2 STILL OPEN"
    assert said[: said.index(closing)] == (
        "✅ Sign in with your work account done. 2 to go. But I never saw Azure DevOps show your old identity"
        " mapped to your work account before the migration closed: until the migration admins map it, Azure"
        " DevOps refuses your work account and your history is not with it. I no longer look for it: if Azure"
        " DevOps refuses your work account, the list below says whom to ask. "
    ), said
    assert f"Ask Dana ({DANA}) if you are stuck or unsure what still applies." in said


def test_done_alone_on_a_closed_list_offers_the_words_and_no_buttons(chat: Chat) -> None:
    """`done` without a number after Dana completed the migration: each open item with the words that tick
    it off, and none of the buttons the closed list itself does without (fix121 3)."""
    _completed(chat)
    (which,) = chat.say(CAROL, "done", in_dm=True)
    assert which.message.buttons == ()
    assert " ".join(text_of([which]).split()) == (
        "Which one did you do? Say `done N` with its number: 1. Sign in with your work account: `done 1`"
        " 2. Clear your Git credential cache: `done 2` 3. Re-add your SSH keys (if you use SSH): `done 3`"
        " 4. Recreate your personal access tokens: `done 4`"
    )
