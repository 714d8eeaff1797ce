"""The migration use cases behind one door: every chat surface calls `MigrationService` and renders
the results. Each method hands over to the stage that owns it, in `workflows/stages/`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from storage import AuditEntry, Database
from workflows import connection_watch, due
from workflows.admin_gate import ADMIN, AdminVerdict
from workflows.admin_memory import AdminMemory
from workflows.directory import Microsoft, OrgUser
from workflows.informing import BeforeTheList
from workflows.plan import Check, Plan, PlannedUser
from workflows.results import Actor, InviteResult, MigrationStatus
from workflows.results_approving import (
    ApprovalRequest,
    ConnectionResult,
    DecisionResult,
    Rechecked,
    Rejection,
)
from workflows.results_closing import BillingResult, CalledOffDelivery, Cancellation, Completion
from workflows.results_preparing import AccountDecision, AnnounceResult, RemovalResult, Told
from workflows.results_standing import HeldBack, InvitationToAccept, Standing
from workflows.results_todo_lists import AccessLost, MarkDoneResult, NotifyResult, TodoEntry
from workflows.settings import WorkflowSettings
from workflows.stages import (
    announcing,
    approval,
    approval_lapse,
    billing,
    checking,
    closing,
    connecting,
    deciding,
    inviting,
    notifying,
    reading,
    removal,
    resuming,
    todo_lists,
    verification,
)
from workflows.stages.admins import Administrators
from workflows.stages.checking import check_start_arguments
from workflows.stages.unit import Context, organization_name
from workflows.step_progress import StepProgress, unheard
from workflows.stopping import PROCESS_STOPPING

__all__ = ["MigrationService", "check_start_arguments"]


class MigrationService:
    """Use cases over one database and one set of Microsoft services; safe to share across threads."""

    def __init__(
        self,
        database: Database,
        microsoft: Microsoft,
        *,
        clock: Callable[[], datetime],
        settings: WorkflowSettings | None = None,
        gate_memory: AdminMemory | None = None,
        stopping: threading.Event = PROCESS_STOPPING,
    ) -> None:
        """`gate_memory`: where the admin gate remembers refusals (`workflows.admin_memory`); the bot gives
        its database's, which every replica shares. Without it, this process's memory. `stopping`: set, a
        long step stops between two people (`workflows.stopping`)."""
        self._settings = settings or WorkflowSettings()
        admins = Administrators(microsoft, clock, self._settings.admin_cache_ttl, gate_memory=gate_memory)
        self._ctx = Context(database, microsoft, clock, self._settings, admins, stopping)
        self._looks = connection_watch.LookSchedule(database, self._settings)

    # reading
    def status(self, organization: str | None = None, *, ended: bool = False) -> MigrationStatus:
        """The named migration, else the one in progress; with `ended`, else the newest that ended."""
        return reading.current_status(self._ctx, organization, ended=ended)

    def migrations(self) -> list[MigrationStatus]:
        return reading.migrations(self._ctx)

    def organizations(self, *, state: str | None = None, include_finished: bool = False) -> list[str]:
        return reading.organizations(self._ctx, state=state, include_finished=include_finished)

    def connection_looks(self) -> connection_watch.Looks:
        """The migrations the connection watch looks at now: every one at the portal step, and those short of
        it whose next look is due (`workflows.connection_watch`)."""
        return self._looks.due(self._ctx.now())

    def look_early(self, look: connection_watch.EarlyLook, until: datetime) -> bool:
        """`check_connection` for a migration short of the portal step, unless another replica claimed this
        look; False once the poll's budget for these looks is spent at `until`: that one and the rest wait
        for the next poll. The organization's read gives up at `until` too (Microsoft asking to wait longer,
        retries, a slow answer), so that the next poll, and its looks at the portal step, come on time; not
        the admins' list should it find a click in the portal, as every admin must hear of that."""
        now = self._ctx.now()
        if now >= until:
            return False
        if self._looks.claim(look, now):
            connecting.check_connection(self._ctx, look.organization, read_by=until)
        return True

    def approval_organization(self, approval_id: int) -> str | None:
        return reading.approval_organization(self._ctx, approval_id)

    def plan(self, organization: str | None = None) -> Plan:
        return reading.plan(self._ctx, organization)

    def standing_of(self, organization: str | None, who: Actor) -> Standing:
        """Their outcome, whether they are a guest of the directory, and their personal access tokens."""
        return reading.standing_of(self._ctx, organization, who)

    def list_to_come(self, organization: str | None, who: Actor) -> bool:
        """`Standing.list_to_come` alone, for someone on the plan."""
        return reading.list_to_come(self._ctx, organization, who)

    def awaiting_choice(self, organization: str | None, who: Actor) -> PlannedUser | None:
        """Them, with the directory accounts to choose from, while several share their address and no admin
        has decided which is theirs."""
        return reading.awaiting_choice(self._ctx, organization, who)

    def audit_trail(self, organization: str | None = None) -> list[AuditEntry]:
        return reading.audit_trail(self._ctx, organization)

    def plan_made(self, organization: str | None = None) -> AuditEntry | None:
        """The approval (or the finding that it was connected) a connected migration's plan dates from."""
        return reading.plan_made(self._ctx, organization)

    # checking
    def start(
        self, organization: str, tenant: str, actor: Actor, *, channel: str | None = None
    ) -> MigrationStatus:
        return checking.start(self._ctx, organization, tenant, actor, channel=channel)

    def move_here(self, organization: str | None, actor: Actor, channel: str | None) -> MigrationStatus:
        return checking.move_here(self._ctx, organization, actor, channel)

    def connect_as_me(self, organization: str | None, actor: Actor) -> Rechecked:
        return checking.connect_as_me(self._ctx, organization, actor)

    def recheck(self, organization: str | None, actor: Actor) -> Rechecked:
        return checking.recheck(self._ctx, organization, actor)

    def resume(
        self, organization: str | None, actor: Actor, progress: StepProgress = unheard
    ) -> MigrationStatus:
        """`progress` hears a resumed invite's or removal's progress, as `invite` and `remove_users` do."""
        return resuming.resume(self._ctx, organization, actor, progress)

    # before connecting
    def announce(self, organization: str | None, actor: Actor, when: str = "") -> AnnounceResult:
        return announcing.announce(self._ctx, organization, actor, when)

    def told(self, migration_id: int) -> Told | None:
        """How the migration's advance notice went out (`announce`), from its delivery records."""
        return announcing.told(self._ctx, migration_id)

    def invite(
        self, organization: str | None, actor: Actor, progress: StepProgress = unheard
    ) -> InviteResult:
        """`progress` hears how many of the people to invite were asked about, now and then."""
        return inviting.invite(self._ctx, organization, actor, progress)

    def decide_account(
        self, organization: str | None, person: str, choice: str, actor: Actor, *, undecided: bool = False
    ) -> AccountDecision:
        """`undecided`: a press on a card shown before any decision for them, refused once one is made."""
        return deciding.decide_account(self._ctx, organization, person, choice, actor, undecided=undecided)

    def stale_users(self, organization: str | None, days: int | None = None) -> list[OrgUser]:
        return removal.stale_users(self._ctx, organization, days)

    def remove_users(
        self,
        organization: str | None,
        user_ids: Sequence[str],
        actor: Actor,
        progress: StepProgress = unheard,
    ) -> RemovalResult:
        """`progress` hears how many of the people to remove were asked for, now and then."""
        return removal.remove_users(self._ctx, organization, user_ids, actor, progress)

    def removable(
        self, organization: str, users: Sequence[PlannedUser], user_ids: Sequence[str]
    ) -> list[str]:
        """The ids `remove-users` would remove, or its refusal, asked before the admin confirms."""
        return removal.removable(self._ctx, organization, users, user_ids)

    # approval and connecting
    def request_approval(
        self, organization: str | None, actor: Actor, *, anyway: bool = False
    ) -> ApprovalRequest:
        """Ask for approval; refused with `NotInvitedYet` while people to invite never were, unless
        `anyway`."""
        return approval.request_approval(self._ctx, organization, actor, anyway=anyway)

    def still_to_decide(self, approval_id: int, actor: Actor) -> bool:
        """Whether `actor` may still decide on the pending request (not its requester, not decided yet)."""
        return approval.still_to_decide(self._ctx, approval_id, actor)

    def requested_by(self, approval_id: int, actor: Actor) -> bool:
        """Whether `actor` requested the pending request: theirs to withdraw, not to approve."""
        return approval.requested_by(self._ctx, approval_id, actor)

    def last_rejection(self, migration_id: int) -> Rejection | None:
        """Who rejected the latest approval request, when and why, if it was rejected."""
        return approval.last_rejection(self._ctx, migration_id)

    def decide(self, approval_id: int, actor: Actor, approve: bool, reason: str = "") -> DecisionResult:
        return approval.decide(self._ctx, approval_id, actor, approve, reason)

    def check_connection(self, organization: str | None = None) -> ConnectionResult:
        return connecting.check_connection(self._ctx, organization)

    # after connecting
    def notify(self, organization: str | None, actor: Actor) -> NotifyResult:
        return notifying.notify(self._ctx, organization, actor)

    def check_billing(self, organization: str | None, actor: Actor) -> BillingResult:
        return billing.check_billing(self._ctx, organization, actor)

    def complete(self, organization: str | None, actor: Actor, *, confirmed: bool = False) -> Completion:
        """Close the migration; while anyone would be left behind, only once `confirmed` (else nothing
        changes and the result names them)."""
        return closing.complete(self._ctx, organization, actor, confirmed=confirmed)

    def cancel(self, organization: str | None, actor: Actor, reason: str = "") -> Cancellation:
        return closing.cancel(self._ctx, organization, actor, reason)

    def called_off_delivery(self, migration_id: int) -> CalledOffDelivery:
        return closing.called_off_delivery(self._ctx, migration_id)

    # the background look
    def expire_lapsed_approvals(self) -> None:
        """Every pending approval past its time expires, and its prompt says so (the bot's watch)."""
        approval_lapse.expire_all_lapsed(self._ctx)

    def forget_old_admin_verdicts(self) -> None:
        """The admin gate forgets the refusals and confirmations its rules no longer read (the bot's watch,
        the only one to: no look-up sweeps), so that who asked about which organization is not kept.
        `workflows.admin_memory.MemoryFailed` if its memory fails."""
        self._ctx.admins.forget_old_verdicts()

    def next_due(self) -> due.Due:
        """When the bot's watch next has something to do (a rehearsal moves its clock there)."""
        return due.next_due(self._ctx)

    # verifying sign-ins
    def check_due_sign_ins(self) -> list[verification.SignInCheck]:
        """The sign-in reads that are due (the bot's watch calls this with the reminders)."""
        return verification.check_due(self._ctx)

    def check_sign_ins(self, organization: str | None) -> verification.SignInCheck:
        return verification.check_now(self._ctx, organization)

    # to-do lists
    def todo_list(self, who: Actor | str | int, *, shown: bool = False) -> list[TodoEntry]:
        """`shown`: to be shown to them (a completed migration they closed then names its other admins)."""
        return todo_lists.todo_list(self._ctx, who, shown=shown)

    def invitations_to_accept(self, who: Actor) -> list[InvitationToAccept]:
        """Before the switch, the invitations `who` must accept: their list until the lists go out."""
        return reading.invitations_to_accept(self._ctx, who)

    def before_the_lists(self, who: Actor) -> list[BeforeTheList]:
        """Before their list, what the move does to `who` and asks of them, and when their list comes."""
        return reading.before_the_lists(self._ctx, who)

    def held_back(self, who: Actor) -> list[HeldBack]:
        """Before the switch, where `who` waits for the admins to settle whose directory account it is."""
        return reading.held_back_from(self._ctx, who)

    def access_lost(self, who: Actor) -> list[AccessLost]:
        """Where an admin decided `who` loses access, once told: why they have no to-do list."""
        return todo_lists.access_lost(self._ctx, who)

    def mark_done(self, item_id: int, actor: Actor) -> MarkDoneResult:
        return todo_lists.mark_done(self._ctx, item_id, actor)

    # preflight
    def doctor(self, organization: str, tenant: str) -> list[Check]:
        """The read-only preflight of the bot's credentials (`aadbot doctor`)."""
        return checking.preflight(self._ctx, organization, tenant)

    # administrators
    def is_admin(self, organization: str | None, actor: Actor, extra_admin_ids: Sequence[str] = ()) -> bool:
        """Owner or Project Collection Administrator (by email), or listed in `extra_admin_ids`."""
        return self.admin_verdict(organization, actor, extra_admin_ids).allowed

    def admin_verdict(
        self, organization: str | None, actor: Actor, extra_admin_ids: Sequence[str] = ()
    ) -> AdminVerdict:
        """`is_admin`, and if not, whether refused, limited or not checked (`workflows.admin_gate`)."""
        if actor.id in extra_admin_ids:
            return ADMIN
        return self._ctx.admins.verdict(organization_name(self._ctx, organization), actor)

    def approver_emails(self, organization: str | None, *, exclude: Actor) -> list[str]:
        """Who may approve a request by `exclude`: the owner and administrators but them, lower-cased."""
        return self._ctx.admins.approvers(organization_name(self._ctx, organization), exclude=exclude)
