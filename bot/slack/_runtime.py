"""What every listener does after its ack: find the person, ask the conversation (in a thread), deliver."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.conversation.messages import Outgoing, failed_turn_echo
from bot.slack._errors import error_code
from bot.slack.delivery import DELIVERY_ERRORS, Delivery, Origin
from bot.slack.people import People
from bot.slack.ports import Conversation
from bot.slack.state import SlackState
from workflows.results import Actor

logger = logging.getLogger(__name__)

NO_EMAIL = (
    "I can't see the email address on your Slack profile, and I match people by email. "
    "Ask a workspace admin to show emails to apps (and reinstall me with the `users:read.email` scope)."
)
LOOKUP_FAILED = "I could not look you up in Slack just now. Please try again in a minute."
NOT_IN_WORKSPACE = (
    "Slack says it cannot find you in this Slack workspace (`user_not_found`), so I cannot tell who you"
    " are; trying again will not change that. This happens when you write from another organization's"
    " workspace through a shared channel: talk to me from the workspace where I am installed, or ask"
    " its admins to add you as a member."
)


@dataclass(frozen=True)
class Runtime:
    conversation: Conversation
    people: People
    delivery: Delivery
    state: SlackState

    async def first_delivery(self, body: dict[str, Any]) -> bool:
        """False for a retry or replay of a request already acted on.

        Asked after the ack, not before: the claim may be a database write, and Slack retries only
        requests that were not acked in time, so the ack need not wait for it.
        """
        key = request_id(body)
        if key is None or await self.state.claim_request(key):
            return True
        logger.info("ignoring a repeated delivery of %s", key)
        return False

    async def handle(self, origin: Origin, talk: Callable[[Actor], list[Outgoing]], *, what: str) -> None:
        """Run one conversation turn for whoever spoke and deliver its answers; never raises."""
        actor = await self.actor(origin)
        if actor is None:
            return
        try:
            # the conversation is synchronous (database, Microsoft calls): keep it off the event loop
            outgoings = await asyncio.to_thread(talk, actor)
        except Exception:
            said = failed_turn_echo(what)
            logger.exception("the conversation failed while handling %r", said)
            await self.delivery.tell(
                origin,
                f"Something went wrong on my side while handling `{said}`; the details are in my log. "
                "`/aad status` shows where things stand.",
            )
            return
        await self.delivery.deliver(outgoings, origin)

    async def refresh_home(self, user_id: str) -> None:
        actor = await self.actor(Origin(user_id=user_id, channel=None))
        if actor is None:
            return
        try:
            home = await asyncio.to_thread(self.conversation.home, actor)
            await self.delivery.publish_home(user_id, home)
        except DELIVERY_ERRORS as error:
            logger.warning("publishing the App Home of %s failed: %s", user_id, type(error).__name__)

    async def actor(self, origin: Origin) -> Actor | None:
        try:
            actor = await self.people.actor(origin.user_id)
        except DELIVERY_ERRORS as error:
            code = error_code(error)
            logger.warning("users.info failed for %s: %s", origin.user_id, code)
            await self.delivery.tell(origin, NOT_IN_WORKSPACE if code == "user_not_found" else LOOKUP_FAILED)
            return None
        if actor is None:
            await self.delivery.tell(origin, NO_EMAIL)
        return actor


def request_id(body: dict[str, Any]) -> str | None:
    """What makes a Slack request unique, so that a retry or replay of it is recognised."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    if body.get("type") == "block_actions" and body.get("trigger_id"):
        first = (body.get("actions") or [{}])[0]
        return f"action:{body['trigger_id']}:{first.get('action_ts', '')}"
    return None
