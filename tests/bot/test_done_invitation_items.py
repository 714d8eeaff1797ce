"""In chat: an invitation's item once done, and the closed list of someone whose invitation may have gone
out (console surface, real sandbox and database)."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.conversation.messages import DirectMessage, Outgoing
from storage import OutboundMessage
from storage.outbox import NOT_IN_CHAT
from tests.bot.conftest import ORG, Chat, started, text_of
from tests.bot.test_closing import left_behind_notes, subscription_moved
from tests.bot.test_rehearsal_and_sign_ins import sign_in
from workflows.stages.list_messages import TODO_LIST_MESSAGE

DANA, LEE, ERIN = "dana@fabrikam.com", "lee@fabrikam.com", "erin.eng@gmail.com"


def _flat(outgoing: list[Outgoing]) -> str:
    return " ".join(text_of(outgoing).split())


def _connected_before_the_invitations(chat: Chat) -> None:
    """Connected with nobody invited first, the lists sent, then Dana's `invite`: Erin is invited late."""
    started(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(DANA, f"notify {ORG}")


def _completed(chat: Chat) -> list[Outgoing]:
    subscription_moved(chat)
    chat.say(DANA, "check-billing")
    return chat.say(DANA, f"complete {ORG} confirm") + chat.runtime.conversation.watch()


HISTORY = (
    "Your earlier work history stays with your Microsoft account: to keep it yours, the migration admins"
    f" can map it to your guest account {ERIN} (Organization settings > Microsoft Entra ID > Resolve, or"
    " Microsoft Support if that fails)."
)
"""What Erin's item says of her history when she is invited after connecting, with no button to press."""


def _accepting(said: str) -> str:
    """The body of the done item *Accept the invitation*, as it reads (unwrapped), to its link."""
    found = re.search(r"✅ Accept the invitation to the directory (You .*?) More: ", said)
    assert found is not None, said
    return found.group(1)


def test_a_late_invitee_who_ticks_accepting_keeps_the_advice_on_her_history(chat: Chat) -> None:
    """Erin, invited after connecting, accepts and ticks the item: it no longer says to look for the email,
    and still says how her earlier history can stay hers (rev63 1)."""
    _connected_before_the_invitations(chat)
    chat.say(DANA, f"invite {ORG}")
    ticked = _flat(chat.say(ERIN, "done 1", in_dm=True))
    assert _accepting(ticked) == (
        f"You accepted your invitation, you said: you sign in to https://dev.azure.com/{ORG} with the address"
        f" it came to. {HISTORY}"
    ), ticked


def _seen_signing_in(chat: Chat, *, ticked_first: bool = False) -> None:
    """Erin, invited after connecting, signs in and the watch ticks her item *Accept the invitation*
    (`ticked_first`: sees it, ticked by her already)."""
    _connected_before_the_invitations(chat)
    chat.say(DANA, f"invite {ORG}")
    if ticked_first:
        chat.say(ERIN, "done 1", in_dm=True)
    sign_in(chat, ERIN)
    chat.say(DANA, "check-sign-ins")


SEEN = (
    f"You are in: I can see you signed in to https://dev.azure.com/{ORG} with a directory account. Azure"
    " DevOps shows your old identity, with your earlier work history, on that account now: nothing is left"
    " to map."
)
"""Erin's done item *Accept the invitation* once the watch saw her sign in, on her old identity: her history
is on a directory account, which one the watch does not say."""


def test_a_late_invitee_seen_signing_in_reads_that_her_history_is_on_that_account(chat: Chat) -> None:
    """Erin, invited after connecting, is seen signing in: the watch sees it on her old identity, the one her
    history hangs on, so that history is on a directory account now. Her ticked item no longer says it stays
    with her Microsoft account for the admins to map to the guest account she was invited as (fix121 1)."""
    _seen_signing_in(chat)
    assert _accepting(_flat(chat.say(ERIN, "todo", in_dm=True))) == SEEN


def test_an_invitation_she_ticked_herself_reads_as_seen_once_the_watch_sees_her_sign_in(chat: Chat) -> None:
    """Erin, invited after connecting, ticks her item herself, then the watch sees her sign in on her old
    identity: the item stays hers, and no longer advises the admins to map a history that Azure DevOps
    shows on a directory account already (rev72 1)."""
    _seen_signing_in(chat, ticked_first=True)
    assert _accepting(_flat(chat.say(ERIN, "todo", in_dm=True))) == SEEN


def test_a_closed_list_says_an_invitation_seen_in_a_sign_in_is_behind_her(chat: Chat) -> None:
    """Erin, invited after connecting, signs in and the watch ticks her item; Dana completes the migration.
    Her closed list says she is in, naming no account (the watch ticks it for any directory account, one
    Support mapped her to as well), and that her earlier history is on it (rev63 1, 2, 6; fix121)."""
    _seen_signing_in(chat)
    _completed(chat)
    todo = _flat(chat.say(ERIN, "todo", in_dm=True))
    assert todo.startswith(f"YOUR TO-DO LIST FOR {ORG.upper()}: CLOSED, 2 STILL OPEN "), todo
    assert _accepting(todo) == SEEN, todo


def test_a_list_resent_after_the_watch_ticked_her_invitation_says_it_saw_her_sign_in(chat: Chat) -> None:
    """Erin's item is ticked by the watch, her list fails, and Dana presses Retry failed: the list sent
    again reads the item as `todo` does, seen in a sign-in, not as one she said she had done (rev65 1)."""
    _seen_signing_in(chat)
    with chat.runtime.database.session() as session:
        failed = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.recipient == ERIN)
            .where(OutboundMessage.kind == TODO_LIST_MESSAGE)
        ).one()
        failed.status, failed.error_code = "failed", NOT_IN_CHAT
        session.commit()
    said = chat.say(DANA, f"retry-failed {ORG}") + chat.runtime.conversation.watch()
    to_her = [each for each in said if each.to == DirectMessage(ERIN)]
    resent = [each for each in to_her if each.message.summary == f"Your to-do list for {ORG}"]
    assert len(resent) == 1, _flat(said)
    assert _accepting(_flat(resent)) == SEEN, _flat(resent)


