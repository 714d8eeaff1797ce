"""Erin's own link to accept her invitation: in her direct message's *Accept the invitation* item, never in a
channel, a log or any other row, and gone once a sign-in shows her in. Through the sandbox over HTTP."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from bot.console.chat import ConsoleChat
from bot.console.render import render
from bot.conversation.messages import Button, DirectMessage, Message, Outgoing
from bot.teams.text import message_text
from storage import Invitation
from tests.bot.conftest import DANA, LEE, ORG, Chat, notified, started, text_of
from tests.bot.test_closing import billing_moved
from tests.bot.test_invitation_case import ERIN, MISSING
from workflows.todo import ACCEPT_INVITATION

ACCEPT = "Accept the invitation"


def her_link(chat: Chat) -> str:
    """The link the sandbox's Graph returned when the bot invited her."""
    sandbox = chat.runtime.sandbox
    assert sandbox is not None
    sent = [
        invitation["inviteRedeemUrl"]
        for invitation in sandbox.state()["tenant"].get("invitations", [])
        if invitation["invitedUserEmailAddress"].casefold() == ERIN
    ]
    assert len(sent) == 1, sent
    return str(sent[0])


def stored_link(chat: Chat) -> str | None:
    with chat.runtime.database.session() as session:
        row = session.exec(select(Invitation).where(Invitation.email == ERIN)).one()
        return row.redeem_url


def link_buttons(outgoing: list[Outgoing]) -> list[Button]:
    return [button for message in outgoing for button in message.message.buttons if button.url]


def shown(outgoing: list[Outgoing]) -> str:
    """Everything a message carries: its words, and each button's label, value and link."""
    buttons = [f"{b.label} {b.value} {b.url}" for message in outgoing for b in message.message.buttons]
    return text_of(outgoing) + " ".join(buttons)


def everything_stored_but_invitations(chat: Chat) -> str:
    engine = chat.runtime.database.engine
    with engine.connect() as connection:
        return "\n".join(
            str(row)
            for table in inspect(engine).get_table_names()
            if table != "invitation"
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).all()
        )


def test_erin_gets_her_own_link_in_her_list_by_direct_message_and_only_there(chat: Chat) -> None:
    notified(chat)
    link = her_link(chat)
    assert link.startswith("https://") and stored_link(chat) == link
    to_erin = [
        message
        for _, message in chat.surface.delivered
        if isinstance(message.to, DirectMessage) and message.to.email == ERIN
    ]
    buttons = link_buttons(to_erin)
    assert [(button.label, button.url) for button in buttons] == [(ACCEPT, link)]
    printed = chat.surface.out.getvalue()
    assert f"[{ACCEPT}: {link}]" in printed  # the console prints the link of her button
    elsewhere = [
        message
        for _, message in chat.surface.delivered
        if not (isinstance(message.to, DirectMessage) and message.to.email == ERIN)
    ]
    assert link not in shown(elsewhere)

    asked_in_channel = [chat.say(ERIN, question) for question in (*MISSING[:2], "list", "status")]
    assert all(link not in shown(outgoing) for outgoing in asked_in_channel)
    assert link not in shown(chat.say(DANA, "status")) + shown(chat.say(DANA, "people"))

    own_link = f"Your own link to accept it is {link}: open it and sign in with {ERIN}"
    for question in MISSING:  # asked privately, the FAQ's reply offers it
        assert own_link in " ".join(text_of(chat.say(ERIN, question, in_dm=True)).split()), question
    keys = [entry.key for entry in chat.runtime.service.todo_list(ERIN)]
    helped = chat.say(ERIN, f"need-help {keys.index(ACCEPT_INVITATION) + 1}", in_dm=True)
    to_her = [message for message in helped if not isinstance(message.to, DirectMessage)]
    assert own_link in " ".join(text_of(to_her).split())
    assert link not in shown([message for message in helped if message not in to_her])


