"""An invitation whose answer never came (a 504, a timeout) through the sandbox over loopback HTTP, with
Graph's search lagging behind the guests it makes, on clocks the test moves: nobody gets a second email,
nobody is taken for refused, and the admin reads what is known and when `invite` looks again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.conversation.messages import ADDRESS, Channel, DirectMessage, Outgoing, Table
from bot.delivery.render import envelope_of
from sandbox import Sandbox
from storage import AuditEntry, Database, Invitation, Migration, OutboundMessage, Reminder
from storage.outbox_claims import claim_due
from storage.outbox_sends import UNCONFIRMED, begin_send
from tests.bot.conftest import DANA, LEE, ORG, Chat, invitation_emails, started_on_clock, text_of
from workflows import invitation_wait
from workflows.reminders import DIGEST_MESSAGE
from workflows.results import BOT
from workflows.stages.interrupted_invitations import RECOVERED

ERIN, FRANK, HANA = "erin.eng@gmail.com", "frank.f@outlook.com", "hana@contoso.com"
GUS, IVAN = "gus@fabrikam.com", "ivan@fabrikam.com"
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
LAG = timedelta(minutes=3)
"""How long the sandbox's search leaves out a new guest: longer than an admin takes to type `invite` again,
shorter than the bot waits before believing the search (ten minutes)."""


class Moment:
    """The time both the bot and the sandbox read, moved on by the test."""

    def __init__(self) -> None:
        self.now = MONDAY

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def moment() -> Moment:
    return Moment()


@pytest.fixture
def chat(fabrikam: dict[str, Any], sqlite_database: Database, moment: Moment) -> Iterator[Chat]:
    """Dana's migration started, on a sandbox of its own whose clock is the bot's."""
    with started_on_clock(fabrikam, sqlite_database, moment) as talk:
        yield talk


def _box(chat: Chat) -> Sandbox:
    assert chat.runtime.sandbox is not None
    return chat.runtime.sandbox


def _claim(chat: Chat, address: str) -> Invitation:
    with chat.runtime.database.session() as session:
        return session.exec(select(Invitation).where(Invitation.email == address)).one()


def _summary(chat: Chat) -> str:
    """What the bot's answer to `invite` says of the run, between its heading and its table, unwrapped."""
    lines = text_of(chat.say(DANA, f"invite {ORG}", in_dm=True)).splitlines()  # a DM: the table too
    said = lines[1 : next(n for n, line in enumerate(lines) if line.split()[:2] == ["user", "result"])]
    return " ".join(" ".join(said).split())


def test_a_504_after_the_invitation_went_out_is_no_refusal_and_no_second_email(
    chat: Chat, moment: Moment
) -> None:
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    first = _summary(chat)
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}  # Microsoft did invite Erin
    moment.now += timedelta(minutes=1)  # at once: the search does not show Erin's guest yet
    again = _summary(chat)
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}

    assert first == (
        f"1 invited, 1 with no answer from Microsoft. No answer: {ERIN}: no answer came, so the invitation"
        " may have gone out (Microsoft Graph answered HTTP 504 to POST graph.microsoft.com/v1.0/invitations);"
        " run `invite` again after 2026-11-30 10:10 UTC. Microsoft's directory search may not show a new"
        " guest before then: `invite` then looks, and sends each their link with no second email, or their"
        " invitation if none went out. I tell you when that time comes."
    )
    assert again.startswith(
        f"1 invited earlier, 1 with no answer from Microsoft. No answer: {ERIN}: no answer came, so the"
        " invitation may have gone out (Microsoft Graph answered HTTP 504 to POST"
        " graph.microsoft.com/v1.0/invitations); run `invite` again after 2026-11-30 10:10 UTC."
    )
    assert _claim(chat, ERIN).redeem_url is None

    moment.now += timedelta(minutes=10)  # the search shows her guest, still to accept
    assert _summary(chat) == "1 invited, 1 invited earlier."  # hers with her link alone, his kept
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}
    erin = _claim(chat, ERIN)
    assert (erin.status, erin.result) == ("sent", "invited before the interruption; link recovered")
    newest = _box(chat).state()["tenant"]["invitations"][-1]
    assert (newest["invitedUserEmailAddress"], newest["sendInvitationMessage"]) == (ERIN, False)
    assert erin.redeem_url == newest["inviteRedeemUrl"]


def test_a_504_before_anything_was_done_invites_once_the_search_is_believed(
    chat: Chat, moment: Moment
) -> None:
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])
    assert _summary(chat).startswith(f"1 invited, 1 with no answer from Microsoft. No answer: {ERIN}: ")
    assert invitation_emails(chat) == {FRANK: 1}

    moment.now += timedelta(minutes=9, seconds=59)  # the search could still be behind
    assert _summary(chat).startswith("1 invited earlier, 1 with no answer from Microsoft.")
    assert invitation_emails(chat) == {FRANK: 1}

    moment.now += timedelta(seconds=1)  # believed: nobody holds her address, so nothing went out
    assert _summary(chat) == "1 invited."
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}
    assert _claim(chat, ERIN).status == "sent"


def test_the_person_whose_answer_was_lost_hears_it_may_have_gone_out(chat: Chat, moment: Moment) -> None:
    """Not "not sent yet" to someone Microsoft may have mailed, nor a failure: what is known, what to look
    for and when, and that they never get it twice; her `todo` before the lists says the same."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    moment.now += timedelta(minutes=2)
    reply = " ".join(text_of(chat.say(ERIN, "I never got the invitation email", in_dm=True)).split())
    assert reply.startswith(
        "Your invitation to the directory Your invitation may have gone out to erin.eng@gmail.com on 30"
        " November 2026 at 10:00 UTC: Microsoft did not confirm it, and the admins are checking. Look in that"
        ' mailbox for mail from "Microsoft Invitations on behalf of" the company, subject "... invited you to'
        " collaborate with ...\", in junk or spam too, and accept it. Microsoft's directory shows whether it"
        " did from 10:10 UTC, and the admins' next `invite` finds out. If none went out, that `invite` sends"
        " it; if one did, it first waits to see you in the directory, so you should not get a second one."
        " Microsoft's page: https://learn.microsoft.com/entra/external-id/redemption-experience To reach a"
        " person, press Ask an admin"
    )
    todo = " ".join(text_of(chat.say(ERIN, "todo", in_dm=True)).split())
    assert todo.startswith(
        f"YOUR TO-DO LIST FOR {ORG.upper()} IS NOT OUT YET You have no account in Fabrikam yet, and your"
        " invitation email may have gone out: Microsoft did not confirm it, and the migration admins are"
        ' checking. Look for mail from "Microsoft Invitations on behalf of" the company, subject "... invited'
        ' you to collaborate with ...", in junk or spam too, and accept it, or you lose access after the'
        " change (your history is kept). If none went out, the admins send it."
    ), todo


SEARCH_CAUGHT_UP = (
    "For ten minutes its directory search might not have shown the new guests, and that time is over."
    f" Run `invite {ORG}` now: it looks for each of them in the directory, sends a guest it finds their own"
    " link to accept, with no second email, and invites whoever it does not find. Until then they may have no"
    f" invitation to accept. [Invite missing users: `invite {ORG}`]"
)
"""What the end of the wait says after who may have been invited, when `invite` fits."""


def _wait_over(outgoing: list[Outgoing]) -> list[Outgoing]:
    return [message for message in outgoing if message.message.summary.startswith("The wait for ")]


def _told_when_the_wait_ends(chat: Chat, moment: Moment) -> Outgoing:
    """The one message the look brings once ten minutes have passed since the last lost answer (a second
    before, none)."""
    moment.now += timedelta(minutes=9, seconds=59)
    assert _wait_over(chat.runtime.conversation.watch()) == []
    moment.now += timedelta(seconds=1)
    (told,) = _wait_over(chat.runtime.conversation.watch())
    return told


def _flat(outgoing: Outgoing) -> str:
    return " ".join(text_of([outgoing]).split())


def test_when_the_wait_is_over_the_admin_who_ran_invite_hears_it_once_and_its_button_invites(
    chat: Chat, moment: Moment
) -> None:
    """Nothing else runs `invite` again: without a word when the wait is over, Erin might never get her
    link (or her invitation, if none went out) before the switch."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    chat.say(DANA, f"invite {ORG}")  # in the channel: who goes to Dana alone, and so does the end of the wait
    told = _told_when_the_wait_ends(chat, moment)
    assert told.to == DirectMessage(DANA)
    assert _flat(told) == (
        f"THE WAIT FOR 1 INVITATION OF {ORG.upper()} IS OVER"
        f" Microsoft never answered 1 invitation sent for {ORG}, so it may have gone out (to {ERIN})."
        f" {SEARCH_CAUGHT_UP}"
    )
    moment.now += timedelta(hours=1)
    assert _wait_over(chat.runtime.conversation.watch()) == []  # once

    invited = chat.click(DANA, [told], "Invite missing users")
    (answer,) = [m for m in invited if not isinstance(m.to, Channel)]  # the channel reads the count
    assert answer.message.summary == "1 invited, 1 invited earlier."
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}
    assert _claim(chat, ERIN).status == "sent"


