"""What reaches the log from Slack requests: never their bodies (people's messages, or an attacker's)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.conversation.commands import MAX_NUMBER_DIGITS, parse
from bot.conversation.messages import Actions, Button, DirectMessage, say
from bot.slack._errors import REACHING_SLACK
from bot.slack.app import _unanswered_calls_in_one_line
from tests.fakes.slack_harness import (
    BOT_TOKEN,
    COLLEAGUE,
    COLLEAGUE_EMAIL,
    SIGNING_SECRET,
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


def test_a_call_slack_does_not_answer_after_the_ack_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    """Bolt gives the error handler no response once the listener has acked: answering one anyway failed
    bolt's own assertion, in a task nobody awaited, and the line said the request was dropped."""

    async def authorized(**_: Any) -> AuthorizeResult:  # no auth.test: Slack answered that one
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token=BOT_TOKEN)

    app = AsyncApp(
        name="aadbot",
        signing_secret=SIGNING_SECRET,
        request_verification_enabled=False,
        authorize=authorized,
    )
    app.error(_unanswered_calls_in_one_line)

    @app.event("app_mention")
    async def half_done(ack: Any) -> None:
        await ack()
        raise aiohttp.ClientConnectionError("no route to host")

    async def dispatched() -> int:
        body = {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "Ev1",
            "event": {"type": "app_mention"},
        }
        acked = await app.async_dispatch(AsyncBoltRequest(body=json.dumps(body)))
        listening = asyncio.current_task()
        await asyncio.gather(*(task for task in asyncio.all_tasks() if task is not listening))
        return acked.status

    assert asyncio.run(dispatched()) == 200
    lines = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert lines == [
        "Slack did not answer (ClientConnectionError) while handling a request already acked, so it was left"
        f" unfinished: {REACHING_SLACK}"
    ], lines
