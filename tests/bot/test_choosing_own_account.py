"""Hana, whose address two directory accounts carry, can do what her list asks (walk31 finding 2): say which
account is hers, by *I need help*, by *Choose my account*, or in her own words. The admins hear it with a
button per account, each admin in a direct message: people other than admins post in the migration's
channel, which hears only that she chose or needs a decision (rev44 finding 3). Only an admin's press
decides. Trouble, a question or someone else's word about one of her accounts is the FAQ's, not her choice
(rev44 finding 2). Conversations over the console surface, with the bundled scenario in the sandbox and a
real database."""

from __future__ import annotations

from bot.conversation.item_help_views import help_request
from bot.conversation.messages import Button, Channel, DirectMessage, Outgoing, Reply
from tests.bot.conftest import LEE, ORG, Chat, notified, started, text_of
from tests.bot.test_decisions import HANA, HANA_GUEST, HANA_MEMBER, lines

DANA, ANN = "dana@fabrikam.com", "ann@fabrikam.com"
IN_HER_WORDS = "the one I use every day is hana.hart@fabrikam.com"
ADMINS = "the migration admins (dana@fabrikam.com, lee@fabrikam.com)"
SENT_PRIVATELY = (
    "Each migration admin gets who, and the accounts, in a direct message, with a button for each: only you"
    " can record which one is theirs. If yours does not arrive, `plan` in a direct message with me shows"
    " them, with a button for each."
)
SAYS_WHICH = (
    f"Someone says which of the directory accounts that share their address is theirs. {SENT_PRIVATELY}"
)
DECIDE_BUTTONS = [f"{HANA_GUEST} is theirs", f"{HANA_MEMBER} is theirs"]
DECLINED = [
    "Sorry, I don't know the answer to that one.",
    "I only answer questions about moving this Azure DevOps organization to Microsoft Entra ID.",
    "Type `help` to see what you can do here.",
    "To reach a person, press *Ask an admin* and I pass your question to the admins of the fabrikam-fiber"
    " migration, or write to them: dana@fabrikam.com, lee@fabrikam.com.",
]
"""The FAQ's answer to what it has no topic for, from someone of the migration: its admins to ask. Its closest
topics come between the second line and the third (`declined`)."""


def declined(said: list[str], asked: str) -> bool:
    """Whether the lines are the FAQ's decline of `asked`, its closest topics (or, far from all of them,
    where to start) listed (the contract)."""
    topics = said[2:-3]
    return (
        said[:2] == DECLINED[:2]
        and said[-3:] == [*DECLINED[2:], f"↩️ In answer to: “{asked}”"]
        and topics[0] in ("The closest topics I know about:", "If it was about the move, start with:")
        and len(topics) > 1
        and all(line.startswith("- ") for line in topics[1:])
    )


def hanas_list(chat: Chat) -> list[Outgoing]:
    return [m for m in notified(chat) if isinstance(m.to, DirectMessage) and HANA in m.to.addresses]


def to_admins(outgoing: list[Outgoing]) -> list[Outgoing]:
    return [m for m in outgoing if isinstance(m.to, Channel)]


def to_each_admin(outgoing: list[Outgoing]) -> dict[str, Outgoing]:
    """The direct messages to the migration's admins, by address."""
    return {
        address: m
        for m in outgoing
        if isinstance(m.to, DirectMessage)
        for address in m.to.addresses
        if address in (DANA, LEE)
    }


def buttons(outgoing: list[Outgoing]) -> list[Button]:
    return [button for message in outgoing for button in message.message.buttons]


def undecided(chat: Chat) -> bool:
    hana = next(user for user in chat.runtime.service.plan(ORG).users if user.principal_name == HANA)
    return hana.outcome == "ambiguous" and not hana.decided_by


def assert_kept_from_the_channel(notice: Outgoing) -> None:
    """The channel names neither of her accounts, nor offers their buttons."""
    shown = text_of([notice]) + " ".join(f"{b.label} {b.value}" for b in buttons([notice]))
    assert HANA_GUEST not in shown and HANA_MEMBER not in shown and "hana.hart" not in shown
    assert buttons([notice]) == []


def test_her_need_help_offers_her_accounts_and_each_admin_privately_a_decide_button_for_each(
    chat: Chat,
) -> None:
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
        f"Someone needs help with: Tell the admins which work account is yours. {SENT_PRIVATELY}"
    ]
    assert_kept_from_the_channel(notice)
    privately = to_each_admin(helped)
    assert sorted(privately) == [DANA, LEE]
    for each in privately.values():
        assert lines([each]) == [
            f"Hana ({HANA}) needs help with: Tell the admins which work account is yours. Write to them at"
            f" {HANA}. Several directory accounts share their address: {HANA_GUEST}, {HANA_MEMBER}. Ask them"
            " which one they sign in with every day, then press its button."
        ]
        assert [b.label for b in buttons([each])] == DECIDE_BUTTONS
    assert undecided(chat)

    decided = chat.click(DANA, [privately[DANA]], f"{HANA_MEMBER} is theirs")
    assert lines(decided)[0].startswith(f"Recorded: {HANA}'s directory account is {HANA_MEMBER}")
    assert chat.runtime.service.todo_list(HANA_MEMBER)[0].title == "Sign in with your work account"


