"""What the service's use cases return: plain values, no chat formatting beyond short messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from workflows.plan import UNDECIDED, Check, Plan, PlannedUser
from workflows.tokens import TokenAdvice


@dataclass(frozen=True)
class Actor:
    """Whoever pulls a command: a chat user, or the bot itself for its own watches."""

    id: str
    email: str
    name: str
    surface: str | None = field(default=None, compare=False)
    """The chat they spoke from (`slack`, `teams`): their id is that surface's. A migration they start is
    delivered there."""


BOT = Actor(id="aadbot", email="", name="aadbot")


@dataclass(frozen=True)
class MigrationStatus:
    id: int
    organization: str
    tenant_id: str
    tenant_name: str
    state: str
    active: bool
    blocked_reason: str | None
    blocked_fix: str | None
    plan_fingerprint: str | None
    counts: dict[str, int]
    """How many people each of the plan's `GROUPS` has (`Plan.groups`)."""
    checks: tuple[Check, ...]
    started_by: Actor
    channel_id: str | None
    created_at: datetime
    updated_at: datetime
    invite_recheck_at: datetime | None
    pending_approval_id: int | None
    next_commands: tuple[str, ...]
    version: int
    undecided: int = 0
    """People of the plan waiting for an admin's decision (disabled or ambiguous account)."""
    lease_ends: datetime | None = None
    """While a step runs (`LEASED_STATES`), as `status` reads it: from when `resume` may re-run the step if
    its process died without a word; None otherwise."""

    @property
    def directory_name(self) -> str:
        """The target directory as people know it: its display name, or its id before the name is read."""
        return self.tenant_name or self.tenant_id


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
class InvitationOutcome:
    email: str
    display_name: str
    status: Literal[
        "sent", "re-invited", "found", "already-invited", "denied", "failed", "unanswered", "skipped"
    ]
    """`unanswered`: Microsoft's answer never came (a timeout, a 504), so the invitation may have gone out."""
    detail: str = ""
    account: str = ""
    """The sign-in name of the directory account found for them (`found`)."""


@dataclass(frozen=True)
class InviteResult:
    status: MigrationStatus
    outcomes: tuple[InvitationOutcome, ...]
    denied: bool
    message: str
    stopped: Literal["interrupted", "no-permission", "refused", "unread"] | None = None
    """Why the run stopped short, if it did, as a kind naming nobody (a channel reads it): the process was
    stopping, the bot's app lacks a Microsoft permission, the directory refused invitations (a 403, or its
    settings refuse the person inviting), or who needs one could not be read."""

    def with_status(self, kind: str) -> tuple[InvitationOutcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.status == kind)


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


@dataclass(frozen=True)
class Rejection:
    """The last approval request, rejected: who, when and why (`status` says it until a new request)."""

    approval_id: int
    by: Actor
    at: datetime
    reason: str


@dataclass(frozen=True)
class TodoEntry:
    id: int
    affected_user_id: int
    migration_id: int
    organization: str
    key: str
    title: str
    body: str
    link: str
    done_at: datetime | None
    done_by: str | None
    number: int = 0
    """Its place on the person's list in this migration, from 1: what they see and type (`done 2`). The
    id is the button's: a global number would start a list at "39.". 0 when unknown (a message queued
    before lists were numbered)."""
    email: str = ""
    """Whose item: the address Azure DevOps knows them by, one an admin can write to (in Teams a guest
    speaks as their `#EXT#` name, which is no mailbox)."""
    accept_url: str | None = None
    """*Accept the invitation*: the person's own link to accept it, set only for a direct message to them
    (`workflows.stages.redeem_links`)."""
    verified: bool = False
    """The sign-in watch saw the sign-in it stands for (`verification`), whoever ticked it: ticked by the
    person first, it stays theirs."""
    closed: Closure | None = None
    """Once its migration is completed: who completed it, and whom to ask now that nobody follows the list;
    None while it runs."""


