"""What the end of a migration returns: the look at billing, whom completing it would leave behind, and a
cancellation with whom it told that the move is off."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.results import MigrationStatus


@dataclass(frozen=True)
class BillingResult:
    ok: bool
    subscription_id: str | None
    subscription_tenant_id: str | None
    steps: tuple[str, ...]
    status: MigrationStatus
    message: str


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
class Completion:
    status: MigrationStatus
    left: LeftBehind
    completed: bool
    """False when people would be left behind and nobody confirmed: nothing was changed."""
    billing: BillingResult | None = None
    """The look at billing made first, while it was unconfirmed (one read of Azure, as `check-billing`);
    not `ok`: billing has not moved, and nothing else was looked at or changed."""


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
    """They hold a guest invitation the move asked them to accept: Microsoft sent it for the move, or, still
    pending from an earlier migration or an admin, the announcement that reached them asked them to accept
    it. Their message says they can ignore it."""


@dataclass(frozen=True)
class Cancellation:
    """A cancelled migration, and whom its cancel told that the move is off: the channel's notice counts
    them, and the admin who cancelled reads their names alone (people's names are their addresses)."""

    status: MigrationStatus
    told: tuple[CalledOff, ...]


@dataclass(frozen=True)
class CalledOffDelivery:
    """Where the "it is off" messages of a cancelled migration stand, by the person's address."""

    reached: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    """Still in the outbox, or being sent."""
    unreached: tuple[tuple[str, str], ...] = ()
    """Who could not be reached, with the reason the chat platform gave."""
