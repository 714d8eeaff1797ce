"""Saying "I can't sign in anymore" in a migration that is not connected yet, stage by stage: the move has
not changed the asker's sign-in (where the migration stands, the date announced, the account they sign in with
today); while the admin clicks Connect, that it may be the switch. And the *I need help* of *Accept the
invitation*, with the person's own invitation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.conversation.messages import Text
from storage import Database
from tests.bot.conftest import DANA, ORG, Chat, approved, notified, started, text_of
from tests.storage.statements import statements, verbs

KIM, ERIN, BOB = "kim@fabrikam.com", "erin.eng@gmail.com", "bob.builder@outlook.com"
OUTSIDER = "zoe@contoso.com"
"""On no migration's plan and in no migration's channel."""
SIGNS_IN_TODAY = {KIM: "kim@fabrikam-old.com", ERIN: ERIN, BOB: BOB}
"""The Microsoft account each signs in with before connecting (the scenario's Azure DevOps users)."""
CANNOT_SIGN_IN = (
    "I can't sign in anymore",
    "I cannot log in to Azure DevOps",
    "it won't let me log in",
    "I can no longer access the organization",
)
"""Ways people say it, written before the bot was asked any of them."""
SOMETHING_ELSE = (
    "Git can't sign in anymore",
    "I can't sign in to Visual Studio",
    "I can't sign in to my laptop anymore",
    "how do I sign in after the change",
)
NOT_CHANGED = "Your sign-in has not changed"
LOCKED_OUT = "Locked out right after connecting or switching the directory"


def flat(text: str) -> str:
    return " ".join(text.split())


def asked(chat: Chat, who: str, question: str) -> str:
    return flat(text_of(chat.say(who, question, in_dm=True)))


def not_changed(who: str, where_it_stands: str) -> str:
    return (
        f"{NOT_CHANGED} The move has not changed your sign-in: {ORG} is not connected to the new directory"
        f" yet ({where_it_stands}). Until then you sign in to https://dev.azure.com/{ORG} as today, with"
        f" {SIGNS_IN_TODAY[who]}. What usually causes it instead:"
    )


def test_before_connecting_each_person_hears_their_sign_in_has_not_changed_stage_by_stage(chat: Chat) -> None:
    started(chat)
    for who in (KIM, ERIN, BOB):
        for question in CANNOT_SIGN_IN:
            answer = asked(chat, who, question)
            assert answer.startswith(
                not_changed(who, "the admins have made the plan; no date is announced yet")
            ), (who, question, answer[:300])
            assert (
                "Microsoft's page: https://learn.microsoft.com/en-us/azure/devops/user-guide/troubleshoot-connection"
                in answer
            )
            assert "[Ask an admin: `ask-admin" in answer
    when = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    chat.say(DANA, f"announce {ORG} {when}")
    announced = f"it is announced for {when}"
    assert asked(chat, KIM, CANNOT_SIGN_IN[0]).startswith(
        not_changed(KIM, f"the admins have made the plan; {announced}")
    )
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")
    assert chat.state() == "awaiting_approval"
    assert asked(chat, ERIN, CANNOT_SIGN_IN[1]).startswith(
        not_changed(ERIN, f"the admins are waiting for an approval to connect it; {announced}")
    )


def test_once_connect_is_approved_each_signs_in_as_today_until_told_and_hears_how_after(
    chat: Chat,
) -> None:
    approved(chat)
    assert chat.state() == "connecting"

    def opening(who: str) -> str:
        return (
            f"{LOCKED_OUT} Connecting {ORG} to the new directory is approved, and an admin makes the switch"
            " in its settings. Until I send you your to-do list, which says it is connected, sign in to"
            f" https://dev.azure.com/{ORG} as today, with {SIGNS_IN_TODAY[who]}. Once it is connected, sign"
            " in as below: only members or guests of the new directory get in, and a guest keeps signing in"
            " with their own address."
        )

    kim = asked(chat, KIM, CANNOT_SIGN_IN[0])
    assert kim.startswith(opening(KIM)), kim[:400]
    assert "You have a work account in the directory: sign in with it" in kim
    erin = asked(chat, ERIN, CANNOT_SIGN_IN[2])
    assert erin.startswith(opening(ERIN)), erin[:400]
    assert "wait a few minutes" not in (kim + erin).casefold()
    found = re.search(r"Yours was sent on [^.]+ to (\S+) and is not accepted yet\.", erin)
    assert found is not None and found.group(1) == ERIN, erin


def test_the_date_that_now_stands_is_the_one_each_person_hears_also_when_an_earlier_one_returns(
    chat: Chat,
) -> None:
    started(chat)
    friday, monday = ((datetime.now(UTC).date() + timedelta(days=days)).isoformat() for days in (7, 10))
    for when in (friday, monday, friday):
        chat.say(DANA, f"announce {ORG} {when}")
    assert asked(chat, KIM, CANNOT_SIGN_IN[0]).startswith(
        not_changed(KIM, f"the admins have made the plan; it is announced for {friday}")
    )
    notices = [
        text_of([message])
        for where, message in chat.surface.delivered
        if where == f"→ DM to {SIGNS_IN_TODAY[KIM]}" and text_of([message]).lstrip().startswith("COMING")
    ]
    assert [friday in notice for notice in notices] == [True, False, True], notices


def test_someone_in_the_channel_the_plan_does_not_name_is_told_so(chat: Chat) -> None:
    started(chat)
    answer = flat(text_of(chat.say(OUTSIDER, CANNOT_SIGN_IN[0])))
    assert answer.startswith(
        f"The migration's plan does not name you The plan for moving {ORG} to the new directory does not"
        " name you:"
    ), answer[:300]
    assert "has not changed" not in answer and "Ask an admin" in answer


def test_an_invitees_trouble_accepting_her_invitation_gets_her_invitation(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    answer = asked(chat, ERIN, "I can't accept the invitation, it won't let me sign in")
    sent = re.search(r"Your invitation was sent on [^.]+ to (\S+)\.", answer)
    assert answer.startswith("Your invitation to the directory Your invitation was sent on"), answer[:300]
    assert sent is not None and sent.group(1) == ERIN
    assert NOT_CHANGED not in answer


def test_a_plain_question_reads_no_announcement_and_a_sign_in_question_reads_it_by_exact_keys(
    chat: Chat, sqlite_database: Database
) -> None:
    started(chat)
    chat.say(DANA, f"announce {ORG} {(datetime.now(UTC).date() + timedelta(days=7)).isoformat()}")
    with statements(sqlite_database) as plain:
        asked(chat, KIM, "how do I clear the git credential cache?")
    with statements(sqlite_database) as sign_in:
        asked(chat, KIM, CANNOT_SIGN_IN[0])
    # The answer asks whether Kim is an admin. The admin gate's memory is in the database: her first
    # look-up is a read, then a DELETE of nothing taking SQLite's write lock, a read and an INSERT
    # counting it as it begins, then a DELETE and an UPDATE refusing it; the second is answered from that
    # memory in a read.
    # What the admins taught the FAQ is read once, in one statement (it was four reads of two).
    assert verbs(plain) == {"SELECT": 7 + 2, "DELETE": 2, "INSERT": 1, "UPDATE": 1}, plain
    assert verbs(sign_in) == {"SELECT": 9 + 1}, sign_in
    read = [statement for statement in sign_in if "outbound_message" in statement]
    assert len(read) == 1 and " LIKE " not in read[0] and "idempotency_key IN" in read[0], read


def test_outside_any_migration_and_for_another_application_nothing_changes(chat: Chat) -> None:
    started(chat)
    for question in CANNOT_SIGN_IN[:2]:
        assert asked(chat, OUTSIDER, question).startswith("Sorry, I don't know the answer to that one.")
    for who in (KIM, ERIN):
        for question in SOMETHING_ELSE:
            answer = asked(chat, who, question)
            assert not answer.startswith((NOT_CHANGED, f"{LOCKED_OUT} The admins are connecting")), question


def test_help_with_accepting_the_invitation_gives_her_own_invitation_in_the_faqs_words(chat: Chat) -> None:
    lists = notified(chat)
    sandbox = chat.runtime.sandbox
    assert sandbox is not None
    tenant = str(sandbox.state()["tenant"]["id"])
    erin = [message for message in lists if getattr(message.to, "email", None) == ERIN]
    helped = chat.click(ERIN, erin, "I need help")
    told = flat(text_of(helped[:1]))
    sent = re.search(r"Your invitation was sent on \d{1,2} \w+ \d{4} at \d\d:\d\d UTC to (\S+)\.", told)
    assert told.startswith("HELP WITH: ACCEPT THE INVITATION TO THE DIRECTORY Your invitation was sent on"), (
        told
    )
    assert sent is not None and sent.group(1) == ERIN
    for fact in (
        f"Open https://myapps.microsoft.com/?tenantid={tenant}, sign in with {ERIN} and accept the prompt",
        "or ask the migration admins to send it again.",  # asking for help told them: no button to press
        "Azure DevOps lets you in once you have accepted it: then sign in to"
        f" https://dev.azure.com/{ORG} with {ERIN}, not a work account.",
        "I have also told the migration admins",
    ):
        assert fact in told, fact
    assert "Ask an admin" not in told
    # the same sentences as the answer to "I never got the invitation email", from one place
    faq = asked(chat, ERIN, "I never got the invitation email")
    assert sent.group(0) in faq and 'Search erin.eng@gmail.com\'s mailbox for "Microsoft Invitations"' in faq


def test_help_with_another_item_is_still_its_topics_answer(chat: Chat) -> None:
    lists = notified(chat)
    kim = [message for message in lists if getattr(message.to, "email", None) == KIM]
    told = flat(text_of(chat.click(KIM, kim, "I need help")[:1]))
    assert told.startswith("HELP WITH:") and "Your invitation" not in told


def test_a_reply_to_the_advance_notice_asking_what_is_happening_gets_their_case_in_short(chat: Chat) -> None:
    """walk33 finding 13: "hi, what is happening?" answering the notice got "Sorry, I don't know"."""
    started(chat)
    when = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    chat.say(DANA, f"announce {ORG} {when}")
    for who in (KIM, BOB):
        answer = asked(chat, who, "hi, what is happening?")
        assert answer.startswith(
            f"What is happening for you {ORG} is moving to the company directory, Microsoft Entra ID"
            f" (formerly Azure Active Directory): it is announced for {when}. Until it is connected you"
            f" sign in to https://dev.azure.com/{ORG} as today, with {SIGNS_IN_TODAY[who]}. You keep"
            f" access to {ORG}, with your work and history. What you must do:"
        ), (who, answer[:400])
        assert "I send you your own to-do list by direct message once it is connected." in answer
        assert "Sorry, I don't know" not in answer
    assert "An admin maps your old identity to your work account by hand" in asked(
        chat, KIM, "what's going on?"
    )
    assert "keep signing in with your own address" in asked(chat, BOB, "what's going on?")
    assert asked(chat, OUTSIDER, "hi, what is happening?").startswith("Sorry, I don't know")


IVAN = "ivan@fabrikam.com"
"""Keeps access: his Microsoft account and his directory account share one address."""
ABOUT_THEMSELVES = ("what happens to me?", "what happens to my account?", "will I lose access?")
"""walk34's first questions after a notice, each declined or answered with the lock-out advice before."""


def test_first_questions_after_the_notice_get_the_askers_own_case(chat: Chat) -> None:
    """walk34 finding 4: "what happens to me?" and "what happens to my account?" got "Sorry, I don't
    know"; Ivan, who keeps access, asking "will I lose access?" got the lock-out advice for whoever clicks
    Connect. So did Zoe, whom the plan does not name (or "I don't know"): she hears that she is not among the
    organization's users, privately in the channel."""
    started(chat)
    when = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    chat.say(DANA, f"announce {ORG} {when}")
    coming = (
        f"What is happening for you {ORG} is moving to the company directory, Microsoft Entra ID (formerly"
        f" Azure Active Directory): it is announced for {when}. Until it is connected you sign in to"
        f" https://dev.azure.com/{ORG} as today, with"
    )
    for question in ABOUT_THEMSELVES:
        assert asked(chat, IVAN, question).startswith(
            f"{coming} {IVAN}. You keep access to {ORG}, with your work and history. What you must do:"
            " nothing before the switch; after it, sign in with your work account"
        ), question
        assert asked(chat, ERIN, question).startswith(
            f"{coming} {ERIN}. You keep access to {ORG} once you accept your invitation. Your work and"
            " history are kept. What you must do: accept your invitation to the directory as a guest"
        ), question
        # not "I don't know", nor the lock-out advice: the bot does not see them among the users
        assert asked(chat, OUTSIDER, question).startswith(
            f"What is happening for you I do not see you among the Azure DevOps users of {ORG}, which I"
            " read to plan its move to the company directory, Microsoft Entra ID (formerly Azure Active"
            f" Directory). Most likely you are not a user of {ORG}, or no longer"
        ), question
    in_the_channel = chat.say(OUTSIDER, "will I lose access?")
    assert [outgoing.message.private for outgoing in in_the_channel] == [True]  # their case, for them alone
    answer = in_the_channel[0].message.blocks[0]
    # asked in the channel: the admins' addresses are for a direct message (walk39 d)
    assert isinstance(answer, Text) and answer.markdown.splitlines()[-1] == (
        "To reach a person, press *Ask an admin* and I pass your question to the admins of the"
        f" {ORG} migration, or ask me in a direct message for their addresses to write to."
    )


def test_what_happens_to_their_pull_requests_is_what_the_move_keeps(chat: Chat) -> None:
    """walk34 finding 4: "what happens to my pull requests?" was declined, though the topic exists."""
    started(chat)
    for who in (IVAN, KIM, OUTSIDER):
        for question in ("what happens to my pull requests?", "will we lose our work items and history?"):
            assert asked(chat, who, question).startswith(
                "What is kept and what changes The organization's content stays: projects, repositories,"
                " pipelines, work items, wikis, their history and the permissions given to users who are"
                " matched. Only identities change."
            ), (who, question)


def test_their_case_asked_in_the_channel_is_for_their_eyes_only(chat: Chat) -> None:
    """Once connected their case names no address of theirs ("An admin maps your old identity ..."), yet it is
    theirs: in the channel only they see it. What the move keeps is anyone's, and everyone sees it."""
    notified(chat)
    for question in (*ABOUT_THEMSELVES, "hi, what is happening?"):
        reply = chat.say(KIM, question)
        assert flat(text_of(reply)).startswith(
            f"What is happening for you {ORG} is now connected to the company directory"
        ), question
        assert "An admin maps your old identity to your work account by hand" in flat(text_of(reply))
        assert [outgoing.message.private for outgoing in reply] == [True], question
    kept = chat.say(KIM, "what happens to my pull requests?")
    assert flat(text_of(kept)).startswith("What is kept and what changes")
    assert [outgoing.message.private for outgoing in kept] == [False]
