"""`user_change`: Slack tells of a member deactivated, reactivated or otherwise changed; People follows.

Repeats are not screened out (`Runtime.first_delivery` costs a database write, and in a large workspace
every status change sends one of these): the event says how the member is now, so applying it again
changes nothing.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack._runtime import Runtime

BOT_EVENTS = ("user_change",)
"""The manifest's `bot_events` listened to here."""


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.event("user_change")
    async def on_user_change(event: dict[str, Any]) -> None:
        member = event.get("user")
        if isinstance(member, dict) and member.get("id"):
            runtime.people.changed(member)
