"""Ending a migration: complete it once everything is done, or cancel it before the connection."""

from __future__ import annotations

from workflows import notices
from workflows.results import Actor, MigrationStatus
from workflows.stages.approval_lapse import void_pending
from workflows.stages.unit import Context, deactivate, status, step


def complete(ctx: Context, organization: str | None, actor: Actor) -> MigrationStatus:
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "complete") as unit:
            unit.flow.fire("complete")
            deactivate(unit)
            closed = status(session, unit.row)
            notices.closed(session, unit.row, closed, actor, unit.flow.now)
        return closed


def cancel(ctx: Context, organization: str | None, actor: Actor, reason: str = "") -> MigrationStatus:
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "cancel") as unit:
            void_pending(unit, "the migration was cancelled")
            unit.flow.fire("cancel", details={"reason": reason})
            deactivate(unit)
            unit.row.blocked_reason = reason or None
            unit.row.blocked_fix = None
            closed = status(session, unit.row)
            notices.closed(session, unit.row, closed, actor, unit.flow.now)
        return closed
