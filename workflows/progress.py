"""Progress after the to-do lists go out: who has done which item, how each list was delivered (as
`workflows.reach` has it), who has signed in with the directory account since the connection."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from storage import AffectedUser, Database, Migration, TodoItem
from workflows.decisions import lost_access_by
from workflows.errors import WorkflowError
from workflows.identities import known_as, other_address
from workflows.plan import NO_ACCESS
from workflows.reach import Reach, delivery_of, reach_in
from workflows.results import MigrationStatus
from workflows.stages import mapped_identities, verification
from workflows.stages.mapped_identities import MappingsSeen
from workflows.stages.verification import StillPersonal
from workflows.todo import required


@dataclass(frozen=True)
class ItemProgress:
    key: str
    title: str
    done: int
    total: int
    verified: int = 0
    """Of `done`, how many Microsoft's data confirmed (the rest are self-reported)."""

    @property
    def self_reported(self) -> int:
        return self.done - self.verified


@dataclass(frozen=True)
class UserProgress:
    affected_user_id: int
    email: str
    display_name: str
    outcome: str
    done: int
    total: int
    delivery: str
    """queued, waiting (queued, its last try put back or failed: `delivery_error` says why), sending, sent,
    maybe-sent (handed over, but the platform could not confirm it arrived: `Receipt.unconfirmed`), failed,
    not-in-chat, left-chat (their list reached them, a reminder since found them out of chat: `Reach.heard`),
    or in-chat (not delivered, yet they tick items in chat: `ticks_in_chat`)."""
    delivery_error: str | None
    verified: int = 0
    signed_in: bool = False
    """Azure DevOps shows a sign-in with the directory account since the connection."""
    directory_account: str | None = None
    """The work account the plan matched or mapped them to, where it differs from `email` and is an address
    (a guest's `#EXT#` sign-in name is not): where their list went once connected."""
    lost_access_by: str = ""
    """The admin who decided they lose access (they have no list): empty for everyone else."""
    queued_at: datetime | None = None
    """When their list was queued, while it is waiting."""
    waiting_for: str | None = None
    """The error code of why it is waiting (`directory_outdated`, `ratelimited`...): a kind of reason."""
    waiting_until: datetime | None = None
    """When it is tried again, while it is waiting."""

    @property
    def known_as(self) -> str:
        return known_as(self.email, self.directory_account)


def known_as_user(user: AffectedUser) -> str:
    return known_as(user.email, user.directory_account)


@dataclass(frozen=True)
class Progress:
    migration_id: int
    organization: str
    channel_id: str | None
    items: tuple[ItemProgress, ...]
    users: tuple[UserProgress, ...]
    connected_at: datetime | None = None
    """When the bot saw the connection; None until it reads sign-ins."""
    still_personal: tuple[StillPersonal, ...] = ()
    """Still on their Microsoft account at the last full read, and needing an admin."""
    mappings: MappingsSeen = field(default_factory=MappingsSeen)
    """The people mapped by hand, and who of them Azure DevOps has shown mapped."""

    # What is counted over everyone is counted once: the views read a report of 20,000 people many times.
    @functools.cached_property
    def listed(self) -> tuple[UserProgress, ...]:
        """Everyone with a to-do list: not those an admin decided lose access, who have nothing to do."""
        return tuple(user for user in self.users if user.outcome != NO_ACCESS)

    @functools.cached_property
    def deciders(self) -> tuple[str, ...]:
        """For each person an admin decided loses access, who decided: they are shown apart, never counted
        as work still open."""
        return tuple(user.lost_access_by for user in self.users if user.outcome == NO_ACCESS)

    @functools.cached_property
    def users_done(self) -> int:
        return sum(user.total > 0 and user.done == user.total for user in self.users)

    @property
    def items_done(self) -> int:
        return sum(item.done for item in required(self.items))

    @property
    def items_total(self) -> int:
        return sum(item.total for item in required(self.items))

    @property
    def items_verified(self) -> int:
        return sum(item.verified for item in self.items)

    @functools.cached_property
    def users_signed_in(self) -> int:
        return sum(user.signed_in for user in self.users)

    def with_delivery(self, *states: str) -> tuple[UserProgress, ...]:
        """Everyone whose message (their list, or the news that they lose access) stands in `states`."""
        return tuple(user for user in self.users if user.delivery in states)

    def lists_with_delivery(self, *states: str) -> tuple[UserProgress, ...]:
        """Of `listed`, those whose list stands in `states`: what a count of to-do lists counts, not the
        news of lost access beside them (walk39: "263 sent" of 261 lists)."""
        return tuple(user for user in self.listed if user.delivery in states)


class NoListsYet(WorkflowError):
    """`progress` before `notify`: there are no lists to report on (how the advance notice goes, if it
    went out, is what there is to show)."""

    def __init__(self, status: MigrationStatus) -> None:
        super().__init__(
            f"Nobody in {status.organization} has a to-do list yet; `notify` sends them once the"
            " organization is connected."
        )
        self.status = status


