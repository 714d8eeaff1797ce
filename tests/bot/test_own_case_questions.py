"""Two common questions only the asker's own case answers, both declined with "Sorry, I don't know" in
walk38: "which account should I use?" and "what's going on?" in its looser forms. Answered now from what
`todo` knows of them (the account their list names, their invitation, the choice the admins have to make)
and from the migration's stage. Over the console surface, with the bundled scenario in the sandbox and a
real database."""

from __future__ import annotations

from bot.conversation.messages import Outgoing
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
