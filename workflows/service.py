"""The migration use cases, platform-neutral: every chat surface calls these and renders the results.

Each step commits the migration's new state together with its audit entries, so a process killed
between two steps loses nothing; a new service over the same database goes on from there. Steps that
talk to Microsoft first commit a busy state (`checking_prerequisites`, `inviting`, `removing`): that
commit is also what makes two simultaneous triggers collide, so exactly one of them wins.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, select

from storage import (
    ActiveMigration,
    AffectedUser,
    Approval,
    ApprovalDecision,
    AuditEntry,
    Database,
    Invitation,
    Migration,
    OutboundMessage,
    TodoItem,
)
from storage.outbox import enqueue
from workflows import _plan_codec
from workflows._views import migration_status, todo_entry
from workflows.directory import (
    MSA_TENANT_ID,
    DirectorySnapshot,
    InvitePermissionDenied,
    Microsoft,
    MicrosoftError,
    OrgUser,
    Tenant,
)
from workflows.errors import ConflictError, PermissionDenied, WorkflowError
from workflows.machine import (
    ACTION_PHRASES,
    BUSY_STATES,
    MigrationFlow,
    describe_state,
    next_commands,
    refusal,
)
from workflows.plan import Check, Plan, PlannedUser, build_plan, connector_checks
from workflows.results import (
    BOT,
    Actor,
    AnnounceResult,
    ApprovalRequest,
    BillingResult,
    ConnectionResult,
    DecisionOutcome,
    DecisionResult,
    InvitationOutcome,
    InviteResult,
    MarkDoneResult,
    MigrationStatus,
    NotifiedUser,
    NotifyResult,
    RemovalResult,
    TodoEntry,
)
from workflows.settings import WorkflowSettings
from workflows.todo import advance_notice, todo_items, todo_notes

_ORGANIZATION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,49}$")
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")


def check_start_arguments(organization: str, tenant: str) -> tuple[str, str]:
    """The trimmed organization name and tenant of `start`, or a WorkflowError saying what to type."""
    organization, tenant = organization.strip(), tenant.strip()
    if not _ORGANIZATION_NAME.match(organization):
        raise WorkflowError(
            f"`{organization}` is not an Azure DevOps organization name: use the name from"
            " https://dev.azure.com/NAME (letters, digits, hyphens), e.g. `start fabrikam contoso.com`."
        )
    if not _TENANT.match(tenant):
        raise WorkflowError(
            f"`{tenant}` is not a tenant: give the directory's tenant id or one of its verified domains,"
            " e.g. `start fabrikam contoso.com`."
        )
    return organization, tenant


_CONFLICT_WINDOW = timedelta(minutes=2)
"""A refused command right after someone else's change is reported as that change winning the race."""
_CONNECTED_STATES = frozenset({"connected", "users_notified", "billing_checked", "completed"})
_ANNOUNCE_STATES = frozenset({"planned", "blocked", "waiting_for_invite_settings", "awaiting_approval"})
"""Before connecting: the advance notice is the procedure's first prerequisite."""
_WHEN_LIMIT = 200

log = logging.getLogger(__name__)


@dataclass
class _Unit:
    session: Session
    flow: MigrationFlow

    @property
    def row(self) -> Migration:
        return self.flow.row


