"""After connecting: the moment Azure DevOps shows that the admins mapped someone by hand.

Connect carries over nobody whose sign-in name no directory member holds; the admins map each of them
afterwards (`workflows.mapping`), and until they have, Azure DevOps refuses the person's work account
(their list says to wait: `workflows.todo`). Nothing tells the bot of a *Resolve*, but the user entitlement
shows it: the same entitlement (its id is the storage key the history hangs on) comes back with the
directory account's identity, `origin: aad`, its object id as `originId` and its sign-in name as
`principalName`. That is an assumption: the spec (vsts-rest-api-specs memberEntitlementManagement 7.1)
gives the shape of `UserEntitlement.user` and says only that linking can change `originId`.

The sign-in watch (`verification`) sees it in two steps: `mapped_identities_looking` looks at each read of
the sign-ins, outside any transaction, and `mapped_identities_recording` records what it found, in the watch's
transaction, and tells it. Here: whom the watch follows, what it recorded of each (`Watched`), and what
`progress` counts of them (`seen_so_far`).

Someone the organization no longer has (removed by hand) is recorded gone, by a short read that asked for
them or by a full read that did not return them, seen mapped or not: the short reads stop asking for them,
and `progress` names them to the admins, until a read shows the same entitlement in the organization
again. Whether that can happen is an assumption the sandbox's restore rests on: once the organization is
connected, only users of the directory can join it (faq-azure-access.yml, "How do I find out whether my
organization uses Azure AD to control access?"), so someone added back most likely has a new entitlement,
on their directory account, which the watch does not follow: they stay named removed, and their history
stays with the identity removed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage import AffectedUser, TodoItem
from storage.database import in_batches
from workflows.directory import OrgUser
from workflows.item_rewording import HISTORY_WORDS
from workflows.todo import ACCEPT_INVITATION
from workflows.waiting import SIGN_IN_ITEM

MAPPED_MESSAGE = "identity_mapped"
ELSEWHERE_MESSAGE = "identity_mapped_elsewhere"


@dataclass(frozen=True)
class Watched:
    """Someone mapped by hand, with what the watch recorded of their mapping: their own Azure DevOps
    address and the account the plan named."""

    entitlement_id: str
    directory_id: str | None
    wrongly_mapped: bool
    """Seen mapped to another account than planned: only a correction, or another account, is news."""
    mapped_to: str | None = None
    """The account their mapping was recorded to (None: not seen mapped yet, or `gone`)."""
    gone: bool = False
    """Found removed from the organization: the short reads no longer ask for them."""
    mapped_origin_id: str | None = None
    """The object id of the account their mapping was recorded to, when Azure DevOps showed one."""

    @classmethod
    def of(cls, person: AffectedUser) -> Watched:
        """What the watch recorded of `person` (`_RECORDED`, read from its row)."""
        return cls.recorded(
            person.entitlement_id,
            person.directory_id,
            person.mapped_elsewhere,
            person.mapped_to,
            person.mapped_at,
            person.mapped_origin_id,
        )

    @classmethod
    def recorded(
        cls,
        entitlement_id: str,
        directory_id: str | None,
        elsewhere: bool,
        mapped_to: str | None,
        mapped_at: datetime | None,
        mapped_origin_id: str | None,
    ) -> Watched:
        """From `_RECORDED`'s columns: found gone is `mapped_at` without `mapped_to`."""
        gone = mapped_at is not None and mapped_to is None
        return cls(entitlement_id, directory_id, elsewhere, mapped_to, gone, mapped_origin_id)

    @property
    def waits(self) -> bool:
        """Not seen mapped yet, nor found gone: the short reads ask for them."""
        return self.mapped_to is None and not self.gone

    def mapped_elsewhere(self, user: OrgUser) -> bool:
        """Whether `user` (their entitlement, on the directory) shows another account than the plan's, by
        object id. Names cannot tell it (a guest's sign-in name is not the mail Azure DevOps shows, a name
        may have changed since the plan), so without an object id this raises no alarm."""
        if not (self.directory_id and user.origin_id):
            return False
        return self.directory_id.casefold() != user.origin_id.casefold()

    def news(self, user: OrgUser) -> bool:
        """Whether `user` (their entitlement) shows a mapping not recorded: the first, or a change."""
        if user.origin in ("", "msa"):
            return False
        if self.mapped_to is None:
            return True
        if not self.wrongly_mapped:  # as planned: only another account is news
            if self.directory_id and user.origin_id:
                return self.mapped_elsewhere(user)
            if self.mapped_origin_id and user.origin_id:  # the account seen before, should it be renamed
                return not _same(self.mapped_origin_id, user.origin_id)
            return not _same(self.mapped_to, user.principal_name)  # no object id to tell it: by name
        # the wrong account recorded is known by its name only: should it be renamed, the admins hear of it
        # once more
        return not (self.mapped_elsewhere(user) and _same(self.mapped_to, user.principal_name))


def _same(account: str | None, other: str) -> bool:
    return (account or "").casefold() == other.casefold()


_RECORDED = (
    col(AffectedUser.entitlement_id),
    col(AffectedUser.directory_id),
    col(AffectedUser.mapped_elsewhere),
    col(AffectedUser.mapped_to),
    col(AffectedUser.mapped_at),
    col(AffectedUser.mapped_origin_id),
)
"""What the watch recorded of a person (`Watched.recorded`): columns, not rows, as a full read loads
20,000 of them."""


_PLANNED = col(AffectedUser.outcome) == "map"


def _open_item(key: str, *, history: bool = False) -> ColumnElement[bool]:
    """The person has this item not verified by a sign-in; with `history`, one that speaks of their earlier
    history (`HISTORY_WORDS`)."""
    found = exists().where(
        col(TodoItem.affected_user_id) == AffectedUser.id,
        col(TodoItem.key) == key,
        col(TodoItem.verified_at).is_(None),
    )
    return found.where(col(TodoItem.body).contains(HISTORY_WORDS)) if history else found


