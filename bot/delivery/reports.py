"""The live delivery reports: after a batch, each migration's report in its channel is brought up to date.
The worker says which organizations moved (`OutboxWorker`'s `on_progress`); the surface, which channels
it reaches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from bot.conversation import progress_views, unreached_views
from bot.conversation.messages import Channel, Outgoing
from workflows.errors import WorkflowError
from workflows.progress import Progress
from workflows.results import MigrationStatus
from workflows.results_preparing import Told

logger = logging.getLogger(__name__)


class Delivering(Protocol):
    async def deliver(self, outgoings: list[Outgoing], origin: None) -> Any: ...


class ReadsProgress(Protocol):
    """What a refresh reads (`workflows.tracking.Tracking`)."""

    def progress(self, organization: str | None) -> Progress: ...

    def notice_missed(self, organization: str) -> tuple[MigrationStatus, Told] | None: ...


async def refresh_reports(
    tracking: ReadsProgress, organizations: set[str], delivery_to: Callable[[str], Delivering | None]
) -> None:
    """`delivery_to`: how a report reaches a migration's channel; None where this surface does not.

    Before the lists, the report is the advance notice's, and only once it missed someone: the channel
    hears whom chat could not reach, as the log does, instead of nothing.

    One migration's report failing (its channel archived, the bot removed from it) must not cost the others
    theirs: the worker hands each organization over once, so a report skipped here stays stale until that
    migration's lists move again, which after its last batch is never."""
    for organization in sorted(organizations):
        try:
            report = await asyncio.to_thread(_report, tracking, organization)
        except WorkflowError as error:
            logger.info("no delivery report for %s: %s", organization, error)
            continue
        channel = report.to.channel if report is not None and isinstance(report.to, Channel) else None
        delivery = delivery_to(channel) if channel else None
        if report is None or delivery is None:
            continue
        try:
            await delivery.deliver([report], None)
        except Exception:
            logger.exception("the delivery report of %s could not be updated", organization)


def _report(tracking: ReadsProgress, organization: str) -> Outgoing | None:
    try:
        return progress_views.delivery_update(tracking.progress(organization))
    except WorkflowError:
        missed = tracking.notice_missed(organization)  # no lists yet: the advance notice, if it missed
        if missed is None:
            raise
        return unreached_views.notice_missed(*missed)
