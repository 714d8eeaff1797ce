"""Hana, whose address two directory accounts carry, can do what her list asks (walk31 finding 2): say which
account is hers, by *I need help*, by *Choose my account*, or in her own words. The admins hear it with a
button per account; only their press decides. Conversations over the console surface, with the bundled
scenario in the sandbox and a real database."""

from __future__ import annotations

from bot.conversation.messages import Button, Channel, DirectMessage, Outgoing, Reply
from tests.bot.conftest import ORG, Chat, notified, started, text_of
from tests.bot.test_decisions import HANA, HANA_GUEST, HANA_MEMBER, lines

DANA, ANN = "dana@fabrikam.com", "ann@fabrikam.com"
IN_HER_WORDS = "the one I use every day is hana.hart@fabrikam.com"


def hanas_list(chat: Chat) -> list[Outgoing]:
    return [m for m in notified(chat) if isinstance(m.to, DirectMessage) and HANA in m.to.addresses]


def to_admins(outgoing: list[Outgoing]) -> list[Outgoing]:
    return [m for m in outgoing if isinstance(m.to, Channel)]


def buttons(outgoing: list[Outgoing]) -> list[Button]:
    return [button for message in outgoing for button in message.message.buttons]


def undecided(chat: Chat) -> bool:
    hana = next(user for user in chat.runtime.service.plan(ORG).users if user.principal_name == HANA)
    return hana.outcome == "ambiguous" and not hana.decided_by


def test_her_need_help_offers_her_accounts_and_the_admins_a_decide_button_for_each(chat: Chat) -> None:
    helped = chat.click(HANA, hanas_list(chat), "I need help")

    reply = [m for m in helped if isinstance(m.to, Reply)]
    assert (
        "Several accounts in the directory share your address hana@contoso.com. Which one do you sign in"
        in (lines(reply)[0])
    )
    assert "Users show as disconnected" not in text_of(reply)  # the admins' topic, not hers
    assert [b.label for b in buttons(reply)] == [
        f"This one is mine: {HANA_GUEST}",
        f"This one is mine: {HANA_MEMBER}",
    ]
    (notice,) = to_admins(helped)
    assert lines([notice]) == [
        f"Hana ({HANA}) needs help with: Tell the admins which work account is yours. Write to them at"
        f" {HANA}. Several directory accounts share their address: {HANA_GUEST}, {HANA_MEMBER}. Ask them"
        " which one they sign in with every day, then press its button."
    ]
    assert [b.label for b in buttons([notice])] == [f"{HANA_GUEST} is theirs", f"{HANA_MEMBER} is theirs"]
    assert undecided(chat)

    decided = chat.click(DANA, [notice], f"{HANA_MEMBER} is theirs")
    assert lines(decided)[0].startswith(f"Recorded: {HANA}'s directory account is {HANA_MEMBER}")
    assert chat.runtime.service.todo_list(HANA_MEMBER)[0].title == "Sign in with your work account"


def test_her_list_lets_her_choose_and_the_admins_decide(chat: Chat) -> None:
    choices = chat.click(HANA, hanas_list(chat), "Choose my account")
    assert lines(choices)[-1] == f"• {HANA_MEMBER}"

    said = chat.click(HANA, choices, f"This one is mine: {HANA_MEMBER}")
    assert lines(said[:1]) == [
        "Thanks: I told the migration admins (dana@fabrikam.com, lee@fabrikam.com) that you sign in with"
        f" {HANA_MEMBER}. Only they can record it; I tell you as soon as they have, and your list then says"
        " what to do next."
    ]
    (notice,) = to_admins(said)
    assert lines([notice]) == [
        f"Hana ({HANA}) says {HANA_MEMBER} is their account: several directory accounts share their"
        f" address ({HANA_GUEST}, {HANA_MEMBER}). Only you can record it: press its button once you are sure"
        f" it is theirs, or write to them at {HANA}."
    ]
    assert undecided(chat)  # her word alone decides nothing

    again = chat.click(HANA, choices, f"This one is mine: {HANA_MEMBER}")
    assert to_admins(again) == []  # told once a day
    assert lines(again)[0].startswith("I already told the migration admins")

    chat.click(DANA, [notice], f"{HANA_MEMBER} is theirs")
    assert not undecided(chat)
    refused = text_of(chat.say(HANA, "my-account", in_dm=True))
    assert "There is no account for you to choose in fabrikam-fiber" in refused


def test_her_direct_message_naming_one_of_her_accounts_is_her_choice(chat: Chat) -> None:
    hanas_list(chat)
    said = chat.say(HANA, IN_HER_WORDS, in_dm=True)
    assert lines(said[:1])[0].startswith("Thanks: I told the migration admins (dana@fabrikam.com, lee@fab")
    assert f"that you sign in with {HANA_MEMBER}." in lines(said[:1])[0]
    (notice,) = to_admins(said)
    assert [b.label for b in buttons([notice])] == [f"{HANA_GUEST} is theirs", f"{HANA_MEMBER} is theirs"]
    assert undecided(chat)

    # a question, a denial or both accounts are not a choice: the FAQ answers, and the admins hear nothing
    for words in (
        f"is {HANA_MEMBER} mine?",
        f"I never use {HANA_MEMBER}",
        f"I have {HANA_GUEST} and {HANA_MEMBER}",
    ):
        answered = chat.say(HANA, words, in_dm=True)
        assert to_admins(answered) == [] and "Thanks: I told" not in text_of(answered)


def test_someone_with_one_account_is_not_asked_to_choose(chat: Chat) -> None:
    notified(chat)
    answered = chat.say(ANN, "I use ann@fabrikam.com every day", in_dm=True)
    assert to_admins(answered) == [] and "Thanks: I told" not in text_of(answered)
    refused = text_of(chat.say(ANN, "my-account ann@fabrikam.com", in_dm=True))
    assert "There is no account for you to choose in fabrikam-fiber" in refused


def test_before_connecting_her_words_reach_the_admins_too(chat: Chat) -> None:
    started(chat)
    said = chat.say(HANA, IN_HER_WORDS, in_dm=True)
    (notice,) = to_admins(said)
    decided = chat.click(DANA, [notice], f"{HANA_MEMBER} is theirs")
    assert lines(decided)[0].startswith(f"Recorded: {HANA}'s directory account is {HANA_MEMBER}")
