"""The portal step: who clicks Connect, and watching the organization until it reports the tenant.
Connecting a directory has no public API, so the bot guides the click and verifies its effect."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from storage import Approval, Migration
from workflows import _plan_codec, notices, step_log
from workflows.directory import MSA_TENANT_ID, DirectorySnapshot, MicrosoftError
from workflows.errors import ConflictError, WorkflowError
from workflows.machine import (
    CONNECTED_OUTSIDE_APPROVAL,
    CONNECTED_UNFINISHED,
    CONNECTION_WATCHED,
    describe_state,
    refusal,
)
from workflows.plan import Check
from workflows.plan_connector import connector_checks
from workflows.results import BOT, Actor, MigrationStatus
from workflows.results_approving import Affected, ConnectionResult, OutsideApproval, ToMap
from workflows.stages import approval_lapse
from workflows.stages.unit import Context, Unit, find, status, step
from workflows.stages.verification import seen_connected

CONNECTED_STATES = CONNECTED_UNFINISHED | {"completed"}


def check_connection(
    ctx: Context, organization: str | None = None, *, read_by: datetime | None = None
) -> ConnectionResult:
    """One look at the organization's tenant: the bot's watch calls this every AADBOT_POLL_SECONDS for
    every migration at the portal step or short of it (`CONNECTION_WATCHED`).

    What it finds is told to the admins in the same transaction that records it: connected (after the
    approval, or outside it: then every admin hears it by direct message too), or, at the portal step,
    connected to another directory (short of it, the prerequisite checks say that).

    `read_by`: the organization's tenant is read by then or not at all (the watch's budget for its early
    looks). The admins told privately are read without it: the state moves on with this look, so an alarm
    that missed one of them for want of time would never reach them.
    """
    try:
        # The reads happen between two transactions: a slow answer (minutes with its retries) holds no
        # database connection, and the second decides on the state it finds then.
        with (
            ctx.database.session() as session,
            step(ctx, session, organization, BOT, "connection_confirmed") as unit,
        ):
            if (already := _already_connected_or_refuse(unit)) is not None:
                return already
            looked_at = unit.row
        organization = looked_at.organization
        observed = _tenant_of(ctx, organization, read_by)
        read = admins_to_tell(ctx, looked_at) if _tells_admins(looked_at, observed) else None
        with (
            ctx.database.session() as session,
            step(ctx, session, organization, BOT, "connection_confirmed") as unit,
        ):
            if (already := _already_connected_or_refuse(unit)) is not None:
                return already
            row = unit.row
            approved = row.state == "connecting"
            on_target = observed.casefold() == row.tenant_id.casefold()
            told = _told_now(ctx, row, observed, read)  # before the state moves on
            if on_target and approved:
                unit.flow.fire("connection_confirmed", details={"tenant_id": observed})
            outside = _connected_outside_approval(unit, observed) if on_target and not approved else None
            result = _result(row, observed, status(session, row), outside)
            if result.outcome == "connected" or (result.outcome == "other-tenant" and approved):
                result = _tell(unit, result, told)
    except ConflictError:  # another look (the watch's) recorded it connected meanwhile, and announced it
        with ctx.database.session() as session:
            row = find(session, organization)
            if row.state != "connected":
                raise
            return _already_connected(session, row)
    return result


def _already_connected_or_refuse(unit: Unit) -> ConnectionResult | None:
    row = unit.row
    if row.state in CONNECTED_STATES:
        return _already_connected(unit.session, row)
    if row.state not in CONNECTION_WATCHED:  # a step runs (it ends in a check that finds any connection)
        raise refusal(row.state, "check-connection")
    return None


def _already_connected(session: Session, row: Migration) -> ConnectionResult:
    assert row.id is not None
    seen = seen_connected(session, row.id) or row.updated_at
    return ConnectionResult("connected", row.tenant_id, status(session, row), "", seen_before=seen)


AdminsTold = tuple[tuple[str, ...], str]
"""Who hears a connection notice by direct message, and, if Azure DevOps could not list the admins, the
bot's sentence saying so."""


def _tells_admins(row: Migration, observed: str) -> bool:
    """Whether a look that finds `observed` tells each admin by direct message too: when nobody approved the
    connection (it locks people out at once), when the notice names people (their names are their
    addresses, so a channel only counts them), or when the migration was started in a direct message."""
    approved = row.state == "connecting"
    if observed.casefold() == row.tenant_id.casefold():
        plan = _plan_codec.decode(row.plan or {}) if approved else None
        return not approved or not row.channel_id or bool(plan and ToMap.of(plan).count)
    return observed != MSA_TENANT_ID and approved and not row.channel_id


def _told_now(ctx: Context, row: Migration, observed: str, read: AdminsTold | None) -> AdminsTold:
    """Whom the look's notice goes to privately, from the list `read` outside any transaction; read here only
    when the migration moved on between the look's two transactions (approved, or moved to a channel)."""
    if not _tells_admins(row, observed):
        return (), ""
    return read if read is not None else admins_to_tell(ctx, row)


def admins_to_tell(ctx: Context, row: Migration) -> AdminsTold:
    """Each admin; should Azure DevOps not list them just now, whoever started the migration (the state
    moves on with the notice: no later look would tell them), and why."""
    try:
        return ctx.admins.emails(row.organization), ""
    except WorkflowError as error:
        return (row.started_by_email,), str(error)


