"""The tables. Every row two people can change at once carries a `version` (optimistic locking)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import QueryableAttribute, declared_attr, defer
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Stable constraint names let Alembic's batch mode (SQLite) find and drop them later.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Versioned(SQLModel):
    """A second writer holding an old `version` gets `StaleDataError` instead of overwriting."""

    version: int = Field(default=1, sa_type=Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def _references(column: str) -> Any:
    return Field(sa_column_args=[ForeignKey(column)], index=True, nullable=False)


class Migration(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organization: str = Field(index=True)
    tenant_id: str
    tenant_name: str = ""
    state: str = Field(index=True)
    previous_state: str | None = None
    blocked_reason: str | None = Field(default=None, sa_type=Text)
    blocked_fix: str | None = Field(default=None, sa_type=Text)
    plan: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    plan_fingerprint: str | None = None
    started_by_id: str
    started_by_email: str
    started_by_name: str
    channel_id: str | None = None
    surface: str | None = None
    """The chat surface it was started on (`slack`, `teams`), where its messages go; None before 0013 when
    it could not be told, and for the console."""
    invite_recheck_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)

    @property
    def directory_name(self) -> str:
        """The target directory as people know it: its display name, or its id before the name is read."""
        return self.tenant_name or self.tenant_id


WITHOUT_PLAN = defer(cast("QueryableAttribute[Any]", Migration.plan))
"""Loads a migration row without its plan (13 MB of JSON at 20,000 people), which then loads on first use:
for the looks that read the row at every step and need only its name and state."""


class ActiveMigration(SQLModel, table=True):
    """One row per organization with a migration in progress: the database refuses a second one.

    A table of its own rather than a unique column on `migration`: changing a unique column makes
    PostgreSQL lock the row against the foreign-key checks of concurrent inserts (audit entries),
    which deadlocks two simultaneous commands instead of failing one of them cleanly.
    """

    __tablename__ = "active_migration"

    organization_key: str = Field(primary_key=True)
    """The organization name, case-folded (Azure DevOps names are case-insensitive)."""
    migration_id: int = Field(sa_column_args=[ForeignKey("migration.id")], unique=True, nullable=False)


class AuditEntry(SQLModel, table=True):
    """Append-only: the ORM refuses updates and deletes (`storage.audit`)."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    migration_id: int = _references("migration.id")
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    actor_id: str
    actor_email: str
    actor_name: str
    action: str
    state_before: str | None = None
    state_after: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class Approval(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    migration_id: int = _references("migration.id")
    plan_fingerprint: str
    requested_by_id: str
    requested_by_email: str
    requested_by_name: str
    approvers_required: int = Field(default=1, sa_type=Integer, nullable=False)
    approvals: int = Field(default=0, sa_type=Integer, nullable=False)
    """Approvals recorded so far; every decision changes the row, so simultaneous deciders conflict."""
    status: str = "pending"
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApprovalDecision(SQLModel, table=True):
    __tablename__ = "approval_decision"
    __table_args__ = (UniqueConstraint("approval_id", "approver_id"),)

    id: int | None = Field(default=None, primary_key=True)
    approval_id: int = _references("approval.id")
    approver_id: str
    approver_email: str
    approver_name: str
    approve: bool
    reason: str = Field(default="", sa_type=Text)
    decided_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Invitation(Versioned, table=True):
    """One row per invited address per migration, claimed before the call so nobody is invited twice."""

    __table_args__ = (UniqueConstraint("migration_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    migration_id: int = _references("migration.id")
    email: str
    entitlement_id: str
    display_name: str = ""
    status: str = "pending"
    result: str = Field(default="", sa_type=Text)
    invited_user_id: str | None = None
    redeem_url: str | None = Field(default=None, sa_type=Text)
    """The newest invitation's own link to accept it (Graph's `inviteRedeemUrl`), for the person's eyes
    only: a credential, never logged, audited or shown in a channel. Set to None once a sign-in shows the
    invitation accepted, once the person leaves the organization, and by a `complete` or a later plan of the
    same organization and tenant that no longer has them to accept it; a cancel keeps it, the guest still
    invited (`workflows.stages.redeem_links`)."""
    attempts: int = Field(default=0, sa_type=Integer, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AffectedUser(Versioned, table=True):
    __tablename__ = "affected_user"
    __table_args__ = (UniqueConstraint("migration_id", "entitlement_id"),)

    id: int | None = Field(default=None, primary_key=True)
    migration_id: int = _references("migration.id")
    entitlement_id: str
    principal_name: str
    email: str = Field(index=True)
    display_name: str = ""
    outcome: str
    chat_user_id: str | None = Field(default=None, index=True)
    directory_account: str | None = None
    """The sign-in name of the directory user the plan matched or mapped them to: a chat profile may
    carry it instead of their Azure DevOps address."""
    directory_id: str | None = Field(default=None, index=True)
    """That directory user's object id, which Teams knows them by (`aadObjectId`)."""
    candidates: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    """With no such account (`ambiguous`: several enabled directory users hold their address), the object
    ids and sign-in names (lower case) of every one of them: any may be theirs, so chat knows them by each."""
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    mapped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Mapped by hand: when the read of the sign-ins began that recorded what Azure DevOps shows of them
    (their identity on the directory, the newest change of it, or their removal from the organization:
    `mapped_to` None), or, later, the newest short read that returned them mapped as recorded, confirming it
    (`workflows.stages.mapped_identities_recording`); None until then, and for everyone else."""
    mapped_to: str | None = None
    """The directory account Azure DevOps then showed their identity mapped to (its principal name), the
    newest one."""
    mapped_elsewhere: bool = False
    """That account is another than the one the plan named (by `directory_id`, else by sign-in name)."""
    remapped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the read began that last saw their mapping change from one recorded before (not the first): a
    sign-in up to then was with the account mapped before, and does not count."""
    mapped_origin_id: str | None = None
    """That account's object id, as Azure DevOps showed it (None: it showed none): for a plan without one,
    the account is then known when renamed."""


class TodoItem(Versioned, table=True):
    __tablename__ = "todo_item"
    __table_args__ = (UniqueConstraint("affected_user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    affected_user_id: int = _references("affected_user.id")
    position: int = Field(default=0, sa_type=Integer, nullable=False)
    key: str
    title: str
    body: str = Field(sa_type=Text)
    link: str = ""
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = None
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When Microsoft's data showed it done (a sign-in after the connection); None if only self-reported."""


class OutboundMessage(Versioned, table=True):
    """A message to deliver exactly once; the idempotency key keeps a retried step from queuing it twice.

    `status` is pending, sent or failed. `in_flight` is set right before a send and cleared by its outcome,
    so a claim that finds it still set knows an earlier attempt died midway: `uncertain` then tells the
    sender to look for that attempt's message before posting again.
    """

    __tablename__ = "outbound_message"
    __table_args__ = (Index("ix_outbound_message_claim_order", "status", "priority", "id"),)
    """What a claim reads (`storage.outbox_claims.claim_due`): the pending messages in the order they are
    claimed, without reading the sent ones or sorting a 20,000-message wave for each batch."""

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, sa_column_kwargs={"insert_sentinel": True})
    """Also what SQLite's batched INSERT matches each new row's id by (each key is unique and set here), so a
    wave's messages go in a few statements instead of one each."""
    migration_id: int | None = Field(default=None, sa_column_args=[ForeignKey("migration.id")], index=True)
    recipient: str
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    status: str = Field(default="pending", index=True)
    attempts: int = Field(default=0, sa_type=Integer, nullable=False)
    in_flight: bool = False
    uncertain: bool = False
    last_error: str | None = Field(default=None, sa_type=Text)
    error_code: str | None = None
    """Why the last attempt failed, as a short code (`not_in_chat`, `ratelimited`...): admins group by it."""
    delivered_ref: str | None = None
    """Where the platform put it (Slack: `channel/ts`)."""
    not_before: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    priority: int = Field(
        default=0, sa_type=Integer, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
    """Claimed lowest first, then oldest first: `storage.outbox.URGENT` (someone waits for it) or `BULK` (one
    of a wave to many people), set at enqueue from the kind."""


class Reminder(Versioned, table=True):
    """A persisted schedule: a user's to-do reminders, the stragglers' digest, the billing reminder."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    """`todo:{affected user}`, `digest:{migration}` or `billing:{migration}`: one schedule per subject."""
    kind: str
    migration_id: int = _references("migration.id")
    affected_user_id: int | None = Field(
        default=None, sa_column_args=[ForeignKey("affected_user.id")], index=True
    )
    time_zone: str | None = None
    """IANA name (`Europe/Paris`) or a fixed offset (`+05:30`), from the person's chat profile."""
    next_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    status: str = Field(default="active", index=True)
    sent: int = Field(default=0, sa_type=Integer, nullable=False)
    failures: int = Field(default=0, sa_type=Integer, nullable=False)
    """Checks in a row that could not run (the billing check when Microsoft does not answer)."""
    last_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SignInWatch(Versioned, table=True):
    """How far the bot has read a connected organization's sign-ins (`lastAccessedDate`), and when next."""

    __tablename__ = "sign_in_watch"

    migration_id: int = Field(sa_column_args=[ForeignKey("migration.id")], primary_key=True)
    connected_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    seen_through: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The newest sign-in read so far: the next incremental read stops there."""
    next_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    swept_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The last full read, which also finds who is still on their Microsoft account. While one runs, its
    claim: set so that the next falls due an hour after it started (workflows/stages/verification.py)."""
    still_personal: list[Any] = Field(default_factory=list, sa_type=JSON)
    """[entitlement id, principal name] of users still on their Microsoft account at the last full read."""
    full_read_began_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the newest full read applied began: the mappings a read that began before it saw may have
    changed since, as that read showed (`workflows.stages.mapped_identities_recording`)."""
    failures: int = Field(default=0, sa_type=Integer, nullable=False)


class ConnectionLook(SQLModel, table=True):
    """When the connection watch last read a migration short of the portal step
    (`workflows.connection_watch`): in the database, not in a process, so that a restarted process does not
    read them all at once, and replicas on one database claim each look by moving `looked_at` on (a
    conditional UPDATE, or the first INSERT): N of them make one read a period between them. No `version`:
    the claim is the update itself.
    """

    __tablename__ = "connection_look"

    migration_id: int = Field(sa_column_args=[ForeignKey("migration.id")], primary_key=True)
    looked_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SlackProcessedRequest(SQLModel, table=True):
    """A Slack request already acted on: claiming one is an INSERT, so only one process wins."""

    __tablename__ = "slack_processed_requests"

    request_id: str = Field(primary_key=True)
    seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class SlackMessageCopy(SQLModel, table=True):
    """Where a shared message (an approval prompt, a progress report) was posted, to update it later; and,
    under `files-of:` and an outbox message's key, the files uploaded to share after its post in `channel`
    and whether Slack answered their share, in `ts` (`bot.slack.state.FILES_OF`)."""

    __tablename__ = "slack_message_copies"

    key: str = Field(primary_key=True)
    channel: str = Field(primary_key=True)
    ts: str
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SlackPerson(SQLModel, table=True):
    """What Slack last said of an address: its member (from a `users.list` page or a look-up), deactivated
    (a page showed them `deleted`), or no member (`users.lookupByEmail` answered `users_not_found`). Kept
    across restarts and shared by every `serve` on the database, so that none asks Slack again what one
    was told lately (`bot.slack.memory`)."""

    __tablename__ = "slack_person"

    address: str = Field(primary_key=True)
    """Case-folded."""
    user_id: str | None = None
    """None: a look-up found no member with it."""
    time_zone: str | None = None
    deactivated: bool = False
    seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    """When Slack said so: the newest answer wins, whichever process got it."""


class SlackMemberList(SQLModel, table=True):
    """When the newest whole read of the workspace's member list began: an address that no `SlackPerson`
    seen since shows is not on it (only a look-up may find it)."""

    __tablename__ = "slack_member_list"

    name: str = Field(primary_key=True)
    read_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class FaqFeedback(SQLModel, table=True):
    """A question the FAQ answered or declined, its rating, and the admins' review (see `faq.feedback`)."""

    __tablename__ = "faq_feedback"

    id: int | None = Field(default=None, primary_key=True)
    organization: str | None = Field(default=None, index=True)
    question: str = Field(sa_type=Text)
    """Redacted and shortened before it is stored: never a secret, never a whole pasted log."""
    kind: str
    """`answered`, `declined`, `helpful` or `not-helpful`."""
    topic: str | None = None
    closest: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    status: str = Field(default="closed", index=True)
    """`open` (waits for an admin), `closed`, `attached`, `answered` or `dismissed`."""
    resolution_topic: str | None = None
    resolution_text: str | None = Field(default=None, sa_type=Text)
    resolved_by: str | None = None
    asked_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened: int | None = Field(default=None, index=True)
    """The review event at which it last began to wait (`faq.feedback.FeedbackItem.opened`)."""
    moved_up: int | None = Field(default=None, index=True)
    """The review event at which its decline, waiting, was rated Not helpful (`FeedbackItem.moved_up`)."""


class AdminRefusal(SQLModel, table=True):
    """A refused admin look-up (`workflows.admin_gate`), or one under way, counted as a refusal until
    answered; forgotten once older than the gate's window."""

    __tablename__ = "admin_refusal"

    id: int | None = Field(default=None, primary_key=True)
    person: str = Field(index=True)
    """The chat user id, else the email, of who asked."""
    organization: str
    """Case-folded."""
    refused_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    remembered_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """None while the look-up is under way."""


class AdminConfirmation(SQLModel, table=True):
    """An organization a person's last look-up confirmed them an admin of: never limited for it."""

    __tablename__ = "admin_confirmation"

    person: str = Field(primary_key=True)
    organization: str = Field(primary_key=True)
    """Case-folded."""
    as_typed: str
    confirmed_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