class MigrationService:
    """Use cases over one database and one set of Microsoft services; safe to share across threads."""

    def __init__(
        self,
        database: Database,
        microsoft: Microsoft,
        *,
        clock: Callable[[], datetime],
        settings: WorkflowSettings | None = None,
    ) -> None:
        self._database = database
        self._microsoft = microsoft
        self._clock = clock
        self._settings = settings or WorkflowSettings()
        self._admins: dict[str, tuple[datetime, tuple[str, ...]]] = {}
        self._admins_lock = threading.Lock()

    # ----------------------------------------------------------------- reading

    def status(self, organization: str | None = None) -> MigrationStatus:
        with self._database.session() as session:
            row = self._find(session, organization)
            self._expire_lapsed(session, row.id)
            return self._status(session, row)

    def migrations(self) -> list[MigrationStatus]:
        """Every migration with its plan summary, active ones first, newest first (for App Home)."""
        with self._database.session() as session:
            self._expire_lapsed(session)
            rows = session.exec(select(Migration).order_by(col(Migration.id).desc())).all()
            statuses = [self._status(session, row) for row in rows]
        return sorted(statuses, key=lambda status: not status.active)

    def organizations(self, *, state: str | None = None, include_finished: bool = False) -> list[str]:
        """Names of the migrations in progress (or all, with `include_finished`), newest first; cheap."""
        with self._database.session() as session:
            query = select(Migration.organization).order_by(col(Migration.id).desc())
            if not include_finished:
                query = query.join(ActiveMigration, col(ActiveMigration.migration_id) == Migration.id)
            if state is not None:
                query = query.where(Migration.state == state)
            return list(dict.fromkeys(session.exec(query).all()))

    def approval_organization(self, approval_id: int) -> str | None:
        """The organization an approval request (in any status) belongs to."""
        with self._database.session() as session:
            return session.exec(
                select(Migration.organization)
                .join(Approval, col(Approval.migration_id) == Migration.id)
                .where(Approval.id == approval_id)
            ).first()

    def plan(self, organization: str | None = None) -> Plan:
        with self._database.session() as session:
            row = self._find(session, organization)
            if row.plan is None:
                raise WorkflowError(
                    f"There is no plan for {row.organization} yet: the migration is"
                    f" {describe_state(row.state)}."
                )
            return _plan_codec.decode(row.plan)

    def outcome_of(self, organization: str | None, address: str) -> str | None:
        """This person's outcome in the current plan (by principal name or email), if they are in it."""
        with self._database.session() as session:
            row = self._find(session, organization)
            return _plan_codec.outcome_of(row.plan, address) if row.plan else None

    def audit_trail(self, organization: str | None = None) -> list[AuditEntry]:
        with self._database.session() as session:
            row = self._find(session, organization)
            return list(
                session.exec(
                    select(AuditEntry).where(AuditEntry.migration_id == row.id).order_by(col(AuditEntry.id))
                ).all()
            )

    # ------------------------------------------------------ start and checking

    def start(
        self, organization: str, tenant: str, actor: Actor, *, channel: str | None = None
    ) -> MigrationStatus:
        """Create the migration and check the prerequisites at once (-> planned or blocked)."""
        organization, tenant = check_start_arguments(organization, tenant)
        if not actor.email:
            raise WorkflowError(
                "I need your email address to check that you can make the connection; add it to your chat"
                " profile and try again."
            )
        now = self._now()
        with self._database.session() as session:
            row = Migration(
                organization=organization,
                tenant_id=tenant,
                state="draft",
                started_by_id=actor.id,
                started_by_email=actor.email,
                started_by_name=actor.name,
                channel_id=channel,
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
                raise self._already_running(session, organization) from None
            session.add(
                self._audit(row, actor, "start", None, "draft", {"tenant": tenant, "channel": channel})
            )
            flow = self._flow(row, session, actor, now)
            flow.fire("check")
            session.commit()
            self._check_prerequisites(_Unit(session, flow))
            return self._status(session, row)

    def recheck(self, organization: str | None, actor: Actor) -> MigrationStatus:
        """Fetch everything again and rebuild the plan (-> planned or blocked); voids a pending approval."""
        with self._database.session() as session:
            with self._step(session, organization, actor, "recheck") as unit:
                self._void_pending_approvals(unit, "the prerequisites were re-checked")
                unit.flow.fire("recheck")
            self._check_prerequisites(unit)
            return self._status(session, unit.row)

    def resume(self, organization: str | None, actor: Actor) -> MigrationStatus:
        """Re-run the step that failed or was interrupted."""
        with self._database.session() as session:
            with self._step(session, organization, actor, "resume") as unit:
                unit.flow.fire("resume", details={"after": unit.row.previous_state or unit.row.state})
                unit.row.blocked_reason = unit.row.blocked_fix = None
            if unit.row.state == "inviting":
                return self._send_invitations(unit, actor).status
            if unit.row.state == "removing":
                return self._remove(unit, actor).status
            self._check_prerequisites(unit)
            return self._status(session, unit.row)

    def _check_prerequisites(self, unit: _Unit) -> None:
        """In `checking_prerequisites`: snapshot and plan, then planned, blocked or failed; commits."""
        row = unit.row
        unit.flow.now = self._now()
        connector = row.started_by_email
        with self._failing_on_error(unit, "prerequisite checks"):
            try:
                snapshot = self._microsoft.snapshot(row.organization, row.tenant_id, connector=connector)
                plan = build_plan(snapshot, connector)
            except MicrosoftError as error:
                row.blocked_reason = str(error)
                row.blocked_fix = (
                    "If it names something you typed (the organization or the tenant), `cancel` and `start`"
                    " again with the right one; otherwise `resume` once the service answers."
                )
                unit.flow.fire("fail", details={"error": str(error)})
                self._commit(unit)
                return
            row.tenant_id = snapshot.tenant.id
            row.tenant_name = snapshot.tenant.display_name
            self._apply_plan(unit, plan)
            self._commit(unit)

    @contextmanager
    def _failing_on_error(self, unit: _Unit, step: str) -> Iterator[None]:
        """An unexpected error in a busy step moves the migration to `failed`, with the reason, then
        propagates: without this the migration would sit in the busy state until its lease runs out."""
        try:
            yield
        except WorkflowError:
            raise  # a refusal or a rival's change: the state is not ours to fail
        except Exception as error:
            unit.session.rollback()
            row = unit.row
            if row.state in BUSY_STATES:
                unit.flow.now = self._now()
                row.blocked_reason = f"The {step} stopped on an unexpected error ({type(error).__name__})."
                row.blocked_fix = (
                    "Run `resume` to try again; if it fails the same way, the bot's operators find the error"
                    " in its log."
                )
                unit.flow.fire("fail", details={"error": type(error).__name__, "step": step})
                try:
                    unit.session.commit()
                except StaleDataError:
                    unit.session.rollback()  # someone else moved it on meanwhile (a cancel): theirs stands
            raise

    def _apply_plan(self, unit: _Unit, plan: Plan) -> None:
        row = unit.row
        row.plan = _plan_codec.encode(plan)
        row.plan_fingerprint = plan.fingerprint
        details = {"fingerprint": plan.fingerprint, "counts": plan.counts}
        if plan.failed_checks:
            row.blocked_reason = " ".join(check.message for check in plan.failed_checks)
            row.blocked_fix = " ".join(check.fix for check in plan.failed_checks if check.fix) or None
            unit.flow.fire(
                "prerequisites_failed", details={**details, "failed": [c.code for c in plan.failed_checks]}
            )
        else:
            row.blocked_reason = row.blocked_fix = None
            unit.flow.fire("prerequisites_passed", details=details)

    # -------------------------------------------------------------- inviting

    def invite(self, organization: str | None, actor: Actor) -> InviteResult:
        """Invite every user the plan cannot match as a B2B guest, once; then re-plan."""
        with self._database.session() as session:
            with self._step(session, organization, actor, "invite") as unit:
                unit.flow.fire("invite")
                unit.row.blocked_reason = unit.row.blocked_fix = None
            return self._send_invitations(unit, actor)

    def _send_invitations(self, unit: _Unit, actor: Actor) -> InviteResult:
        row = unit.row
        plan = _plan_codec.decode(row.plan or {})
        outcomes: list[InvitationOutcome] = []
        with self._failing_on_error(unit, "invitations"):
            for user in plan.users_with("invite"):
                address = user.mail_address or user.principal_name
                outcomes.append(self._invite_one(unit, address, user.id, user.display_name, actor))
                if outcomes[-1].status == "denied":
                    break
        denied = any(outcome.status == "denied" for outcome in outcomes)
        now = unit.flow.now = self._now()
        if denied:
            recheck_at = row.invite_recheck_at = now + self._settings.invite_settings_delay
            inviter = actor.email or actor.name
            row.blocked_reason = f"Microsoft Entra ID refused to let {inviter} invite guests (403 Forbidden)."
            row.blocked_fix = (
                "In the Microsoft Entra admin center open External Identities > External collaboration"
                " settings and let members invite guests (or give the inviter the Guest Inviter role)."
                " Changes take 15-60 minutes to apply; then run `invite` again."
            )
            unit.flow.fire("invite_denied", details={"recheck_at": recheck_at.isoformat()})
            self._commit(unit)
            message = f"{row.blocked_reason} {row.blocked_fix} Re-check after {_hhmm(recheck_at)} UTC."
        else:
            row.invite_recheck_at = None
            unit.flow.fire("invitations_sent", details={"sent": sum(o.status == "sent" for o in outcomes)})
            self._commit(unit)
            self._check_prerequisites(unit)
            message = _invite_summary(outcomes)
        status = self._status(unit.session, row)
        return InviteResult(status=status, outcomes=tuple(outcomes), denied=denied, message=message)

    def _invite_one(
        self, unit: _Unit, address: str, entitlement_id: str, display_name: str, actor: Actor
    ) -> InvitationOutcome:
        """Claim the address (committed) before calling Microsoft, so nobody is invited twice."""
        row, session = unit.row, unit.session
        email = address.strip()
        key = email.casefold()
        claim = session.exec(
            select(Invitation).where(Invitation.migration_id == row.id, Invitation.email == key)
        ).first()
        if claim is not None and claim.status in ("sent", "found"):
            return InvitationOutcome(email, display_name, "already-invited", claim.result)
        try:
            existing = self._microsoft.find_directory_user(row.tenant_id, email)
        except MicrosoftError as error:
            return InvitationOutcome(email, display_name, "failed", str(error))
        now = self._now()
        if claim is None:
            assert row.id is not None
            claim = Invitation(
                migration_id=row.id,
                email=key,
                entitlement_id=entitlement_id,
                display_name=display_name,
                created_at=now,
                updated_at=now,
            )
            session.add(claim)
        claim.updated_at = now
        if existing is not None:
            # Someone added them meanwhile (or an earlier run's invitation went through before a crash).
            claim.status, claim.result = (
                "found",
                f"already in the directory as {existing.user_principal_name}",
            )
            claim.invited_user_id = existing.id
            self._commit(unit)
            return InvitationOutcome(email, display_name, "found", claim.result)
        claim.status, claim.attempts = "pending", claim.attempts + 1
        _heartbeat(row, now)
        try:
            self._commit(unit)
        except IntegrityError:
            session.rollback()  # another process claimed this address first
            return InvitationOutcome(email, display_name, "skipped", "being invited by another process")
        try:
            invitation = self._microsoft.invite_guest(
                row.tenant_id,
                email=email,
                display_name=display_name,
                message=(
                    f"{row.organization} is moving its Azure DevOps sign-in to"
                    f" {row.tenant_name or 'this directory'}. Accept this invitation to keep your access."
                ),
                redirect_url=f"https://dev.azure.com/{row.organization}",
                inviter=actor.email,
            )
        except InvitePermissionDenied:
            claim.status, claim.result = "denied", "403 Forbidden: the inviter may not invite guests"
            self._commit(unit)
            return InvitationOutcome(email, display_name, "denied", claim.result)
        except MicrosoftError as error:
            claim.status, claim.result = "failed", str(error)
            self._commit(unit)
            return InvitationOutcome(email, display_name, "failed", str(error))
        claim.status, claim.result = "sent", invitation.status
        claim.invited_user_id = invitation.invited_user_id
        self._commit(unit)
        return InvitationOutcome(email, display_name, "sent", invitation.status)

    # -------------------------------------------------------------- approval

    def request_approval(self, organization: str | None, actor: Actor) -> ApprovalRequest:
        """Ask the other admins to approve the current plan (bound to its fingerprint)."""
        with self._database.session() as session:
            with self._step(session, organization, actor, "request_approval") as unit:
                row = unit.row
                self._expire_due(unit)
                unit.flow.require("request_approval", command="request-approval")
                self._require_enough_approvers(row.organization, actor)
                self._void_pending_approvals(unit, "a new approval was requested")
                unit.flow.fire("request_approval", details={"fingerprint": row.plan_fingerprint})
                assert row.id is not None and row.plan_fingerprint is not None
                approval = Approval(
                    migration_id=row.id,
                    plan_fingerprint=row.plan_fingerprint,
                    requested_by_id=actor.id,
                    requested_by_email=actor.email,
                    requested_by_name=actor.name,
                    approvers_required=self._settings.approvers_required,
                    created_at=unit.flow.now,
                    expires_at=unit.flow.now + self._settings.approval_ttl,
                )
                session.add(approval)
            plan = _plan_codec.decode(row.plan or {})
            assert approval.id is not None
            return ApprovalRequest(
                approval_id=approval.id,
                organization=row.organization,
                tenant_id=row.tenant_id,
                tenant_name=row.tenant_name,
                plan_fingerprint=approval.plan_fingerprint,
                counts=plan.counts,
                warnings=tuple(check for check in plan.checks if check.status == "warn"),
                requested_by=actor,
                approvers_required=approval.approvers_required,
                expires_at=approval.expires_at,
                status=self._status(session, row),
            )

    def _require_enough_approvers(self, organization: str, requester: Actor) -> None:
        """A request nobody can approve would only wait until it expires."""
        others = self.approver_emails(organization, exclude=requester)
        needed = self._settings.approvers_required
        if len(others) >= needed:
            return
        listed = f": {', '.join(others)}" if others else ""
        admins = "admin" if len(others) == 1 else "admins"
        raise WorkflowError(
            f"{needed} approver{'s' if needed > 1 else ''} needed, only {len(others)} other {admins}"
            f"{listed}. Add a Project Collection Administrator to {organization} (Organization settings >"
            " Permissions), or have the bot's operators lower the number of approvers."
        )

    def decide(self, approval_id: int, actor: Actor, approve: bool, reason: str = "") -> DecisionResult:
        """Record one admin's decision; the last required approval moves the migration to connecting."""
        with self._database.session() as session:
            approval = session.get(Approval, approval_id)
            if approval is None:
                raise WorkflowError(f"There is no approval request #{approval_id}.")
            row = session.get(Migration, approval.migration_id)
            assert row is not None
            unit = _Unit(session, self._flow(row, session, actor, self._now()))
            with self._translating_conflicts(unit, "approve" if approve else "reject"):
                return self._decide(unit, approval, actor, approve, reason)

    def _decide(
        self, unit: _Unit, approval: Approval, actor: Actor, approve: bool, reason: str
    ) -> DecisionResult:
        row, session, now = unit.row, unit.session, unit.flow.now
        assert approval.id is not None

        def result(
            outcome: DecisionOutcome, message: str, connector: Actor | None = None, why: str = ""
        ) -> DecisionResult:
            return DecisionResult(
                approval_id=approval.id or 0,
                outcome=outcome,
                approvals=approval.approvals,
                approvers_required=approval.approvers_required,
                status=self._status(session, row),
                message=message,
                connector=connector,
                connector_reason=why,
            )

        if approval.status != "pending":
            raise self._recent_change_or(
                unit,
                actor,
                "approve",
                WorkflowError(f"This approval request is already {approval.status}; nothing to decide."),
            )
        if approve and _same_person(actor, approval.requested_by_id, approval.requested_by_email):
            raise PermissionDenied(
                "You requested this approval, so another admin must approve it (four eyes)."
                " You can still `reject` it or `cancel` the migration."
            )
        decisions = session.exec(
            select(ApprovalDecision).where(ApprovalDecision.approval_id == approval.id)
        ).all()
        if any(_same_person(actor, d.approver_id, d.approver_email) for d in decisions):
            raise WorkflowError("You already decided on this request; another admin has to approve it.")
        if approval.expires_at <= now:
            self._expire(unit, approval)
            self._commit(unit)
            return result(
                "expired",
                f"This approval request expired at {_hhmm(approval.expires_at)} UTC;"
                " run `request-approval` for a fresh one.",
            )
        if approval.plan_fingerprint != row.plan_fingerprint or row.state != "awaiting_approval":
            self._void(unit, approval, "the plan changed")
            self._commit(unit)
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
            self._commit(unit)
            return result("rejected", f"{actor.name} rejected the plan. {reason}".strip())
        approval.approvals += 1
        if approval.approvals < approval.approvers_required:
            session.add(
                self._audit(row, actor, "decision", row.state, row.state, {"approval_id": approval.id})
            )
            self._commit(unit)
            missing = approval.approvers_required - approval.approvals
            return result("recorded", f"Approval recorded; {missing} more needed.")
        snapshot = self._live_snapshot(row)
        live = build_plan(snapshot, row.started_by_email)
        if live.fingerprint != approval.plan_fingerprint or live.failed_checks:
            approval.status = "void"
            unit.flow.fire("recheck", details={"approval_id": approval.id, "reason": "plan changed"})
            self._apply_plan(unit, live)
            self._commit(unit)
            if live.failed_checks:
                failing = " ".join(check.message for check in live.failed_checks)
                return result(
                    "void",
                    f"A prerequisite fails now, so the approval is void: {failing} Then run `recheck`"
                    " and `request-approval` again.",
                )
            return result(
                "void",
                "The directory or the organization changed since the request, so the plan did too"
                f" (now {_counts_text(live.counts)}). The approval is void; review `plan` and run"
                " `request-approval` again.",
            )
        connector, why = _connector(snapshot, actor, approval, row)
        approval.status, approval.decided_at = "approved", now
        unit.flow.fire("approve", details={"approval_id": approval.id, "connector": connector.email})
        self._commit(unit)
        message = (
            f"{connector.name or connector.email} connects it in the portal:"
            f" https://dev.azure.com/{row.organization} > Organization settings > Microsoft Entra ID >"
            f" Connect directory > {row.tenant_name or row.tenant_id} > Connect. I watch the organization"
            " and confirm once it is connected."
        )
        return result("approved", f"{message} {why}".strip(), connector, why)

    def _live_snapshot(self, row: Migration) -> DirectorySnapshot:
        try:
            return self._microsoft.snapshot(row.organization, row.tenant_id, connector=row.started_by_email)
        except MicrosoftError as error:
            raise WorkflowError(
                f"I could not verify the plan with Microsoft, so nothing was recorded: {error} Try again."
            ) from None

    def _expire(self, unit: _Unit, approval: Approval) -> None:
        approval.status = "expired"
        if unit.row.state == "awaiting_approval":
            unit.flow.fire("expire", details={"approval_id": approval.id})

    def _void(self, unit: _Unit, approval: Approval, why: str) -> None:
        """The approval no longer holds; a migration awaiting it goes back to `planned`."""
        approval.status = "void"
        details: dict[str, object] = {"approval_id": approval.id, "why": why}
        if unit.row.state == "awaiting_approval":
            unit.flow.fire("void_approval", details=details)
        else:
            state = unit.row.state
            unit.session.add(self._audit(unit.row, _flow_actor(unit), "void_approval", state, state, details))

    def _expire_due(self, unit: _Unit) -> None:
        for approval in self._pending_approvals(unit):
            if approval.expires_at <= unit.flow.now:
                self._expire(unit, approval)

    def _expire_lapsed(self, session: Session, migration_id: int | None = None) -> None:
        """Whoever looks first turns lapsed requests into expired ones, so none shows as pending."""
        now = self._now()
        query = select(Approval).where(Approval.status == "pending", col(Approval.expires_at) <= now)
        if migration_id is not None:
            query = query.where(Approval.migration_id == migration_id)
        for approval in session.exec(query).all():
            row = session.get(Migration, approval.migration_id)
            assert row is not None
            self._expire(_Unit(session, self._flow(row, session, BOT, now)), approval)
            try:
                session.commit()
            except StaleDataError:
                session.rollback()  # someone decided on it at this moment: their change stands

    def _void_pending_approvals(self, unit: _Unit, why: str) -> None:
        """Void the pending requests without moving the migration: the caller's transition does that."""
        for approval in self._pending_approvals(unit):
            approval.status = "void"
            unit.session.add(
                self._audit(
                    unit.row,
                    _flow_actor(unit),
                    "void_approval",
                    unit.row.state,
                    unit.row.state,
                    {"approval_id": approval.id, "why": why},
                )
            )

    def _pending_approvals(self, unit: _Unit) -> Sequence[Approval]:
        return unit.session.exec(
            select(Approval).where(Approval.migration_id == unit.row.id, Approval.status == "pending")
        ).all()

    # ------------------------------------------------------------ connecting

    def check_connection(self, organization: str | None = None) -> ConnectionResult:
        """One look at the organization's tenant: the bot's watch calls this every few seconds."""
        try:
            with self._database.session() as session:
                with self._step(session, organization, BOT, "connection_confirmed") as unit:
                    row = unit.row
                    if row.state in _CONNECTED_STATES:
                        return ConnectionResult("connected", row.tenant_id, self._status(session, row), "")
                    unit.flow.require("connection_confirmed", command="check-connection")
                    observed = self._tenant_of(row.organization)
                    if observed.casefold() == row.tenant_id.casefold():
                        unit.flow.fire("connection_confirmed", details={"tenant_id": observed})
                status = self._status(session, row)
        except ConflictError:
            status = self.status(organization)
            if status.state != "connected":
                raise
            return ConnectionResult("connected", status.tenant_id, status, "")
        target = row.tenant_name or row.tenant_id
        if status.state == "connected":
            message = f"{row.organization} is connected to {target}. Next: `notify` the users."
            return ConnectionResult("connected", observed, status, message)
        if observed == MSA_TENANT_ID:
            return ConnectionResult("waiting", observed, status, "Not connected yet; still watching.")
        message = (
            f"{row.organization} is connected to another directory ({observed}), not to {target}."
            " Disconnect it (Organization settings > Microsoft Entra ID > Disconnect directory), then connect"
            " the right one."
        )
        return ConnectionResult("other-tenant", observed, status, message)

    def _tenant_of(self, organization: str) -> str:
        try:
            return self._microsoft.organization_tenant_id(organization)
        except MicrosoftError as error:
            raise WorkflowError(f"I could not look at {organization} just now: {error}") from None

    # -------------------------------------------------------------- after it

    def notify(self, organization: str | None, actor: Actor) -> NotifyResult:
        """Record every affected user with their own to-do list and queue one message to each."""
        with self._database.session() as session:
            with self._step(session, organization, actor, "notify") as unit:
                row = unit.row
                unit.flow.fire("notify")
                plan = _plan_codec.decode(row.plan or {})
                try:
                    org_users = {user.id: user for user in self._microsoft.org_users(row.organization)}
                    tenant = self._microsoft.tenant(row.tenant_id)
                except MicrosoftError as error:
                    raise WorkflowError(
                        f"I could not read the organization's users: {error} Try again."
                    ) from None
                invited = dict(
                    session.exec(
                        select(Invitation.entitlement_id, Invitation.email).where(
                            Invitation.migration_id == row.id, Invitation.status == "sent"
                        )
                    ).all()
                )
                # Whoever the bot invited matches their new guest account but must still accept it.
                notified = [
                    self._notify_one(
                        unit,
                        replace(user, outcome="invite") if user.id in invited else user,
                        org_users.get(user.id),
                        tenant,
                        invited.get(user.id),
                    )
                    for user in plan.users
                ]
            return NotifyResult(status=self._status(session, row), users=tuple(notified))

    def _notify_one(
        self,
        unit: _Unit,
        user: PlannedUser,
        org_user: OrgUser | None,
        tenant: Tenant,
        invited_as: str | None,
    ) -> NotifiedUser:
        row, session, now = unit.row, unit.session, unit.flow.now
        assert row.id is not None
        address = (user.mail_address or user.principal_name).strip()
        affected = AffectedUser(
            migration_id=row.id,
            entitlement_id=user.id,
            principal_name=user.principal_name,
            email=address.lower(),
            display_name=user.display_name,
            outcome=user.outcome,
            created_at=now,
        )
        session.add(affected)
        session.flush()
        assert affected.id is not None
        items = [
            TodoItem(
                affected_user_id=affected.id,
                position=position,
                key=t.key,
                title=t.title,
                body=t.body,
                link=t.link,
            )
            for position, t in enumerate(
                todo_items(
                    user, org_user, organization=row.organization, tenant=tenant, invited_as=invited_as
                )
            )
        ]
        session.add_all(items)
        session.flush()
        entries = tuple(todo_entry(item, row) for item in items)
        message = enqueue(
            session,
            idempotency_key=f"migration-{row.id}-todo-{user.id}",
            recipient=address,
            kind="todo_list",
            migration_id=row.id,
            payload={
                "migration_id": row.id,
                "organization": row.organization,
                "affected_user_id": affected.id,
                "email": address,
                "display_name": user.display_name,
                "tenant": row.tenant_name or row.tenant_id,
                "outcome": user.outcome,
                "notes": todo_notes(user),
                "items": [
                    {"id": e.id, "key": e.key, "title": e.title, "body": e.body, "link": e.link}
                    for e in entries
                ],
            },
            now=now,
        )
        session.flush()
        assert message.id is not None
        return NotifiedUser(affected.id, address, user.display_name, user.outcome, entries, message.id)

    def announce(self, organization: str | None, actor: Actor, when: str = "") -> AnnounceResult:
        """Tell every affected user, before connecting, what will happen to them and when (prerequisite 1).

        Announcing the same `when` twice sends nothing new; a new `when` reaches everyone again.
        """
        when = " ".join(when.split())[:_WHEN_LIMIT]
        with self._database.session() as session:
            row = self._find(session, organization)
            if row.state not in _ANNOUNCE_STATES or row.plan is None:
                raise refusal(row.state, "announce")
            assert row.id is not None
            plan = _plan_codec.decode(row.plan)
            now = self._now()
            tenant = row.tenant_name or row.tenant_id
            digest = hashlib.sha256(when.casefold().encode()).hexdigest()[:12]
            keys = {user.id: f"migration-{row.id}-notice-{digest}-{user.id}" for user in plan.users}
            sent_before = set(
                session.exec(
                    select(OutboundMessage.idempotency_key).where(
                        col(OutboundMessage.idempotency_key).in_(list(keys.values()))
                    )
                ).all()
            )
            # Flushed only at commit: a concurrent identical announce then shows as one IntegrityError there.
            with session.no_autoflush:
                for user in plan.users:
                    if keys[user.id] in sent_before:
                        continue
                    address = (user.mail_address or user.principal_name).strip()
                    enqueue(
                        session,
                        idempotency_key=keys[user.id],
                        recipient=address,
                        kind="advance_notice",
                        payload={
                            "migration_id": row.id,
                            "organization": row.organization,
                            "tenant": tenant,
                            "email": address,
                            "display_name": user.display_name,
                            "when": when,
                            "lines": advance_notice(user, organization=row.organization, tenant=tenant),
                        },
                        now=now,
                        migration_id=row.id,
                    )
            queued = len(keys) - len(sent_before)
            session.add(
                self._audit(row, actor, "announce", row.state, row.state, {"when": when, "users": queued})
            )
            name = row.organization
            try:
                session.commit()
            except IntegrityError:  # another admin's identical announce committed first: theirs went out
                session.rollback()
                raise WorkflowError(
                    f"{name} was just announced for {when or 'this date'} by someone else at the"
                    " same moment; everyone gets that notice once. Nothing more was sent."
                ) from None
            return AnnounceResult(self._status(session, row), queued, len(plan.users), when)

    def check_billing(self, organization: str | None, actor: Actor) -> BillingResult:
        """The subscription that pays for the organization must live in the new directory."""
        with self._database.session() as session:
            with self._step(session, organization, actor, "billing_confirmed") as unit:
                row = unit.row
                unit.flow.require("billing_confirmed", command="check-billing")
                try:
                    subscription_id = self._microsoft.billing_subscription_id(row.organization)
                    subscription = (
                        self._microsoft.subscription(subscription_id, row.tenant_id)
                        if subscription_id
                        else None
                    )
                except MicrosoftError as error:
                    raise WorkflowError(
                        f"I could not read the billing subscription: {error} Try again."
                    ) from None
                target = row.tenant_name or row.tenant_id
                ok = subscription_id is None or (
                    subscription is not None and subscription.tenant_id.casefold() == row.tenant_id.casefold()
                )
                if ok:
                    unit.flow.fire("billing_confirmed", details={"subscription_id": subscription_id})
            status = self._status(session, row)
        steps: tuple[str, ...] = ()
        if subscription_id is None:
            message = "No Azure subscription bills this organization; nothing to change."
        elif ok:
            message = f"Billing subscription {subscription_id} is already in {target}."
        else:
            where = f"in directory {subscription.tenant_id}" if subscription else "not visible to me"
            message = (
                f"Billing subscription {subscription_id} is {where}, not in {target}. Before the month ends:"
            )
            steps = (
                f"Associate subscription {subscription_id} with {target} in the Azure portal (Subscriptions >"
                " Change directory), or transfer it to your work account if you cannot change the directory.",
                "Or, in Organization settings > Billing, change the subscription Azure DevOps bills to one in"
                f" {target}; follow Microsoft's steps exactly, a wrong setup disrupts billing.",
                "Then run `check-billing` again.",
            )
        tenant_of_subscription = subscription.tenant_id if subscription else None
        return BillingResult(ok, subscription_id, tenant_of_subscription, steps, status, message)

    def complete(self, organization: str | None, actor: Actor) -> MigrationStatus:
        with self._database.session() as session:
            with self._step(session, organization, actor, "complete") as unit:
                unit.flow.fire("complete")
                self._deactivate(unit)
            return self._status(session, unit.row)

    def cancel(self, organization: str | None, actor: Actor, reason: str = "") -> MigrationStatus:
        with self._database.session() as session:
            with self._step(session, organization, actor, "cancel") as unit:
                self._void_pending_approvals(unit, "the migration was cancelled")
                unit.flow.fire("cancel", details={"reason": reason})
                self._deactivate(unit)
                unit.row.blocked_reason = reason or None
                unit.row.blocked_fix = None
            return self._status(session, unit.row)

    # ------------------------------------------------------------ to-do lists

    def todo_list(self, who: Actor | str | int) -> list[TodoEntry]:
        """A person's to-do items, newest migration first.

        `who` is a chat user (matched like `mark_done` matches the owner: chat id, email or principal
        name), an email, or an affected-user id.
        """
        with self._database.session() as session:
            query = select(AffectedUser)
            if isinstance(who, int):
                query = query.where(AffectedUser.id == who)
            else:
                email = (who.email if isinstance(who, Actor) else who).strip().lower()
                mine = (col(AffectedUser.email) == email) | (func.lower(AffectedUser.principal_name) == email)
                if isinstance(who, Actor) and who.id:
                    mine = mine | (col(AffectedUser.chat_user_id) == who.id)
                query = query.where(mine)
            users = session.exec(query.order_by(col(AffectedUser.migration_id).desc())).all()
            entries: list[TodoEntry] = []
            for user in users:
                row = session.get(Migration, user.migration_id)
                assert row is not None
                items = session.exec(
                    select(TodoItem)
                    .where(TodoItem.affected_user_id == user.id)
                    .order_by(col(TodoItem.position))
                ).all()
                entries.extend(todo_entry(item, row) for item in items)
            return entries

    def mark_done(self, item_id: int, actor: Actor) -> MarkDoneResult:
        with self._database.session() as session:
            item = session.get(TodoItem, item_id)
            user = session.get(AffectedUser, item.affected_user_id) if item is not None else None
            # Someone else's item reads like a missing one: whose list it is stays private.
            if item is None or user is None or not _owns(actor, user):
                raise WorkflowError(f"There is no item #{item_id} on your list.")
            row = session.get(Migration, user.migration_id)
            assert row is not None
            already = item.done_at is not None
            if not already:
                now = self._now()
                item.done_at, item.done_by = now, actor.id
                if user.chat_user_id is None:
                    user.chat_user_id = actor.id
                session.add(
                    self._audit(
                        row,
                        actor,
                        "todo_done",
                        row.state,
                        row.state,
                        {"item": item.key, "user": user.principal_name},
                    )
                )
                try:
                    session.commit()
                except StaleDataError:
                    session.rollback()
                    raise ConflictError(
                        f"“{item.title}” changed at this very moment (marked done twice?); here is your"
                        " list as it is now."
                    ) from None
            open_items = session.exec(
                select(TodoItem).where(TodoItem.affected_user_id == user.id, col(TodoItem.done_at).is_(None))
            ).all()
            return MarkDoneResult(item=todo_entry(item, row), already_done=already, remaining=len(open_items))

    # ------------------------------------------------------- users and admins

    def stale_users(self, organization: str | None, days: int | None = None) -> list[OrgUser]:
        """Users who have not signed in for `days` (default from settings): candidates for removal."""
        days = self._settings.stale_after_days if days is None else days
        if days < 1:
            raise WorkflowError("Give a number of days of 1 or more, e.g. `stale-users 90`.")
        name = self._organization_name(organization)
        try:
            users = self._microsoft.org_users(name)
        except MicrosoftError as error:
            raise WorkflowError(f"I could not read the users of {name}: {error}") from None
        cutoff = self._now() - timedelta(days=days)
        return [user for user in users if (seen := user.last_accessed or user.date_created) and seen < cutoff]

    def remove_users(self, organization: str | None, user_ids: Sequence[str], actor: Actor) -> RemovalResult:
        """Remove users an admin confirmed (prerequisite 4), each removal audited; then re-plan.

        Never the owner or an administrator: a removal cannot be undone, and removing them could lock
        everyone out of the organization's settings.
        """
        with self._database.session() as session:
            with self._step(session, organization, actor, "remove_users") as unit:
                row = unit.row
                unit.flow.require("remove_users", command="remove-users")
                plan = _plan_codec.decode(row.plan or {})
                users = {user.id: user for user in plan.users}
                wanted = list(dict.fromkeys(user_ids))
                unknown = [user_id for user_id in wanted if user_id not in users]
                if unknown or not wanted:
                    listed = ", ".join(unknown) or "(none given)"
                    raise WorkflowError(f"Not users of {row.organization}: {listed}; pick them from `plan`.")
                admins = set(self._admin_emails(row.organization))
                protected = [
                    users[user_id].principal_name
                    for user_id in wanted
                    if {_email_key(users[user_id].principal_name), _email_key(users[user_id].mail_address)}
                    & admins
                ]
                if protected:
                    raise PermissionDenied(
                        f"I do not remove the owner or the Project Collection Administrators of"
                        f" {row.organization}: {', '.join(protected)}. Nothing was removed; run"
                        " `remove-users` again without them."
                    )
                unit.flow.fire("remove_users", details={"user_ids": wanted})
            return self._remove(unit, actor)

    def _remove(self, unit: _Unit, actor: Actor) -> RemovalResult:
        """In `removing`: remove who the request named and is not removed yet, then re-plan."""
        row, session = unit.row, unit.session
        names = {user.id: user.principal_name for user in _plan_codec.decode(row.plan or {}).users}
        removed: list[str] = []
        failed: list[tuple[str, str]] = []

        def stopped(why: str) -> RemovalResult:
            done = f" Removed before that: {', '.join(removed)}." if removed else " Nobody was removed."
            return RemovalResult(tuple(removed), tuple(failed), self._status(session, row), why + done)

        try:
            with self._failing_on_error(unit, "removal of users"):
                for user_id in self._removals_left(session, row):
                    name = names.get(user_id, user_id)
                    # Committed before the irreversible call: a cancel meanwhile stops us here.
                    _heartbeat(row, self._now())
                    self._commit(unit)
                    try:
                        self._microsoft.remove_org_user(row.organization, user_id)
                    except MicrosoftError as error:
                        failed.append((name, str(error)))
                        continue
                    removed.append(name)
                    details: dict[str, object] = {"user_id": user_id, "principal_name": name}
                    session.add(self._audit(row, actor, "remove_user", row.state, row.state, details))
                    session.commit()  # each removal is recorded as soon as Microsoft confirmed it
                unit.flow.now = self._now()
                unit.flow.fire("users_removed", details={"removed": len(removed), "failed": len(failed)})
                self._commit(unit)
        except ConflictError as conflict:
            return stopped(str(conflict))
        except Exception:
            log.exception("removing users from %s stopped", row.organization)
            return stopped(f"{row.blocked_reason} {row.blocked_fix}")
        self._check_prerequisites(unit)
        return RemovalResult(tuple(removed), tuple(failed), self._status(session, row))

    def _removals_left(self, session: Session, row: Migration) -> list[str]:
        """The ids the latest `remove-users` named, minus those already removed (a resume skips them)."""
        entries = session.exec(
            select(AuditEntry)
            .where(
                AuditEntry.migration_id == row.id,
                col(AuditEntry.action).in_(("remove_users", "remove_user")),
            )
            .order_by(col(AuditEntry.id).desc())
        ).all()
        done: set[str] = set()
        for entry in entries:
            if entry.action == "remove_user":
                done.add(str(entry.details.get("user_id")))
            else:
                return [str(user_id) for user_id in entry.details.get("user_ids", ()) if user_id not in done]
        return []

    def is_admin(self, organization: str | None, actor: Actor, extra_admin_ids: Sequence[str] = ()) -> bool:
        """Owner or Project Collection Administrator (by email), or listed in `extra_admin_ids`."""
        if actor.id in extra_admin_ids:
            return True
        if not actor.email:
            return False
        admins = self._admin_emails(self._organization_name(organization))
        return actor.email.strip().lower() in admins

    def approver_emails(self, organization: str | None, *, exclude: Actor) -> list[str]:
        """Who may approve a request by `exclude`: the owner and administrators but them, lower-cased."""
        admins = self._admin_emails(self._organization_name(organization))
        return [admin for admin in admins if admin != exclude.email.strip().lower()]

    def _admin_emails(self, organization: str) -> tuple[str, ...]:
        """Owner first, then the Project Collection Administrators; cached, as chat asks on every click."""
        key, now = organization.casefold(), self._now()
        with self._admins_lock:
            cached = self._admins.get(key)
        if cached is not None and now < cached[0]:
            return cached[1]
        try:
            found = self._microsoft.organization(organization)
        except MicrosoftError as error:
            raise WorkflowError(f"I could not check the administrators of {organization}: {error}") from None
        admins = tuple(
            dict.fromkeys(a.strip().lower() for a in (found.owner or "", *found.administrators) if a.strip())
        )
        with self._admins_lock:
            self._admins[key] = (now + self._settings.admin_cache_ttl, admins)
        return admins

    # --------------------------------------------------------------- plumbing

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now

    def _flow(self, row: Migration, session: Session, actor: Actor, now: datetime) -> MigrationFlow:
        return MigrationFlow(
            row,
            session,
            actor=(actor.id, actor.email, actor.name),
            now=now,
            step_lease=self._settings.step_lease,
        )

    @contextmanager
    def _step(
        self, session: Session, organization: str | None, actor: Actor, trigger: str
    ) -> Iterator[_Unit]:
        """Load the migration, run the body, commit; a refusal right after a rival's change is a conflict."""
        row = self._find(session, organization)
        unit = _Unit(session, self._flow(row, session, actor, self._now()))
        with self._translating_conflicts(unit, trigger):
            yield unit
            self._commit(unit)

    @contextmanager
    def _translating_conflicts(self, unit: _Unit, trigger: str) -> Iterator[None]:
        try:
            yield
        except (ConflictError, PermissionDenied):
            raise
        except StaleDataError:
            unit.session.rollback()
            raise self._conflict(unit) from None
        except WorkflowError as error:
            unit.session.rollback()
            raise self._recent_change_or(unit, _flow_actor(unit), trigger, error) from None

    def _recent_change_or(
        self, unit: _Unit, actor: Actor, trigger: str, error: WorkflowError
    ) -> WorkflowError:
        """If another person changed the migration moments ago from a state where `trigger` fitted, say so."""
        latest = self._latest_audit(unit.session, unit.row)
        if (
            latest is None
            or _same_person(actor, latest.actor_id, latest.actor_email)
            or latest.at < unit.flow.now - _CONFLICT_WINDOW
        ):
            return error
        if latest.state_before is None or trigger not in unit.flow.machine.get_triggers(latest.state_before):
            return error
        return self._conflict_from(latest, unit.row)

    def _commit(self, unit: _Unit) -> None:
        try:
            unit.session.commit()
        except StaleDataError:
            unit.session.rollback()
            raise self._conflict(unit) from None

    def _conflict(self, unit: _Unit) -> ConflictError:
        """Name the rival's change: the latest entry but this actor's own notes (a removal recorded after
        the rival's change, say), which change no state."""
        actor = _flow_actor(unit)
        unit.session.expire_all()
        entries = unit.session.exec(
            select(AuditEntry)
            .where(AuditEntry.migration_id == unit.row.id)
            .order_by(col(AuditEntry.id).desc())
            .limit(20)
        ).all()
        latest = next(
            (
                entry
                for entry in entries
                if entry.state_before != entry.state_after
                or not _same_person(actor, entry.actor_id, entry.actor_email)
            ),
            None,
        )
        if latest is None:
            return ConflictError("Someone changed this migration at the same moment; look at `status`.")
        return self._conflict_from(latest, unit.row)

    def _conflict_from(self, latest: AuditEntry, row: Migration) -> ConflictError:
        who = latest.actor_name or latest.actor_email or "someone"
        what = ACTION_PHRASES.get(latest.action, latest.action.replace("_", " "))
        state = latest.state_after or row.state
        options = ", ".join(f"`{word}`" for word in next_commands(state)) or "nothing"
        return ConflictError(
            f"{who} just {what}; the migration is now {describe_state(state)}. Next: {options}."
        )

    def _latest_audit(self, session: Session, row: Migration) -> AuditEntry | None:
        session.expire_all()
        return session.exec(
            select(AuditEntry).where(AuditEntry.migration_id == row.id).order_by(col(AuditEntry.id).desc())
        ).first()

    def _audit(
        self,
        row: Migration,
        actor: Actor,
        action: str,
        before: str | None,
        after: str | None,
        details: dict[str, object],
    ) -> AuditEntry:
        assert row.id is not None
        return AuditEntry(
            migration_id=row.id,
            at=self._now(),
            actor_id=actor.id,
            actor_email=actor.email,
            actor_name=actor.name,
            action=action,
            state_before=before,
            state_after=after,
            details=details,
        )

    def _find(self, session: Session, organization: str | None) -> Migration:
        if organization is not None and organization.strip():
            name = organization.strip().casefold()
            found = (
                next(iter(self._active(session, name)), None)
                or session.exec(
                    select(Migration)
                    .where(func.lower(Migration.organization) == name)
                    .order_by(col(Migration.id).desc())
                ).first()
            )
            if found is not None:
                return found
            raise WorkflowError(
                f"There is no migration of {organization.strip()}; start one with `start ORG TENANT`."
            )
        active_rows = self._active(session)
        if len(active_rows) == 1:
            return active_rows[0]
        if not active_rows:
            raise WorkflowError("No migration is in progress; start one with `start ORG TENANT`.")
        names = ", ".join(sorted(row.organization for row in active_rows))
        raise WorkflowError(
            f"Several migrations are in progress ({names}); name the organization, e.g. `status ORG`."
        )

    def _active(self, session: Session, organization_key: str | None = None) -> Sequence[Migration]:
        query = select(Migration).join(ActiveMigration, col(ActiveMigration.migration_id) == Migration.id)
        if organization_key is not None:
            query = query.where(ActiveMigration.organization_key == organization_key)
        return session.exec(query.order_by(col(Migration.id))).all()

    def _deactivate(self, unit: _Unit) -> None:
        active = unit.session.exec(
            select(ActiveMigration).where(ActiveMigration.migration_id == unit.row.id)
        ).first()
        if active is not None:
            unit.session.delete(active)

    def _organization_name(self, organization: str | None) -> str:
        if organization is not None and organization.strip():
            return organization.strip()
        with self._database.session() as session:
            return self._find(session, None).organization

    def _already_running(self, session: Session, organization: str) -> WorkflowError:
        running = self._find(session, organization)
        return WorkflowError(
            f"A migration of {running.organization} is already in progress ({describe_state(running.state)},"
            f" started by {running.started_by_name}). Use `status {running.organization}`, or `cancel` it"
            " first."
        )

    def _status(self, session: Session, row: Migration) -> MigrationStatus:
        pending = session.exec(
            select(Approval).where(Approval.migration_id == row.id, Approval.status == "pending")
        ).first()
        return migration_status(row, pending.id if pending else None)


def _same_person(actor: Actor, other_id: str, other_email: str) -> bool:
    return actor.id == other_id or bool(actor.email and actor.email.casefold() == other_email.casefold())


def _connector(
    snapshot: DirectorySnapshot, approver: Actor, approval: Approval, row: Migration
) -> tuple[Actor, str]:
    """Who clicks Connect: the final approver if they may, else the requester, else whoever started it
    (the plan's connector checks passed for them). The reason is given when it is not the approver."""
    requester = Actor(approval.requested_by_id, approval.requested_by_email, approval.requested_by_name)
    starter = Actor(row.started_by_id, row.started_by_email, row.started_by_name)
    refusal = _may_not_connect(snapshot, approver)
    if refusal is None:
        return approver, ""
    fallback = starter if _may_not_connect(snapshot, requester) is not None else requester
    role = "requested the approval" if fallback == requester else "started the migration"
    name = approver.name or approver.email or "The approver"
    return fallback, (
        f"{name} cannot make the connection ({refusal}), so {fallback.name or fallback.email}, who {role},"
        " does."
    )


def _may_not_connect(snapshot: DirectorySnapshot, person: Actor) -> str | None:
    """Why `person` may not click Connect, or None if they may."""
    if not person.email.strip():
        return "no email address in their chat profile to check"
    failing = [check for check in connector_checks(snapshot, person.email) if check.status == "fail"]
    return " ".join(_without_fix(check) for check in failing) or None


def _without_fix(check: Check) -> str:
    return check.message.removesuffix(check.fix).strip().rstrip(".")


def _heartbeat(row: Migration, now: datetime) -> None:
    """Write the row even if nothing changed: the step shows it is alive, and the version check turns a
    rival's change (a cancel) into a conflict at this commit."""
    row.updated_at = now
    flag_modified(row, "updated_at")


def _email_key(address: str) -> str:
    return address.strip().lower()


def _owns(actor: Actor, user: AffectedUser) -> bool:
    if user.chat_user_id is not None and actor.id == user.chat_user_id:
        return True
    email = actor.email.strip().casefold()
    return bool(email) and email in (user.email.casefold(), user.principal_name.casefold())


def _flow_actor(unit: _Unit) -> Actor:
    return Actor(*unit.flow.actor)


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in counts.items() if count) or "no users"


def _invite_summary(outcomes: Sequence[InvitationOutcome]) -> str:
    if not outcomes:
        return "Nobody needs an invitation."
    parts = []
    for kind, label in (
        ("sent", "invited"),
        ("found", "already in the directory"),
        ("already-invited", "invited earlier"),
        ("failed", "failed"),
        ("skipped", "being handled elsewhere"),
    ):
        count = sum(outcome.status == kind for outcome in outcomes)
        if count:
            parts.append(f"{count} {label}")
    failures = "; ".join(f"{o.email}: {o.detail}" for o in outcomes if o.status == "failed")
    return (
        ", ".join(parts)
        + "."
        + (f" Failures: {failures}. Run `invite` again to retry them." if failures else "")
    )
