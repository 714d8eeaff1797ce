"""What the service's use cases return: plain values, no chat formatting beyond short messages.

Here: who pulls a command (`Actor`), where a migration stands (`MigrationStatus`), which every stage's
results carry, and what `invite` did. The other stages' results are grouped beside, by stage as the chat's
commands are (`bot.conversation.stages`): `results_preparing` (the advance notice, an admin's decision, who
left), `results_approving` (approval and connecting), `results_todo_lists` (the lists sent after connecting),
`results_closing` (billing, completing, cancelling), and `results_standing` (what the bot knows of one
person, for answering them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Literal

from workflows.plan import Check


@dataclass(frozen=True)
class Actor:
    """Whoever pulls a command: a chat user, or the bot itself for its own watches."""

    id: str
    email: str
    name: str
    surface: str | None = field(default=None, compare=False)
    """The chat they spoke from (`slack`, `teams`): their id is that surface's. A migration they start is
    delivered there."""
    zone: tzinfo = field(default=UTC, compare=False, metadata={"stored": False})
    """Where their calendar is, as their chat says (UTC when it does not): `tomorrow` in their words is
    the day after their today (`relative_days`). Theirs as they speak, so never stored (`_codec`)."""


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
