"""Button clicks: each button's action_id is a command word and its value the argument."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack._runtime import Runtime
from bot.slack.blocks import ACTION_ID, word_of
from bot.slack.delivery import Origin


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.action(re.compile(ACTION_ID.pattern))
    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        if not await runtime.first_delivery(body):
            return
        word = word_of(str(action["action_id"])) or "help"
        value = str(action.get("value") or "")
        user_id = str(body["user"]["id"])
        channel = (body.get("channel") or {}).get("id")
        origin = Origin(user_id=user_id, channel=channel, response_url=body.get("response_url"))
        await runtime.handle(
            origin, lambda actor: runtime.conversation.action(actor, word, value, channel=channel), what=word
        )
        if (body.get("view") or {}).get("type") == "home":
            await runtime.refresh_home(user_id)
