"""Four eyes before connecting: an admin requests approval of the plan (bound to its fingerprint), the
others decide; the last approval re-reads both sides and names who clicks Connect."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage import Approval, ApprovalDecision, Migration
from workflows import _plan_codec, notices
from workflows.decisions import replan
from workflows.directory import DirectorySnapshot, MicrosoftError
from workflows.errors import NotInvitedYet, PermissionDenied, WorkflowError
from workflows.machine import only_invitations_fail
from workflows.plan import Plan
from workflows.plan_invitations import INVITATION_CHECKS
from workflows.results import Actor
from workflows.results_approving import AFFECTED_NAMES as NAMES
from workflows.results_approving import Affected, ApprovalRequest, DecisionOutcome, DecisionResult, Rejection
from workflows.stages import approval_lapse, interrupted_invitations
from workflows.stages.announcing import told_in
from workflows.stages.checking import apply_plan, connector_of
from workflows.stages.connecting import choose_connector
from workflows.stages.invited import sent_invitations
from workflows.stages.unit import (
    Context,
    Unit,
    commit,
    note,
    recent_change_or,
    same_person,
    status,
    step,
    translating_conflicts,
)


def request_approval(
    ctx: Context, organization: str | None, actor: Actor, *, anyway: bool = False
) -> ApprovalRequest:
    """Ask the other admins to approve the current plan (bound to its fingerprint); while people the plan
    says to invite never were, only `anyway`."""
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "request_approval") as unit:
            row = unit.row
            waiting = approval_lapse.expire_due(unit)
            uninvitable = row.state == "blocked" and only_invitations_fail(row.plan)
            if uninvitable and not anyway:
                raise _uninvitable(row)
            trigger = "request_approval_anyway" if uninvitable else "request_approval"
            unit.flow.require(trigger, command="request-approval")
            approvers = _require_enough_approvers(ctx, row.organization, actor)
            approval_lapse.void_pending(unit, "a new approval was requested", waiting)
            asked = {"fingerprint": row.plan_fingerprint, **({"anyway": True} if anyway else {})}
            unit.flow.fire(trigger, details=asked)
            plan = _plan_codec.decode(row.plan or {})
            if not anyway:  # after the guard: a failing prerequisite is the first thing to fix
                _require_everyone_invited(session, row, plan)
            assert row.id is not None and row.plan_fingerprint is not None
            told = told_in(session, row)
            approval = Approval(
                migration_id=row.id,
                plan_fingerprint=row.plan_fingerprint,
                requested_by_id=actor.id,
                requested_by_email=actor.email,
                requested_by_name=actor.name,
                approvers_required=ctx.settings.approvers_required,
                created_at=unit.flow.now,
                expires_at=unit.flow.now + ctx.settings.approval_ttl,
            )
            session.add(approval)
            session.flush()  # the approval's id, for the prompt recorded in the same transaction
            assert approval.id is not None
            request = ApprovalRequest(
                approval_id=approval.id,
                organization=row.organization,
                tenant_id=row.tenant_id,
                tenant_name=row.tenant_name,
                plan_fingerprint=approval.plan_fingerprint,
                counts=plan.counts,
                warnings=tuple(check for check in plan.checks if check.status != "pass"),
                requested_by=actor,
                approvers_required=approval.approvers_required,
                expires_at=approval.expires_at,
                status=status(session, row),
                affected=Affected.of(plan),
                nobody_told=told is None or not (told.delivered or told.waiting),
                unreached=told.unreached if told else (),
            )
            notices.approval_prompt(session, row, request, approvers, unit.flow.now)
        return request


def still_to_decide(ctx: Context, approval_id: int, actor: Actor) -> bool:
    """Whether the request is pending and `actor` may still decide on it as far as the request goes: not
    its requester (four eyes), no decision yet. Whether they administer the organization is the caller's."""
    with ctx.database.session() as session:
        approval = session.get(Approval, approval_id)
        if approval is None or approval.status != "pending":
            return False
        if same_person(actor, approval.requested_by_id, approval.requested_by_email):
            return False
        decided = session.exec(
            select(ApprovalDecision.approver_id, ApprovalDecision.approver_email).where(
                ApprovalDecision.approval_id == approval_id
            )
        ).all()
        return not any(same_person(actor, decider, email) for decider, email in decided)


def requested_by(ctx: Context, approval_id: int, actor: Actor) -> bool:
    """Whether `actor` requested this approval, still pending: they may withdraw it (`reject`), not approve
    it (four eyes)."""
    with ctx.database.session() as session:
        approval = session.get(Approval, approval_id)
        return (
            approval is not None
            and approval.status == "pending"
            and same_person(actor, approval.requested_by_id, approval.requested_by_email)
        )