@dataclass(frozen=True)
class Closure:
    """A completed migration, as the person whose list it closed reads it."""

    by: str
    """The admin who completed it, name and address."""
    by_them: bool
    """They completed it themselves: not whom they ask."""
    other_admins: tuple[str, ...] = ()
    """For who completed it, on the list shown to them: the organization's other admins (owner and Project
    Collection Administrators), whom they ask now; none when Azure DevOps names nobody else."""
    mailed: bool = False
    """Their list still said to look for an invitation that is known to have gone out, its link never fetched
    (`workflows.stages.interrupted_invitations.mailed`): the email is their way in."""


@dataclass(frozen=True)
class NotifiedUser:
    affected_user_id: int
    email: str
    display_name: str
    outcome: str
    items: tuple[TodoEntry, ...]
    message_id: int


@dataclass(frozen=True)
class NotifyResult:
    status: MigrationStatus
    users: tuple[NotifiedUser, ...]
    listed_before: tuple[str, ...] = ()
    """Addresses of people an earlier migration of the organization already gave this very list."""


@dataclass(frozen=True)
class BillingResult:
    ok: bool
    subscription_id: str | None
    subscription_tenant_id: str | None
    steps: tuple[str, ...]
    status: MigrationStatus
    message: str


@dataclass(frozen=True)
class MarkDoneResult:
    item: TodoEntry
    already_done: bool
    remaining: int
    """Items on the same person's list still open."""
    awaits_mapping: bool = False
    """It is signing in, and the admins have yet to map them by hand (`workflows.waiting.awaits_mapping`)."""


@dataclass(frozen=True)
class AccessLost:
    """A migration in which an admin decided this person loses access, and told them so."""

    organization: str
    decided_by: str
    """Who decided, as their notice named them; empty when the plan no longer says."""


@dataclass(frozen=True)
class RemovalResult:
    removed: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    """(principal name, reason) for each user Microsoft refused to remove."""
    status: MigrationStatus
    message: str = ""
    """Set when the step stopped early (a rival's change, an unexpected error, a scope the PAT lacks): what
    happened."""


@dataclass(frozen=True)
class LeftBehind:
    """Who a migration would leave behind if it ended now: reminders stop for everyone when it does."""

    people: int
    """Everyone with a to-do list."""
    open: tuple[str, ...] = ()
    """People with open items who can sign in, named as `progress` names them (`known_as_user`)."""
    no_way_in: tuple[str, ...] = ()
    """People with no directory account they can use yet (none, disabled, several), named likewise."""
    not_signed_in: tuple[str, ...] = ()
    """People not seen signing in with their work account since the connection, named likewise."""
    undecided: tuple[str, ...] = ()
    """Addresses of people the plan leaves for an admin's `decide` (a disabled account, or several that may
    be theirs), no decision made yet."""

    @property
    def anyone(self) -> bool:
        return bool(self.open or self.no_way_in or self.not_signed_in)


@dataclass(frozen=True)
class CalledOff:
    """Someone told about a move that is now cancelled: what they had heard, so they hear it is off."""

    email: str
    display_name: str
    organization: str
    tenant: str
    reason: str
    announced_for: str | None = None
    """The date they were told (empty when the announcement named none); None if never announced."""
    invited: bool = False
    """Microsoft sent them a guest invitation for the move."""


@dataclass(frozen=True)
class Cancellation:
    """A cancelled migration, and whom its cancel told that the move is off: the channel's notice counts
    them, and the admin who cancelled reads their names alone (people's names are their addresses)."""

    status: MigrationStatus
    told: tuple[CalledOff, ...]


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
class CalledOffDelivery:
    """Where the "it is off" messages of a cancelled migration stand, by the person's address."""

    reached: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    """Still in the outbox, or being sent."""
    unreached: tuple[tuple[str, str], ...] = ()
    """Who could not be reached, with the reason the chat platform gave."""


