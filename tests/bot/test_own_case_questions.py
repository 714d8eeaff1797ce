"""Two common questions only the asker's own case answers, both declined with "Sorry, I don't know" in
walk38: "which account should I use?" and "what's going on?" in its looser forms. Answered now from what
`todo` knows of them (the account their list names, their invitation, the choice the admins have to make)
and from the migration's stage. Over the console surface, with the bundled scenario in the sandbox and a
real database."""

from __future__ import annotations

import pytest

from bot.conversation.messages import Outgoing
from faq._compose import AskerContext
from faq._own_case import TITLE, asks_which_account, which_account
from tests.bot.conftest import Chat, notified, started
from tests.bot.test_decisions import lines

IVAN, CAROL, HANA, ERIN = "ivan@fabrikam.com", "carol@fabrikam.com", "hana@contoso.com", "erin.eng@gmail.com"
STRANGER = "zed@fabrikam.com"
WHICH = "which account should I use?"


def _answer(said: list[Outgoing]) -> list[str]:
    """The answer's lines, without the way to a person and the question it answers."""
    return [line for line in lines(said) if not line.startswith(("To reach a person", "↩️"))]


def test_which_account_after_the_lists_names_the_account_on_their_list(chat: Chat) -> None:
    notified(chat)
    assert _answer(chat.say(IVAN, WHICH, in_dm=True)) == [
        "Which account you sign in with",
        'Sign in with your work account ivan@fabrikam.com, not a personal Microsoft account: pick "Work or'
        ' school account" if asked.',
    ]
    assert _answer(chat.say(CAROL, "What account do I sign in with?", in_dm=True))[1] == (
        "Sign in with your work account carol@fabrikam.com, once the admins have mapped your old identity to"
        ' it (I tell you when), not a personal Microsoft account: pick "Work or school account" if asked.'
    )
    assert _answer(chat.say(HANA, WHICH, in_dm=True))[1] == (
        "Several directory accounts match your address, and only the admins can record which one is yours:"
        " tell them which one you sign in with every day (*Tell the admins which work account is yours* on"
        " your list, or say `my-account`). I tell you when they have."
    )


def test_which_account_before_connecting_says_today_s_and_then_the_guest_address(chat: Chat) -> None:
    started(chat)
    said = chat.say(ERIN, "which email should I use to log in?")
    assert all(message.message.private for message in said)  # it names her own address
    assert _answer(said)[1] == (
        "Until fabrikam-fiber is connected, sign in as today, with erin.eng@gmail.com. Once it is connected,"
        " sign in with erin.eng@gmail.com, your own address (a guest of the directory has no work account),"
        " once you have accepted your invitation."
    )


def test_what_s_going_on_said_loosely_gets_their_case_in_short(chat: Chat) -> None:
    started(chat)
    said = _answer(chat.say(IVAN, "so what's going on with the migration?", in_dm=True))
    assert said[:2] == [
        "What is happening for you",
        "fabrikam-fiber is moving to the company directory, Microsoft Entra ID (formerly Azure Active"
        " Directory): no date is announced yet. Until it is connected you sign in to"
        " https://dev.azure.com/fabrikam-fiber as today, with ivan@fabrikam.com.",
    ]


def test_what_s_going_on_from_someone_the_plan_does_not_name_says_so(chat: Chat) -> None:
    started(chat)
    said = _answer(chat.say(STRANGER, "what's going on?"))
    assert said[:2] == [
        "What is happening for you",
        "I do not see you among the Azure DevOps users of fabrikam-fiber, which I read to plan its move to"
        " the company directory, Microsoft Entra ID (formerly Azure Active Directory).",
    ]


BOB, GUS = "bob.builder@outlook.com", "gus@fabrikam.com"