def own_request(approval_id: int) -> str:
    """Why the requester may not approve, and the way left to them, typed: Teams shows the prompt's buttons
    to the approvers alone."""
    return (
        "You requested this approval, so another admin must approve it (four eyes). To withdraw it, say"
        f" `reject {approval_id}`; `cancel` stops the migration."
    )


def last_rejection(ctx: Context, migration_id: int) -> Rejection | None:
    """Who rejected the migration's latest approval request, when and why; None unless it was rejected (a
    new request, pending or decided, is the latest word then)."""
    with ctx.database.session() as session:
        latest = session.exec(
            select(Approval).where(Approval.migration_id == migration_id).order_by(col(Approval.id).desc())
        ).first()
        if latest is None or latest.id is None or latest.status != "rejected":
            return None
        decision = session.exec(
            select(ApprovalDecision).where(
                ApprovalDecision.approval_id == latest.id, col(ApprovalDecision.approve).is_(False)
            )
        ).first()
        if decision is None:
            return None
        by = Actor(decision.approver_id, decision.approver_email, decision.approver_name)
        return Rejection(latest.id, by, decision.decided_at, decision.reason)


def _require_everyone_invited(session: Session, row: Migration, plan: Plan) -> None:
    """Microsoft's procedure puts every user in the directory before connecting: whoever the plan says to
    invite and nobody did loses access the moment the organization connects. Someone whose invitation
    Microsoft never confirmed may have one: the refusal says so, not that none went out."""
    assert row.id is not None
    invited = sent_invitations(session, row.id)
    unconfirmed = interrupted_invitations.in_doubt(session, row.id)
    uninvited = [user for user in plan.users if user.outcome == "invite" and user.id not in invited]
    never = tuple(user.address for user in uninvited if user.id not in unconfirmed)
    maybe = tuple(user.address for user in uninvited if user.id in unconfirmed)
    if not never and not maybe:
        return
    said = []
    if never:
        said.append(
            f"{_people_have(len(never))} no directory account and no invitation to one, so connecting would"
            f" cut them off: {_named(never)}."
        )
    if maybe:
        said.append(
            f"{_people_have(len(maybe))} no directory account yet, and an invitation Microsoft never"
            f" confirmed, which may have gone out, so connecting may cut them off: {_named(maybe)}."
        )
    finds_out = " (it finds out whether an invitation Microsoft never confirmed went out)" if maybe else ""
    raise NotInvitedYet(
        f"{' '.join(said)} Microsoft's procedure puts everyone in the directory before connecting: run"
        f" `invite` first{finds_out}. To connect without them, say `request-approval {row.organization}"
        " anyway`.",
        row.organization,
        never + maybe,
    )


def _people_have(count: int) -> str:
    return f"{count} {'person has' if count == 1 else 'people have'}"


def _named(addresses: tuple[str, ...]) -> str:
    """The first few addresses, and how many more."""
    more = len(addresses) - NAMES
    return ", ".join(addresses[:NAMES]) + (f" and {more} more" if more > 0 else "")


def _uninvitable(row: Migration) -> WorkflowError:
    """Blocked only because nobody may invite the people without a directory account: the two ways on."""
    uninvited = tuple(
        user.address for user in _plan_codec.decode(row.plan or {}).users if user.outcome == "invite"
    )
    named = _named(uninvited)
    return WorkflowError(
        f"{row.organization} is blocked only because nobody may invite the people without a directory"
        f" account ({named}). Change the directory's guest invite settings (`status` says how), then"
        f" `recheck`; or, to connect without them (they lose access), say"
        f" `request-approval {row.organization} anyway`."
    )


def _require_enough_approvers(ctx: Context, organization: str, requester: Actor) -> list[str]:
    """Who may approve; a request nobody can approve would only wait until it expires."""
    others = ctx.admins.approvers(organization, exclude=requester)
    needed = ctx.settings.approvers_required
    if len(others) >= needed:
        return others
    listed = f": {', '.join(others)}" if others else ""
    admins = "admin" if len(others) == 1 else "admins"
    raise WorkflowError(
        f"{needed} approver{'s' if needed > 1 else ''} needed, only {len(others)} other {admins}"
        f"{listed}. Add a Project Collection Administrator to {organization} (Organization settings >"
        " Permissions), or have the bot's operators lower the number of approvers."
    )


def decide(ctx: Context, approval_id: int, actor: Actor, approve: bool, reason: str = "") -> DecisionResult:
    """Record one admin's decision; the last required approval moves the migration to connecting."""
    with ctx.database.session() as session:
        approval = session.get(Approval, approval_id)
        if approval is None:
            raise WorkflowError(f"There is no approval request #{approval_id}.")
        row = session.get(Migration, approval.migration_id)
        assert row is not None
        unit = ctx.unit(session, row, actor)
        with translating_conflicts(unit, "approve" if approve else "reject"):
            return _decide(unit, approval, actor, approve, reason)


