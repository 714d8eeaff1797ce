"""The console as a chat surface: people type as themselves, the bot's messages are printed by audience."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

from bot.console.render import render
from bot.conversation.handlers import Conversation
from bot.conversation.messages import Channel, DirectMessage, Message, Outgoing, Reply
from workflows.results import Actor

CHANNEL = "#aad-migration"


def console_actor(email: str, names: dict[str, str] | None = None) -> Actor:
    """On the console a person is their email; Slack would use its own user id instead."""
    address = email.strip().lower()
    name = (names or {}).get(address) or address.split("@")[0].replace(".", " ").title()
    return Actor(id=address, email=address, name=name)


class ConsoleSurface:
    def __init__(
        self,
        conversation: Conversation,
        out: TextIO,
        *,
        channel: str = CHANNEL,
        brief: Callable[[Outgoing], bool] | None = None,
        renderer: Callable[[Message], str] = render,
    ) -> None:
        self.conversation = conversation
        self.out = out
        self.channel = channel
        self.renderer = renderer
        """How a message is printed: the console's own text, or a Teams card as text."""
        self.brief = brief or self.show_everything
        """Messages shown by their summary line only (the demo's many similar DMs)."""
        self.delivered: list[tuple[str, Outgoing]] = []
        """Every message shown, with where it went: the demo's summary and the tests read it."""

    @staticmethod
    def show_everything(message: Outgoing) -> bool:
        return False

    def say(self, actor: Actor, text: str, *, in_dm: bool = False) -> list[Outgoing]:
        where = "DM to aadbot" if in_dm else self.channel
        self.out.write(f"\n{actor.name} <{actor.email}> in {where}:\n  {text}\n")
        if in_dm:
            outgoing = self.conversation.chat(actor, text)
        else:
            outgoing = _at_the_top(self.conversation.command(actor, text, channel=self.channel))
        self.deliver(outgoing, speaker=actor)
        return outgoing

    def click(self, actor: Actor, label: str, action: str, value: str) -> list[Outgoing]:
        self.out.write(f"\n{actor.name} <{actor.email}> clicks [{label}]\n")
        outgoing = _at_the_top(self.conversation.action(actor, action, value, channel=self.channel))
        self.deliver(outgoing, speaker=actor)
        return outgoing

    def deliver(self, outgoing: Iterable[Outgoing], *, speaker: Actor | None = None) -> None:
        for message in outgoing:
            where = self._where(message, speaker)
            note = (
                "  (updates every copy of this message)"
                if message.updates and self._seen(message.updates)
                else ""
            )
            body = f"  {message.message.summary}" if self.brief(message) else self.renderer(message.message)
            self.out.write(f"\naadbot {where}:{note}\n{body}\n")
            self.delivered.append((where, message))
        self.out.flush()

    def _seen(self, key: str) -> bool:
        return any(earlier.updates == key for _, earlier in self.delivered)

    def _where(self, message: Outgoing, speaker: Actor | None) -> str:
        match message.to:
            case DirectMessage(email):
                return f"→ DM to {email}"
            case Channel(channel):
                return f"→ {channel or self.channel}"
            case Reply():
                only = " (only you see this)" if message.message.private else ""
                return f"→ {speaker.name if speaker else 'you'}{only}"
        raise AssertionError(message.to)


def _at_the_top(outgoing: list[Outgoing]) -> list[Outgoing]:
    """The console's channel has no threads: a reply only for one (`Outgoing.in_thread_only`) is left out."""
    return [message for message in outgoing if not message.in_thread_only]