def _tell(unit: Unit, result: ConnectionResult, told: AdminsTold) -> ConnectionResult:
    """The notice of what a look found, recorded with it: to the channel, and to `told` by direct message."""
    row = unit.row
    admins, unlisted = told
    first = notices.connection(unit.session, row, result, unit.flow.now, admins=admins, unlisted=unlisted)
    if first and result.outcome == "other-tenant":
        step_log.warned(unit.session, result.message)
    directly = (*admins, *(() if row.channel_id else (row.started_by_email,)))
    return replace(result, noticed=first, told_privately=directly if first else ())


def found_outside_approval(
    unit: Unit, came_from: str, approval_id: int | None, details: Mapping[str, object]
) -> OutsideApproval:
    """A prerequisite check, once a plan existed, found the organization on the target tenant: the click in
    the portal the watch would have found, recorded the same way, by the bot (whoever ran the step did not
    connect it). `came_from`: where the migration rested before the step that ends in this check;
    `approval_id`: a request that step voided on the way."""
    flow = unit.flow
    ran_the_step, flow.actor = flow.actor, (BOT.id, BOT.email, BOT.name)
    try:
        return _connected_outside_approval(unit, unit.row.tenant_id, came_from, approval_id, details)
    finally:
        flow.actor = ran_the_step


def alarm(unit: Unit, outside: OutsideApproval, told: AdminsTold) -> ConnectionResult:
    """Every admin hears at once of a click found by a prerequisite check (`found_outside_approval`), with
    the plan it stored: who is locked out now, whom to map by hand."""
    row = unit.row
    return _tell(unit, _result(row, row.tenant_id, status(unit.session, row), outside), told)


def _connected_outside_approval(
    unit: Unit,
    observed: str,
    came_from: str | None = None,
    approval_id: int | None = None,
    details: Mapping[str, object] | None = None,
) -> OutsideApproval:
    """Someone clicked Connect in the portal before any approval let them: recorded as its own event,
    which says nobody approved it; a request still waiting is void, as there is nothing left to approve."""
    row = unit.row
    before = came_from or row.state
    voided = approval_lapse.void_pending(unit, "the organization was connected in the portal meanwhile")
    waiting = voided[0].id if voided else approval_id
    row.blocked_reason = row.blocked_fix = None  # what held it back no longer matters: it is connected
    unit.flow.fire(
        CONNECTED_OUTSIDE_APPROVAL,
        details={
            **(details or {}),
            "tenant_id": observed,
            "approved_by": None,
            "state_before": before,
            "approval_id": waiting,
        },
    )
    return OutsideApproval(before, waiting)


def _result(
    row: Migration, observed: str, now_status: MigrationStatus, outside: OutsideApproval | None
) -> ConnectionResult:
    target = row.directory_name
    if now_status.state == "connected":
        message = f"{row.organization} is connected to {target}. Next: `notify` the users."
        plan = _plan_codec.decode(row.plan or {})
        return ConnectionResult(
            "connected", observed, now_status, message, False, Affected.of(plan), ToMap.of(plan), outside
        )
    if observed == MSA_TENANT_ID:
        if now_status.state == "connecting":
            return ConnectionResult("waiting", observed, now_status, "Not connected yet; still watching.")
        message = (
            f"{row.organization} is not connected to a directory yet; the migration is"
            f" {describe_state(now_status.state)}. I keep watching: should someone connect it in the"
            " portal, every admin hears at once."
        )
        return ConnectionResult("waiting", observed, now_status, message)
    message = (
        f"{row.organization} is connected to another directory ({observed}), not to {target}."
        " Disconnect it (Organization settings > Microsoft Entra ID > Disconnect directory), then connect"
        " the right one."
    )
    return ConnectionResult("other-tenant", observed, now_status, message)


def _tenant_of(ctx: Context, organization: str, read_by: datetime | None) -> str:
    microsoft = ctx.microsoft
    within = (
        nullcontext() if read_by is None else microsoft.giving_up_after((read_by - ctx.now()).total_seconds())
    )
    try:
        with within:
            return microsoft.organization_tenant_id(organization)
    except MicrosoftError as error:
        raise WorkflowError(f"I could not look at {organization} just now: {error}") from None


def choose_connector(
    snapshot: DirectorySnapshot, approver: Actor, approval: Approval, row: Migration
) -> tuple[Actor, str]:
    """Who clicks Connect: the final approver if they may, else the requester, else whoever started it or
    took over connecting (the plan's connector checks passed for them). The reason is given when it is not
    the approver."""
    requester = Actor(approval.requested_by_id, approval.requested_by_email, approval.requested_by_name)
    starter = Actor(row.started_by_id, row.started_by_email, row.started_by_name)
    took_over = str((row.plan or {}).get("connector") or "")  # `connect-as-me`: the checks passed for them
    started = "started the migration"
    if took_over and took_over.casefold() != starter.email.casefold():
        starter, started = Actor("", took_over, ""), "took over connecting"
    refusal = may_not_connect(snapshot, approver)
    if refusal is None:
        return approver, ""
    fallback = starter if may_not_connect(snapshot, requester) is not None else requester
    role = "requested the approval" if fallback == requester else started
    name = approver.name or approver.email or "The approver"
    return fallback, (
        f"{name} cannot make the connection ({refusal}), so {fallback.name or fallback.email}, who {role},"
        " does."
    )


def may_not_connect(snapshot: DirectorySnapshot, person: Actor) -> str | None:
    """Why `person` may not click Connect, or None if they may."""
    if not person.email.strip():
        return "no email address in their chat profile to check"
    failing = [check for check in connector_checks(snapshot, person.email) if check.status == "fail"]
    return " ".join(_without_fix(check) for check in failing) or None


def _without_fix(check: Check) -> str:
    return check.message.removesuffix(check.fix).strip().rstrip(".")
