"""What the bot answers "I never got the invitation email" with: what the migration recorded of the person
asking, their invitation (sent when, to which address, accepted or not), or why they need none."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.console.chat import run_chat
from bot.console.rehearsal import RehearsalClock
from bot.conversation.messages import Reply
from bot.runtime import Runtime
from sandbox import Sandbox
from storage import Database
from tests.bot.conftest import ORG, Chat, notified, started, text_of
from tests.fakes.runtimes import runtime_on
from workflows.todo import ACCEPT_INVITATION

DANA, ERIN, KIM, BOB = (
    "dana@fabrikam.com",
    "erin.eng@gmail.com",
    "kim@fabrikam.com",
    "bob.builder@outlook.com",
)
OUTSIDER = "zoe@contoso.com"
"""On no migration's plan and in no migration's channel."""
FRIDAY_AFTERNOON = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
MISSING = (
    "I never got the invitation email",
    "I didn't receive an invite",
    "I can't find the invitation email anywhere",
    "my invitation link has expired",
    "where is my invitation?",
    "I still haven't received the Microsoft invitation, what should I do?",
)
"""Ways people say it, written before the bot was asked any of them."""
NEAR_DOMAIN = (
    "how do I invite a guest?",
    "the invitation email to our vendor bounced",
    "I can't find the invite settings in Entra",
    "I invited a contractor but he never got the invitation",
    "I never got the invites out, Graph says 403 Forbidden Authorization_RequestDenied",  # review1
    "has my invitation been sent to the contractor?",
)
TITLE = "Your invitation to the directory"
SENT = re.compile(r"Your invitation was sent on \d{1,2} \w+ \d{4} at \d\d:\d\d UTC to (\S+)\. It comes from")


def flat(text: str) -> str:
    return " ".join(text.split())


def asked(chat: Chat, who: str, question: str) -> str:
    return flat(text_of(chat.say(who, question, in_dm=True)))


@pytest.fixture
def runtime(sqlite_database: Database, box: Sandbox) -> Iterator[Runtime]:
    built = runtime_on(box, sqlite_database, clock=RehearsalClock(real=lambda: FRIDAY_AFTERNOON))
    try:
        yield built
    finally:
        built.close()


def test_in_a_rehearsal_the_invited_person_hears_when_and_where_her_invitation_went(runtime: Runtime) -> None:
    typed = [
        "start fabrikam-fiber fabrikam.com",
        ":as erin.eng@gmail.com",
        f":dm {MISSING[0]}",
        ":as dana@fabrikam.com",
        "invite",
        ":later 1d",  # asked the next day: the date is the sending's, not today's
        ":as erin.eng@gmail.com",
        *(f":dm {question}" for question in MISSING),
    ]
    out = io.StringIO()
    clock = RehearsalClock(real=lambda: FRIDAY_AFTERNOON)
    assert run_chat(runtime, DANA, io.StringIO("\n".join(typed) + "\n"), out, clock=clock) == 0
    _, before, _, answers = flat(out.getvalue()).split("(now speaking as")  # Erin, Dana, Erin again
    assert (
        f"{TITLE} Your invitation has not been sent yet. The admins send the invitations before they ask for"
        " approval to connect the organization. It goes to erin.eng@gmail.com."
    ) in before
    own_case = (
        "Your invitation was sent on 27 November 2026 at 15:00 UTC to erin.eng@gmail.com. It comes from"
        ' "Microsoft Invitations on behalf of" the company, subject "... invited you to collaborate with'
        ' ...", with an Accept invitation button. Search erin.eng@gmail.com\'s mailbox for "Microsoft'
        ' Invitations", in junk or spam too; if your mail is filtered, ask your mail administrator whether it'
        " is held in quarantine."
    )
    assert answers.count(own_case) == len(MISSING), answers
    for told in (
        "you need no email to accept it. Your own link to accept it is https://",  # asked privately
        "open it and sign in with erin.eng@gmail.com (keep it to yourself, it is your invitation). Or: Open"
        " https://myapps.microsoft.com/?tenantid=",
        "sign in with erin.eng@gmail.com and accept the prompt from Fabrikam; or press Ask an admin and the"
        " admins send it again.",
        "Until the organization is connected nothing changes: keep signing in as you do today",
        "Microsoft's page: https://learn.microsoft.com/entra/external-id/redemption-experience",
        "[Ask an admin: `ask-admin",
    ):
        assert answers.count(told) == len(MISSING), told


def test_after_connecting_the_invitee_is_told_her_invitation_then_that_she_accepted_it(chat: Chat) -> None:
    notified(chat)
    for question in MISSING:
        answer = asked(chat, ERIN, question)
        assert answer.startswith(f"{TITLE} Your invitation was sent on"), (question, answer[:200])
        found = SENT.search(answer)
        assert found is not None and found.group(1) == ERIN, answer[:200]
        assert (
            "Azure DevOps lets you in once you have accepted it: then sign in to"
            " https://dev.azure.com/fabrikam-fiber with erin.eng@gmail.com, not a work account."
        ) in answer
    keys = [entry.key for entry in chat.runtime.service.todo_list(ERIN)]
    ticking = flat(text_of(chat.say(ERIN, f"done {keys.index(ACCEPT_INVITATION) + 1}", in_dm=True)))
    assert ticking.startswith("✅ Accept the invitation to the directory done."), ticking
    ticked = asked(chat, ERIN, MISSING[0])  # her own word only
    assert ticked.startswith(
        f"{TITLE} Your to-do list shows Accept the invitation ticked: if you accepted it, just sign in to"
        " https://dev.azure.com/fabrikam-fiber with erin.eng@gmail.com, not a work account. Refused? It may"
        " not be accepted after all. Open https://myapps.microsoft.com/?tenantid="
    ), ticked[:300]
    assert "You have accepted" not in ticked and "guest of Fabrikam" not in ticked
    sandbox = chat.runtime.sandbox
    assert sandbox is not None
    httpx.post(
        f"{sandbox.url}/_sandbox/signin", json={"organization": ORG, "principalName": ERIN}
    ).raise_for_status()
    chat.runtime.conversation.watch()  # the sign-in checks see her in: her invitation is accepted
    assert asked(chat, ERIN, MISSING[0]).startswith(
        f"{TITLE} You have accepted your invitation already: you signed in as erin.eng@gmail.com, a guest of"
        " Fabrikam. Just sign in to https://dev.azure.com/fabrikam-fiber with erin.eng@gmail.com, not a work"
        " account."
    )


def test_asked_in_the_channel_her_own_invitation_is_answered_for_her_eyes_only(chat: Chat) -> None:
    notified(chat)
    shown_from = len(chat.out.getvalue())
    (reply,) = chat.say(ERIN, MISSING[0])  # in the migration's channel
    assert reply.message.private and isinstance(reply.to, Reply)
    assert SENT.search(flat(text_of([reply]))) is not None  # still her own case, address and all
    assert "(only you see this)" in chat.out.getvalue()[shown_from:]
    (general,) = chat.say(ERIN, "how do I clear the git credential cache?")
    assert not general.message.private  # nothing of hers in it: the channel may read it
    # "I can't sign in anymore" names her invitation's address too; Kim's says which account she has
    for who in (ERIN, KIM):
        (locked_out,) = chat.say(who, "I can't sign in anymore")
        assert locked_out.message.private, who


def test_an_invitee_who_cannot_sign_in_after_connecting_hears_where_her_invitation_stands(chat: Chat) -> None:
    notified(chat)
    for question in ("I can't sign in anymore", "I cannot sign in to Azure DevOps anymore"):
        answer = asked(chat, ERIN, question)
        assert answer.startswith("Locked out right after connecting or switching the directory"), answer[:200]
        found = re.search(
            r"Yours was sent on [^.]+ to (\S+) and is not accepted yet\. Cannot find it\? Open", answer
        )
        assert found is not None and found.group(1) == ERIN, answer
    assert "Yours was sent" not in asked(chat, KIM, "I can't sign in anymore")  # mapped: no invitation


def test_someone_the_plan_maps_to_a_work_account_hears_they_need_no_invitation(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    for question in MISSING:
        assert asked(chat, KIM, question).startswith(
            f"{TITLE} You need no invitation: you have a work account in the directory, and the plan matched"
            " you to it. Once the organization is connected you sign in with it; until then nothing changes."
        ), question
        assert asked(chat, BOB, question).startswith(
            f"{TITLE} You need no invitation: the plan found you already a guest of the directory, with your"
            " own address."
        ), question


def test_the_admin_hears_her_own_case_and_how_to_resend_someone_elses(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    answer = asked(chat, DANA, MISSING[0])
    assert answer.startswith(f"{TITLE} You need no invitation: you have a work account in the directory")
    assert (
        "Admin tip: someone else's invitation missing? `/aad status` shows who was invited; resend it in the"
        " Microsoft Entra admin center > Users > their guest account > B2B collaboration > Resend invitation."
    ) in answer
    assert "Admin tip" not in asked(chat, KIM, MISSING[0])
    assert "Invite settings take 15 to 60 minutes" not in answer  # not the admins' topic about settings


def test_someone_outside_any_migration_hears_both_cases_briefly(chat: Chat) -> None:
    started(chat)
    for question in MISSING:
        answer = asked(chat, OUTSIDER, question)
        assert answer.startswith(f"{TITLE} Whether you get one depends on your case:"), question
        assert "- You have a work account in the company's directory" in answer
        assert "- Your address is not the company's" in answer
        assert "sent on" not in answer and "Ask an admin" not in answer


def test_an_invitee_the_admins_have_not_invited_after_connecting_is_told_so(chat: Chat) -> None:
    chat.portal_connect()  # someone connected it before the bot was asked: nobody invited yet
    started(chat)
    answer = asked(chat, ERIN, MISSING[2])
    assert answer.startswith(
        f"{TITLE} Your invitation has not been sent yet. Press Ask an admin and the admins send it"
        " (`invite`). It goes to erin.eng@gmail.com. The organization is connected:"
        " until you accept it, Azure DevOps refuses you."
    ), answer[:300]


def test_near_domain_invitation_questions_are_not_taken_for_the_askers_own(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    for who in (ERIN, DANA, OUTSIDER):
        for question in NEAR_DOMAIN:
            assert TITLE not in asked(chat, who, question), (who, question)
