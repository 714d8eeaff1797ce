"""Starting a migration and checking its prerequisites: read both sides, build the plan, then planned,
blocked or failed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, select

from storage import ActiveMigration, Approval, AuditEntry, Migration
from workflows import _plan_codec, notices
from workflows.arguments import tenant_name
from workflows.decisions import replan
from workflows.directory import UNKNOWN_TENANT, DirectorySnapshot, MicrosoftError, ShortUserList
from workflows.errors import WorkflowError
from workflows.machine import BEFORE_CONNECTING, FINAL_STATES, describe_state, next_commands
from workflows.plan import Check, Plan
from workflows.plan_connector import TAKE_OVER
from workflows.results import Actor, MigrationStatus
from workflows.results_approving import ConnectionResult, Rechecked
from workflows.stages import redeem_links
from workflows.stages.approval_lapse import expire_due, void_pending
from workflows.stages.connecting import (
    AdminsTold,
    admins_to_tell,
    alarm,
    check_connection,
    found_outside_approval,
    may_not_connect,
)
from workflows.stages.unit import Context, Unit, audit, commit, failing_on_error, find, note, status, step

_ORGANIZATION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,49}$")


def check_start_arguments(organization: str, tenant: str) -> tuple[str, str]:
    """The trimmed organization name and tenant of `start`, or a WorkflowError saying what to type."""
    organization = organization.strip()
    if not _ORGANIZATION_NAME.match(organization):
        raise WorkflowError(
            f"`{organization}` is not an Azure DevOps organization name: use the name from"
            " https://dev.azure.com/NAME (letters, digits, hyphens), e.g. `start fabrikam contoso.com`."
        )
    return organization, tenant_name(tenant)


def preflight(ctx: Context, organization: str, tenant: str) -> list[Check]:
    """The read-only checks of the bot's credentials (`aadbot doctor`, and the first thing `start` does)."""
    organization, tenant = check_start_arguments(organization, tenant)
    try:
        return ctx.microsoft.doctor(organization, tenant)
    except MicrosoftError as error:
        raise WorkflowError(f"I could not run the preflight checks: {error}") from None


def start(
    ctx: Context, organization: str, tenant: str, actor: Actor, *, channel: str | None = None
) -> MigrationStatus:
    """Create the migration and check the prerequisites at once (-> planned or blocked)."""
    organization, tenant = check_start_arguments(organization, tenant)
    # The preflight's checks and the snapshot read the organization's record, administrators and billing
    # alike, moments apart: once is enough.
    with ctx.microsoft.reads_once():
        return _start(ctx, organization, tenant, actor, channel)


def _unknown_tenant(organization: str, tenant: str, actor: Actor) -> str:
    """`start` named a tenant Microsoft does not know: a typo, most often, so the fix is `start` again with
    the right one; the domain of the admin's own address is the likeliest."""
    _, _, own_domain = actor.email.rpartition("@")
    suggestion = own_domain if own_domain and own_domain.casefold() != tenant.casefold() else "TENANT"
    return (
        f"Microsoft does not know the tenant {tenant}, so nothing was started: no directory has that tenant"
        " id or verified domain (or the bot's app is not registered in it). Check the spelling, then"
        f" `start {organization} {suggestion}` with the directory's tenant id or one of its verified domains."
    )


