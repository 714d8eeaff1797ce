"""What a decision on an approval says (walk26 finding 11): each thing once, the reason labelled, and a
decision that comes after the migration ended says that, not "is now cancelled. Next: nothing"."""

from __future__ import annotations

from tests.bot.conftest import DANA, LEE, ORG, Chat, started, text_of


def said(chat: Chat, email: str, typed: str) -> str:
    return " ".join(text_of(chat.say(email, typed)).split())


def test_a_rejection_says_who_once_and_labels_the_reason(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")
    rejected = said(chat, LEE, "reject 1 the date clashes with the release")
    assert "🚫 Rejected by Lee. Reason: the date clashes with the release" in rejected
    assert "rejected the plan" not in rejected


def test_approving_after_the_migration_was_cancelled_says_it_ended_once(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")
    chat.say(DANA, f"cancel {ORG}")
    late = said(chat, LEE, "approve 1")
    assert "just cancelled the migration, so it has ended: there is nothing left to do on it." in late, late
    assert "is now cancelled" not in late and "Next: nothing" not in late
