"""Where answers go: DMs by email, channels, copies of one message kept equal, files.

Each runs over HTTP and over Socket Mode: the answers leave the same way whichever way the request came.
"""

from __future__ import annotations

import pytest

from bot.conversation.messages import Attachment, Channel, DirectMessage, Message, Outgoing, Text, say
from tests.fakes.slack_api import Failure
from tests.fakes.slack_harness import (
    CHANNEL,
    COLLEAGUE,
    COLLEAGUE_EMAIL,
    TRANSPORTS,
    Harness,
    ScriptedConversation,
    ServeBot,
    texts,
)


@pytest.fixture(params=TRANSPORTS)
def bot(request: pytest.FixtureRequest, serve_bot: ServeBot, scripted: ScriptedConversation) -> Harness:
    return serve_bot(scripted, transport=request.param)


def test_a_direct_message_finds_the_person_by_email_and_opens_a_dm(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.answers = [
        say("Your to-do list: sign in with your work account", to=DirectMessage(COLLEAGUE_EMAIL))
    ]
    bot.send.command("notify fabrikam")

    posted = bot.fake.wait_for_calls("chat.postMessage")
    assert len(bot.fake.calls_of("users.list")) == 1  # the workspace directory, in bulk
    assert bot.fake.calls_of("users.lookupByEmail") == []
    assert bot.fake.calls_of("conversations.open")[0].params["users"] == COLLEAGUE
    assert posted[0].params["channel"] == f"D{COLLEAGUE}"
    assert "sign in with your work account" in texts(posted[0].params)


def test_people_missing_from_slack_are_reported_to_the_requester(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.answers = [
        say("Your to-do list", to=DirectMessage("gone@fabrikam.com")),
        say("Your to-do list", to=DirectMessage(COLLEAGUE_EMAIL)),
    ]
    bot.send.command("notify fabrikam")

    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    assert "gone@fabrikam.com" in bot.fake.responses[0]["text"]
    assert bot.fake.responses[0]["response_type"] == "ephemeral"
    assert [call.params["channel"] for call in bot.fake.calls_of("chat.postMessage")] == [f"D{COLLEAGUE}"]


def test_a_direct_message_tries_the_persons_other_addresses_as_the_outbox_does(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.answers = [say("Your to-do list", to=DirectMessage("old@fabrikam.com", also=(COLLEAGUE_EMAIL,)))]
    bot.send.command("notify fabrikam")
    posted = bot.fake.wait_for_calls("chat.postMessage")
    assert [call.params["channel"] for call in posted] == [f"D{COLLEAGUE}"]
    assert bot.fake.responses == []  # nobody was told the person is missing


def test_a_channel_message_goes_to_the_named_channel_or_where_the_command_came_from(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    scripted.answers = [say("Connected!", to=Channel("CANNOUNCE")), say("Invited 3 guests", to=Channel())]
    bot.send.command("invite fabrikam")

    posted = bot.fake.wait_for_calls("chat.postMessage", 2)
    assert [call.params["channel"] for call in posted] == ["CANNOUNCE", CHANNEL]


def test_every_copy_of_a_shared_message_is_updated_with_the_decision(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    prompt = Message("Approve connecting fabrikam?", (Text("Approve connecting *fabrikam*?"),))
    scripted.answers = [
        Outgoing(prompt, to=Channel(), updates="approval-1"),
        Outgoing(prompt, to=DirectMessage(COLLEAGUE_EMAIL), updates="approval-1"),
    ]
    bot.send.command("request-approval fabrikam")
    posted = bot.fake.wait_for_calls("chat.postMessage", 2)
    copies = {(call.params["channel"], f"{index + 1}.000100") for index, call in enumerate(posted)}
    assert copies == {(CHANNEL, "1.000100"), (f"D{COLLEAGUE}", "2.000100")}

    decision = Message("Approved by Cole League", (Text("✅ *Approved* by Cole League"),))
    scripted.answers = [Outgoing(decision, updates="approval-1")]
    bot.send.click("approve", "approval-1", user=COLLEAGUE, channel=f"D{COLLEAGUE}", message_ts="2.000100")

    updates = bot.fake.wait_for_calls("chat.update", 2)
    assert {(call.params["channel"], call.params["ts"]) for call in updates} == copies
    assert all("Approved* by Cole League" in texts(bot.fake.messages[copy]) for copy in copies)
    assert len(bot.fake.calls_of("chat.postMessage")) == 2  # updated in place, nothing new posted


def test_a_file_in_a_private_answer_lands_in_the_requesters_dm(
    bot: Harness, scripted: ScriptedConversation
) -> None:
    csv = "user,outcome\nada@fabrikam.com,auto\n"
    scripted.answers = [
        say("The plan", Text("3 users"), Attachment("plan-fabrikam.csv", csv, "Per-user plan"))
    ]
    bot.send.command("plan fabrikam")

    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    completed = bot.fake.calls_of("files.completeUploadExternal")
    assert completed[0].params["channel_id"].startswith("D")
    assert list(bot.fake.uploads.values()) == [csv.encode()]
    assert "direct messages" in texts(bot.fake.responses[0])


def test_a_channel_the_bot_is_not_in_is_explained(bot: Harness, scripted: ScriptedConversation) -> None:
    scripted.answers = [say("Connected!", to=Channel("CPRIVATE"))]
    bot.fake.fail("chat.postMessage", Failure(error="not_in_channel"))
    bot.send.command("check-connection fabrikam")

    bot.fake.wait_for(lambda fake: len(fake.responses) == 1)
    assert "/invite @aadbot" in bot.fake.responses[0]["text"]
