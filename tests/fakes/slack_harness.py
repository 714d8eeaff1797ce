"""Driving the Slack app as Slack does: signed requests, a scripted Conversation, text of messages."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.conversation.messages import Heading, Message, Outgoing, say
from tests.fakes.slack_api import Call, FakeSlack
from workflows.results import Actor

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
ADMIN = "UADMIN"
ADMIN_EMAIL = "admin@fabrikam.com"
COLLEAGUE = "UCOLLEAGUE"
COLLEAGUE_EMAIL = "colleague@fabrikam.com"
CHANNEL = "CMIGRATE"


@dataclass
class ScriptedConversation:
    """A stand-in Conversation: records each call and answers with what the test scripted."""

    answers: list[Outgoing] = field(default_factory=lambda: [say("done")])
    home_message: Message = field(default_factory=lambda: Message("home", (Heading("Your to-do list"),)))
    announcements: list[Outgoing] = field(default_factory=list)
    calls: list[tuple[str, Actor, tuple[Any, ...]]] = field(default_factory=list)
    gate: threading.Event | None = None
    """When set, every call waits for it: slow work after the ack."""
    failure: Exception | None = None

    # `reply_to` (where a progress line would go) is not recorded: no scripted answer has one

    def command(
        self,
        actor: Actor,
        text: str,
        *,
        channel: str | None,
        seen_in_channel: bool = True,
        reply_to: str | None = None,
    ) -> list[Outgoing]:
        return self._answer("command", actor, (text, channel))

    def action(
        self, actor: Actor, action: str, value: str, *, channel: str | None, reply_to: str | None = None
    ) -> list[Outgoing]:
        return self._answer("action", actor, (action, value, channel))

    def chat(self, actor: Actor, text: str, *, reply_to: str | None = None) -> list[Outgoing]:
        return self._answer("chat", actor, (text,))

    def home(self, actor: Actor) -> Message:
        self.calls.append(("home", actor, ()))
        return self.home_message

    def watch(self) -> list[Outgoing]:
        return list(self.announcements)

    def _answer(self, kind: str, actor: Actor, args: tuple[Any, ...]) -> list[Outgoing]:
        if self.gate is not None and not self.gate.wait(10):
            raise TimeoutError("the test never opened the gate")
        self.calls.append((kind, actor, args))
        if self.failure is not None:
            raise self.failure
        return list(self.answers)


_REQUEST_IDS = itertools.count(1)
"""Trigger and event ids, unique in the test process: `aadbot serve` drops a request whose id it has
seen, and one process serves the senders of several modules (tests/slack/conftest.py)."""


@dataclass
class SlackSender:
    """Posts to the app exactly as Slack does: signed body, Slack's headers and body formats."""

    http: httpx.Client | None
    """None when only the payloads are wanted (Socket Mode sends them in envelopes)."""
    fake: FakeSlack
    secret: str = SIGNING_SECRET
    _ids: itertools.count[int] = field(default_factory=lambda: _REQUEST_IDS)

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signed = signature or SignatureVerifier(self.secret).generate_signature(timestamp=stamp, body=body)
        assert self.http is not None, "this sender only builds payloads"
        return self.http.post(
            "/slack/events",
            content=body,
            headers={
                "content-type": content_type,
                "x-slack-request-timestamp": stamp,
                "x-slack-signature": signed,
                **(headers or {}),
            },
        )

    def command_payload(self, text: str, *, user: str = ADMIN, channel: str = CHANNEL) -> dict[str, str]:
        trigger = f"T{next(self._ids)}"
        return {
            "command": "/aad",
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "team_id": "T1",
            "trigger_id": trigger,
            "response_url": self.fake.response_url(trigger),
        }

    def command_body(self, text: str, *, user: str = ADMIN, channel: str = CHANNEL) -> str:
        return urlencode(self.command_payload(text, user=user, channel=channel))

    def command(self, text: str, *, user: str = ADMIN, channel: str = CHANNEL) -> httpx.Response:
        return self.post(
            self.command_body(text, user=user, channel=channel), "application/x-www-form-urlencoded"
        )

    def event_payload(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        return {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": event_id or f"Ev{next(self._ids)}",
            "event_time": int(time.time()),
            "event": event,
        }

    def event_body(self, event: dict[str, Any], *, event_id: str | None = None) -> str:
        return json.dumps(self.event_payload(event, event_id=event_id))

    def event(self, event: dict[str, Any], *, event_id: str | None = None) -> httpx.Response:
        return self.post(self.event_body(event, event_id=event_id), "application/json")

    def click_payload(
        self,
        action_id: str,
        value: str,
        *,
        user: str = ADMIN,
        channel: str | None = CHANNEL,
        message_ts: str = "1.000100",
        home: bool = False,
        blocks: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        trigger = f"T{next(self._ids)}"
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "trigger_id": trigger,
            "actions": [
                {"type": "button", "action_id": action_id, "value": value, "action_ts": f"{time.time():.6f}"}
            ],
        }
        if home:
            payload |= {"container": {"type": "view"}, "view": {"type": "home", "id": "V1"}}
        else:
            payload |= {
                "container": {"type": "message", "message_ts": message_ts},
                "channel": {"id": channel},
                # Slack sends the clicked message back whole
                "message": {"ts": message_ts} | ({"blocks": blocks} if blocks else {}),
                "response_url": self.fake.response_url(trigger),
            }
        return payload

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = ADMIN,
        channel: str | None = CHANNEL,
        message_ts: str = "1.000100",
        home: bool = False,
        blocks: list[dict[str, Any]] | None = None,
    ) -> httpx.Response:
        payload = self.click_payload(
            action_id, value, user=user, channel=channel, message_ts=message_ts, home=home, blocks=blocks
        )
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


Transport = Literal["http", "socket"]
TRANSPORTS: tuple[Transport, ...] = ("http", "socket")


@dataclass
class Harness:
    fake: FakeSlack
    send: Any
    """A SlackSender over HTTP, or a SocketModeSender: the same verbs."""
    url: str
    http: httpx.Client | None
    """HTTP only."""


ServeBot = Callable[..., Harness]


def texts(message: dict[str, Any]) -> str:
    """Every piece of text in a posted message, for assertions that don't care about layout."""
    parts: list[str] = [str(message.get("text", ""))]
    blocks = message.get("blocks", [])
    if isinstance(blocks, str):
        blocks = json.loads(blocks)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(parts)


def button(call: Call, label: str) -> dict[str, Any]:
    """The button labelled `label` in a posted message."""
    blocks = call.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return next(
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if label in element["text"]["text"]
    )


def in_thread(fake: FakeSlack, ts: str) -> list[Call]:
    """What the bot said in the thread of message `ts`, for everyone or privately."""
    said = fake.calls_of("chat.postMessage") + fake.calls_of("chat.postEphemeral")
    return [call for call in said if call.params.get("thread_ts") == ts]


@dataclass
class Clock:
    """A monotonic clock in seconds (People's, the Slack state's), moved by the test."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now
