"""A secret typed to the bot (walk38 on Teams): Ivan wrote "my password is Fabrikam2024! and it does not
work" in the migration's channel. The bot masked it in what it kept and quoted, yet never told him that
everyone in the channel had read it. Now he is told privately, first, what to change and where, without the
secret repeated; in a direct message, a shorter note. Over the console surface, with the bundled scenario
in the sandbox and a real database."""

from __future__ import annotations

import logging

import pytest

from bot.conversation.messages import Outgoing, Reply
from faq.redaction import CLIENT_SECRET, PAT, SECRET, TOKEN, leaked
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
        ("the key is Q2hdk38dkeEKd93kdDK39dkd", SECRET),
        ("what is a PAT, and does my password change?", None),
        ("tenant 3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11 says TF400813", None),
    ],
)
def test_what_a_message_gives_away_is_named_by_its_words_or_shape(text: str, kind: str | None) -> None:
    assert leaked(text) == kind