@dataclass(frozen=True)
class Completion:
    status: MigrationStatus
    left: LeftBehind
    completed: bool
    """False when people would be left behind and nobody confirmed: nothing was changed."""
    billing: BillingResult | None = None
    """The look at billing made first, while it was unconfirmed (one read of Azure, as `check-billing`);
    not `ok`: billing has not moved, and nothing else was looked at or changed."""


@dataclass(frozen=True)
class AnnounceResult:
    status: MigrationStatus
    queued: int
    """People newly told; an announcement already sent with the same `when` is not sent again."""
    users: int
    """Everyone the notice is for (`to_tell`)."""
    when: str
    since: datetime
    """When the round of notices this announcement belongs to began: now, or when `when` first went out."""
    left_out: tuple[str, ...] = ()
    """The addresses of the people not told because they left (their only directory account is disabled)."""
    held_back: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Not told until an admin settles it: each directory account that several people would get, which only
    one can keep (`shared-directory-account`), with their addresses."""
    typed: str = ""
    """The date as the admin wrote it, when `when` is the day its words named (`tomorrow`, `13/12`)."""


@dataclass(frozen=True)
class Unreached:
    """Someone the advance notice could not reach in chat (the delivery's final outcome)."""

    address: str
    group: str
    """Their group in the plan (`Plan.groups`)."""
    why: str
    decided: bool = False
    """An admin decided which account is theirs: placed by hand, they have yet to hear which."""

    @property
    def matters_most(self) -> bool:
        """Whether the notice asks them to act before the change, tells them they lose access, or would
        tell them the account an admin decided is theirs."""
        return self.decided or self.group not in ("auto", "map")


@dataclass(frozen=True)
class Told:
    """The advance notice as it went out: the last round's date, since when, and whom it reached so far."""

    when: str
    since: datetime
    people: int
    """Everyone in the plan now that the notice is for (`to_tell`)."""
    delivered: int
    waiting: int
    """Still being sent."""
    unreached: tuple[Unreached, ...]
    tried_again: tuple[str, ...] = ()
    """Of `waiting`, why each notice that was tried and put back waits (a rate limit, a member list still
    to be read): at 20,000 people a wave takes longer than an admin waits to ask how it goes."""

    @property
    def untold(self) -> int:
        """People the plan gained since the round: `announce` with the same date tells them."""
        return self.people - self.delivered - self.waiting - len(self.unreached)


@dataclass(frozen=True)
class AccountDecision:
    """An admin decided for someone the plan could not place (`decide`)."""

    person: PlannedUser
    """As the decision places them: mapped to the chosen account, or knowingly without access."""
    status: MigrationStatus
    voided_approval: int | None
    """The pending approval the changed plan voided."""
    list_changed: bool
    """Their to-do list was already out and now says to sign in with the chosen account."""
    out_of_chat: bool = False
    """With `list_changed`: chat could not reach them with the last message tried, so the one telling them
    of this decision (they lose access, or what their list now says) may never arrive either."""
    access_restored: bool = False
    """They had been decided out of access (after `notify`): they keep it after all, have their whole list
    again, and were told."""
    first_list: bool = False
    """With `access_restored`: no list had reached them before (decided out before `notify`), so the one
    they were just given is their first."""
    as_told: bool = False
    """With `list_changed`: their list is again the one that may have reached them (the decision in between
    never did), so they were not told anything."""
    told_early: Literal["", "lost", "stopped", "back"] = ""
    """Before `notify`, to someone the advance notice may have reached: told now that they lose access, or
    that it no longer holds (`workflows.stages.told_early`); `stopped` when the notice had not gone out, so
    it never will and they were told only the decision."""


@dataclass(frozen=True)
class InvitationStanding:
    """One person's B2B invitation to the directory, as the bot recorded it: for answering "I never got
    the invitation" with their own case."""

    address: str
    """Where it goes, or went: the address they accept it with and then sign in with."""
    directory: str
    """The directory's name as the invitation email shows it (its id before the name is read)."""
    tenant_id: str
    sent: bool
    sent_at: datetime | None = None
    """When this migration sent it; None when it is not sent yet, or another migration or an admin did."""
    accepted: bool = False
    """Their list shows it done: a sign-in the bot saw, or their own tick."""
    verified: bool = False
    """A sign-in the bot saw after connecting shows it accepted; without it, `accepted` is their own word."""
    redeem_url: str | None = None
    """Their own link to accept it (`workflows.stages.redeem_links`): only for a reply to them in private."""
    unconfirmed: bool = False
    """Not `sent` as far as the bot knows, yet Microsoft was asked for it and its answer never came: it may
    have gone out, and the next `invite` finds out (`workflows.stages.interrupted_invitations`)."""
    unconfirmed_at: datetime | None = None
    """With `unconfirmed`: when Microsoft was last asked for it, the time its email would have come."""
    mailed: bool = False
    """With `unconfirmed`: it went out after all (the directory shows their guest still to accept), and only
    its link to accept it is missing, which the next `invite` fetches (`interrupted_invitations.mailed`)."""
    checked_from: datetime | None = None
    """With `unconfirmed`: from when Microsoft's directory shows whether it went out, so that `invite` finds
    out (the admin who ran it is told then: `workflows.invitation_wait`)."""
    read_at: datetime | None = None
    """When the bot read all this: the day an answer calls today."""


@dataclass(frozen=True)
class InvitationToAccept:
    """Before the switch, the one thing an invitee must do: accept the invitation sent to `address`, by the
    date the advance notice named to them (`by`, empty when it named none)."""

    organization: str
    address: str
    by: str
    accepted: bool
    """The directory no longer shows the guest `PendingAcceptance`, as read when asked."""
    redeem_url: str | None = None
    """Their own link to accept it: only for a reply to them in private."""


@dataclass(frozen=True)
class HeldBack:
    """Before the switch, someone the advance notice left out as others would get their directory account
    too (`announcing.held_back`): the admins (`admins`, who can act) settle which one keeps it first."""

    organization: str
    account: str
    admins: tuple[str, ...]


@dataclass(frozen=True)
class Announcement:
    """What the advance notices told one person of the connection's date."""

    to_them: str | None = None
    """The date the newest notice to them named (empty when it named none), of those that reached them or
    still may; None when none did."""
    latest: str | None = None
    """The date the admins last announced, to anyone (empty: none named); None when they never did."""
    passed: bool = False
    """The date they were told (else the latest) is a day over everywhere on Earth."""


@dataclass(frozen=True)
class Standing:
    """What the bot knows of one person in a migration, for answering them as their own messages do."""

    outcome: str | None
    """Their plan outcome as their notices and to-do list have it; None when they are in neither."""
    guest: bool
    """A guest of the directory (invited, or matched to a `#EXT#` account): they sign in with their own
    address."""
    tokens: TokenAdvice | None = None
    """Whether they need new personal access tokens and why (`workflows.tokens`); None while not known."""
    invitation: InvitationStanding | None = None
    """Their invitation, when their plan invites them (`invite`, or a guest still to accept one)."""
    signs_in_as: str = ""
    """The sign-in name of their Azure DevOps identity: what they sign in with until the organization is
    connected."""
    announcement: Callable[[], Announcement] = Announcement
    """What `announce` told them, read when called (by default: nothing): few answers need it, and every
    question reads a standing."""
    lost_access_by: str = ""
    """Who decided they lose access (`decide ... no-access`), once the bot has told them so (their outcome
    is then `workflows.plan.NO_ACCESS`); empty otherwise, and for a decision they have not heard of."""
    awaits_mapping: bool = False
    """Mapped by hand, and Azure DevOps still shows them on their Microsoft account after the connection
    (`workflows.waiting.awaits_mapping`): their sign-in waits for the admins."""
    account: str = ""
    """The directory account their to-do list (before it, the plan) has them sign in with once connected;
    empty when it names none (several match, none does, or it is disabled)."""
    signed_in: bool = False
    """Their list's *Sign in with your work account* is ticked (they pressed Done, or the watch saw them
    sign in): an answer no longer tells them to (walk39)."""
