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
from workflows.progress import Progress

logger = logging.getLogger(__name__)


class Delivering(Protocol):
    async def deliver(self, outgoings: list[Outgoing], origin: None) -> Any: ...


class ReadsProgress(Protocol):
    """What a refresh reads (`workflows.reminders.Tracking`)."""

    def progress(self, organization: str | None) -> Progress: ...


async def refresh_reports(
    tracking: ReadsProgress, organizations: set[str], delivery_to: Callable[[str], Delivering | None]
) -> None:
    """`delivery_to`: how a report reaches a migration's channel; None where this surface does not.

    One migration's report failing (its channel archived, the bot removed from it) must not cost the others
    theirs: the worker hands each organization over once, so a report skipped here stays stale until that
    migration's lists move again, which after its last batch is never."""
    for organization in sorted(organizations):
        try:
            progress = await asyncio.to_thread(tracking.progress, organization)
        except WorkflowError as error:
            logger.info("no delivery report for %s: %s", organization, error)
            continue
        delivery = delivery_to(progress.channel_id) if progress.channel_id else None
        if delivery is None:
            continue
        try:
            await delivery.deliver([progress_views.delivery_update(progress)], None)
        except Exception:
            logger.exception("the delivery report of %s could not be updated", organization)