def test_an_invite_after_the_wait_and_before_the_look_leaves_nothing_to_say(
    chat: Chat, moment: Moment
) -> None:
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])
    _summary(chat)
    moment.now += timedelta(minutes=10)
    assert _summary(chat) == "1 invited, 1 invited earlier."
    assert _wait_over(chat.runtime.conversation.watch()) == []


def test_a_lost_answer_after_another_waits_for_the_newest_and_is_told_once_more(
    chat: Chat, moment: Moment
) -> None:
    """Lee's `invite` once the wait is over finds nobody and invites Erin again, and that answer is lost
    too: a wait of its own begins, and its end is his to hear."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])
    _summary(chat)
    moment.now += timedelta(minutes=10)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])
    chat.say(LEE, f"invite {ORG}")
    assert _told_when_the_wait_ends(chat, moment).to == DirectMessage(LEE)


def test_two_processes_finding_the_wait_over_at_once_tell_it_once(chat: Chat, moment: Moment) -> None:
    """Replicas on one database both read the schedule due; the one that commits second finds its version
    gone and queues nothing."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])
    _summary(chat)
    moment.now += timedelta(minutes=10)
    database = chat.runtime.database
    due = select(Reminder, Migration).join(Migration, col(Migration.id) == Reminder.migration_id)
    with database.session() as first, database.session() as second:
        first_reads, second_reads = first.exec(due).one(), second.exec(due).one()
        assert invitation_wait.fire(second, *second_reads, moment()) == 1
        assert invitation_wait.fire(first, *first_reads, moment()) == 0
    with database.session() as session:
        told = session.exec(
            select(OutboundMessage).where(OutboundMessage.kind == invitation_wait.WAIT_OVER_MESSAGE)
        ).all()
    assert [(message.recipient, message.payload["people"]) for message in told] == [(DANA, [ERIN])]


def test_with_no_admin_to_write_to_the_channel_hears_how_many_and_never_who(
    chat: Chat, moment: Moment
) -> None:
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    chat.runtime.service.invite(ORG, BOT)  # the bot's own run: nobody typed it
    moment.now += timedelta(minutes=10)
    (told,) = _wait_over(chat.runtime.conversation.watch())
    assert told.to == Channel("#aad-migration")  # where Dana started it
    assert _flat(told) == (
        f"THE WAIT FOR 1 INVITATION OF {ORG.upper()} IS OVER"
        f" Microsoft never answered 1 invitation sent for {ORG}, so it may have gone out. {SEARCH_CAUGHT_UP}"
    )


def test_an_advance_notice_during_the_wait_says_the_invitation_may_have_gone_out(
    chat: Chat, moment: Moment
) -> None:
    """Announced while Microsoft's answer is missing, Erin's notice says what her answers and `todo` say:
    not that an email is coming, which may have come already."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    moment.now += timedelta(minutes=2)
    announced = chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    (notice,) = [message for message in announced if message.to == DirectMessage(ERIN)]
    assert _flat(notice) == (
        f"COMING FRIDAY 4 DECEMBER 2026 14:00 UTC: {ORG.upper()} MOVES TO FABRIKAM ACCOUNTS Hi Erin, {ORG}"
        " on Azure DevOps will soon sign in with Fabrikam accounts instead of Microsoft accounts. There is no"
        " downtime, and your work items, repositories and history stay where they are. You have no"
        " account in Fabrikam yet, and your invitation email may have gone out: Microsoft did not"
        ' confirm it, and the migration admins are checking. Look for mail from "Microsoft Invitations'
        ' on behalf of" the company, subject "... invited you to collaborate with ...", in junk or spam'
        " too, and accept it, or you lose access after the change (your history is kept). If none went"
        " out, the admins send it. After the change you get your own short to-do list from me (sign in"
        " again, clear the Git credential cache, and whatever applies to you). Questions? Just ask me"
        " here."
    )


def test_a_list_sent_during_the_wait_says_to_look_for_the_invitation_and_invite_turns_it_into_accepting(
    chat: Chat, moment: Moment
) -> None:
    """Not *Ask for an account* (she may hold an invitation already), nor *Accept the invitation* (it may
    not have gone out): what her answers say, until the next `invite` settles it."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    (erin_list,) = [
        message for message in chat.say(DANA, f"notify {ORG}") if message.to == DirectMessage(ERIN)
    ]
    assert _first_item(_flat(erin_list)) == (
        f"Look for your invitation email {ORG} now signs in with Fabrikam accounts. Your invitation to join"
        f" Fabrikam as a guest may have gone out to {ERIN}: Microsoft did not confirm it, and the migration"
        ' admins are checking. Look for mail from "Microsoft Invitations on behalf of" the company, subject'
        ' "... invited you to collaborate with ...", in junk or spam too, select Accept invitation, then sign'
        f" in to https://dev.azure.com/{ORG} with that same address. Until then you cannot sign in (your"
        " history is kept). If none went out, the admins send it, and I tell you here. Anything unclear: ask"
        " the migration admins (press I need help here)."
    )
    helped = _flat(chat.click(ERIN, [erin_list], "I need help")[0])
    assert helped.startswith(
        f"HELP WITH: LOOK FOR YOUR INVITATION EMAIL Your invitation may have gone out to {ERIN} on 30"
        " November 2026 at 10:00 UTC: Microsoft did not confirm it, and the admins are checking."
    ), helped

    moment.now += timedelta(minutes=10)  # the search is believed: her guest is found, her link fetched
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    (told,) = [message for message in chat.runtime.conversation.watch() if message.to == DirectMessage(ERIN)]
    assert _flat(told).startswith(
        f"YOU ARE INVITED TO FABRIKAM: {ORG.upper()} IS OPEN TO YOU AGAIN Hi Erin, the migration admins"
        f" invited you as a guest of Fabrikam, so you can sign in to {ORG} again."
    ), _flat(told)
    assert _first_item(_flat(told)).startswith(ACCEPT)
    assert _first_item(" ".join(text_of(chat.say(ERIN, "todo", in_dm=True)).split())).startswith(ACCEPT)


