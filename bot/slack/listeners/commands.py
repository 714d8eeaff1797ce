"""`/aad WORDS`: acked at once (empty, so Slack shows nothing until the answer), answered after.

Words no command can mean (a control character, a number thousands of digits long) are answered in the
ack itself, privately: nothing else runs for them.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.conversation.commands import SLASH_COMMAND, parse
from bot.slack._runtime import Runtime
from bot.slack.blocks import escaped, typed
from bot.slack.delivery import Origin
from bot.slack.listeners import asked_in, shared


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.command(SLASH_COMMAND)
    async def on_slash_command(ack: AsyncAck, body: dict[str, Any], command: dict[str, Any]) -> None:
        text = typed(str(command.get("text") or ""))
        problem = parse(text).problem
        if problem:  # Slack formats the ack's text as it does a message's: escaped like every other text
            await ack(text=escaped(problem), response_type="ephemeral")
            return
        await ack()
        if not await runtime.first_delivery(body):
            return
        channel = command.get("channel_id") or None
        origin = Origin(
            user_id=str(command["user_id"]), channel=channel, response_url=command.get("response_url")
        )
        # a migration started in a direct message tells every admin what they must see (`start`); the words
        # of a slash command reach the bot alone, never the channel's members
        await runtime.handle(
            origin,
            lambda actor: runtime.conversation.command(
                actor, text, channel=shared(channel), seen_in_channel=False, reply_to=asked_in(origin)
            ),
            what=f"{SLASH_COMMAND} {text}".strip(),
        )
