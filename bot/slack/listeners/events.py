"""Events: mentions take the slash command's words, DMs are chat, opening the App Home shows it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack._runtime import Runtime
from bot.slack.blocks import typed
from bot.slack.delivery import Origin
from bot.slack.listeners import asked_in

BOT_EVENTS = ("app_mention", "message.im", "app_home_opened")
"""The manifest's `bot_events`, each with its listener below."""

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_EventListener = Callable[[dict[str, Any]], Awaitable[None]]


def register(app: AsyncApp, runtime: Runtime) -> None:
    listeners: dict[str, _EventListener] = {
        "app_mention": lambda event: _on_mention(runtime, event),
        "message.im": lambda event: _on_direct_message(runtime, event),
        "app_home_opened": lambda event: _on_home_opened(runtime, event),
    }
    for name in BOT_EVENTS:
        # `message.im` arrives as a `message` event with channel_type "im"
        app.event(name.split(".")[0])(_bolt_listener(runtime, listeners[name]))
    listened = "|".join(re.escape(name.split(".")[0]) for name in BOT_EVENTS)
    app.event(re.compile(f"^(?!(?:{listened})$)"))(_ignore)


async def _ignore() -> None:
    """Any other event is acknowledged and dropped: unacknowledged, Slack would deliver it three more times
    and, if that went on, switch the app's event subscriptions off."""


def _bolt_listener(
    runtime: Runtime, listener: _EventListener
) -> Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]:
    # bolt acks events itself and injects arguments by parameter name: exactly `event` and `body`
    async def on_event(event: dict[str, Any], body: dict[str, Any]) -> None:
        if await runtime.first_delivery(body):
            await listener(event)

    return on_event


async def _on_mention(runtime: Runtime, event: dict[str, Any]) -> None:
    text = typed(_MENTION.sub(" ", str(event.get("text") or ""))).strip()
    channel = str(event["channel"])
    origin = Origin(
        user_id=str(event["user"]),
        channel=channel,
        thread_ts=event.get("thread_ts") or event.get("ts"),
        in_thread=bool(event.get("thread_ts")),
    )
    await runtime.handle(
        origin, lambda actor: runtime.conversation.command(actor, text, channel=channel), what=text or "help"
    )


async def _on_direct_message(runtime: Runtime, event: dict[str, Any]) -> None:
    if (
        event.get("channel_type") != "im"
        or event.get("subtype")
        or event.get("bot_id")
        or not event.get("user")
    ):
        return  # edits, joins and the bot's own messages are not someone talking to the bot
    text = typed(str(event.get("text") or ""))
    origin = Origin(user_id=str(event["user"]), channel=str(event["channel"]))
    reply_to = asked_in(origin)
    await runtime.handle(
        origin, lambda actor: runtime.conversation.chat(actor, text, reply_to=reply_to), what=text
    )


async def _on_home_opened(runtime: Runtime, event: dict[str, Any]) -> None:
    if event.get("tab", "home") == "home":
        await runtime.refresh_home(str(event["user"]))