ACCEPT = (
    "Accept the invitation to the directory Microsoft sent an invitation email from"
    f' "Microsoft Invitations on behalf of" the company to {ERIN} to join Fabrikam as a guest. Open it'
    f" and select Accept invitation, then sign in to https://dev.azure.com/{ORG} with that same address."
)
"""The first item of an invitee's list once `invite` settled a lost answer: her guest found, still to
accept, or invited afresh."""


def test_a_list_asking_for_an_account_says_to_look_for_the_invitation_once_its_answer_is_lost(
    chat: Chat, moment: Moment
) -> None:
    """Invited after the lists went out, and Microsoft's answer lost: her list no longer asks the admins for
    an invitation that may be in her mailbox; the `invite` that settles it tells her, once."""
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    (erin_list,) = [
        message for message in chat.say(DANA, f"notify {ORG}") if message.to == DirectMessage(ERIN)
    ]
    assert _first_item(_flat(erin_list)).startswith("Ask for an account in the directory ")

    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    assert [message.to for message in chat.runtime.conversation.watch()].count(DirectMessage(ERIN)) == 0
    todo = " ".join(text_of(chat.say(ERIN, "todo", in_dm=True)).split())
    assert _first_item(todo).startswith(
        f"Look for your invitation email {ORG} now signs in with Fabrikam accounts. Your invitation to join"
        f" Fabrikam as a guest may have gone out to {ERIN}: Microsoft did not confirm it"
    ), todo

    moment.now += timedelta(minutes=10)
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    (told,) = [message for message in chat.runtime.conversation.watch() if message.to == DirectMessage(ERIN)]
    assert _first_item(_flat(told)).startswith(ACCEPT), _flat(told)


def _first_item(said: str) -> str:
    """The first item of a list, or of a change to one, as it reads (unwrapped): title and body, to its
    link."""
    found = re.search(r" 1\. (.*?) More: ", said)
    assert found is not None, said
    return found.group(1)


def _lists_out(chat: Chat) -> list[Outgoing]:
    """Approved anyway, connected in the portal, seen by the watch, and the lists sent: what `notify` sent."""
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    return chat.say(DANA, f"notify {ORG}")


def _to_erin(outgoing: list[Outgoing]) -> list[Outgoing]:
    return [message for message in outgoing if message.to == DirectMessage(ERIN)]


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ("403", "the directory's settings for guest invitations refused it"),
        ("400", "Microsoft refused to send it"),
    ],
)
def test_a_refused_invitation_after_a_lost_answer_asks_for_an_account_again_and_says_why(
    chat: Chat, moment: Moment, fault: str, why: str
) -> None:
    """Her list said it may have gone out; the `invite` that looks finds nobody and Microsoft refuses it:
    none went out, so she stops looking for an email, told why in her words (never the admins' 403 or its
    fix)."""
    _lists_out(chat)
    _box(chat).set_faults(invitation_faults=["504"])  # nothing done, and nothing known
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    assert _to_erin(chat.runtime.conversation.watch()) == []
    moment.now += timedelta(minutes=10)
    _box(chat).set_faults(invitation_faults=[fault])
    chat.say(DANA, f"invite {ORG}", in_dm=True)

    asking = (
        f"Ask for an account in the directory {ORG} now signs in with Fabrikam accounts, and {ERIN} has"
        " none, so you cannot sign in any more (your history is kept). No invitation went out to you after"
        f" all: {why}, and the migration admins know. Ask the migration admins to invite {ERIN} as a guest,"
        " or your directory administrator for a work account; press I need help here to tell the admins."
    )
    (told,) = _to_erin(chat.runtime.conversation.watch())
    assert _flat(told).startswith(
        "NO INVITATION TO FABRIKAM WENT OUT TO YOU Hi Erin, your list said your invitation may have gone out:"
        " it did not, so there is no email to look for. I tell you here as soon as you have a way in. These"
        f" items of your to-do list are changed: 1. {asking} More: "
    ), _flat(told)
    assert _first_item(" ".join(text_of(chat.say(ERIN, "todo", in_dm=True)).split())) == asking
    assert invitation_emails(chat) == {FRANK: 1}


def test_request_approval_says_an_invitation_microsoft_never_confirmed_may_have_gone_out(
    chat: Chat,
) -> None:
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    (refused,) = chat.say(DANA, f"request-approval {ORG}")
    assert refused.message.private
    assert _flat(refused) == (
        "1 person has no directory account yet, and an invitation Microsoft never confirmed, which may have"
        f" gone out, so connecting may cut them off: {ERIN}. Microsoft's procedure puts everyone in the"
        " directory before connecting: run `invite` first (it finds out whether an invitation Microsoft never"
        f" confirmed went out). To connect without them, say `request-approval {ORG} anyway`."
        f" [Invite missing users: `invite {ORG}`] [Request approval anyway: `request-approval {ORG} anyway`"
        f" if yes to “Request approval for {ORG} although 1 user lose access when it connects?”]"
    )


def test_invite_after_connecting_says_who_gets_an_email_now_and_whose_came_before_the_lost_answer(
    chat: Chat, moment: Moment
) -> None:
    """Erin's invitation went out before its answer was lost, Frank's never did: once the search is
    believed, she gets her link alone and he his first email, and the answer says which is which."""
    _lists_out(chat)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after", "504"])
    assert _summary(chat).startswith("2 with no answer from Microsoft.")
    moment.now += timedelta(minutes=10)
    assert _summary(chat).startswith(
        "2 invited. 1 gets Microsoft's invitation email now, and 1 already got it before its answer was lost"
        " (I fetched their link again, with no second email): once they accept it and sign in with that"
        " address, they are back in. I changed 2 to-do lists to say what each now needs; my message telling"
        " them is on its way. Their"
        " old work history stays with their Microsoft account: to keep it, map them to the guest account"
        " under Organization settings > Microsoft Entra ID"
    )
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}


