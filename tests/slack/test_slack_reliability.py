"""Signatures, retries, replays and rate limits: nothing acts twice, forged requests change nothing.

Signatures and replays are HTTP's; retries, `Retry-After` and failures reported run over Socket Mode too.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.conversation.messages import DirectMessage, say
from bot.slack.state import InMemorySlackState
from tests.fakes.slack_api import Failure
from tests.fakes.slack_harness import (
    ADMIN,
    CHANNEL,
    COLLEAGUE_EMAIL,
    TRANSPORTS,
    Harness,
    ScriptedConversation,
    ServeBot,
    Transport,
)


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> Transport:
    chosen: Transport = request.param
    return chosen


def test_a_forged_signature_gets_401_and_changes_nothing(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    response = bot.send.post(
        bot.send.command_body("cancel fabrikam"),
        "application/x-www-form-urlencoded",
        signature="v0=" + "0" * 64,
    )
    assert response.status_code == 401
    assert scripted.calls == []
    assert bot.fake.calls_of("users.info") == [] and bot.fake.responses == []


def test_a_request_signed_with_another_secret_gets_401(bot: Harness, scripted: ScriptedConversation) -> None:
    bot.send.secret = "not-our-secret"
    assert bot.send.command("cancel fabrikam").status_code == 401
    assert scripted.calls == []


def test_a_stale_request_gets_401_even_when_correctly_signed(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    ten_minutes_ago = int(time.time()) - 600
    body = bot.send.command_body("cancel fabrikam")
    response = bot.send.post(body, "application/x-www-form-urlencoded", timestamp=ten_minutes_ago)
    assert response.status_code == 401
    assert scripted.calls == []


def test_a_replayed_command_acts_once(bot: Harness, scripted: ScriptedConversation) -> None:
    body = bot.send.command_body("invite fabrikam")
    first = bot.send.post(body, "application/x-www-form-urlencoded")
    replay = bot.send.post(body, "application/x-www-form-urlencoded")
    assert (first.status_code, replay.status_code) == (200, 200)
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    bot.send.command("status")  # a later, different request still goes through, after the replay
    bot.fake.wait_for(lambda fake: len(fake.responses) == 2)
    assert [call[2][0] for call in scripted.calls] == ["invite fabrikam", "status"]


class GatedMemory(InMemorySlackState):
    """Request memory whose claims wait for the test, like a busy database."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    async def claim_request(self, request_id: str) -> bool:
        await asyncio.to_thread(self.gate.wait, 10)
        return await super().claim_request(request_id)


def test_the_ack_does_not_wait_for_the_request_memory(
    serve_bot: ServeBot, scripted: ScriptedConversation
) -> None:
    memory = GatedMemory()
    bot = serve_bot(scripted, state=memory)
    assert bot.send.command("status").status_code == 200  # acked while the claim is pending
    assert scripted.calls == []  # nothing acts before the request is known to be new
    memory.gate.set()
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    assert [call[2][0] for call in scripted.calls] == ["status"]


def test_slacks_retried_event_delivery_acts_once(bot: Harness, scripted: ScriptedConversation) -> None:
    mention = {
        "type": "app_mention",
        "user": ADMIN,
        "text": "<@UAADBOT> notify fabrikam",
        "channel": CHANNEL,
        "ts": "7.000001",
    }
    body = bot.send.event_body(mention, event_id="Ev0RETRIED")
    assert bot.send.post(body, "application/json").status_code == 200
    retry = bot.send.post(
        body, "application/json", headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    )
    assert retry.status_code == 200
    bot.fake.wait_for_calls("chat.postMessage")
    bot.send.event(mention | {"text": "<@UAADBOT> status"})
    bot.fake.wait_for_calls("chat.postMessage", 2)
    assert [call[2][0] for call in scripted.calls] == ["notify fabrikam", "status"]


def test_a_double_delivered_click_acts_once(bot: Harness, scripted: ScriptedConversation) -> None:
    click = bot.send.click("approve", "approval-1")
    replay = bot.send.post(click.request.content.decode(), "application/x-www-form-urlencoded")
    assert replay.status_code == 200
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    bot.send.click("status", "fabrikam")
    bot.fake.wait_for(lambda fake: len(fake.responses) == 2)
    assert [call[2][0] for call in scripted.calls] == ["approve", "status"]


def test_a_rate_limited_call_is_retried_after_retry_after(
    serve_bot: ServeBot, scripted: ScriptedConversation, transport: Transport
) -> None:
    bot = serve_bot(scripted, transport=transport)
    scripted.answers = [say("Your to-do list", to=DirectMessage(COLLEAGUE_EMAIL))]
    bot.fake.fail("chat.postMessage", Failure(status=429, retry_after=1))

    bot.send.command("notify fabrikam")

    posts = bot.fake.wait_for_calls("chat.postMessage", 2, timeout=10)
    assert len(posts) == 2
    assert posts[0].params == posts[1].params
    assert posts[1].at - posts[0].at >= 1.0
    assert bot.fake.responses == []  # nothing to complain about: it went through


def test_server_errors_are_retried_a_bounded_number_of_times_then_reported(
    serve_bot: ServeBot, scripted: ScriptedConversation, transport: Transport
) -> None:
    bot = serve_bot(scripted, transport=transport)
    scripted.answers = [say("Your to-do list", to=DirectMessage(COLLEAGUE_EMAIL))]
    bot.fake.fail("chat.postMessage", *[Failure(status=503)] * 10)

    bot.send.command("notify fabrikam")

    bot.fake.wait_for(lambda fake: len(fake.responses) == 1, timeout=15)
    assert len(bot.fake.calls_of("chat.postMessage")) == 3  # the call and two retries
    assert "could not deliver" in bot.fake.responses[0]["text"].lower()
