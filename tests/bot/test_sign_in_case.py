"""Saying "I can't sign in anymore" in a migration that is not connected yet, stage by stage: the move has
not changed the asker's sign-in (where the migration stands, the date announced, the account they sign in with
today); while the admin clicks Connect, that it may be the switch."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.bot.conftest import DANA, ORG, Chat, approved, started, text_of

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


def test_while_the_admin_clicks_connect_it_may_be_the_switch_and_each_hears_how_to_sign_in_after(
    chat: Chat,
) -> None:
    approved(chat)
    assert chat.state() == "connecting"
    opening = (
        f"{LOCKED_OUT} The admins are connecting {ORG} to the new directory right now: this may be the switch"
        " in progress. Wait a few minutes, then sign in again as below; once it is connected, only accounts"
        " of the new directory get in."
    )
    kim = asked(chat, KIM, CANNOT_SIGN_IN[0])
    assert kim.startswith(opening), kim[:300]
    assert "You have a work account in the directory: sign in with it" in kim
    erin = asked(chat, ERIN, CANNOT_SIGN_IN[2])
    assert erin.startswith(opening), erin[:300]
    found = re.search(r"Yours was sent on [^.]+ to (\S+) and is not accepted yet\.", erin)
    assert found is not None and found.group(1) == ERIN, erin


def test_outside_any_migration_and_for_another_application_nothing_changes(chat: Chat) -> None:
    started(chat)
    for question in CANNOT_SIGN_IN[:2]:
        assert asked(chat, OUTSIDER, question).startswith("Sorry, I don't know the answer to that one.")
    for who in (KIM, ERIN):
        for question in SOMETHING_ELSE:
            answer = asked(chat, who, question)
            assert not answer.startswith((NOT_CHANGED, f"{LOCKED_OUT} The admins are connecting")), question
