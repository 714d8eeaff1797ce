"""After connecting: the moment Azure DevOps shows that the admins mapped someone by hand.

Connect carries over nobody whose sign-in name no directory member holds; the admins map each of them
afterwards (`workflows.mapping`), and until they have, Azure DevOps refuses the person's work account
(their list says to wait: `workflows.todo`). Nothing tells the bot of a *Resolve*, but the user entitlement
shows it: the same entitlement (its id is the storage key the history hangs on) comes back with the
directory account's identity, `origin: aad`, its object id as `originId` and its sign-in name as
`principalName`. That is an assumption: the spec (vsts-rest-api-specs memberEntitlementManagement 7.1)
gives the shape of `UserEntitlement.user` and says only that linking can change `originId`.

The sign-in watch (`verification`) reads the entitlements: its daily full read has everyone, its short
reads only who signed in, so each short read also asks Azure DevOps for the entitlements of a few people
still waiting (`LOOKED_UP_AT_MOST`, one small GET each, the next ones each read). Seen mapped, a person is
recorded once (in the watch's transaction, so replicas and restarts record and tell it once): the opening
of their sign-in item that says to wait is ticked in its place, and they hear once that they may sign in
now, with what their list still holds (unless their sign-in was seen already, which told them). A mapping
to another account than the plan named may attach their history to someone else's account: each admin
hears that privately. The reads go on looking at everyone mapped by hand (the full read at all of them,
a short read at those it returns), so each later change a read sees (a mapping Support corrects, one to
yet another account, or back to one seen before) is recorded and told once too: its messages are keyed by
the person's row version the change replaces, which every recorded change moves on. A sign-in seen before
such a change was with the account mapped before: the item is no longer ticked. Reads happen outside the
transaction, so one that began before another may be applied after it: nobody a later read recorded is
recorded again from an earlier one, and an earlier read than the latest full read applied records nothing
(`verification`): the full read saw everyone, some perhaps as they were recorded (a mapping Support corrected
since the earlier read, whose row did not move). A later short read saw only whom it returned: it stamps
those seen mapped as recorded with its own start (`mapped_at`), so an earlier read records nothing over them
either; they are the few who signed in since the read before, so it costs a write each of them only.

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

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import ColumnElement, exists
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage import AffectedUser, Migration, TodoItem
from storage.database import in_batches
from storage.outbox import NewMessage, enqueue_all
from workflows._views import item_payload
from workflows.directory import MicrosoftError, OrgUser
from workflows.identities import affected_reach
from workflows.item_rewording import HISTORY_WORDS, history_shown, mapping_seen
from workflows.results import BOT
from workflows.stages.list_messages import items_of
from workflows.stages.unit import Context, audit
from workflows.todo import ACCEPT_INVITATION, OPTIONAL_ITEMS
from workflows.waiting import SIGN_IN_ITEM

MAPPED_MESSAGE = "identity_mapped"
ELSEWHERE_MESSAGE = "identity_mapped_elsewhere"
LOOKED_UP_AT_MOST = 25
"""People still waiting whose entitlements a short read asks for one by one; past them, the daily full
read sees their mapping (an organization of more than 100 users has Microsoft Support map them, in days)."""

log = logging.getLogger(__name__)


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
    gone, who may come back; for a short read only those still waiting (`look_for` decides about the
    others it returns), so a poll does not load everyone settled."""
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


def _among(session: Session, migration_id: int, entitlement_ids: Sequence[str]) -> Iterator[AffectedUser]:
    """The migration's people mapped by hand of those entitlements, a statement per `IN_LIST_AT_MOST`."""
    for some in in_batches(entitlement_ids):
        yield from session.exec(
            _mapped_by_hand(migration_id).where(col(AffectedUser.entitlement_id).in_(some))
        )


@dataclass(frozen=True)
class Read:
    """One read of the sign-ins, as `verification` claimed it."""

    migration_id: int
    organization: str
    starter: str
    """Who started the migration: told of a wrong mapping when Azure DevOps cannot list the admins."""
    read_at: datetime
    full: bool