def test_a_closed_list_leaves_finding_an_invitation_that_may_have_gone_out_to_its_reader(chat: Chat) -> None:
    """Microsoft never confirmed Erin's invitation when Dana completes the migration: her last word and her
    closed list no longer say that an admin finds out whether it went out and sends it if not (`invite` no
    longer runs for it), as her item no longer does (rev63 4)."""
    _connected_before_the_invitations(chat)
    box = chat.runtime.sandbox
    assert box is not None
    box.set_faults(directory_lag=3600, invitation_faults=["504 after"])  # its guest unseen until the end
    chat.say(DANA, f"invite {ORG}")
    unconfirmed = (
        "Your invitation email may have gone out (Microsoft never confirmed it): if you find it (look in junk"
        " or spam too), accept it from there, and you can sign in; if none came, an admin can still invite"
        " you by hand, in the Microsoft Entra admin center."
    )
    told = left_behind_notes(_completed(chat))
    assert told[ERIN][1] == (
        f"Hi Erin, Dana ({DANA}) closed the migration of {ORG}: I send no more reminders, and nobody follows"
        f" your list any more. {unconfirmed} Your list as it stands:"
    ), told[ERIN]
    todo = _flat(chat.say(ERIN, "todo", in_dm=True))
    assert todo.startswith(
        f"YOUR TO-DO LIST FOR {ORG.upper()}: CLOSED, 2 STILL OPEN Dana ({DANA}) closed the migration of"
        f" {ORG}: no more reminders come, and nobody follows this list any more. {unconfirmed} Ask Dana"
        f" ({DANA}) if you are stuck or unsure what still applies. 1. Look for your invitation email "
    ), todo