def _start(
    ctx: Context, organization: str, tenant: str, actor: Actor, channel: str | None
) -> MigrationStatus:
    failing = [check for check in preflight(ctx, organization, tenant) if check.status == "fail"]
    if any(check.code == UNKNOWN_TENANT for check in failing):
        raise WorkflowError(_unknown_tenant(organization, tenant, actor))
    if failing:  # before anything is stored: a migration these credentials cannot finish never starts
        raise WorkflowError(
            "The bot's credentials cannot do everything this migration needs, so nothing was started:\n"
            + "\n".join(f"• {check.code}: {check.message}" for check in failing)
            + "\nFix these, then `start` again (`doctor ORG TENANT` re-checks them)."
        )
    if not actor.email:
        raise WorkflowError(
            "I need your email address to check that you can make the connection; add it to your chat"
            " profile and try again."
        )
    now = ctx.now()
    with ctx.database.session() as session:
        row = Migration(
            organization=organization,
            tenant_id=tenant,
            state="draft",
            started_by_id=actor.id,
            started_by_email=actor.email,
            started_by_name=actor.name,
            channel_id=channel,
            surface=actor.surface,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        session.add(ActiveMigration(organization_key=organization.casefold(), migration_id=row.id))
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise _already_running(session, organization) from None
        session.add(
            audit(ctx.now(), row, actor, "start", None, "draft", {"tenant": tenant, "channel": channel})
        )
        flow = ctx.flow(row, session, actor, now)
        flow.fire("check")
        session.commit()
        check_prerequisites(Unit(ctx, session, flow))
        return status(session, row)


def move_here(ctx: Context, organization: str | None, actor: Actor, channel: str | None) -> MigrationStatus:
    """The migration's notices go to `channel` from now on (typed there): one started in a direct message,
    which only its starter reads, gets a channel every admin reads. Audited."""
    if channel is None:
        raise WorkflowError(
            "Type `move-here` in the channel the migration's notices should go to, not in a direct message."
        )
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "move_here") as unit:
            row = unit.row
            if row.state in FINAL_STATES:
                raise WorkflowError(
                    f"The migration of {row.organization} is {row.state}: it sends no more notices."
                )
            if row.channel_id != channel:
                note(unit, actor, "move_here", {"from": row.channel_id, "to": channel})
                row.channel_id = channel
                session.add(row)
        return status(session, unit.row)


def connector_of(row: Migration) -> str:
    """Whom the connector checks are for: who the plan was made for (the starter, or the admin who took
    over with `connect-as-me`), the starter before there is a plan."""
    return str((row.plan or {}).get("connector") or row.started_by_email)


def connect_as_me(ctx: Context, organization: str | None, actor: Actor) -> Rechecked:
    """`actor`, an admin, becomes the one the connector checks are for (a starter who is a guest of the
    directory, or no admin of the organization, cannot connect): audited, then the prerequisites are
    checked again for them, which voids a pending approval. Refused, changing nothing, when they may not
    connect either."""
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "connect_as_me") as unit:
            row = unit.row
            unit.flow.require("recheck", command=TAKE_OVER)
            try:
                snapshot = ctx.microsoft.snapshot(row.organization, row.tenant_id, connector=actor.email)
            except MicrosoftError as error:
                raise WorkflowError(
                    f"I could not check you with Microsoft, so nothing changed: {error}"
                ) from None
            refusal = may_not_connect(snapshot, actor)
            if refusal is not None:
                raise WorkflowError(
                    f"You cannot make the connection either ({refusal}), so {connector_of(row)} stays the one"
                    " the checks are for."
                )
            note(unit, actor, "connect_as_me", {"from": connector_of(row), "to": actor.email})
            voided = void_pending(unit, f"{actor.name or actor.email} took over connecting")
            unit.flow.fire("recheck", details=_voided_on_the_way(voided))
        connection = check_prerequisites(unit, snapshot, actor.email)
        voided_ids = tuple(a.id for a in voided if a.id is not None)
        return Rechecked(status(session, unit.row), voided=voided_ids, connection=connection)


def recheck(ctx: Context, organization: str | None, actor: Actor) -> Rechecked:
    """Fetch everything again and rebuild the plan (-> planned or blocked). A pending approval survives
    only a re-check that finds nothing changed (the same plan fingerprint, checks included), which keeps the
    migration awaiting it; any change voids it, as every change to the plan does. One that Microsoft does
    not answer changes nothing: approving checks the plan with Microsoft again anyway.

    Connected meanwhile, without an approval (a click in the portal), it is what the watch would have found:
    recorded as connected outside the approval, a pending request void, every admin alarmed."""
    if (connected := _connected_in_the_portal(ctx, organization)) is not None:
        return Rechecked(connected.status, connection=connected)
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "recheck") as unit:
            waiting = expire_due(unit)
            snapshot = _read(unit, waiting[0]) if waiting else None
            live = _still_holding(unit, waiting[0], snapshot) if snapshot is not None else None
            if snapshot is not None and live is not None:
                # What lies outside the fingerprint (who accepted their invitation meanwhile, addresses,
                # the tenant's name) is stored as read: no transition, the approval stands.
                _store_read(unit, snapshot)
                _store_plan(unit, live)
                # written even when it reads the same: its version check makes a rival's decision while
                # Microsoft was read (an approval) this step's conflict, not an approval "kept" as pending
                flag_modified(unit.row, "plan")
                note(unit, actor, "recheck", {"approval_kept": waiting[0].id})
                return Rechecked(status(session, unit.row), kept=waiting[0].id)
            voided = void_pending(unit, "the re-check found the plan or its checks changed", waiting)
            unit.flow.fire("recheck", details=_voided_on_the_way(voided))
        connection = check_prerequisites(unit, snapshot)
        voided_ids = tuple(a.id for a in voided if a.id is not None)
        return Rechecked(status(session, unit.row), voided=voided_ids, connection=connection)