def test_someone_whose_invitation_may_have_gone_out_is_reminded_once_to_look_for_it(
    chat: Chat, moment: Moment
) -> None:
    """Her part is looking for the email, in junk or spam too; the rest waits for the admins' `invite`: her
    list says so, and one reminder asks whether she looked, not one every other working day."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    (erin_list,) = _to_erin(_lists_out(chat))
    assert _flat(erin_list).startswith(
        f"YOUR TO-DO LIST: {ORG.upper()} NOW SIGNS IN WITH FABRIKAM Hi Erin, {ORG} on Azure DevOps now uses"
        f" Fabrikam accounts. Before you can sign in, the migration admins ({DANA}, {LEE}) need to find out"
        " whether your invitation went out, and to send it if it did not: the first item says what to look"
        " for meanwhile. The items after it can only be done once you have accepted it. I remind you once to"
        " look for it, and tell you as soon as they know. • "
    ), _flat(erin_list)

    moment.now += timedelta(days=2)  # Wednesday: her reminder is due
    (reminded,) = _to_erin(chat.runtime.conversation.watch())
    assert _flat(reminded) == (
        f"REMINDER: LOOK FOR YOUR INVITATION TO {ORG.upper()} Hi Erin, your invitation may have gone out, and"
        f" the migration admins ({DANA}, {LEE}) are finding out whether it did. Have you looked for mail"
        ' from "Microsoft Invitations on behalf of" the company, subject "... invited you to collaborate with'
        ' ...", in junk or spam too? If it is there, select Accept invitation and sign in with that address.'
        " If none went out, the admins send it, and I tell you here; this is the only reminder until then."
        " Say `todo` to see your list."
    )
    for _round in range(3):  # the rounds after it, two working days apart each
        moment.now += timedelta(days=2)
        assert _to_erin(chat.runtime.conversation.watch()) == []


def test_who_ticked_looking_for_their_invitation_is_reminded_of_their_open_items(
    chat: Chat, moment: Moment
) -> None:
    """Erin found her invitation, accepted it and ticked *Look for your invitation email* before her
    reminder: it is of what is left on her list, not to look for an email she found."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    _lists_out(chat)
    chat.say(ERIN, "done 1", in_dm=True)

    moment.now += timedelta(days=2)  # Wednesday: her reminder is due
    (reminded,) = _to_erin(chat.runtime.conversation.watch())
    assert _flat(reminded).startswith(
        f"REMINDER: 1 OF 2 ITEMS LEFT ON YOUR {ORG.upper()} LIST Hi Erin, Dana, who runs the move of {ORG},"
        " asked me to remind you: these are still open. Press Done on each one you have finished."
        " 2. Clear your Git credential cache [Done:"
    ), _flat(reminded)


def test_a_link_that_could_not_be_fetched_is_no_lost_answer_to_wait_for(chat: Chat, moment: Moment) -> None:
    """Once the wait is over Dana's `invite` finds Erin's guest, so her invitation went out; only the call
    for her link fails. Dana reads that at once, and her next `invite` asks for it again: no end of a wait
    for the search is told, and Erin reads that it was sent."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    moment.now += timedelta(minutes=10)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])  # the link-only call
    _summary(chat)
    assert _claim(chat, ERIN).result.startswith(
        "invited before the interruption; its link could not be fetched"
    )

    assert _wait_over(chat.runtime.conversation.watch()) == []
    moment.now += timedelta(minutes=10)
    assert _wait_over(chat.runtime.conversation.watch()) == []
    reply = " ".join(text_of(chat.say(ERIN, "I never got the invitation email", in_dm=True)).split())
    assert reply.startswith(
        "Your invitation to the directory Your invitation was sent to erin.eng@gmail.com. It comes from"
    )


def test_a_listed_person_whose_link_could_not_be_fetched_reads_that_her_invitation_went_out(
    chat: Chat, moment: Moment
) -> None:
    """Her list said to look for an invitation that may have gone out; Dana's `invite` after the wait finds
    her guest still to accept (so Microsoft's email went out) and only the call for her link fails. Her item
    and her answer now say it was sent and that the admins fetch her link, not that none may have gone out;
    the next `invite` fetches it, with no second email, and her item becomes *Accept the invitation*."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    _lists_out(chat)
    moment.now += timedelta(minutes=10)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])  # the link-only call
    _summary(chat)
    assert _to_erin(chat.runtime.conversation.watch()) == []

    todo = " ".join(text_of(chat.say(ERIN, "todo", in_dm=True)).split())
    assert _first_item(todo) == (
        f"Look for your invitation email {ORG} now signs in with Fabrikam accounts. Microsoft sent your"
        f' invitation to join Fabrikam as a guest to {ERIN}. Look for mail from "Microsoft Invitations on'
        ' behalf of" the company, subject "... invited you to collaborate with ...", in junk or spam too,'
        f" select Accept invitation, then sign in to https://dev.azure.com/{ORG} with that same address."
        " Until then you cannot sign in (your history is kept). The migration admins fetch your own link to"
        " accept it at their next `invite`, with no second email, and I tell you here. Anything unclear: ask"
        " the migration admins (press I need help here)."
    )
    reply = " ".join(text_of(chat.say(ERIN, "I never got the invitation email", in_dm=True)).split())
    assert reply.startswith(
        f"Your invitation to the directory Your invitation went out to {ERIN}: Microsoft sent it from"
        ' "Microsoft Invitations on behalf of" the company, subject "... invited you to collaborate with'
        " ...\". Look in that mailbox, in junk or spam too, and accept it. The admins' next `invite` fetches"
        " your own link to accept it, with no second email. The organization is connected: until you accept"
        " it, Azure DevOps refuses you. Microsoft's page:"
        " https://learn.microsoft.com/entra/external-id/redemption-experience To reach a person"
    ), reply

    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=[])
    _summary(chat)
    (told,) = _to_erin(chat.runtime.conversation.watch())
    assert _first_item(_flat(told)).startswith(ACCEPT), _flat(told)
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}  # one each: none again for her


def test_the_person_asking_the_day_after_hears_the_date_the_search_is_believed(
    chat: Chat, moment: Moment
) -> None:
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    moment.now += timedelta(days=1)
    reply = " ".join(text_of(chat.say(ERIN, "I never got the invitation email", in_dm=True)).split())
    assert "Microsoft's directory shows whether it did from 30 November 2026 at 10:10 UTC, and" in reply


def test_an_admin_who_resumed_another_step_since_is_not_the_one_told(chat: Chat, moment: Moment) -> None:
    """Dana ran `invite` and read that she would hear when to run it again; Lee's later `resume` ran
    another step (its audit entry, written as the machine writes it)."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    with chat.runtime.database.session() as session:
        row = session.exec(select(Migration)).one()
        assert row.id is not None
        session.add(
            AuditEntry(
                migration_id=row.id,
                at=moment() + timedelta(minutes=1),
                actor_id=LEE,
                actor_email=LEE,
                actor_name="Lee",
                action="resume",
                state_before="failed",
                state_after="checking_prerequisites",
            )
        )
        session.commit()
    assert _told_when_the_wait_ends(chat, moment).to == DirectMessage(DANA)


def test_a_step_that_died_inviting_is_told_with_resume_rather_than_waited_for(
    chat: Chat, moment: Moment
) -> None:
    """A running step looks at the lost answers itself, so the end of the wait is put off while one runs;
    one that died (kill -9) leaves the migration *inviting*, and would put it off for ever."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    died_at = moment() + timedelta(minutes=5)
    with chat.runtime.database.session() as session:  # an `invite` begun then died without a word
        row = session.exec(select(Migration)).one()
        row.previous_state, row.state, row.updated_at = row.state, "inviting", died_at
        session.commit()
    moment.now += timedelta(minutes=10)  # the wait is over; the step's lease is not
    assert _wait_over(chat.runtime.conversation.watch()) == []

    moment.now += timedelta(minutes=10)
    (told,) = _wait_over(chat.runtime.conversation.watch())
    assert told.to == DirectMessage(DANA)
    assert _flat(told) == (
        f"THE WAIT FOR 1 INVITATION OF {ORG.upper()} IS OVER"
        f" Microsoft never answered 1 invitation sent for {ORG}, so it may have gone out (to {ERIN})."
        " For ten minutes its directory search might not have shown the new guests, and that time is over."
        " The migration still reads inviting, but its step has not moved since 2026-11-30 10:05 UTC: it"
        " stopped without finishing (a restart or a crash), and nothing looks at it until it runs again."
        f" Run `resume {ORG}` now: it looks for each of them in the directory, sends a guest it finds their"
        " own link to accept, with no second email, and invites whoever it does not find. Until then they may"
        f" have no invitation to accept. [Resume: `resume {ORG}`]"
    )
    chat.click(DANA, [told], "Resume")  # the step runs again, and finds her guest
    assert _claim(chat, ERIN).status == "sent"
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}


