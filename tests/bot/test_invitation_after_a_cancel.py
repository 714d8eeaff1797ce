"""Told by a cancel that they could ignore Microsoft's invitation, then asked to accept one by a new migration
of the organization to the same directory: its advance notice, their `todo` before the switch and their to-do
list say that "ignore it" no longer holds, and which invitation to accept: the same one (the guest stays
invited after a cancel) or a new one (the guest deleted, as the cancel offered the admins, and invited
again). fix159."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.conversation.messages import DirectMessage, Outgoing
from storage import Database
from tests.bot.conftest import DANA, LEE, ORG, Chat, invitation_emails, started_on_clock, text_of
from tests.bot.test_lost_invitation_answers import Moment

ERIN, FRANK = "erin.eng@gmail.com", "frank.f@outlook.com"
CALLED_OFF = (
    "When the move was called off on 30 November 2026, I said you could ignore Microsoft's invitation to join"
    " Fabrikam: that no longer holds, now that the move is on again."
)


@pytest.fixture
def moment() -> Moment:
    return Moment()


@pytest.fixture
def chat(fabrikam: dict[str, Any], sqlite_database: Database, moment: Moment) -> Iterator[Chat]:
    """Dana's migration started, invited, announced and cancelled on Monday: Erin read that she could ignore
    her invitation."""
    with started_on_clock(fabrikam, sqlite_database, moment) as talk:
        talk.say(DANA, "invite")
        talk.say(DANA, "announce Friday 14:00 UTC")
        told = _to(talk.say(DANA, f"cancel {ORG} budget freeze"), ERIN)
        assert "You can ignore Microsoft's invitation to join Fabrikam." in told
        moment.now += timedelta(days=1)
        yield talk


def _to(outgoing: list[Outgoing], email: str) -> str:
    (message,) = [m for m in outgoing if isinstance(m.to, DirectMessage) and m.to.email == email]
    return " ".join(text_of([message]).split())


def _listed(chat: Chat) -> str:
    """Approved, connected and notified: Erin's to-do list."""
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    return _to(chat.say(DANA, "notify"), ERIN)


def test_the_invitation_she_was_told_to_ignore_is_the_one_to_accept_now(chat: Chat) -> None:
    chat.say(DANA, f"start {ORG} fabrikam.com")
    assert "Nobody needs an invitation." in text_of(chat.say(DANA, "invite"))
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}  # her guest, still to accept, kept its invitation
    takes_back = f"{CALLED_OFF} It is the same invitation, still waiting for you: accept it."

    notice = _to(chat.say(DANA, "announce Monday 14:00 UTC"), ERIN)
    assert f"history stay where they are. {takes_back} Microsoft sent an invitation email" in notice
    todo = " ".join(text_of(chat.say(ERIN, "todo", in_dm=True)).split())
    assert f"before the switch) {takes_back} Open Microsoft's invitation email" in todo
    listed = _listed(chat)
    assert f"1. Accept the invitation to the directory {takes_back} Microsoft sent an invitation" in listed


def test_a_new_invitation_after_her_guest_was_deleted_is_the_one_to_accept(chat: Chat) -> None:
    assert chat.runtime.sandbox is not None
    chat.runtime.sandbox.reset()  # the directory as before any invitation: the admins deleted the guests
    chat.say(DANA, f"start {ORG} fabrikam.com")
    chat.say(DANA, "invite")
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}  # a new email each, from the reset directory
    takes_back = f"{CALLED_OFF} A new invitation went out on 1 December 2026: accept that one."

    todo = " ".join(text_of(chat.say(ERIN, "todo", in_dm=True)).split())
    assert f"before the switch) {takes_back} Open Microsoft's invitation email" in todo
    assert f"1. Accept the invitation to the directory {takes_back} Microsoft sent" in _listed(chat)


def test_someone_never_told_to_ignore_it_reads_no_such_word(chat: Chat) -> None:
    """Ann had no invitation, so the cancel said nothing of one to her; Erin's is not taken back twice."""
    chat.say(DANA, f"start {ORG} fabrikam.com")
    told = chat.say(DANA, "announce Monday 14:00 UTC")
    assert "called off" not in _to(told, "ann@fabrikam.com")
    assert _to(told, ERIN).count("called off") == 1


def test_a_second_cancel_tells_her_again_that_she_can_ignore_it(chat: Chat) -> None:
    """The second migration invited nobody: its notice asked her to accept the first one's invitation, still
    waiting, and "the move is off" alone would leave that standing (fix160). Ann had no invitation."""
    chat.say(DANA, f"start {ORG} fabrikam.com")
    chat.say(DANA, "announce Monday 14:00 UTC")
    cancelled = chat.say(DANA, f"cancel {ORG} budget freeze again")
    assert "You can ignore Microsoft's invitation to join Fabrikam." in _to(cancelled, ERIN)
    assert "invitation" not in _to(cancelled, "ann@fabrikam.com")