def _voided_on_the_way(voided: Sequence[Approval]) -> dict[str, object]:
    """The request a re-check voided, for its audit entry: should the check then find the organization
    connected in the portal, the alarm says that request was still waiting (`_step_came_from`)."""
    return {"approval_id": voided[0].id} if voided else {}


def _connected_in_the_portal(ctx: Context, organization: str | None) -> ConnectionResult | None:
    """The watch's look, short of the portal step, when it records the organization connected: a click in the
    portal outside the approval, or within one given while it read Microsoft; that is the answer. Else None,
    and the re-check goes on (which also says what Microsoft failed to answer, or why it does not fit now).
    No look at the portal step or past it: `recheck` refuses there, and `check-connection` is the look."""
    with ctx.database.session() as session:
        if find(session, organization).state not in BEFORE_CONNECTING:
            return None
    try:
        looked = check_connection(ctx, organization)
    except WorkflowError:
        return None
    return looked if looked.outcome == "connected" and looked.noticed else None


def _read(unit: Unit, approval: Approval) -> DirectorySnapshot:
    """Both sides now, or a refusal saying Microsoft did not answer and the request still stands."""
    row = unit.row
    try:
        return unit.ctx.microsoft.snapshot(row.organization, row.tenant_id, connector=connector_of(row))
    except MicrosoftError as error:
        raise WorkflowError(
            f"I could not re-check with Microsoft, so nothing changed: {error} Approval #{approval.id} still"
            " stands (approving checks the plan with Microsoft again); `recheck` once the service answers."
        ) from None


def _still_holding(unit: Unit, approval: Approval, snapshot: DirectorySnapshot) -> Plan | None:
    """The live plan, if the approval holds for it."""
    live = replan(snapshot, connector_of(unit.row), unit.row.plan)
    holds = not snapshot.already_connected and live.fingerprint == approval.plan_fingerprint
    return live if holds else None


def _store_read(unit: Unit, snapshot: DirectorySnapshot) -> None:
    unit.row.tenant_id = snapshot.tenant.id
    unit.row.tenant_name = snapshot.tenant.display_name


def check_prerequisites(
    unit: Unit, snapshot: DirectorySnapshot | None = None, connector: str | None = None
) -> ConnectionResult | None:
    """In `checking_prerequisites`: snapshot and plan, then planned, blocked, connected or failed; commits,
    with the start's summary when this is the first result (an idempotent notice: told once however often).
    `snapshot`: both sides as just read, if they were; `connector`: who the checks are for, if not
    `connector_of` the migration. Connected in the portal once a plan existed: the alarm it recorded."""
    row, microsoft = unit.row, unit.ctx.microsoft
    unit.flow.now = unit.ctx.now()
    connector = connector or connector_of(row)
    first = row.plan is None  # no check has got as far as a plan yet: the start's summary is still owed
    connection = None
    with failing_on_error(unit, "prerequisite checks"):
        try:
            if snapshot is None:
                snapshot = microsoft.snapshot(row.organization, row.tenant_id, connector=connector)
            plan = replan(snapshot, connector, row.plan)
        except MicrosoftError as error:
            row.blocked_reason, row.blocked_fix = str(error), _fix_for(error)
            unit.flow.fire("fail", details={"error": str(error)})
        else:
            # Every admin hears of a click in the portal that no approval let happen: their list is read
            # here, before this check writes anything, so that no transaction waits on Azure DevOps.
            outside = snapshot.already_connected and not first
            told = admins_to_tell(unit.ctx, row) if outside else None
            _store_read(unit, snapshot)
            connection = apply_plan(unit, plan, connected=snapshot.already_connected, told=told)
        if first:
            notices.started(unit.session, row, status(unit.session, row), unit.flow.now)
        commit(unit)
    return connection


