"""Re-running the step that failed or was interrupted (a process that died mid-step leaves it busy
until its lease runs out): checking, inviting (before or after connecting) or removing, from where it
stopped."""

from __future__ import annotations

from workflows.machine import INVITING_AFTER_CONNECTING
from workflows.results import Actor, MigrationStatus
from workflows.stages.checking import check_prerequisites
from workflows.stages.inviting import send_invitations
from workflows.stages.removal import remove
from workflows.stages.unit import Context, status, step
from workflows.step_progress import StepProgress, unheard


def resume(
    ctx: Context, organization: str | None, actor: Actor, progress: StepProgress = unheard
) -> MigrationStatus:
    """`progress` hears an invite's or removal's progress, on the line its first run began."""
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "resume") as unit:
            unit.flow.fire("resume", details={"after": unit.row.previous_state or unit.row.state})
            unit.row.blocked_reason = unit.row.blocked_fix = None
        if unit.row.state in ("inviting", INVITING_AFTER_CONNECTING):
            return send_invitations(unit, actor, progress, resumed=True).status
        if unit.row.state == "removing":
            return remove(unit, actor, progress).status
        check_prerequisites(unit)
        return status(session, unit.row)