def _link_not_fetched(chat: Chat, moment: Moment) -> None:
    """Once the wait is over Dana's `invite` finds Erin's guest still to accept, so Microsoft's email went
    out, and only the call for her link fails."""
    moment.now += timedelta(minutes=10)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])  # the link-only call
    _summary(chat)


def test_the_one_reminder_of_someone_whose_invitation_went_out_says_it_did(
    chat: Chat, moment: Moment
) -> None:
    """Her list went out while the answer was lost; the `invite` after the wait shows the email went out.
    Her one reminder to look for it says so, not that it may have gone out."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    _lists_out(chat)
    _link_not_fetched(chat, moment)
    assert _to_erin(chat.runtime.conversation.watch()) == []

    moment.now += timedelta(days=2)  # Wednesday: her reminder is due
    (reminded,) = _to_erin(chat.runtime.conversation.watch())
    assert _flat(reminded) == (
        f"REMINDER: LOOK FOR YOUR INVITATION TO {ORG.upper()} Hi Erin, Microsoft sent your invitation email."
        ' Have you looked for mail from "Microsoft Invitations on behalf of" the company, subject'
        ' "... invited you to collaborate with ...", in junk or spam too? If it is there, select Accept'
        f" invitation and sign in with that address. Meanwhile the migration admins ({DANA}, {LEE}) fetch"
        " your own link to accept it at their next `invite`, with no second email, and I tell you here; this"
        " is the only reminder until then. Say `todo` to see your list."
    )


def test_a_list_not_sent_yet_opens_with_the_invitation_that_went_out(chat: Chat, moment: Moment) -> None:
    """Dana's `notify` queued Erin's list while the answer was lost; before it went out, the `invite` after
    the wait showed her email went out. The list she gets opens with that, not with the admins finding out
    whether it did."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.runtime.service.notify(ORG, chat.person(DANA))  # queued: the outbox has not sent it yet
    moment.now += timedelta(minutes=10)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])  # the link-only call
    invited = chat.say(DANA, f"invite {ORG}", in_dm=True)

    (erin_list,) = _to_erin(invited + chat.runtime.conversation.watch())
    assert _flat(erin_list).startswith(
        f"YOUR TO-DO LIST: {ORG.upper()} NOW SIGNS IN WITH FABRIKAM Hi Erin, {ORG} on Azure DevOps now uses"
        " Fabrikam accounts. Before you can sign in, accept the invitation Microsoft sent you: the first item"
        " says what to look for. The items after it can only be done once you have. Meanwhile the migration"
        f" admins ({DANA}, {LEE}) fetch your own link to accept it at their next `invite`, with no second"
        " email, and I tell you here; I remind you once to look for it. • "
    ), _flat(erin_list)
    assert _first_item(_flat(erin_list)).startswith(
        f"Look for your invitation email {ORG} now signs in with Fabrikam accounts. Microsoft sent your"
        f" invitation to join Fabrikam as a guest to {ERIN}."
    )


def test_the_digest_says_what_each_wait_is_for(chat: Chat, moment: Moment) -> None:
    """Hana and Gus wait for a decision, Frank (refused) for an invitation or a work account, Erin (her
    answer lost) for the next `invite`: the admins' digest says so, not that all wait for a decision."""
    _lists_out(chat)
    _box(chat).set_faults(invitation_faults=["504 after", "403"])
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    moment.now += timedelta(days=3)  # serve was down: its first look is on Thursday, the digest overdue
    looked = chat.runtime.conversation.watch()
    (digest,) = [message for message in looked if "open to-do items" in message.message.summary]
    waits = "2 for your decision, 1 for an invitation or a work account and 1 for your next `invite`"
    assert digest.message.summary == (
        f"7 of 11 people in {ORG} still have open to-do items; nobody has finished yet: the other 4 wait for"
        f" you: {waits}"
    )
    said = _flat(digest)
    assert (
        "3 people wait for you: 2 for your decision and 1 for an invitation or a work account: they can do"
        " nothing on their list until you act."
    ) in said
    assert "1 person waits for your next `invite`: until you act, all their list asks of them is" in said


def test_the_digest_has_the_admins_fetch_the_link_of_an_invitation_that_went_out(
    chat: Chat, moment: Moment
) -> None:
    """Erin's invitation went out, its link lost: the digest says the admins' `invite` fetches it, and that
    she has one thing to do meanwhile and one reminder of it, apart from Hana and Gus, who can do nothing
    until the admins decide."""
    _lists_out(chat)
    _mailed_unlinked(chat, moment)
    digest = _digest_days_later(chat, moment)
    said = _flat(digest)
    assert (
        "2 people wait for your decision: they can do nothing on their list until you act. They heard so"
        " once and get no reminders until then."
    ) in said
    assert (
        "1 person waits for your next `invite`: until you act, all their list asks of them is to look for"
        " their invitation email, in junk or spam too, and I remind them of that once."
    ) in said
    (erin,) = [line.split(maxsplit=3) for line in text_of([digest]).splitlines() if ERIN in line]
    assert erin[3] == "`invite`: it fetches their link, with no second email"


def test_who_ticked_looking_for_their_invitation_waits_no_more_in_the_digest(
    chat: Chat, moment: Moment
) -> None:
    """Erin's email went out, its link lost; she found it, accepted it and ticked *Look for your invitation
    email*: the digest counts her with those who have items open, not among who wait for the admins'
    `invite` while they look for it (8 of 11 open, "the other 3 wait for you: 2 for your decision and 1 for
    your next `invite`")."""
    _lists_out(chat)
    _mailed_unlinked(chat, moment)
    chat.say(ERIN, "done 1", in_dm=True)
    digest = _digest_days_later(chat, moment)
    assert digest.message.summary == (
        f"9 of 11 people in {ORG} still have open to-do items; nobody has finished yet: the other 2 wait for"
        " your decision"
    )
    lines = [line.split() for line in text_of([digest]).splitlines()]
    (erin,) = [line for line in lines if line[:1] == [ERIN] and line[-1:] == ["done"]]
    assert erin[-4:] == ["1", "of", "2", "done"]  # in the table of who has items open


def test_who_ticked_looking_for_an_invitation_not_known_to_have_gone_out_still_waits_in_the_digest(
    chat: Chat, moment: Moment
) -> None:
    """Microsoft's answer to Erin's invitation never came, and it made none; she ticked *Look for your
    invitation email* all the same: only the admins' next `invite` finds out, and sends it, so the digest
    still has her wait for it, as she did before her tick."""
    _lists_out(chat)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    (ticked,) = chat.say(ERIN, "done 1", in_dm=True)
    assert ticked.message.summary == "✅ *Look for your invitation email* done. 1 to go."

    digest = _digest_days_later(chat, moment)
    assert digest.message.summary == (
        f"8 of 11 people in {ORG} still have open to-do items; nobody has finished yet: the other 3 wait for"
        " you: 2 for your decision and 1 for your next `invite`"
    )


