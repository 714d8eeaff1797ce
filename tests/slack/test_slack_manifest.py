"""manifest.yml matches the code: the command, the events with their listeners, the scopes the code needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.conversation.commands import SLASH_COMMAND, WORDS
from bot.slack.listeners.events import BOT_EVENTS

ROOT = Path(__file__).resolve().parents[2]
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history", "app_home_opened": None}
"""From Slack's event reference."""
METHOD_SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "conversations_open": "im:write",
    "users_info": "users:read",
    "users_list": "users:read",
    "conversations_history": "im:history",  # and the two below: DMs and channels are searched
    "users_lookupByEmail": "users:read.email",
    "files_upload_v2": "files:write",
    "files_getUploadURLExternal": "files:write",  # and the one below: files_upload_v2's steps, taken apart
    "files_completeUploadExternal": "files:write",
    "views_publish": None,
}
"""From Slack's method reference; a Web API method the code calls that is missing here fails the test."""


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def called_methods() -> set[str]:
    source = "\n".join(path.read_text() for path in (ROOT / "bot" / "slack").rglob("*.py"))
    return set(re.findall(r"_client\.([a-z]+_[A-Za-z0-9_]+)\(", source))


def test_the_slash_command_is_the_codes_and_its_hint_uses_command_words() -> None:
    (command,) = manifest()["features"]["slash_commands"]
    assert command["command"] == SLASH_COMMAND
    hinted = {part.split()[0] for part in command["usage_hint"].split("|")}
    assert hinted <= WORDS


def test_each_bot_event_has_a_listener_and_its_scope() -> None:
    events = manifest()["settings"]["event_subscriptions"]["bot_events"]
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert set(events) == set(BOT_EVENTS)
    assert {EVENT_SCOPES[event] for event in events} - {None} <= scopes


def test_scopes_are_exactly_what_the_code_needs() -> None:
    methods = called_methods()
    assert "chat_postMessage" in methods  # the scan sees the code
    needed = {METHOD_SCOPES[method] for method in methods}
    needed |= {EVENT_SCOPES[event] for event in BOT_EVENTS}
    if "conversations_history" in methods:  # public and private channels, besides DMs
        needed |= {"channels:history", "groups:history"}
    needed.add("commands")  # the slash command
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == needed - {None}


def test_socket_mode_means_no_request_urls_and_the_app_home_takes_messages() -> None:
    settings = manifest()["settings"]
    urls = [settings["event_subscriptions"].get("request_url"), settings["interactivity"].get("request_url")]
    urls += [command.get("url") for command in manifest()["features"]["slash_commands"]]
    assert settings["socket_mode_enabled"] is True
    assert urls == [None, None, None]
    assert settings["interactivity"]["is_enabled"] is True
    home = manifest()["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]
    assert home["messages_tab_read_only_enabled"] is False