def _decide(unit: Unit, approval: Approval, actor: Actor, approve: bool, reason: str) -> DecisionResult:
    row, session, now = unit.row, unit.session, unit.flow.now
    assert approval.id is not None

    def result(
        outcome: DecisionOutcome, message: str, connector: Actor | None = None, why: str = ""
    ) -> DecisionResult:
        """The decision, told in the transaction that records it, then committed."""
        decided = DecisionResult(
            approval_id=approval.id or 0,
            outcome=outcome,
            approvals=approval.approvals,
            approvers_required=approval.approvers_required,
            status=status(session, row),
            message=message,
            connector=connector,
            connector_reason=why,
        )
        admins = () if row.channel_id else unit.ctx.admins.who_can_act(row.organization)
        notices.decision(session, row, decided, actor, now, unit.ctx.settings.connection_watch_every, admins)
        commit(unit)
        return decided

    if approval.status != "pending":
        raise recent_change_or(
            unit,
            actor,
            "approve",
            WorkflowError(f"This approval request is already {approval.status}; nothing to decide."),
        )
    if approve and same_person(actor, approval.requested_by_id, approval.requested_by_email):
        raise PermissionDenied(own_request(approval.id))
    decisions = session.exec(
        select(ApprovalDecision).where(ApprovalDecision.approval_id == approval.id)
    ).all()
    if any(same_person(actor, d.approver_id, d.approver_email) for d in decisions):
        raise WorkflowError("You already decided on this request; another admin has to approve it.")
    if approval.expires_at <= now:
        approval_lapse.expire(unit, approval)
        return result("expired", approval_lapse.expired_message(approval))
    if approval.plan_fingerprint != row.plan_fingerprint or row.state != "awaiting_approval":
        approval_lapse.void(unit, approval, "the plan changed")
        return result("void", "The plan changed since this request; run `request-approval` again.")
    session.add(
        ApprovalDecision(
            approval_id=approval.id,
            approver_id=actor.id,
            approver_email=actor.email,
            approver_name=actor.name,
            approve=approve,
            reason=reason,
            decided_at=now,
        )
    )
    if not approve:
        approval.status, approval.decided_at = "rejected", now
        unit.flow.fire("reject", details={"approval_id": approval.id, "reason": reason})
        return result("rejected", f"Reason: {reason}" if reason else "No reason given.")
    approval.approvals += 1
    if approval.approvals < approval.approvers_required:
        note(unit, actor, "decision", {"approval_id": approval.id})
        return result("recorded", "The portal steps to connect go out once they approve.")
    snapshot = _live_snapshot(unit.ctx, row)
    live = replan(snapshot, connector_of(row), row.plan)
    connected = snapshot.already_connected
    # A failing invitation check, unchanged since the request (the fingerprint says), was known to
    # it: only a request `anyway` gets past it, and that connects without the people it is about.
    blocking = any(check.code not in INVITATION_CHECKS for check in live.failed_checks)
    if connected or live.fingerprint != approval.plan_fingerprint or blocking:
        known = {check.code for check in _plan_codec.checks(row.plan or {}) if check.status == "fail"}
        failing = tuple(check for check in live.failed_checks if check.code not in known)
        approval.status = "void"
        reason = "already connected" if connected else "plan changed"
        unit.flow.fire("recheck", details={"approval_id": approval.id, "reason": reason})
        apply_plan(unit, live, connected=connected)
        if connected:
            return result(
                "void",
                f"{row.organization} is already connected to {row.directory_name}, so there"
                " is nothing to approve or connect. Next: `notify` the users.",
            )
        if failing:
            return result(
                "void",
                f"A prerequisite fails now, so the approval is void: {' '.join(c.message for c in failing)}"
                " Then run `recheck`"
                " and `request-approval` again.",
            )
        return result(
            "void",
            "The directory or the organization changed since the request, so the plan did too"
            f" (now {_counts_text(live.groups)}). The approval is void; review `plan` and run"
            " `request-approval` again.",
        )
    connector, why = choose_connector(snapshot, actor, approval, row)
    approval.status, approval.decided_at = "approved", now
    unit.flow.fire("approve", details={"approval_id": approval.id, "connector": connector.email})
    message = (
        f"{connector.name or connector.email} connects it in the portal:"
        f" https://dev.azure.com/{row.organization} > Organization settings > Microsoft Entra ID >"
        f" Connect directory > {row.directory_name} > Connect. I watch the organization"
        " and confirm once it is connected."
    )
    return result("approved", f"{message} {why}".strip(), connector, why)


def _live_snapshot(ctx: Context, row: Migration) -> DirectorySnapshot:
    try:
        return ctx.microsoft.snapshot(row.organization, row.tenant_id, connector=connector_of(row))
    except MicrosoftError as error:
        raise WorkflowError(
            f"I could not verify the plan with Microsoft, so nothing was recorded: {error} Try again."
        ) from None


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in counts.items() if count) or "no users"