def _digest_days_later(chat: Chat, moment: Moment) -> Outgoing:
    """The admins' digest, three days on: its first look since the lists went out is due. The channel's
    names nobody; this is it named, as a migration started in a direct message has it, from the same row."""
    moment.now += timedelta(days=3)
    (digest,) = [m for m in chat.runtime.conversation.watch() if "open to-do items" in m.message.summary]
    assert digest.to == Channel("#aad-migration") and ADDRESS.findall(text_of([digest])) == []
    with chat.runtime.database.session() as session:
        (row,) = session.exec(select(OutboundMessage).where(OutboundMessage.kind == DIGEST_MESSAGE)).all()
        named = envelope_of(OutboundMessage(**{**row.model_dump(), "recipient": DANA}))
    assert named.message.summary == digest.message.summary
    return Outgoing(named.message, named.to)


def _mailed_unlinked(chat: Chat, moment: Moment) -> None:
    """After the lists went out: Erin's invitation answer is lost, and the `invite` once the search is
    believed shows her guest (the email went out) but cannot fetch her link."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    moment.now += timedelta(minutes=10)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])  # the link-only call
    chat.say(DANA, f"invite {ORG}", in_dm=True)


def test_a_closed_list_says_the_invitation_that_went_out_is_the_way_in(chat: Chat, moment: Moment) -> None:
    """Erin's email went out, its link never fetched, when Dana completes the migration: her last word and
    her `todo` say the email is her way in, not that she has none and the admins are finding out."""
    _lists_out(chat)
    _mailed_unlinked(chat, moment)
    done = _completed(chat)
    went_out = (
        "Microsoft sent your invitation email: accept it from there (look in junk or spam too), and you can"
        " sign in."
    )
    closer = f"Dana ({DANA})"
    (last,) = _to_erin(done)
    assert _flat(last).startswith(
        f"THE MOVE OF {ORG.upper()} TO FABRIKAM ACCOUNTS IS CLOSED Hi Erin, {closer} closed the migration of"
        f" {ORG}: I send no more reminders, and nobody follows your list any more. {went_out} Your list as it"
        " stands: 1. Look for your invitation email"
    ), _flat(last)
    (todo,) = chat.say(ERIN, "todo", in_dm=True)
    assert _flat(todo).startswith(
        f"YOUR TO-DO LIST FOR {ORG.upper()}: CLOSED, 2 STILL OPEN {closer} closed the migration of {ORG}: no"
        f" more reminders come, and nobody follows this list any more. {went_out} Ask {closer} if you are"
        " stuck or unsure what still applies. 1. Look for your invitation email"
    ), _flat(todo)
    assert _first_item(_flat(todo)) == (  # no link the admins fetch at their next `invite`: none comes
        f"Look for your invitation email {ORG} now signs in with Fabrikam accounts. Microsoft sent your"
        f' invitation to join Fabrikam as a guest to {ERIN}. Look for mail from "Microsoft Invitations on'
        ' behalf of" the company, subject "... invited you to collaborate with ...", in junk or spam too,'
        f" select Accept invitation, then sign in to https://dev.azure.com/{ORG} with that same address."
        " Until then you cannot sign in (your history is kept). Anything unclear: ask the migration admins."
    )


def test_a_closed_list_drops_the_check_of_an_invitation_that_may_have_gone_out(
    chat: Chat, moment: Moment
) -> None:
    """Erin's answer was lost and the admins had not found out whether her email went out when Dana
    completes the migration: her `todo` no longer says they are checking and send it if none went out."""
    _lists_out(chat)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    _completed(chat)
    (todo,) = chat.say(ERIN, "todo", in_dm=True)
    assert _first_item(_flat(todo)) == (
        f"Look for your invitation email {ORG} now signs in with Fabrikam accounts. Your invitation to join"
        f" Fabrikam as a guest may have gone out to {ERIN}: Microsoft did not confirm it. Look for mail"
        ' from "Microsoft Invitations on behalf of" the company, subject "... invited you to collaborate with'
        ' ...", in junk or spam too, select Accept invitation, then sign in to'
        f" https://dev.azure.com/{ORG} with that same address. Until then you cannot sign in (your history is"
        " kept). Anything unclear: ask the migration admins."
    )


def test_help_with_an_invitation_that_went_out_once_closed_promises_no_invite(
    chat: Chat, moment: Moment
) -> None:
    """Erin's email went out, its link never fetched, when Dana completes the migration: *I need help* on
    her item and her question say the email is her way in, not that the admins' next `invite` fetches her
    link (none runs any more), as her closed list does (fix121 2)."""
    _lists_out(chat)
    _mailed_unlinked(chat, moment)
    _completed(chat)
    went_out = (
        f'Your invitation went out to {ERIN}: Microsoft sent it from "Microsoft Invitations on behalf of" the'
        ' company, subject "... invited you to collaborate with ...". Look in that mailbox, in junk or spam'
        " too, and accept it. The organization is connected: until you accept it, Azure DevOps refuses you."
        " Microsoft's page: https://learn.microsoft.com/entra/external-id/redemption-experience"
    )
    helped = _flat(chat.say(ERIN, "need-help 1", in_dm=True)[0])
    assert helped.startswith(f"HELP WITH: LOOK FOR YOUR INVITATION EMAIL {went_out} I have also told"), helped
    answered = _flat(chat.say(ERIN, "I never got the invitation email", in_dm=True)[0])
    assert answered.startswith(f"Your invitation to the directory {went_out} To reach a person"), answered


def test_an_invitation_that_may_have_gone_out_once_closed_is_checked_by_nobody(
    chat: Chat, moment: Moment
) -> None:
    """Microsoft never confirmed Erin's invitation when Dana completes the migration: her question is
    answered without the admins checking whether it went out, nor their next `invite` sending it
    (fix121 2)."""
    _lists_out(chat)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    _completed(chat)
    answered = _flat(chat.say(ERIN, "I never got the invitation email", in_dm=True)[0])
    assert answered.startswith(
        f"Your invitation to the directory Your invitation may have gone out to {ERIN} on 30 November 2026 at"
        " 10:00 UTC: Microsoft did not confirm it, and the migration is closed, so nobody finds out any more"
        ' nor sends it. Look in that mailbox for mail from "Microsoft Invitations on behalf of" the company,'
        ' subject "... invited you to collaborate with ...", in junk or spam too, and accept it; if none'
        " came, an admin can still invite you by hand, in the Microsoft Entra admin center. The organization"
        " is connected: until you accept it, Azure DevOps refuses you. Microsoft's page: https://learn.microsoft.com/entra/external-id/redemption-experience"
        " To reach a person"
    ), answered


def _completed(chat: Chat) -> list[Outgoing]:
    """Billing moved and Dana completes the migration: what that sends."""
    subscription = chat.runtime.microsoft.organization(ORG).billing_subscription_id
    tenant = str(_box(chat).state()["tenant"]["id"])
    httpx.post(
        f"{_box(chat).url}/_sandbox/subscription", json={"subscriptionId": subscription, "tenantId": tenant}
    ).raise_for_status()
    chat.say(DANA, "check-billing")
    return chat.say(DANA, f"complete {ORG} confirm") + chat.runtime.conversation.watch()


def test_a_ticked_look_for_the_invitation_reads_as_behind_her_live_and_closed(
    chat: Chat, moment: Moment
) -> None:
    """Erin's email went out, its link lost; she found it, accepted it and ticks the item. Her list no longer
    says she cannot sign in until the admins fetch her link at their next `invite`, nor does it once Dana
    completes the migration and nobody runs `invite` for it any more."""
    _lists_out(chat)
    _mailed_unlinked(chat, moment)
    looked = (
        "✅ Look for your invitation email You accepted your invitation, you said: you sign in to"
        f" https://dev.azure.com/{ORG} with the address it came to. More:"
        " https://learn.microsoft.com/entra/external-id/redemption-experience 2. "
    )
    ticked = _flat(chat.say(ERIN, "done 1", in_dm=True)[0])
    assert ticked.startswith(
        "✅ Look for your invitation email done. 1 to go. YOUR TO-DO LIST FOR FABRIKAM-FIBER: 1 OF 2 OPEN, 1"
        f" OPTIONAL {looked}"
    ), ticked
    _completed(chat)
    (todo,) = chat.say(ERIN, "todo", in_dm=True)
    assert f" stuck or unsure what still applies. {looked}" in _flat(todo), _flat(todo)


def test_the_digest_counts_who_waits_out_of_chat_among_those_who_wait(chat: Chat, moment: Moment) -> None:
    """Hana's list found her on no chat surface; she waits for a decision all the same (as Gus does, and
    Erin and Frank for an invitation). The heading counts her among who wait, as the list of who waits names
    her, not apart as out of chat; and it says that she, unlike the others, has not heard of her wait."""
    _lists_out(chat)
    _out_of_chat(chat, HANA)
    digest = _digest_days_later(chat, moment)
    waits = "2 for your decision and 2 for an invitation or a work account"
    assert digest.message.summary == (
        f"7 of 11 people in {ORG} still have open to-do items; nobody has finished yet: the other 4 wait for"
        f" you: {waits}"
    )
    said = _flat(digest)
    assert (
        f"4 people wait for you: {waits}: they can do nothing on their list until you act. 3 people heard so"
        " once and get no reminders until then; 1 person is not in chat and has not heard: tell them another"
        " way. user name your step to-do list"
    ) in said
    assert _to_do_list_cells(digest) == {HANA: "not in chat", GUS: "sent", ERIN: "sent", FRANK: "sent"}
    assert "Not counted" not in said


def test_the_digest_says_who_waits_out_of_chat_has_not_heard_to_look(chat: Chat, moment: Moment) -> None:
    """Erin's invitation went out, its link lost, and her list found her on no chat surface: neither it nor
    the one reminder to look for the email reached her, so the digest has the admins tell her, not that she
    is reminded once."""
    _lists_out(chat)
    _out_of_chat(chat, ERIN)
    _mailed_unlinked(chat, moment)
    digest = _digest_days_later(chat, moment)
    assert (
        "1 person waits for your next `invite`: until you act, all their list asks of them is to look for"
        " their invitation email, in junk or spam too. They are not in chat and have not heard: tell them"
        " another way. user name your step to-do list"
    ) in _flat(digest)


def test_the_digest_says_of_one_who_waits_that_their_one_list_failed(chat: Chat, moment: Moment) -> None:
    """Erin alone waits for the next `invite`, and her list failed: the digest speaks of her one list."""
    _lists_out(chat)
    _list_stands(chat, ERIN, "failed", "channel_not_found")
    _mailed_unlinked(chat, moment)
    digest = _digest_days_later(chat, moment)
    assert (
        "1 person waits for your next `invite`: until you act, all their list asks of them is to look for"
        " their invitation email, in junk or spam too. They have not heard: their to-do list failed, and"
        " Retry failed sends it again. user name your step to-do list"
    ) in _flat(digest)


def test_the_digest_says_only_who_waits_with_a_list_sent_heard_so_and_retries_the_others(
    chat: Chat, moment: Moment
) -> None:
    """Of who wait, Gus's list is still queued, Hana's failed and Frank's Teams could not confirm: only Erin
    heard of her wait. The digest tells them apart in `progress`'s words, and its *Retry failed* sends
    Hana's and Frank's lists again."""
    _lists_out(chat)
    _list_stands(chat, GUS, "queued", None, later=timedelta(days=30))
    _list_stands(chat, HANA, "failed", "channel_not_found")
    _list_stands(chat, FRANK, "sent", UNCONFIRMED)
    digest = _digest_days_later(chat, moment)
    assert (
        "4 people wait for you: 2 for your decision and 2 for an invitation or a work account: they can do"
        " nothing on their list until you act. 1 person heard so once and gets no reminders until then;"
        " 1 person has not heard yet: their to-do list is queued; 1 person has not heard: their to-do list"
        " failed, and Retry failed sends it again; 1 person may not have heard: their to-do list may have"
        " arrived or not, and Retry failed sends it again. user name your step to-do list"
    ) in _flat(digest)
    assert _to_do_list_cells(digest) == {
        GUS: "queued",
        HANA: "failed",
        FRANK: "may have arrived",
        ERIN: "sent",
    }
    (retried, *lists) = chat.click(DANA, [digest], "Retry failed")
    assert _flat(retried) == (
        f"Queued again 2 to-do lists of {ORG} that failed or may not have arrived; sending now."
    )
    assert {message.to for message in lists} == {DirectMessage(HANA), DirectMessage(FRANK)}


def test_the_digest_names_a_straggler_whose_list_may_not_have_arrived_with_retry_failed(
    chat: Chat, moment: Moment
) -> None:
    """Ivan has open items and his list Teams could not confirm: the digest says so as `progress` does, with
    its *Retry failed* (his reminder, which goes with the digest, may reach him first)."""
    _lists_out(chat)
    _list_stands(chat, IVAN, "sent", UNCONFIRMED)
    digest = _digest_days_later(chat, moment)
    assert (
        f"1 to-do list may have reached 1 person or not: {IVAN}. Each was handed to chat, which did not"
        " confirm it (the bot stopped, or chat's answer never came or was an error), and no history can be"
        " read to check it (Teams keeps none a bot can read; Slack's needs the app's history scopes), so it"
        " is not sent again on its own. Retry failed sends each again, saying it is sent again in case the"
        " first did not arrive. 4 people wait for you"
    ) in _flat(digest)
    assert [(button.label, button.action) for button in digest.message.buttons] == [
        ("Retry failed", "retry-failed")
    ]


def test_the_digest_names_a_straggler_whose_list_failed_with_retry_failed(chat: Chat, moment: Moment) -> None:
    """Ivan has open items and his list failed: the digest names him, as `progress` does, with its *Retry
    failed*, which sends his list again."""
    _lists_out(chat)
    _list_stands(chat, IVAN, "failed", "channel_not_found")
    digest = _digest_days_later(chat, moment)
    assert (
        f"1 to-do list failed to reach 1 person: {IVAN}. Retry failed sends each again. 4 people wait for you"
    ) in _flat(digest)
    assert [(button.label, button.action) for button in digest.message.buttons] == [
        ("Retry failed", "retry-failed")
    ]
    (retried, *lists) = chat.click(DANA, [digest], "Retry failed")
    assert (
        _flat(retried)
        == f"Queued again 1 to-do list of {ORG} that failed or may not have arrived; sending now."
    )
    assert [message.to for message in lists] == [DirectMessage(IVAN)]


def test_who_waits_and_left_chat_since_their_list_reached_them_heard_and_is_told_another_way(
    chat: Chat, moment: Moment
) -> None:
    """Hana's list reached her; a reminder since found her on no chat surface (she left). The digest says
    her list told her, and that chat cannot reach her now, not that she never heard; `progress` marks her
    list sent and her out of chat now."""
    _lists_out(chat)
    _reminder_out_of_chat(chat, HANA)
    digest = _digest_days_later(chat, moment)
    assert (
        "4 people wait for you: 2 for your decision and 2 for an invitation or a work account: they can do"
        " nothing on their list until you act. 3 people heard so once and get no reminders until then;"
        " 1 person heard from their to-do list, but chat cannot reach them now: tell them another way. user"
        " name your step to-do list"
    ) in _flat(digest)
    assert _to_do_list_cells(digest)[HANA] == "sent, not in chat now"
    (progress, *_csv) = chat.say(DANA, f"progress {ORG}")
    said = _flat(progress)
    assert "To-do lists: 10 sent, 1 sent, not in chat now." in said, said
    assert (
        "1 person cannot be reached in chat (the reason says why); reach them another way (the attached list"
        " has their addresses, marked `sent, not in chat now`)."
    ) in said


def _reminder_out_of_chat(chat: Chat, address: str) -> None:
    """After the list sent to `address` reached them, a reminder found them on no chat surface."""
    with chat.runtime.database.session() as session:
        sent = session.exec(
            select(OutboundMessage).where(
                OutboundMessage.kind == "todo_list", OutboundMessage.recipient == address
            )
        ).one()
        reminder = OutboundMessage(
            idempotency_key=f"{sent.idempotency_key}:reminder",
            migration_id=sent.migration_id,
            recipient=address,
            kind="todo_reminder",
            payload={"affected_user_id": sent.payload["affected_user_id"]},
            status="failed",
            error_code="not_in_chat",
            last_error="no account in Slack or Teams",
            not_before=sent.not_before,
            created_at=sent.created_at,
        )
        session.add(reminder)
        session.commit()


def _to_do_list_cells(digest: Outgoing) -> dict[str, str]:
    """Each row of the digest's tables of who wait: its user, and its last cell (where their list stands)."""
    return {
        row[0]: row[-1]
        for block in digest.message.blocks
        if isinstance(block, Table) and block.header[-1] == "to-do list"
        for row in block.rows
    }


