"""The conversation the Slack app drives: the lead's `bot.conversation.handlers.Conversation` fits it."""

from __future__ import annotations

from typing import Protocol

from bot.conversation.messages import Message, Outgoing
from workflows.results import Actor


class Conversation(Protocol):
    def command(
        self,
        actor: Actor,
        text: str,
        *,
        channel: str | None,
        seen_in_channel: bool = True,
        reply_to: str | None = None,
    ) -> list[Outgoing]: ...

    def action(
        self, actor: Actor, action: str, value: str, *, channel: str | None, reply_to: str | None = None
    ) -> list[Outgoing]: ...

    def chat(self, actor: Actor, text: str, *, reply_to: str | None = None) -> list[Outgoing]: ...

    def home(self, actor: Actor) -> Message: ...

    def watch(self) -> list[Outgoing]:
        """One look at migrations waiting for the portal step; the announcements to post."""
        ...
