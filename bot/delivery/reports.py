"""The live delivery reports: after a batch, each migration's report in its channel is brought up to date.
The worker says which organizations moved (`OutboxWorker`'s `on_progress`); the surface, which channels
it reaches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from bot.conversation import progress_views
from bot.conversation.messages import Outgoing
from workflows.errors import WorkflowError
from workflows.reminders import Tracking

logger = logging.getLogger(__name__)


class Delivering(Protocol):
    async def deliver(self, outgoings: list[Outgoing], origin: None) -> Any: ...


async def refresh_reports(
    tracking: Tracking, organizations: set[str], delivery_to: Callable[[str], Delivering | None]
) -> None:
    """`delivery_to`: how a report reaches a migration's channel; None where this surface does not."""
    for organization in sorted(organizations):
        try:
            progress = await asyncio.to_thread(tracking.progress, organization)
        except WorkflowError as error:
            logger.info("no delivery report for %s: %s", organization, error)
            continue
        delivery = delivery_to(progress.channel_id) if progress.channel_id else None
        if delivery is not None:
            await delivery.deliver([progress_views.delivery_update(progress)], None)