@dataclass(frozen=True)
class Found:
    """What a read of the sign-ins found of the people mapped by hand, and whom to tell of a wrong
    mapping."""

    read_at: datetime
    """When the read began: a person recorded by a read that began later is newer than what this one saw
    (reads happen outside the transaction, and a slow one may be applied after a newer one)."""
    mapped: list[OrgUser]
    admins: tuple[str, ...]
    gone: tuple[str, ...] = ()
    """The entitlement ids of people whom the organization no longer has."""
    back: tuple[str, ...] = ()
    """The entitlement ids of people found gone before whom the read shows in the organization again."""
    as_recorded: tuple[OrgUser, ...] = ()
    """The people seen mapped whom a short read returned mapped as recorded: stamped, so that an earlier read
    applied after this one does not record what it saw of them."""

    @cached_property
    def by_id(self) -> dict[str, OrgUser]:
        """`mapped` by entitlement id."""
        return {user.id: user for user in self.mapped}

    def changes(self, person: AffectedUser) -> bool:
        """Whether the read shows `person` mapped to another account than their row records (not their
        first mapping: a change)."""
        user = self.by_id.get(person.entitlement_id)
        return user is not None and person.mapped_to is not None and Watched.of(person).news(user)


def look_for(ctx: Context, read: Read, users: list[OrgUser], waiting: dict[str, Watched]) -> Found:
    """Of `users` (a read of the sign-ins) and, on a short read, the entitlements of the first people
    `waiting` it did not return, asked for one by one, who shows a directory identity now, and who is gone
    (on a full read: everyone watched it did not return). Called with no transaction open: the people the
    read returned who are not `waiting` (seen mapped, or gone) are read here, and the admins told of a
    mapping to another account than planned (each of them, or whoever started the migration when Azure
    DevOps cannot list them)."""
    watching = dict(waiting)
    returned = {user.id for user in users}
    if not read.full and (others := sorted(returned - set(waiting))):
        with ctx.database.session() as session:
            watching |= {
                person.entitlement_id: Watched.of(person)
                for person in _among(session, read.migration_id, others)
            }
    if read.full:
        looked_up: list[OrgUser] | None = []
        gone = tuple(each for each, person in watching.items() if each not in returned and not person.gone)
    else:
        # a mapping seen already changes by Support, in days: the daily full read sees it
        unread = [each for each, person in waiting.items() if each not in returned and person.waits]
        asked = _this_turn(ctx, unread)
        looked_up = _looked_up(ctx, read.organization, asked)
        gone = () if looked_up is None else tuple(set(asked) - {user.id for user in looked_up})
    mapped = [
        user for user in [*users, *(looked_up or [])] if user.id in watching and watching[user.id].news(user)
    ]
    elsewhere = any(watching[user.id].mapped_elsewhere(user) for user in mapped)
    admins = (ctx.admins.who_can_act(read.organization) or (read.starter,)) if elsewhere else ()
    news = {user.id for user in mapped}
    back = tuple(
        user.id for user in users if user.id in watching and watching[user.id].gone and user.id not in news
    )
    # the full read needs no stamps: `verification` records when the newest one applied began
    as_recorded = () if read.full else tuple(user for user in users if _as_recorded(watching, user.id, news))
    return Found(read.read_at, mapped, admins, gone, back, as_recorded)


def _as_recorded(watching: Mapping[str, Watched], entitlement_id: str, news: set[str]) -> bool:
    """Whether a short read returned someone mapped as recorded: watched, mapped, and no news."""
    person = watching.get(entitlement_id)
    return person is not None and person.mapped_to is not None and entitlement_id not in news


