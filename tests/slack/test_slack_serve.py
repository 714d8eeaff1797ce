"""`aadbot serve`: settings checked before anything starts; the connection watch posts its announcements."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from bot.conversation.messages import Channel, DirectMessage, say
from bot.settings import Settings, SettingsError
from bot.slack.app import build_delivery, build_web_client
from bot.slack.commands import register
from bot.slack.people import People
from bot.slack.serve import check_settings
from bot.slack.state import InMemorySlackState
from bot.slack.watch import watch_once
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, COLLEAGUE, COLLEAGUE_EMAIL, ScriptedConversation


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (Settings(slack_signing_secret="s"), "SLACK_BOT_TOKEN is not set"),
        (Settings(slack_bot_token="xoxp-user", slack_signing_secret="s"), "xoxb-"),
        (Settings(slack_bot_token="xoxb-1"), "SLACK_SIGNING_SECRET"),
        (Settings(slack_bot_token="xoxb-1", slack_app_token="xoxb-2"), "xapp-"),
    ],
)
def test_unusable_slack_settings_name_the_variable_and_the_fix(settings: Settings, named: str) -> None:
    with pytest.raises(SettingsError, match=named) as raised:
        check_settings(settings)
    assert "xoxp-user" not in str(raised.value)


def test_socket_mode_needs_no_signing_secret_and_http_needs_no_app_token() -> None:
    assert check_settings(Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1")) == "xoxb-1"
    assert check_settings(Settings(slack_bot_token="xoxb-1", slack_signing_secret="s")) == "xoxb-1"


def parser(built: list[Settings]) -> argparse.ArgumentParser:
    def conversation_factory(settings: Settings) -> ScriptedConversation:
        built.append(settings)
        return ScriptedConversation()

    root = argparse.ArgumentParser(prog="aadbot")
    register(
        root.add_subparsers(dest="command"),
        conversation_factory=conversation_factory,
        health_factory=lambda _: lambda: True,
    )
    return root


def test_serve_defaults_to_loopback_port_3000_and_rejects_a_bad_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = parser([]).parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 3000)
    with pytest.raises(SystemExit) as exited:
        parser([]).parse_args(["serve", "--port", "http"])
    assert exited.value.code == 2
    assert "not a port number" in capsys.readouterr().err


def test_serve_checks_settings_before_building_the_conversation(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Settings] = []
    args = parser(built).parse_args(["serve"])
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        args.run(args)
    assert built == []


def test_the_watch_posts_announcements_to_their_channel_and_dms(fake_slack: FakeSlack) -> None:
    conversation = ScriptedConversation(
        announcements=[
            say("fabrikam is connected to fabrikam.com", to=Channel("CMIGRATE")),
            say("Your organization moved", to=DirectMessage(COLLEAGUE_EMAIL)),
            say("Nobody to say this to"),  # a reply with no conversation: dropped, not crashed on
        ]
    )
    client = build_web_client(BOT_TOKEN, base_url=f"{fake_slack.url}/api/")
    delivery = build_delivery(client, People(client), InMemorySlackState())

    asyncio.run(watch_once(conversation, delivery))

    posted = [call.params["channel"] for call in fake_slack.calls_of("chat.postMessage")]
    assert posted == ["CMIGRATE", f"D{COLLEAGUE}"]
