"""A secret typed to the bot (walk38 on Teams): Ivan wrote "my password is Fabrikam2024! and it does not
work" in the migration's channel. The bot masked it in what it kept and quoted, yet never told him that
everyone in the channel had read it. Now he is told privately, first, what to change and where, without the
secret repeated; in a direct message, a shorter note. Over the console surface, with the bundled scenario
in the sandbox and a real database."""

from __future__ import annotations

import logging

import pytest

from bot.conversation.messages import Actions, Button, Outgoing, Reply
from faq.redaction import CLIENT_SECRET, PAT, TOKEN, leaked
from faq.redaction import PASSWORD as A_PASSWORD
from tests.bot.conftest import Chat, started
from tests.bot.test_decisions import lines

IVAN = "ivan@fabrikam.com"
PASSWORD = "Fabrikam2024!"


def _said(outgoing: list[Outgoing]) -> str:
    return "\n".join(lines(outgoing))


def test_a_password_in_the_channel_is_noted_privately_with_where_to_change_it(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    started(chat)
    with caplog.at_level(logging.DEBUG):
        note, *answer = chat.say(IVAN, f"my password is {PASSWORD} and it does not work")
    assert (note.to, note.message.private) == (Reply(), True)
    assert lines([note]) == [
        "Your message in the channel holds a password, and everyone in the channel can read it: delete that"
        " message. Change it now: a work account's at"
        " https://mysignins.microsoft.com/security-info/password/change, a personal Microsoft account's at"
        " https://account.live.com/password/change; a password of anything else where you sign in to it. I"
        " kept it masked, so nobody reads it from me."
    ]
    assert answer  # the question is still answered
    assert "my password is [redacted] and it does not work" in _said(answer)
    assert PASSWORD not in _said([note, *answer]) + caplog.text


def test_a_password_said_in_words_is_masked_in_what_the_bot_says_and_logs(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    started(chat)
    with caplog.at_level(logging.DEBUG):
        note, *answer = chat.say(IVAN, "my password is correct horse battery staple and it does not work")
    assert lines([note])[0].startswith("Your message in the channel holds a password")
    assert "my password is [redacted] and it does not work" in _said(answer)
    assert "horse battery" not in _said([note, *answer]) + caplog.text


def test_a_pat_in_the_channel_names_its_organization_s_revoke_page(chat: Chat) -> None:
    started(chat)
    note, *_ = chat.say(IVAN, "why does my PAT abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv fail?")
    (said,) = lines([note])
    assert said.startswith("Your message in the channel holds a personal access token")
    assert "Revoke it now: at https://dev.azure.com/fabrikam-fiber/_usersSettings/tokens" in said


def test_a_password_in_a_direct_message_gets_a_shorter_note(chat: Chat) -> None:
    note, *answer = chat.say(IVAN, f"my password is {PASSWORD} and it does not work", in_dm=True)
    assert lines([note]) == [
        "Your message holds a password: I keep and pass on questions only with it masked. If it is real, it"
        " is safer changed, since it was written down."
    ]
    assert answer and PASSWORD not in _said(answer)


def test_words_about_a_password_hold_none_and_get_no_note(chat: Chat) -> None:
    started(chat)
    said = _said(chat.say(IVAN, "my password expired, how do I reset it?"))
    assert "everyone in the channel can read it" not in said


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("AZURE_CLIENT_SECRET=Abc8Q~xyzXYZ1234567890abcdEFGH fails", CLIENT_SECRET),
        ("git clone https://dana:Winter2024x@dev.azure.com/fabrikam-fiber/web", A_PASSWORD),
        ("$env:AZURE_DEVOPS_EXT_PAT = 'Qw3rty8Uiop2Asdf5Ghjk'", PAT),
        ("my PAT is abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv", PAT),
        ("the bot says xoxb-1234567890-abcdefghij is wrong", TOKEN),
        ("the key is Q2hdk38dkeEKd93kdDK39dkd", None),  # its shape only: masked, and no note (rev78)
        ("my PAT expired, and my password is Fabrikam2024! now", A_PASSWORD),
        ("my PAT expired and my password is Fabrikam2024! now", A_PASSWORD),
        ("password: hunter two 2", A_PASSWORD),
        ("does az devops need pat=true?", None),
        ("decide fabrikam-fiber john.smith1984_gmail.com#EXT#@fabrikam2024.onmicrosoft.com", None),
        ("what is a PAT, and does my password change?", None),
        ("tenant 3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11 says TF400813", None),
        # an error code after "PAT" or "token" is no secret (rev81: each was told to revoke one)
        ("PAT TF401019 when I clone, why?", None),
        ("Git credential manager token TF401019 after the switch", None),
        ("bearer token AADSTS50020 in the pipeline", None),
    ],
)
def test_what_a_message_gives_away_is_named_by_its_words_or_shape(text: str, kind: str | None) -> None:
    assert leaked(text) == kind


