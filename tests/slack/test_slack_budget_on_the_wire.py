"""What reaches Slack's Web API and response URLs fits Slack, however big the message and however sent.

A message far past Slack's limits goes out every way the app sends: the response_url of a slash
command (with the note about its file), an ephemeral reply in a mention's thread, a channel post and
its update, and the App Home; each payload Slack receives is checked by slack_sdk's models.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.conversation.messages import (
    Actions,
    Attachment,
    Button,
    Channel,
    Heading,
    Message,
    Outgoing,
    Table,
    Text,
    say,
)
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import ADMIN, BOT_TOKEN, CHANNEL, Harness, ScriptedConversation
from tests.fakes.slack_limits import problems

ROWS = tuple(
    (f"someone.with.a.long.name{n}@engineering.emea.contoso-enterprise.com", "x" * 120) for n in range(3000)
)
BUTTONS = Actions(
    (Button("Refresh", "progress", "fabrikam"), Button("Retry failed", "retry-failed", "fabrikam"))
)
HUGE = Message(
    "Progress of fabrikam",
    (
        Heading("Progress of fabrikam"),
        Table(("user", "reason"), ROWS),
        Text("Press *Retry failed* to send the failed lists again."),
        Attachment("progress.csv", "email\n", "Everyone"),
        BUTTONS,
    ),
    private=True,
)


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _fits_with_buttons(params: dict[str, Any], *, view: bool = False) -> list[dict[str, Any]]:
    blocks = _blocks(params)
    payload = {"type": "home", "blocks": blocks} if view else {"text": params.get("text"), "blocks": blocks}
    assert problems(payload, view=view) == []
    assert len(blocks) == (100 if view else 50)
    ids = [
        element["action_id"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert ids == ["progress", "retry-failed"]
    return blocks


def test_a_reply_through_the_response_url_keeps_its_buttons_and_its_file_note(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.answers = [Outgoing(HUGE)]
    bot.send.command("progress fabrikam")
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    blocks = _fits_with_buttons(bot.fake.responses[0])
    assert blocks[-1]["elements"][0]["text"] == "The file is in your direct messages with me."


def test_a_private_reply_to_a_mention_is_ephemeral_in_its_thread_and_fits(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.answers = [Outgoing(HUGE)]
    event = {
        "type": "app_mention",
        "user": ADMIN,
        "text": "<@UAADBOT> progress",
        "channel": CHANNEL,
        "ts": "5.5",
    }
    bot.send.event(event)
    (ephemeral,) = bot.fake.wait_for_calls("chat.postEphemeral")
    assert (ephemeral.params["user"], ephemeral.params["thread_ts"]) == (ADMIN, "5.5")
    _fits_with_buttons(ephemeral.params)
    assert not bot.fake.calls_of("chat.postMessage")  # only the asker sees it
    bot.fake.wait_for_calls("files.completeUploadExternal")


def test_a_channel_post_and_its_update_fit(bot: Harness, scripted: ScriptedConversation) -> None:
    public = Message(HUGE.summary, tuple(b for b in HUGE.blocks if not isinstance(b, Attachment)))
    later = Message("Progress of fabrikam, later", public.blocks)
    # the reply after the post arrives once the post is recorded: then the next turn updates it
    scripted.answers = [Outgoing(public, Channel(CHANNEL), updates="delivery:1"), say("Sending.")]
    bot.send.command("notify fabrikam")
    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    scripted.answers = [Outgoing(later, Channel(CHANNEL), updates="delivery:1")]
    bot.send.command("progress fabrikam")
    (updated,) = bot.fake.wait_for_calls("chat.update")
    (posted,) = bot.fake.calls_of("chat.postMessage")
    _fits_with_buttons(posted.params)
    _fits_with_buttons(updated.params)
    assert updated.params["text"] == "Progress of fabrikam, later"


def test_the_app_home_fits_a_view_of_a_hundred_blocks(bot: Harness, scripted: ScriptedConversation) -> None:
    scripted.home_message = HUGE
    bot.send.event({"type": "app_home_opened", "user": ADMIN, "tab": "home", "channel": "D1"})
    (published,) = bot.fake.wait_for_calls("views.publish")
    view = published.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    _fits_with_buttons(view, view=True)


def test_the_fake_slack_refuses_what_slack_refuses(fake_slack: FakeSlack) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=f"{fake_slack.url}/api/")
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    client.chat_postMessage(channel=CHANNEL, text="fits", blocks=[section] * 50)
    for blocks in ([section] * 51, [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]):
        with pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel=CHANNEL, text="too big", blocks=blocks)
        assert refused.value.response["error"] == "invalid_blocks"
    assert len(fake_slack.messages) == 1
