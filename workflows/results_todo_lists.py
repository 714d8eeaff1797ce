"""What the to-do lists after connecting return: their items, whom `notify` gave one, an item marked done, and
a person told they lose access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.results import MigrationStatus


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