ORDINARY = [
    "status contoso-2024-devops-prod1",
    "status fabrikam-fiber-westeurope2",
    "status fabrikam-fiber",
    "decide fabrikam-fiber john.smith1984@gmail.com"
    " john.smith1984_gmail.com#EXT#@fabrikam2024.onmicrosoft.com",
    "decide fabrikam-fiber hana@contoso.com hana.hart@fabrikam2024.onmicrosoft.com",
    "plan fabrikam-fiber",
    "check fabrikam-fiber",
    "start contoso-2024-devops-prod1 3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11",
    "announce fabrikam-fiber Friday 14:00 UTC",
    "todo",
    "help",
    "help status",
    "snooze 1d",
    "my-account hana.hart2@fabrikam2024.onmicrosoft.com",
    "approve 12",
    "remove fabrikam-fiber gus@fabrikam.com",
    "invite fabrikam-fiber erin.eng2024@gmail.com",
    "what is a PAT?",
    "does az devops need pat=true?",
    "is --password optional in az devops login?",
    "my password expired, how do I reset it?",
    "my PAT expired yesterday, what now?",
    "my token is 2 days old, is that ok?",
    "password: how do I reset it",
    "which account should I use for the service connection?",
    "what's going on with contoso-2024-devops-prod1?",
    "why is fabrikam-fiber-westeurope2 not connected yet?",
    "is bob.builder_outlook.com#EXT#@fabrikam.onmicrosoft.com a guest?",
    "tenant 3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11 says TF400813",
    "I get AADSTS50020 when I sign in to dev.azure.com/fabrikam-fiber",
    "pipeline vsts-agent-win-x64-2.144.0 fails after the move",
    "the endpoint _apis/ServiceEndpoint/Endpoints fails with 401",
    "api-version=7.1-preview.1 returns 203",
    "do I keep my Visual Studio subscription?",
    "what happens to my pull requests?",
    "can you click Connect for me?",
    "do the guests we invite need a paid license?",
    "when is the cutover for contoso-2024-devops-prod1?",
    "I can't sign in anymore",
    "git clone https://fabrikam-fiber@dev.azure.com/fabrikam-fiber/web fails",
    "what does --token do?",
    "is my access token still valid after the change?",
    "where do I find Personal access tokens in User settings?",
    "should I use the client secret or a certificate?",
    "the service principal sp-fabrikam-2024-build01 lost access",
    "how do I map john.smith1984@gmail.com to his work account?",
    "ask do I keep my Visual Studio subscription?",
    "ask why does com.microsoft.alm.oauth2.useragent fail?",
    "what is spsprodweu4.vssps.visualstudio.com?",
    "my password is Expired",
]


def test_ordinary_commands_and_questions_get_no_note(chat: Chat) -> None:
    """Names, addresses, ids, versions and words about secrets give nothing away (rev78: `status
    contoso-2024-devops-prod1` and `pat=true` were told to revoke a secret)."""
    started(chat)
    noted = [
        (text, where)
        for text in ORDINARY
        for where, said in (("channel", chat.say(IVAN, text)), ("dm", chat.say(IVAN, text, in_dm=True)))
        if any(line.startswith("Your message") for line in lines(said))
    ]
    assert noted == []


def test_a_password_in_a_slash_command_is_not_said_to_be_read_by_the_channel(chat: Chat) -> None:
    """Slack's `/aad WORDS` reaches the bot alone, though typed in a channel: the note says so, and no
    longer tells him to delete a message nobody there can read (rev78)."""
    started(chat)
    surface = chat.surface
    note, *_ = surface.conversation.command(
        chat.person(IVAN),
        f"my password is {PASSWORD} and it does not work",
        channel=surface.channel,
        seen_in_channel=False,
    )
    assert note.message.private
    assert lines([note]) == [
        "Your message holds a password: I keep and pass on questions only with it masked. If it is real, it"
        " is safer changed, since it was written down."
    ]


def test_an_organization_the_bot_knows_is_no_secret_even_after_a_secret_s_name() -> None:
    said = "the token: contoso-2024-devops-prod1 fails"
    assert (leaked(said), leaked(said, known=["contoso-2024-devops-prod1"])) == (TOKEN, None)


def _buttons(outgoing: list[Outgoing]) -> list[Button]:
    return [
        button
        for message in outgoing
        for block in message.message.blocks
        if isinstance(block, Actions)
        for button in block.buttons
    ]


def test_a_typo_s_suggestion_masks_a_secret_typed_after_it_and_offers_no_button(chat: Chat) -> None:
    """rev81: "Did you mean" repeated the password, kept in the Teams thread and its shared card, and its
    button carried it. A name shaped like a key still gets its button: it gives nothing away."""
    started(chat)
    said = chat.say(IVAN, f"stauts fabrikam-fiber password={PASSWORD}")
    assert lines(said) == ["I don't know `stauts`. Did you mean `status fabrikam-fiber password=[redacted]`?"]
    assert _buttons(said) == []
    named = chat.say(IVAN, "stauts contoso-2024-devops-prod1")
    assert [button.value for button in _buttons(named)] == ["contoso-2024-devops-prod1"]


def test_words_a_command_does_not_take_are_echoed_with_a_secret_masked(chat: Chat) -> None:
    """Past `did_you_mean` (rev81): the words a command does not take, and `help WORD` for a word it does
    not know, were echoed as typed, a password with them, in a reply a Teams thread keeps."""
    started(chat)
    extra = chat.say(IVAN, f"status fabrikam-fiber password={PASSWORD}")
    assert lines(extra)[0].startswith(
        "I understood `status fabrikam-fiber` but not `password=[redacted]`. Usage: `status [ORG]`"
    )
    unknown = chat.say(IVAN, f"help password={PASSWORD}")
    assert lines(unknown)[0].startswith("I don't know `password=[redacted]`.")
    assert PASSWORD.casefold() not in "\n".join(lines(extra) + lines(unknown)).casefold()
