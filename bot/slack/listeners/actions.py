"""Button clicks: each button's action_id is a command word and its value the argument.

Every click is acknowledged, known or not: an unanswered click shows the person an error icon in Slack
(and over HTTP a 404 makes Slack report the app as failing), while the person is better served by hearing,
privately, that the button is from an older message and what to type instead.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack._runtime import Runtime
from bot.slack.blocks import ACTION_ID, LINK_ACTION_ID, word_of
from bot.slack.delivery import Origin
from bot.slack.listeners import asked_in, shared

logger = logging.getLogger(__name__)

UNKNOWN_BUTTON = (
    "That button is not one of mine any more (it is from an older message, or from another app), so I"
    " did nothing. Type `/aad status` to see where things stand, with fresh buttons; `/aad help` shows"
    " what you can do next."
)
_ANY = re.compile(r".*", re.DOTALL)


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.action(re.compile(ACTION_ID.pattern))
    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        if not await runtime.first_delivery(body):
            return
        word = word_of(str(action["action_id"])) or "help"
        value = str(action.get("value") or "")
        origin = _origin(body)
        channel, reply_to = shared(origin.channel), asked_in(origin)
        await runtime.handle(
            origin,
            lambda actor: runtime.conversation.action(actor, word, value, channel=channel, reply_to=reply_to),
            what=word,
        )
        if (body.get("view") or {}).get("type") == "home":
            await runtime.refresh_home(origin.user_id)

    @app.action(LINK_ACTION_ID)
    async def on_link(ack: AsyncAck) -> None:
        await ack()  # the browser opened the link: nothing for the bot to do

    @app.action(_ANY)  # registered last: bolt runs the first listener that matches
    async def on_unknown_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        if not await runtime.first_delivery(body):
            return
        logger.info("a click on a button I do not know (%.80r); told the clicker", action.get("action_id"))
        await runtime.delivery.tell(_origin(body), UNKNOWN_BUTTON)


def _origin(body: dict[str, Any]) -> Origin:
    channel = (body.get("channel") or {}).get("id")
    return Origin(user_id=str(body["user"]["id"]), channel=channel, response_url=body.get("response_url"))