def _fix_for(error: MicrosoftError) -> str:
    """What to do about a failed read of both sides."""
    if isinstance(error, ShortUserList):
        return "`resume` in a few minutes to read the organization's users again."
    if error.needs_change:  # the message says what to change; the service answered, and will alike
        return "`resume` once that is changed."
    return (
        "If it names something you typed (the organization or the tenant), `cancel` and `start` again with"
        " the right one; otherwise `resume` once the service answers."
    )


def apply_plan(
    unit: Unit, plan: Plan, *, connected: bool, told: AdminsTold | None = None
) -> ConnectionResult | None:
    """Store the plan and move on: connected when Microsoft says so, else planned or blocked. Connected once
    a plan existed, no approval let it happen: recorded as the watch records it, and every admin alarmed
    (`told`: whom, read before the transaction began; read now if not); that alarm is returned."""
    row = unit.row
    details = {"fingerprint": plan.fingerprint, "counts": plan.counts}
    outside = None
    if connected and row.plan is not None:
        came_from, approval_id = _step_came_from(unit)
        outside = found_outside_approval(unit, came_from, approval_id, details)
    elif connected:
        row.blocked_reason = row.blocked_fix = None
        unit.flow.fire("found_connected", details={**details, "tenant_id": row.tenant_id})
    elif plan.failed_checks:
        row.blocked_reason = " ".join(check.message for check in plan.failed_checks)
        row.blocked_fix = " ".join(check.fix for check in plan.failed_checks if check.fix) or None
        unit.flow.fire(
            "prerequisites_failed", details={**details, "failed": [c.code for c in plan.failed_checks]}
        )
    else:
        row.blocked_reason = row.blocked_fix = None
        unit.flow.fire("prerequisites_passed", details=details)
    _store_plan(unit, plan)  # after the move: `found_connected` is for a migration nothing was planned for
    if outside is None:
        return None
    return alarm(unit, outside, told if told is not None else admins_to_tell(unit.ctx, row))


def _step_came_from(unit: Unit) -> tuple[str, int | None]:
    """Where the migration rested before the step that ends in this check (a resumed one: failed or
    interrupted), and the approval request it voided on the way, if it says so (a final approval, a
    re-check or a take-over that found the organization connected)."""
    entered = unit.session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.migration_id == unit.row.id,
            AuditEntry.state_after == "checking_prerequisites",
            col(AuditEntry.state_before) != "checking_prerequisites",
        )
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    ).first()
    if entered is None or entered.state_before is None:
        return unit.row.state, None
    approval_id = entered.details.get("approval_id")
    return entered.state_before, approval_id if isinstance(approval_id, int) else None


def _store_plan(unit: Unit, plan: Plan) -> None:
    """The plan as the row's, and the invitation links of only those still to accept theirs."""
    row = unit.row
    row.plan = _plan_codec.encode(plan)
    row.plan_fingerprint = plan.fingerprint
    # an undecided person one of whose accounts is a pending guest may yet be told to accept it: kept too
    pending = {
        user.id
        for user in plan.users
        if user.group == "to-accept" or (user.group == "ambiguous" and user.pending_candidates)
    }
    redeem_links.forget_all_but(unit.session, row, (user.id for user in plan.users), pending)


def _already_running(session: Session, organization: str) -> WorkflowError:
    running = find(session, organization)
    fitting = next_commands(running.state)
    look = f"`status {running.organization}`"
    advice = (  # once connected there is nothing to call off, only steps to finish
        f"Use {look}, or `cancel` it first."
        if "cancel" in fitting
        else f"It can no longer be cancelled; go on with {', '.join(f'`{w}`' for w in fitting)} ({look}"
        " shows where it stands)."
    )
    return WorkflowError(
        f"A migration of {running.organization} is already in progress ({describe_state(running.state)},"
        f" started by {running.started_by_name}). {advice}"
    )