def test_her_list_lets_her_choose_and_the_admins_decide(chat: Chat) -> None:
    choices = chat.click(HANA, hanas_list(chat), "Choose my account")
    assert lines(choices)[-1] == f"• {HANA_MEMBER}"

    said = chat.click(HANA, choices, f"This one is mine: {HANA_MEMBER}")
    assert lines(said[:1]) == [
        f"Thanks: I told {ADMINS} that you sign in with {HANA_MEMBER}. Only they can record it; I tell you as"
        " soon as they have, and your list then says what to do next."
    ]
    (notice,) = to_admins(said)
    assert lines([notice]) == [SAYS_WHICH]
    assert_kept_from_the_channel(notice)
    privately = to_each_admin(said)
    assert sorted(privately) == [DANA, LEE]
    for each in privately.values():
        assert lines([each]) == [
            f"Hana ({HANA}) says {HANA_MEMBER} is their account: several directory accounts share their"
            f" address ({HANA_GUEST}, {HANA_MEMBER}). Only you can record it: press its button once you are"
            f" sure it is theirs, or write to them at {HANA}."
        ]
        assert [b.label for b in buttons([each])] == DECIDE_BUTTONS
    assert undecided(chat)  # her word alone decides nothing

    again = chat.click(HANA, choices, f"This one is mine: {HANA_MEMBER}")
    assert [type(m.to) for m in again] == [Reply]  # told once a day: neither the channel nor an admin again
    assert lines(again)[0].startswith("I already told the migration admins")

    chat.click(LEE, [privately[LEE]], f"{HANA_MEMBER} is theirs")
    assert not undecided(chat)
    refused = text_of(chat.say(HANA, "my-account", in_dm=True))
    assert "There is no account for you to choose in fabrikam-fiber" in refused


LOCKED_OUT = "Locked out right after connecting or switching the directory"
TROUBLE = {
    f"I can't sign in with {HANA_MEMBER}": LOCKED_OUT,
    f"I can\u2019t sign in with {HANA_MEMBER}": LOCKED_OUT,  # as phones type it, read as "can't" (faq._plain)
    f"{HANA_MEMBER} keeps asking me for a password, what do I do": DECLINED[0],
    f"Should I use {HANA_MEMBER}? My manager bob@fabrikam.com says yes": DECLINED[0],
    f"{HANA_MEMBER} is locked, help": DECLINED[0],
    f"My colleague {HANA_MEMBER} said to ask you": DECLINED[0],
    f"is {HANA_MEMBER} mine?": DECLINED[0],
    f"I never use {HANA_MEMBER}": DECLINED[0],
    f"I have {HANA_GUEST} and {HANA_MEMBER}": DECLINED[0],
}
"""What Hana may write about one of her accounts that is not her choice of it, and the first line of the
FAQ's answer to it."""


def test_her_direct_message_naming_one_of_her_accounts_is_her_choice(chat: Chat) -> None:
    hanas_list(chat)
    said = chat.say(HANA, IN_HER_WORDS, in_dm=True)
    assert lines(said[:1])[0].startswith(f"Thanks: I told {ADMINS} that you sign in with {HANA_MEMBER}.")
    (notice,) = to_admins(said)
    assert lines([notice]) == [SAYS_WHICH]
    assert_kept_from_the_channel(notice)
    assert [b.label for b in buttons(list(to_each_admin(said).values()))] == DECIDE_BUTTONS * 2
    assert undecided(chat)


def test_trouble_a_question_or_someone_elses_word_about_her_account_is_the_faqs(chat: Chat) -> None:
    hanas_list(chat)
    for words, opening in TROUBLE.items():
        answered = chat.say(HANA, words, in_dm=True)
        assert [type(m.to) for m in answered] == [Reply], words  # nobody else hears of it
        assert lines(answered)[0] == opening, words
        assert [b.label for b in buttons(answered)][-3:] == ["Helpful", "Not helpful", "Ask an admin"], words
    locked_out = lines(chat.say(HANA, f"I can't sign in with {HANA_MEMBER}", in_dm=True))
    assert locked_out[1] == (
        "Waiting for a decision: several directory accounts match your address, and you cannot sign in until"
        " the admins map you to the one you use. Tell them its sign-in name. Your work and history are kept."
    )
    assert declined(
        lines(chat.say(HANA, f"{HANA_MEMBER} is locked, help", in_dm=True)), f"{HANA_MEMBER} is locked, help"
    )
    assert undecided(chat)


def test_someone_with_one_account_is_not_asked_to_choose(chat: Chat) -> None:
    notified(chat)
    answered = chat.say(ANN, "I use ann@fabrikam.com every day", in_dm=True)
    assert [type(m.to) for m in answered] == [Reply]
    assert declined(lines(answered), "I use ann@fabrikam.com every day")
    refused = lines(chat.say(ANN, "my-account ann@fabrikam.com", in_dm=True))
    assert refused[0].startswith(
        "There is no account for you to choose in fabrikam-fiber: your address matches one directory account,"
    )


def test_before_connecting_her_words_reach_the_admins_too(chat: Chat) -> None:
    started(chat)
    said = chat.say(HANA, IN_HER_WORDS, in_dm=True)
    (notice,) = to_admins(said)
    assert lines([notice]) == [SAYS_WHICH]
    decided = chat.click(DANA, [to_each_admin(said)[DANA]], f"{HANA_MEMBER} is theirs")
    assert lines(decided)[0].startswith(f"Recorded: {HANA}'s directory account is {HANA_MEMBER}")


def test_a_copy_queued_with_no_admin_to_reach_privately_points_to_plan_not_to_her_accounts() -> None:
    """Queued when the channel alone heard of a decision to make (no admin was told privately), as a
    channel's copy then named her: it names nobody now (walk39 b)."""
    said = help_request(
        name="Hana", email=HANA, title="Tell the admins which work account is yours", withheld="help"
    )
    assert said.summary == (
        "Someone needs help with: Tell the admins which work account is yours. I know of no migration admin"
        " to tell who in a direct message: `plan` in a direct message with me shows whose account waits for a"
        " decision, with a button for each."
    )
    assert said.buttons == ()