_BY_HAND = (
    _PLANNED
    | (
        (col(AffectedUser.outcome) == "invite")
        & col(AffectedUser.directory_id).is_not(None)
        & _open_item(ACCEPT_INVITATION, history=True)
    )
    | ((col(AffectedUser.outcome) == "auto") & _open_item(SIGN_IN_ITEM, history=True))
)
"""Who has an identity for the admins to map by hand: the plan's "map"; a late invitee (invited after
connecting: `late_invitees.switch_lists` records her guest's object id) not seen signing in, whose item
advises mapping her earlier history to her guest account (what tells her apart from a guest invited before
the connection and still to accept, whose object id the plan records too, and whose item says nothing of
it: `HISTORY_WORDS`); and
someone whose directory account, holding their own address, came after the connection (Connect matched
them to none, `notify` to that account: "auto" by name, yet Connect carried nothing over), not seen signing
in, whose sign-in item advises the same (or, once seen mapped, says where that history is: the only "auto"
items that speak of it). Any may be mapped before signing in: the watch then says where that history is. A
sign-in shows the old identity on the directory (`verification` ticks the item, `item_rewording.accepted`),
no mapping, so from then on they are not followed; nor are they asked for one by one by the short reads
(`watched`): those return them once they sign in, and a *Resolve* before that waits for the daily full read
or `check-sign-ins`. The admins count them among those mapped by hand once it is seen (`seen_so_far`)."""
_COUNTED = _PLANNED | (
    col(AffectedUser.outcome).in_(("invite", "auto")) & col(AffectedUser.mapped_to).is_not(None)
)
"""Whom `seen_so_far` counts: the plan's "map", and the late invitees and late accounts seen mapped (nobody
else is followed, so nobody else has a mapping recorded)."""


def late_steps(session: Session, migration_id: int) -> dict[str, str]:
    """By entitlement id, those whose way in came after the connection (`_BY_HAND`, not the plan's "map")
    not seen mapped, with the admins' next step their own list names: "accept" for a late invitee who has
    not said she accepted (she accepts, then they map her history to her guest account), else "map"."""
    rows = session.execute(
        select_columns(col(AffectedUser.entitlement_id), _ACCEPTING.label("accepting")).where(
            col(AffectedUser.migration_id) == migration_id,
            _BY_HAND & ~_PLANNED,
            col(AffectedUser.mapped_to).is_(None),
        )
    )
    return {entitlement_id: "accept" if accepting else "map" for entitlement_id, accepting in rows}


_ACCEPTING = exists().where(
    col(TodoItem.affected_user_id) == AffectedUser.id,
    col(TodoItem.key) == ACCEPT_INVITATION,
    col(TodoItem.done_at).is_(None),
)


def watched(session: Session, migration_id: int, *, everyone: bool) -> dict[str, Watched]:
    """By entitlement id, the migration's people mapped by hand, in list order: for a full read
    (`everyone`) those seen mapped too, as a mapping may change again (Support's, in days), and those found
    gone, who may come back; for a short read only those still waiting (`mapped_identities_looking.look_for`
    decides about the others it returns), so a poll does not load everyone settled."""
    query = (
        select_columns(*_RECORDED)
        .where(col(AffectedUser.migration_id) == migration_id, _BY_HAND if everyone else _PLANNED)
        .order_by(col(AffectedUser.id))
    )
    if not everyone:
        query = query.where(col(AffectedUser.mapped_to).is_(None), col(AffectedUser.mapped_at).is_(None))
    return {row[0]: Watched.recorded(*row) for row in session.execute(query)}


def _mapped_by_hand(migration_id: int) -> SelectOfScalar[AffectedUser]:
    return select(AffectedUser).where(AffectedUser.migration_id == migration_id, _BY_HAND)


def mapped_by_hand_among(
    session: Session, migration_id: int, entitlement_ids: Sequence[str]
) -> Iterator[AffectedUser]:
    """The migration's people mapped by hand of those entitlements, a statement per `IN_LIST_AT_MOST`."""
    for some in in_batches(entitlement_ids):
        yield from session.exec(
            _mapped_by_hand(migration_id).where(col(AffectedUser.entitlement_id).in_(some))
        )


@dataclass(frozen=True)
class Mapped:
    """Someone mapped by hand whom Azure DevOps showed mapped: by this read, or (`progress`) since the
    connection."""

    principal_name: str
    account: str
    planned: str | None
    elsewhere: bool
    told: bool = False
    """This read queued their message (their list said to wait, and no sign-in had told them)."""


@dataclass(frozen=True)
class MappingsSeen:
    """Of the migration's people mapped by hand, how many there are, who has been seen mapped, and who was
    found removed from the organization before (their Azure DevOps addresses)."""

    to_map: int = 0
    mapped: tuple[Mapped, ...] = ()
    removed: tuple[str, ...] = ()


def seen_so_far(session: Session, migration_id: int) -> MappingsSeen:
    """`MappingsSeen` of the migration, for `progress` and `status`."""
    people = session.exec(
        select(AffectedUser)
        .where(AffectedUser.migration_id == migration_id, _COUNTED)
        .order_by(col(AffectedUser.id))
    ).all()
    mapped = tuple(
        Mapped(each.principal_name, each.mapped_to, each.directory_account, each.mapped_elsewhere)
        for each in people
        if each.mapped_to is not None
    )
    removed = tuple(each.principal_name for each in people if each.mapped_to is None and each.mapped_at)
    return MappingsSeen(len(people), mapped, removed)