def test_her_link_is_forgotten_once_a_sign_in_shows_her_in(chat: Chat) -> None:
    notified(chat)
    assert stored_link(chat) == her_link(chat)
    sandbox = chat.runtime.sandbox
    assert sandbox is not None
    httpx.post(
        f"{sandbox.url}/_sandbox/signin", json={"organization": ORG, "principalName": ERIN}
    ).raise_for_status()
    chat.runtime.conversation.watch()
    assert stored_link(chat) is None
    assert "Your own link" not in text_of(chat.say(ERIN, MISSING[0], in_dm=True))


def test_after_a_cancel_the_next_migration_offers_her_the_link_of_the_invitation_she_still_has(
    chat: Chat,
) -> None:
    started(chat)
    chat.say(DANA, "invite")
    link = her_link(chat)
    chat.say(DANA, f"cancel {ORG}")
    assert stored_link(chat) == link  # she stays invited: the same invitation is hers to accept

    started(chat)  # nobody is invited again: she is still to accept the first one
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    chat.say(DANA, "notify")
    to_erin = [
        message
        for _, message in chat.surface.delivered
        if isinstance(message.to, DirectMessage) and message.to.email == ERIN
    ]
    assert [(button.label, button.url) for button in link_buttons(to_erin)] == [(ACCEPT, link)]
    own_link = f"Your own link to accept it is {link}"
    assert own_link in " ".join(text_of(chat.say(ERIN, MISSING[0], in_dm=True)).split())


def test_when_the_migration_completes_every_link_is_forgotten(chat: Chat) -> None:
    billing_moved(chat)
    assert stored_link(chat) == her_link(chat)
    chat.click(DANA, chat.say(DANA, f"complete {ORG}"), "Complete anyway")
    assert chat.state() == "completed"
    assert stored_link(chat) is None


@pytest.mark.replays_for_real
def test_her_link_is_in_no_log_and_no_other_row(chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    notified(chat)
    link = her_link(chat)
    chat.say(ERIN, MISSING[0], in_dm=True)
    chat.say(ERIN, MISSING[0])
    assert link not in caplog.text
    assert link not in everything_stored_but_invitations(chat)


def test_her_link_pasted_into_a_question_is_neither_kept_nor_passed_to_the_admins(chat: Chat) -> None:
    notified(chat)
    link = her_link(chat)
    question = f"I opened {link} and it asks for a password, which one?"
    chat.say(ERIN, question, in_dm=True)  # kept for review, redacted
    passed_on = chat.say(ERIN, f"ask-admin {question}", in_dm=True)
    forwarded = " ".join(text_of(passed_on).split())
    assert "I opened [redacted invitation link] and it asks for a password" in forwarded
    assert link not in shown(passed_on)
    assert link not in everything_stored_but_invitations(chat)


@pytest.mark.parametrize("renderer", [render, message_text], ids=["console", "teams"])
def test_a_chat_against_the_real_microsoft_prints_a_note_wherever_her_link_would_be(
    chat: Chat, renderer: Callable[[Message], str]
) -> None:
    notified(chat)
    asked = chat.say(ERIN, MISSING[0], in_dm=True)  # the FAQ's reply names her link in its text
    link, delivered = her_link(chat), [message for _, message in chat.surface.delivered]
    assert link in text_of(asked) and all(outgoing in delivered for outgoing in asked)
    live = replace(chat.runtime, sandbox=None, settings=replace(chat.runtime.settings, sandbox_url=None))
    printed: dict[str, str] = {}
    for where, runtime in (("sandbox", chat.runtime), ("live", live)):
        out = io.StringIO()
        ConsoleChat(runtime, DANA, out, renderer=renderer).surface.deliver(delivered)
        printed[where] = out.getvalue()
    assert printed["sandbox"].count(link) == 2  # her list's button and the FAQ's reply
    everyones = re.compile(r"https://login\.microsoftonline\.com/redeem\?rd=[\w-]+")  # the sandbox's links
    assert len(everyones.findall(printed["sandbox"])) > 1 and not everyones.search(printed["live"])
    note = "their own link, sent to them privately (printed only with the sandbox)"
    assert printed["live"] == everyones.sub(note, printed["sandbox"])