def _out_of_chat(chat: Chat, address: str) -> None:
    """The list sent to `address` found them on no chat surface."""
    _list_stands(chat, address, "failed", "not_in_chat")


def _list_stands(
    chat: Chat, address: str, status: str, error_code: str | None, later: timedelta = timedelta(0)
) -> None:
    """The list sent to `address` left as `status` with `error_code`, tried again `later` if queued."""
    with chat.runtime.database.session() as session:
        sent = session.exec(
            select(OutboundMessage).where(
                OutboundMessage.kind == "todo_list", OutboundMessage.recipient == address
            )
        ).one()
        sent.status, sent.error_code = status, error_code
        sent.not_before += later
        session.commit()


def _look_reminder_queued(chat: Chat, moment: Moment, lost: str = "504 after") -> None:
    """Erin's list went out while her answer was `lost`; on Wednesday her one reminder to look for it is
    queued, and the outbox has not sent it yet."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=[lost])
    _summary(chat)
    _lists_out(chat)
    moment.now += timedelta(days=2)
    chat.runtime.tracking.tick()


def test_a_reminder_to_look_queued_before_invite_showed_the_email_went_out_says_it_did(
    chat: Chat, moment: Moment
) -> None:
    _look_reminder_queued(chat, moment)
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504"])  # the link-only call
    said = chat.say(DANA, f"invite {ORG}", in_dm=True) + chat.runtime.conversation.watch()
    (reminded,) = _to_erin(said)
    assert _flat(reminded).startswith(
        f"REMINDER: LOOK FOR YOUR INVITATION TO {ORG.upper()} Hi Erin, Microsoft sent your invitation email."
    ), _flat(reminded)


def test_a_reminder_to_look_queued_before_invite_fetched_the_link_is_not_sent(
    chat: Chat, moment: Moment
) -> None:
    """The `invite` sends her her link: she hears that, not a reminder to look that says the admins are
    still finding out."""
    _look_reminder_queued(chat, moment)
    _box(chat).set_faults(directory_lag=LAG.total_seconds())
    said = chat.say(DANA, f"invite {ORG}", in_dm=True) + chat.runtime.conversation.watch()
    assert [m.message.summary for m in _to_erin(said)] == [
        f"You are invited to Fabrikam: {ORG} is open to you again"
    ]


def test_a_reminder_to_look_queued_before_invite_was_refused_is_not_sent(chat: Chat, moment: Moment) -> None:
    """None went out after all: she hears that, not a reminder to look for it."""
    _look_reminder_queued(chat, moment, lost="504")
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["403"])
    said = chat.say(DANA, f"invite {ORG}", in_dm=True) + chat.runtime.conversation.watch()
    assert [m.message.summary for m in _to_erin(said)] == ["No invitation to Fabrikam went out to you"]


@pytest.mark.parametrize(
    ("lost", "learned"),
    [("504 after", ["504"]), ("504", ["403"])],
    ids=["rewritten: the email went out", "withdrawn: none went out"],
)
def test_a_reminder_to_look_a_worker_claimed_before_invite_changed_it_is_not_sent_by_that_worker(
    chat: Chat, moment: Moment, lost: str, learned: list[str]
) -> None:
    """A worker had claimed Erin's reminder to look (with what was known then) when `invite` learned more:
    its send does not begin, so what she gets is what `invite` made of it."""
    _look_reminder_queued(chat, moment, lost)
    database, lease = chat.runtime.database, timedelta(minutes=5)
    claimed = claim_due(database, worker="w1", now=moment.now, lease=lease, limit=1000)
    (reminder,) = [m for m in claimed if m.kind == "todo_reminder" and m.payload["email"] == ERIN]
    assert reminder.id is not None
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=learned)
    chat.say(DANA, f"invite {ORG}", in_dm=True)
    assert begin_send(database, reminder.id, worker="w1", now=moment.now, lease=lease) is False


def test_a_lost_answer_then_a_cancel_and_a_new_start_mails_nobody_a_second_invitation(
    chat: Chat, moment: Moment
) -> None:
    """Microsoft did invite Erin, but its answer was lost; Dana cancels and starts again at once. The new
    plan, read from a search that does not show her guest yet, counts her to invite, and no guest id was
    recorded to read her by: the new migration waits for the search as the cancelled one would have, and
    then sends her link alone (fix145's gap)."""
    _box(chat).set_faults(directory_lag=LAG.total_seconds(), invitation_faults=["504 after"])
    _summary(chat)
    chat.say(DANA, f"cancel {ORG}")
    moment.now += timedelta(minutes=1)
    chat.say(DANA, f"/aad start {ORG} fabrikam.com")

    again = _summary(chat)
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}
    assert again.startswith(
        f"1 already in the directory, 1 with no answer from Microsoft. No answer: {ERIN}: no answer came, so"
        " the invitation may have gone out (Microsoft Graph answered HTTP 504 to POST"
        " graph.microsoft.com/v1.0/invitations); run `invite` again after 2026-11-30 10:10 UTC."
    ), again

    moment.now += timedelta(minutes=9)  # the search shows her guest, still to accept
    assert _summary(chat) == "1 invited, 1 invited earlier."  # her link alone; his claim found before
    assert invitation_emails(chat) == {ERIN: 1, FRANK: 1}
    with chat.runtime.database.session() as session:
        claims = session.exec(select(Invitation).where(Invitation.email == ERIN)).all()
    assert [(claim.status, claim.result) for claim in claims][-1] == ("sent", RECOVERED)
    assert claims[-1].redeem_url is not None
