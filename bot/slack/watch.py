"""The connection watch: every AADBOT_POLL_SECONDS the conversation looks at migrations waiting for the
portal step; whatever it announces is posted to the migration's channel."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.conversation.messages import Outgoing
from bot.slack.delivery import Delivery

logger = logging.getLogger(__name__)


class Watching(Protocol):
    def watch(self) -> list[Outgoing]: ...


async def watch_once(conversation: Watching, delivery: Delivery) -> None:
    outgoings = await asyncio.to_thread(conversation.watch)
    await delivery.deliver(outgoings, None)


async def watch_forever(conversation: Watching, delivery: Delivery, interval_seconds: float) -> None:
    """Runs until cancelled; one failed look is logged and the next one comes on time."""
    while True:
        try:
            await watch_once(conversation, delivery)
        except Exception:  # the watch must outlive a bad minute (database restart, Microsoft outage)
            logger.exception("the connection watch failed; trying again in %.0f s", interval_seconds)
        await asyncio.sleep(interval_seconds)