def _this_turn(ctx: Context, unread: list[str]) -> list[str]:
    """The `LOOKED_UP_AT_MOST` of `unread` this read asks for, each read the next ones round: people never
    mapped, or gone from the organization, do not keep the others waiting for the daily read."""
    if len(unread) <= LOOKED_UP_AT_MOST:
        return unread
    turn = int(ctx.now().timestamp() // ctx.settings.sign_in_check_every.total_seconds())
    first = turn * LOOKED_UP_AT_MOST % len(unread)
    return (unread[first:] + unread[:first])[:LOOKED_UP_AT_MOST]


def _looked_up(ctx: Context, organization: str, entitlement_ids: list[str]) -> list[OrgUser] | None:
    """Those users' entitlements (a short read returns only who signed in), without those the organization
    no longer has; None should Azure DevOps fail them: the next read asks again."""
    found: list[OrgUser] = []
    try:
        for entitlement_id in entitlement_ids:
            if (user := ctx.microsoft.org_user(organization, entitlement_id)) is not None:
                found.append(user)
    except MicrosoftError as error:
        log.warning("reading the users of %s still to map failed: %s", organization, error)
        return None
    return found


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


def record(session: Session, row: Migration, found: Found, now: datetime) -> list[Mapped]:
    """Record each person `found` mapped (the first time, or to another account since) and each found gone
    or back, in the caller's transaction, but nobody a read that began later recorded already: audited,
    their sign-in item's opening ticked, their message and (mapped to another account than planned) each
    admin's queued."""
    assert row.id is not None
    _record_presence(session, row, found, now, gone=True)
    _record_presence(session, row, found, now, gone=False)
    _stamp_as_recorded(session, row.id, found)
    ids = list(found.by_id)
    recorded, messages = [], []
    for batch in in_batches(ids):
        some = _among(session, row.id, batch)
        people = [person for person in some if not _newer(person, found)]
        lists = items_of(session, [person.id for person in people if person.id is not None])
        for person in people:
            user = found.by_id[person.entitlement_id]
            before = Watched.of(person)
            if not before.news(user):
                continue  # recorded already (another process may have since the read)
            mapped, queued = _record_one(session, row, person, before, user, found, lists, now)
            recorded.append(mapped)
            messages += queued
    enqueue_all(session, messages, now=now)
    return recorded


def _stamp_as_recorded(session: Session, migration_id: int, found: Found) -> None:
    """Stamp `found.as_recorded` with the read's start, unless a read recorded them otherwise since this one
    looked (a later one, or an earlier one applied first: this read does not record over it, as before)."""
    shown = {user.id: user for user in found.as_recorded}
    for person in _among(session, migration_id, list(shown)):
        user = shown[person.entitlement_id]
        # not `news` alone: it says none for an entitlement back on a Microsoft account whatever was recorded,
        # and someone recorded gone since this read looked would have it re-dated; recorded back, gone again
        if person.mapped_to is not None and not _newer(person, found) and not Watched.of(person).news(user):
            person.mapped_at = found.read_at


def _newer(person: AffectedUser, found: Found) -> bool:
    """Whether a read that began after `found`'s recorded `person` (their mapping, or gone)."""
    return person.mapped_at is not None and person.mapped_at > found.read_at


def _record_one(
    session: Session,
    row: Migration,
    person: AffectedUser,
    before: Watched,
    user: OrgUser,
    found: Found,
    lists: dict[int, list[TodoItem]],
    now: datetime,
) -> tuple[Mapped, list[NewMessage]]:
    """Record `person`'s mapping to what `user` (their entitlement) shows, `before` what was recorded, with
    the messages it makes."""
    assert row.id is not None and person.id is not None
    if not user.origin_id:
        log.warning("the entitlement %s shows no object id: its mapping is taken as planned", user.id)
    # the change's key: the row version it replaces, which no later change of this person has; the same
    # change recorded once more (after a downgrade of 0018 dropped what was recorded, and an upgrade) replaces
    # a later version, so it is told once more
    change = f"{person.id}-change-{person.version}"
    elsewhere, was = before.mapped_elsewhere(user), before.mapped_to
    person.mapped_at, person.mapped_to, person.mapped_elsewhere = (
        found.read_at,
        user.principal_name,
        elsewhere,
    )
    person.mapped_origin_id = user.origin_id or None
    if was is not None:
        person.remapped_at = found.read_at
    planned = person.directory_account
    details: dict[str, object] = {
        "user": person.principal_name,
        "account": user.principal_name,
        "planned": planned,
        "as_planned": not elsewhere,
    }
    if was is not None:
        details["was"] = was
    items = lists.get(person.id, [])
    sign_in = next((item for item in items if item.key == SIGN_IN_ITEM), None)
    ticked = False  # their list told them to wait for the mapping, or what it showed before
    if sign_in is not None:
        body = mapping_seen(
            sign_in.body,
            user.principal_name,
            planned=planned,
            elsewhere=elsewhere,
            was=was,
            was_elsewhere=before.wrongly_mapped,
        )
        ticked, sign_in.body = body != sign_in.body, body
        if was is not None and sign_in.verified_at is not None:
            # the sign-in seen was with the account mapped before: Azure DevOps shows their identity on
            # another account now, so that sign-in no longer says they can get in as themselves (an
            # assumption: one identity signs in with the one account it shows); theirs to do again
            sign_in.verified_at = sign_in.done_at = sign_in.done_by = None
            details["sign_in_unticked"] = True
    for invitation in (item for item in items if item.key == ACCEPT_INVITATION):
        # a late invitee's advice to map their earlier history, or what it said of a mapping seen before:
        # the same list's sign-in item says where Azure DevOps shows it now
        invitation.body = history_shown(invitation.body, user.principal_name, elsewhere=elsewhere)
    session.add(audit(now, row, BOT, "identity_mapped", row.state, row.state, details))
    told = {
        "migration_id": row.id,
        "organization": row.organization,
        "email": person.email,
        "principal_name": person.principal_name,
        "display_name": person.display_name,
        "account": user.principal_name,
        "planned": planned or "",
        "elsewhere": elsewhere,
    }
    messages = []
    # someone whose sign-in was seen knows it already (the thanks for signing in told them)
    tell = ticked and sign_in is not None and sign_in.verified_at is None
    if tell:
        still = [item for item in items if item.done_at is None and item.key not in OPTIONAL_ITEMS]
        reach = affected_reach(person)
        messages.append(
            NewMessage(
                f"migration-{row.id}-identity-{change}",
                reach.recipient,
                MAPPED_MESSAGE,
                # the person's own message, as their other messages are known by (`ADDRESSEE`)
                {
                    **reach.payload(),
                    **told,
                    "affected_user_id": person.id,
                    "items": [item_payload(item) for item in still],
                },
            )
        )
    if elsewhere:
        messages += [
            NewMessage(
                f"migration-{row.id}-identity-mapped-elsewhere-{change}-{admin.casefold()}",
                admin,
                ELSEWHERE_MESSAGE,
                {**told, "told": tell},
            )
            for admin in found.admins
        ]
    return Mapped(person.principal_name, user.principal_name, planned, elsewhere, tell), messages


def _same(account: str | None, other: str) -> bool:
    return (account or "").casefold() == other.casefold()


def _record_presence(session: Session, row: Migration, found: Found, now: datetime, *, gone: bool) -> None:
    """Record the people `found` gone from the organization (`mapped_at` without `mapped_to`: the short
    reads stop asking for them; someone seen mapped is no longer counted mapped), or, found gone before,
    in it again (added back: asked for again, and no longer named removed); each change audited once, none
    over what a read that began later recorded."""
    assert row.id is not None
    for person in _among(session, row.id, list(found.gone if gone else found.back)):
        if Watched.of(person).gone == gone or _newer(person, found):
            continue
        details: dict[str, object] = {"user": person.principal_name}
        if gone and person.mapped_to is not None:
            details["was"] = person.mapped_to
        person.mapped_at = found.read_at if gone else None
        person.mapped_to, person.mapped_elsewhere, person.mapped_origin_id = None, False, None
        action = "mapped_user_gone" if gone else "mapped_user_back"
        session.add(audit(now, row, BOT, action, row.state, row.state, details))
