"""What approval and connecting return: who the plan affects, the approval request and its decisions, the
prompts chat could not deliver, and what a look at the connection (or a re-check) found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from workflows.plan import UNDECIDED, Check, Plan, PlannedUser
from workflows.results import Actor, MigrationStatus
from workflows.results_preparing import Unreached

AFFECTED_NAMES = 10
"""How many names an approver sees per group; the counts are always whole."""


@dataclass(frozen=True)
class People:
    count: int
    names: tuple[str, ...]
    """The first `AFFECTED_NAMES` sign-in names."""


@dataclass(frozen=True)
class Affected:
    """Who the plan affects, in short: the heart of the approval prompt."""

    keep: People
    mapped: People
    uninvited: People
    undecided: People
    """Disabled or ambiguous accounts: they lose access until an admin decides."""
    to_accept: People = People(0, ())
    """Invited as guests but not accepted yet: they keep access only once they accept (not in `keep`)."""
    without_access: People = People(0, ())
    """Disabled or ambiguous accounts whose loss of access an admin accepted (`decide ... no-access`)."""

    @classmethod
    def of(cls, plan: Plan) -> Affected:
        def people(users: list[PlannedUser]) -> People:
            return People(len(users), tuple(user.principal_name for user in users[:AFFECTED_NAMES]))

        grouped = [(user, user.group) for user in plan.users]  # once: six groups are asked of each

        def having(*groups: str) -> list[PlannedUser]:
            return [user for user, group in grouped if group in groups]

        return cls(
            people(having("auto")),
            people(having("map")),
            people(having("invite")),
            people(having(*UNDECIDED)),
            to_accept=people(having("to-accept")),
            without_access=people(having("no-access")),
        )


@dataclass(frozen=True)
class ApprovalRequest:
    approval_id: int
    organization: str
    tenant_id: str
    tenant_name: str
    plan_fingerprint: str
    counts: dict[str, int]
    warnings: tuple[Check, ...]
    """The checks that do not pass: a failing one only when asked `anyway` (`INVITATION_CHECKS`)."""
    requested_by: Actor
    approvers_required: int
    expires_at: datetime
    status: MigrationStatus
    affected: Affected
    nobody_told: bool = False
    """The advance notice (`announce`), Microsoft's first prerequisite, reached nobody and is not on its way
    to anyone; it does not block."""
    unreached: tuple[Unreached, ...] = ()
    """Everyone the notice could not reach, for whatever reason: each needs telling another way, those who
    must act before the change or lose access first (`matters_most`), as `status` counts them (walk39)."""


DecisionOutcome = Literal["recorded", "approved", "rejected", "expired", "void"]


@dataclass(frozen=True)
class DecisionResult:
    approval_id: int
    outcome: DecisionOutcome
    approvals: int
    approvers_required: int
    status: MigrationStatus
    message: str
    """What follows the decision's stamp ("Rejected by Ann", "Approved by Lee (1 of 2)"): not who decided."""
    connector: Actor | None = None
    """Who clicks Connect in the portal and gets the steps: set only when `outcome` is approved."""
    connector_reason: str = ""
    """Why the connector is not the approver who approved last (empty when it is)."""


@dataclass(frozen=True)
class Rejection:
    """The last approval request, rejected: who, when and why (`status` says it until a new request)."""

    approval_id: int
    by: Actor
    at: datetime
    reason: str


@dataclass(frozen=True)
class AdminUnreached:
    """An approver's prompt, or the connector's portal steps, that chat could not deliver on any surface."""

    missed: Literal["approval_prompt", "portal_steps"]
    email: str
    why: str
    """The reason the chat platforms gave (both of them, with Slack beside Teams)."""
    organization: str
    approval_id: int
    directory: str
    """The target directory as people know it: the portal step that connects names it."""
    surfaces: tuple[str, ...] = ()
    """The chat platforms the bot serves (`Slack`, `Teams`, or both), where the admins can point the person
    to it; empty where not known (told before they were kept)."""


@dataclass(frozen=True)
class Rechecked:
    """A re-check: where the migration stands now, and what became of a pending approval."""

    status: MigrationStatus
    kept: int | None = None
    """The pending approval nothing changed for: it still stands."""
    voided: tuple[int, ...] = ()
    """The pending approvals the re-check voided: the plan or its checks changed."""
    connection: ConnectionResult | None = None
    """The alarm of a click in the portal: recorded by the watch's look (then no re-check), or by the
    re-check itself once a plan existed."""


@dataclass(frozen=True)
class ConnectionResult:
    outcome: Literal["connected", "waiting", "other-tenant"]
    observed_tenant_id: str
    status: MigrationStatus
    message: str
    noticed: bool = False
    """This look recorded the admins' notice of what it found (it goes to the migration's channel)."""
    affected: Affected | None = None
    """Connected: what Connect did with each identity, by the stored plan (who is locked out now)."""
    to_map: ToMap | None = None
    """Connected: who an admin maps by hand now, each to their directory account."""
    outside_approval: OutsideApproval | None = None
    """Connected by a click in the portal that no approval let happen."""
    told_privately: tuple[str, ...] = ()
    """Whom this look's notice reached by direct message (the starter's copy of one started in a direct
    message too): someone among them who asked has their answer in it."""
    seen_before: datetime | None = None
    """Connected already when this look began, seen so then (by the watch, or an earlier look): announced
    at that time, so the answer says when rather than announcing it again (walk39)."""


@dataclass(frozen=True)
class ToMap:
    """The people Connect did not carry over although the plan gives them a directory account: an admin
    maps each by hand (*Resolve*), the first `AFFECTED_NAMES` named with the account. Not someone decided
    out of an account another person keeps (`PlannedUser.left`): mapping them would strand its keeper's
    history, which is what deciding them out avoided (walk39)."""

    count: int
    pairs: tuple[tuple[str, str], ...]
    """(Azure DevOps sign-in name, as *Resolve* lists them; directory account)."""

    @classmethod
    def of(cls, plan: Plan) -> ToMap:
        pairs = [
            (user.principal_name, user.match.user_principal_name)
            for user in plan.users
            if user.group == "map" and user.match is not None
        ]
        return cls(len(pairs), tuple(pairs[:AFFECTED_NAMES]))


@dataclass(frozen=True)
class OutsideApproval:
    """Where the migration stood when the watch found it connected although nobody approved connecting."""

    state_before: str
    approval_id: int | None
    """The approval request that was still waiting (voided now), if one was."""
