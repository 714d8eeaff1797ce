"""Slash commands, mentions, DMs, the App Home and buttons, over HTTP and over Socket Mode alike."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from bot.conversation.messages import Actions, Button, Heading, Message, Outgoing, Text, say
from tests.fakes.slack_harness import (
    ADMIN,
    ADMIN_EMAIL,
    CHANNEL,
    TRANSPORTS,
    Harness,
    ScriptedConversation,
    ServeBot,
    Transport,
    texts,
)
from workflows.results import Actor


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> Transport:
    transport: Transport = request.param
    return transport


@pytest.fixture
def bot(serve_bot: ServeBot, scripted: ScriptedConversation, transport: Transport) -> Harness:
    return serve_bot(scripted, transport=transport)


def test_a_slash_command_reaches_the_conversation_as_the_person_and_is_answered_privately(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.answers = [say("Fabrikam is at stage *planned*", Heading("Status"), Text("Fabrikam is planned"))]

    response = bot.send.command("status fabrikam")

    assert response.status_code == 200
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    assert scripted.calls == [
        ("command", Actor(ADMIN, ADMIN_EMAIL, "Ada Admin"), ("status fabrikam", CHANNEL))
    ]
    reply = bot.fake.responses[0]
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Status", "emoji": True},
    }
    assert "Fabrikam is planned" in texts(reply)


def test_the_ack_comes_before_slow_work(serve_bot: ServeBot, transport: Transport) -> None:
    gate = threading.Event()
    harness = serve_bot(ScriptedConversation(gate=gate), transport=transport)

    started = time.monotonic()
    response = harness.send.command("plan fabrikam")
    acked_after = time.monotonic() - started

    assert response.status_code == 200
    assert acked_after < 1.0
    assert harness.fake.responses == []
    gate.set()
    harness.fake.wait_for(lambda fake: len(fake.responses) == 1)


def test_who_spoke_is_looked_up_once_and_cached(bot: Harness, scripted: ScriptedConversation) -> None:
    bot.send.command("status")
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)  # looked up and answered: now it is cached
    bot.send.command("help")
    bot.fake.wait_for(lambda fake: len(fake.responses) == 2)
    assert len(bot.fake.calls_of("users.info")) == 1
    assert [call[2][0] for call in scripted.calls] == ["status", "help"]


def test_a_person_whose_email_slack_hides_is_told_why_and_nothing_runs(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    bot.send.command("start fabrikam fabrikam.com", user="UHIDDEN")
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    assert "email address" in texts(bot.fake.responses[0])
    assert scripted.calls == []


def test_a_failing_conversation_gets_a_polite_answer_without_internals(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.failure = RuntimeError("database password=hunter2 rejected")
    bot.send.command("status fabrikam")
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    answer = texts(bot.fake.responses[0])
    assert "went wrong" in answer
    assert "/aad status fabrikam" in answer
    assert "hunter2" not in answer and "Traceback" not in answer


def test_a_failing_turn_neither_logs_nor_echoes_a_password_typed_with_it(
    bot: Harness, scripted: ScriptedConversation, caplog: pytest.LogCaptureFixture
) -> None:
    """rev78: the words of a failed turn were logged with %r and posted back whole, a password with them."""
    scripted.failure = RuntimeError("the database went away")
    with caplog.at_level(logging.INFO):
        bot.send.command("my password is Fabrikam2024! and it does not work")
        bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    answer = texts(bot.fake.responses[0])
    assert "while handling `/aad my password is [redacted] and it does not work`" in answer
    assert "Fabrikam2024!" not in answer + caplog.text
    assert "the conversation failed while handling" in caplog.text


def test_a_failing_direct_message_echoes_no_part_of_a_token_pasted_in_it(
    bot: Harness, scripted: ScriptedConversation, caplog: pytest.LogCaptureFixture
) -> None:
    """fix143 noticed: a DM's words were cut to 40 characters before they were redacted, and a token cut
    short no longer looks like one: its first characters were logged and posted back."""
    token = "q7xkz2mb4nhv6yrt3wpl5ajd2ksc7fgu4bez6tqm3nhx5vyrk2pa"
    scripted.failure = RuntimeError("the database went away")
    dm = {"type": "message", "channel_type": "im", "user": ADMIN, "channel": "DADMIN", "ts": "6.000001"}
    with caplog.at_level(logging.INFO):
        bot.send.event(dm | {"text": f"after the switch, does {token} still work?"})
        posted = bot.fake.wait_for_calls("chat.postMessage")
    answer = texts(posted[0].params)
    assert "Something went wrong on my side while handling" in answer
    assert "the conversation failed while handling" in caplog.text
    assert token[:12] not in answer + caplog.text


def test_a_mention_takes_the_command_words_and_is_answered_in_its_thread(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    event = {"type": "app_mention", "user": ADMIN, "text": "<@UAADBOT> status fabrikam", "channel": CHANNEL}
    assert bot.send.event(event | {"ts": "42.000001"}).status_code == 200

    posted = bot.fake.wait_for_calls("chat.postMessage")
    assert scripted.calls[0][0::2] == ("command", ("status fabrikam", CHANNEL))
    assert posted[0].params["channel"] == CHANNEL
    assert posted[0].params["thread_ts"] == "42.000001"


def test_a_direct_message_is_chat_and_the_answer_stays_in_the_dm(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.answers = [say("Guests get a 403 when the tenant blocks invitations.")]
    dm = {"type": "message", "channel_type": "im", "user": ADMIN, "channel": "DADMIN", "ts": "5.000001"}

    bot.send.event(dm | {"subtype": "message_changed"})  # an edit is not someone talking
    bot.send.event(dm | {"text": "why do I get a 403 when inviting?"})

    posted = bot.fake.wait_for_calls("chat.postMessage")
    assert scripted.calls == [
        ("chat", Actor(ADMIN, ADMIN_EMAIL, "Ada Admin"), ("why do I get a 403 when inviting?",))
    ]
    assert posted[0].params["channel"] == "DADMIN"
    assert "403" in texts(posted[0].params)


def test_opening_the_app_home_publishes_it(bot: Harness, scripted: ScriptedConversation) -> None:
    scripted.home_message = Message(
        "home", (Heading("Your to-do list"), Text("Sign in with your work account"))
    )
    bot.send.event({"type": "app_home_opened", "user": ADMIN, "channel": "DADMIN", "tab": "home"})

    published = bot.fake.wait_for_calls("views.publish")
    assert published[0].params["user_id"] == ADMIN
    assert "Sign in with your work account" in texts(published[0].params["view"])


def test_a_button_click_is_the_conversation_action_with_the_button_value(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    response = bot.send.click("invite#2", "fabrikam")

    assert response.status_code == 200
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    assert scripted.calls[0][0::2] == ("action", ("invite", "fabrikam", CHANNEL))


def test_a_click_in_the_app_home_answers_by_dm_and_refreshes_the_home(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.answers = [say("Ticked off: sign in")]
    bot.send.click("done", "item-1", home=True)

    posted = bot.fake.wait_for_calls("chat.postMessage")
    assert posted[0].params["channel"] == f"D{ADMIN}"
    bot.fake.wait_for_calls("views.publish")
    assert [call[0] for call in scripted.calls] == ["action", "home"]


def test_buttons_in_answers_carry_their_command_word_and_value(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    buttons = (
        Button("Invite", "invite", "fabrikam", "primary"),
        Button("Cancel", "cancel", "fabrikam", "danger"),
    )
    scripted.answers = [Outgoing(Message("next", (Actions(buttons),)))]
    bot.send.command("status fabrikam")
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    elements = bot.fake.responses[0]["blocks"][0]["elements"]
    assert [(e["action_id"], e["value"], e.get("style")) for e in elements] == [
        ("invite", "fabrikam", "primary"),
        ("cancel", "fabrikam", "danger"),
    ]


def test_health_follows_the_probe(serve_bot: ServeBot) -> None:
    healthy = serve_bot(ScriptedConversation(), lambda: True)
    sick = serve_bot(ScriptedConversation(), lambda: False)
    assert healthy.http.get("/healthz").status_code == 200
    assert sick.http.get("/healthz").status_code == 503
