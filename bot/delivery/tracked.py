"""The outbox worker as the chat surfaces run it: what reaches its person starts her reminders, and the
live delivery reports follow the sending. Built here alone, so the console, Slack, Teams and Teams beside
Slack wire it alike and differ only in what they send through and which channels they reach."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.delivery.pacing import Sleep
from bot.delivery.reports import Delivering, refresh_reports
from bot.delivery.sender import Receipt, Sender
from bot.delivery.settings import DeliverySettings
from bot.delivery.settling import Delivered
from bot.delivery.worker import OutboxWorker

if TYPE_CHECKING:
    from storage import Database, OutboundMessage
    from workflows.tracking import Tracking


def starting_reminders(tracking: Tracking) -> Delivered:
    """The worker's `on_delivered`: a to-do list recorded sent starts its person's reminders, in her time
    zone where the platform told it."""

    def delivered(message: OutboundMessage, receipt: Receipt) -> None:
        tracking.delivered(message.kind, message.payload, receipt.time_zone)

    return delivered


def tracked_worker(
    database: Database,
    sender: Sender,
    tracking: Tracking,
    *,
    clock: Callable[[], datetime],
    settings: DeliverySettings,
    delivery_to: Callable[[str], Delivering | None],
    surfaces: tuple[str, ...],
    name: str | None = None,
    sleep: Sleep = asyncio.sleep,
) -> OutboxWorker:
    """The worker beside a server: sends through `sender`, starts reminders, tells the admins of an admin it
    could not reach (and on which of the bot's chat `surfaces`, `Slack` and/or `Teams`, to point them to
    it instead), and brings the report of each migration whose messages moved up to date in its
    channel, through `delivery_to` (None where this surface does not reach that channel). `sleep` paces
    and waits, as `OutboxWorker`'s: a test moves its clock with it."""
    return OutboxWorker(
        database,
        sender,
        clock=clock,
        sleep=sleep,
        settings=settings,
        on_delivered=starting_reminders(tracking),
        on_progress=lambda organizations: refresh_reports(tracking, organizations, delivery_to),
        on_undeliverable=lambda message, failure: tracking.undeliverable(
            message, failure.code, failure.reason, surfaces
        ),
        name=name,
    )
