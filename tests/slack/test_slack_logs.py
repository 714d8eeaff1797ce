"""What reaches the log from Slack requests: never their bodies (people's messages, or an attacker's)."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest

from bot.conversation.commands import MAX_NUMBER_DIGITS, parse
from bot.conversation.messages import Actions, Button, DirectMessage, say
from tests.fakes.slack_harness import (
    COLLEAGUE,
    COLLEAGUE_EMAIL,
    TRANSPORTS,
    Harness,
    ScriptedConversation,
    ServeBot,
    Transport,
)

PRIVATE = "salary-review-for-ann"


def test_a_request_no_listener_takes_is_logged_without_its_body(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    shortcut = {"type": "shortcut", "callback_id": "not_ours", "trigger_id": "T9", "note": PRIVATE}
    payload = shortcut | {"user": {"id": "UANN"}, "team": {"id": "T1"}}
    response = bot.send.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
    assert response.status_code == 404  # bolt's answer for requests nobody handles (a shortcut we lack)
    unhandled = [
        record.getMessage() for record in caplog.records if "Unhandled request" in record.getMessage()
    ]
    assert unhandled == ["Unhandled request (body not logged)"]
    assert PRIVATE not in caplog.text


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_link_only_its_reader_may_see_is_not_logged_even_at_debug(
    serve_bot: ServeBot,
    scripted: ScriptedConversation,
    transport: Transport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = serve_bot(scripted, transport=transport)
    link = f"https://login.microsoftonline.com/redeem?rd={PRIVATE}"
    accept = Button("Accept the invitation", "accept-invitation", url=link)
    scripted.answers = [say("Your to-do list", Actions((accept,)), to=DirectMessage(COLLEAGUE_EMAIL))]
    bot.send.command("notify fabrikam")
    posted = bot.fake.wait_for_calls("chat.postMessage")[0].params
    assert link in json.dumps(posted)  # it was sent, in a button
    bot.send.click(
        "link.accept-invitation", "", user=COLLEAGUE, channel="DUCOLLEAGUE", blocks=posted["blocks"]
    )
    assert PRIVATE not in caplog.text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("status fabrikam\x00", "(U+0000)"),
        ("ask why\x1b[31m", "(U+001B)"),
        ("done " + "1" * (MAX_NUMBER_DIGITS + 1), f"has {MAX_NUMBER_DIGITS + 1} digits"),
    ],
)
def test_words_no_command_can_mean_carry_the_problem(text: str, problem: str) -> None:
    found = parse(text).problem
    assert found is not None and problem in found


@pytest.mark.parametrize(
    "text",
    [
        "done " + "9" * MAX_NUMBER_DIGITS,
        "ask how do I\nsign in?\twith tabs",
        "start fabrikam fabrikam.com",
        "",
    ],
)
def test_ordinary_words_have_no_problem(text: str) -> None:
    assert parse(text).problem is None