def test_which_account_for_a_guest_names_the_address_he_signs_in_with_not_the_directory_s_ext_name(
    chat: Chat,
) -> None:
    """Bob is a guest already: the directory names him `bob.builder_outlook.com#EXT#@…`, which nobody
    types to sign in (rev78: he was told to sign in with it, "your own address")."""
    started(chat)
    before = _answer(chat.say(BOB, WHICH, in_dm=True))[1]
    assert before == (
        "Until fabrikam-fiber is connected, sign in as today, with bob.builder@outlook.com. Once it is"
        " connected, sign in with bob.builder@outlook.com, your own address (a guest of the directory has no"
        " work account)."
    )
    notified(chat)
    after = _answer(chat.say(BOB, WHICH, in_dm=True))[1]
    assert after == (
        "Sign in with bob.builder@outlook.com, your own address (a guest of the directory has no work"
        " account)."
    )
    assert "#EXT#" not in before + after


def test_which_account_for_a_disabled_account_after_connecting_says_he_cannot_sign_in_now(chat: Chat) -> None:
    notified(chat)
    said = _answer(chat.say(GUS, WHICH, in_dm=True))[1]
    assert said.startswith("The directory account that matches your address is disabled: you cannot sign in")
    assert "once connected" not in said


def test_whats_going_on_without_its_apostrophe_is_their_case_too(chat: Chat) -> None:
    started(chat)
    assert _answer(chat.say(IVAN, "whats going on", in_dm=True))[0] == "What is happening for you"


def test_which_account_from_someone_the_plan_does_not_name_is_not_titled_as_a_case(chat: Chat) -> None:
    started(chat)
    said = _answer(chat.say(STRANGER, WHICH))
    assert said[0] == TITLE
    assert "What is happening for you" not in said
    assert said[1].startswith("I do not see you among the Azure DevOps users of fabrikam-fiber")


@pytest.mark.parametrize(
    "question",
    [
        "which account should I use now?",
        "which account should I use to sign in?",
        "which account should I use after the migration?",
        "which account should I use for Azure DevOps?",
        "what account do I sign in with",
    ],
)
def test_which_account_is_recognised_with_a_sign_in_tail(question: str) -> None:
    assert asks_which_account(question)


@pytest.mark.parametrize(
    "question",
    [
        "which account should I use for the service connection?",
        "which account should I use for the build agent?",
        "which email should I use for notifications?",
        "which id should I use in the pipeline yaml?",
        "which account should I use to run the pipeline?",
    ],
)
def test_which_account_for_something_other_than_signing_in_is_left_to_the_topics(question: str) -> None:
    """The account a service connection, an agent or a notification uses is no personal sign-in (rev78)."""
    assert not asks_which_account(question)


def test_what_s_going_on_after_he_ticked_his_sign_in_does_not_tell_him_to_sign_in(chat: Chat) -> None:
    """walk39: user000 pressed Done on "Sign in with your work account"; "what's going on?" still said
    "What you must do: now sign in with your work account"."""
    notified(chat)
    entries = chat.runtime.service.todo_list(IVAN)
    number = next(n for n, entry in enumerate(entries, 1) if entry.title == "Sign in with your work account")
    asked = "what's going on?"
    to_do = "What you must do: now sign in with your work account"
    assert to_do in " ".join(_answer(chat.say(IVAN, asked, in_dm=True)))
    chat.say(IVAN, f"done {number}", in_dm=True)
    said = " ".join(_answer(chat.say(IVAN, asked, in_dm=True)))
    assert to_do not in said
    assert "What you must do: nothing more to sign in; you signed in with your work account" in said


def test_which_account_once_the_admins_were_told_ends_with_its_last_sentence() -> None:
    """rev81: with the admins told already, the way to a person is "", and its empty line ended the reply."""
    told = AskerContext(
        outcome="map",
        stage="users_notified",
        migration="fabrikam-fiber",
        organization="fabrikam-fiber",
        admins=("dana@fabrikam.com",),
        admins_told=True,
        account="carol@fabrikam.com",
    )
    said = which_account(told)
    assert said is not None and said.splitlines()[0] == TITLE
    assert said == said.rstrip() and "" not in said.splitlines()