def read_progress(database: Database, status: MigrationStatus) -> Progress:
    """Who has done what in `status`'s migration, how their lists were delivered, who signed in."""
    with database.session() as session:
        users, items = _listed(session, status.id)
        if not users:
            raise NoListsYet(status)
        row = session.get(Migration, status.id)
        assert row is not None
        connected, personal = (
            verification.connected_at(session, row),
            verification.still_personal(session, row),
        )
        mappings = mapped_identities.seen_so_far(session, status.id)
        deciders = lost_access_by(row.plan)
        deliveries = reach_in(session, status.id)
    by_user: dict[int, list[_Item]] = {}
    # by title too: one key reads "Sign in with your work account" or "... guest account" by person
    by_item: dict[tuple[str, str], list[_Item]] = {}
    for item in items:
        by_user.setdefault(item.affected_user_id, []).append(item)
        by_item.setdefault((item.key, item.title), []).append(item)
    return Progress(
        migration_id=status.id,
        organization=status.organization,
        channel_id=status.channel_id,
        items=tuple(
            ItemProgress(
                key,
                title,
                sum(i.done_at is not None for i in group),
                len(group),
                sum(i.verified_at is not None for i in group),
            )
            for (key, title), group in by_item.items()
        ),
        users=tuple(_user_progress(user, by_user.get(user.id, []), deliveries, deciders) for user in users),
        connected_at=connected,
        still_personal=personal,
        mappings=mappings,
    )


class _Person(NamedTuple):
    """The columns of an affected user a progress report reads."""

    id: int
    email: str
    display_name: str
    outcome: str
    entitlement_id: str
    directory_account: str | None


class _Item(NamedTuple):
    """The columns of a to-do item a progress report reads."""

    affected_user_id: int
    key: str
    title: str
    done_at: datetime | None
    done_by: str | None
    verified_at: datetime | None


_PEOPLE = (
    select_columns(*(getattr(AffectedUser, name) for name in _Person._fields))
    .where(col(AffectedUser.migration_id) == bindparam("migration"))
    .order_by(col(AffectedUser.id))
)
_LIST_ORDER = (col(TodoItem.position), col(TodoItem.affected_user_id), col(TodoItem.id))
"""List order, ties between lists by person: PostgreSQL returns rows of one position in any order, and the
report's items table took its order from the first list it met (CI saw "Accept the invitation" first, then
"Sign in", in a run the same tree had passed)."""
_ITEMS = (
    select_columns(*(getattr(TodoItem, name) for name in _Item._fields))
    .join(AffectedUser, col(AffectedUser.id) == TodoItem.affected_user_id)
    .where(col(AffectedUser.migration_id) == bindparam("migration"))
    .order_by(*_LIST_ORDER)
)
"""`lists_of`'s rows as columns only: a report of 20,000 people reads about 100,000 rows, and making each an
ORM object (with its identity-map entry and pydantic state) took most of `progress`'s time."""


def _listed(session: Session, migration_id: int) -> tuple[list[_Person], list[_Item]]:
    """`lists_of`, reading only what a progress report shows."""
    parameters = {"migration": migration_id}
    return (
        [_Person(*row) for row in session.execute(_PEOPLE, parameters)],
        [_Item(*row) for row in session.execute(_ITEMS, parameters)],
    )


def lists_of(session: Session, migration_id: int) -> tuple[Sequence[AffectedUser], Sequence[TodoItem]]:
    """A migration's people with a to-do list, and every item of those lists in list order."""
    users = session.exec(
        select(AffectedUser).where(AffectedUser.migration_id == migration_id).order_by(col(AffectedUser.id))
    ).all()
    items = session.exec(
        select(TodoItem)
        .join(AffectedUser, col(AffectedUser.id) == TodoItem.affected_user_id)
        .where(AffectedUser.migration_id == migration_id)
        .order_by(*_LIST_ORDER)
    ).all()
    return users, items


def _user_progress(
    user: _Person, items: Sequence[_Item], deliveries: dict[int, Reach], deciders: dict[str, str]
) -> UserProgress:
    message = deliveries.get(user.id)
    delivery = delivery_of(message, items)
    error, queued_at, waiting_for, waiting_until = None, None, None, None
    if message is not None and message.status == "failed":  # whatever `delivery_of` calls it
        error = message.last_error
    elif message is not None and delivery == "waiting":  # admins see why, and since and until when
        error, queued_at = message.last_error, message.queued_at
        waiting_for, waiting_until = message.error_code, message.due_at
    asked = required(items)
    return UserProgress(
        affected_user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        outcome=user.outcome,
        done=sum(item.done_at is not None for item in asked),
        total=len(asked),
        delivery=delivery,
        delivery_error=error,
        verified=sum(item.verified_at is not None for item in items),
        signed_in=any(item.key in verification.SIGN_IN_ITEMS and item.verified_at for item in items),
        directory_account=other_address(user.email, user.directory_account),
        lost_access_by=deciders.get(user.entitlement_id, "") if user.outcome == NO_ACCESS else "",
        queued_at=queued_at,
        waiting_for=waiting_for,
        waiting_until=waiting_until,
    )
