"""What the bot knows of one person in a migration (`Standing`), for answering their questions as their own
messages do: their invitation, what the advance notice told them, what they still have to do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from workflows.tokens import TokenAdvice


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
    taken_back: str = ""
    """What takes back an earlier cancel's "ignore the invitation", when one told them so
    (`workflows.stages.ignored_invitations`)."""


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
    list_to_come: bool = False
    """On the plan, and no to-do list of theirs has gone out yet: what an answer points them to is `todo` (its
    *Choose my account*, say), not an item of a list they do not have, and an admin's decision about them
    reaches them with that list, not by a message of its own (`workflows.stages.told_early`)."""
