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
hears that privately. The reads go on looking at everyone mapped by hand, so each later change (a mapping
Support corrects, one to yet another account, or back to one seen before, however often it flips) is
recorded and told once too: its messages are keyed by the person's row version the change replaces, which
every recorded change moves on. Someone the organization no longer has (removed by hand) is recorded gone:
the short reads stop asking for them, and `progress` names them to the admins, until a read shows them in
the organization again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from storage import AffectedUser, Migration
from storage.outbox import NewMessage, enqueue_all
from workflows._views import item_payload
from workflows.directory import MicrosoftError, OrgUser
from workflows.identities import affected_reach
from workflows.results import BOT
from workflows.stages.list_messages import items_of
from workflows.stages.unit import Context, audit
from workflows.todo import OPTIONAL_ITEMS, mapping_seen
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
            return self.mapped_elsewhere(user)
        # the wrong account recorded is known by its name only: should it be renamed, the admins hear of it
        # once more
        return not (self.mapped_elsewhere(user) and _same(self.mapped_to, user.principal_name))


def watched(session: Session, migration_id: int) -> dict[str, Watched]:
    """By entitlement id, the migration's people mapped by hand, in list order: those seen mapped too, as a
    mapping may change again (Support's, in days: the daily full read sees it), and those found gone, who
    may come back."""
    rows = session.execute(
        select_columns(
            col(AffectedUser.entitlement_id),
            col(AffectedUser.directory_id),
            col(AffectedUser.mapped_elsewhere),
            col(AffectedUser.mapped_to),
            col(AffectedUser.mapped_at),
        )
        .where(col(AffectedUser.migration_id) == migration_id, col(AffectedUser.outcome) == "map")
        .order_by(col(AffectedUser.id))
    ).all()
    return {each[0]: _watched(*each) for each in rows}


def _watched(
    entitlement_id: str,
    directory_id: str | None,
    elsewhere: bool,
    mapped_to: str | None,
    mapped_at: datetime | None,
) -> Watched:
    """What the watch recorded of someone: found gone is `mapped_at` without `mapped_to`."""
    return Watched(
        entitlement_id, directory_id, elsewhere, mapped_to, mapped_at is not None and mapped_to is None
    )


@dataclass(frozen=True)
class Found:
    """What a read of the sign-ins found of the mappings `waiting`, and whom to tell of a wrong one."""

    mapped: list[OrgUser]
    waiting: dict[str, Watched]
    admins: tuple[str, ...]
    gone: tuple[str, ...] = ()
    """The entitlement ids of people asked for whom the organization no longer has."""
    back: tuple[str, ...] = ()
    """The entitlement ids of people found gone before whom the read shows in the organization again."""


def look_for(
    ctx: Context, organization: str, users: list[OrgUser], waiting: dict[str, Watched], *, starter: str
) -> Found:
    """Of `users` (a read of the sign-ins) and the entitlements of the first people `waiting` it did not
    return, asked for one by one, who shows a directory identity now. Called with no transaction open: the
    admins told of a mapping to another account than planned are read here, only then (each of them, or
    whoever started the migration when Azure DevOps cannot list them)."""
    read = {user.id for user in users}
    # a mapping seen already changes by Support, in days: the daily full read sees it
    unread = [each for each, person in waiting.items() if each not in read and person.waits]
    asked = _this_turn(ctx, unread)
    looked_up = _looked_up(ctx, organization, asked)
    mapped = [
        user for user in [*users, *(looked_up or [])] if user.id in waiting and waiting[user.id].news(user)
    ]
    elsewhere = any(waiting[user.id].mapped_elsewhere(user) for user in mapped)
    admins = (ctx.admins.who_can_act(organization) or (starter,)) if elsewhere else ()
    gone = () if looked_up is None else tuple(set(asked) - {user.id for user in looked_up})
    news = {user.id for user in mapped}
    back = tuple(
        user.id for user in users if user.id in waiting and waiting[user.id].gone and user.id not in news
    )
    return Found(mapped, waiting, admins, gone, back)


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
        .where(AffectedUser.migration_id == migration_id, AffectedUser.outcome == "map")
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
    """Record each person `found` mapped, or mapped again as planned, in the caller's transaction: audited,
    their sign-in item's opening ticked, their message and (mapped to another account than planned) each
    admin's queued."""
    assert row.id is not None
    _record_presence(session, row, found.gone, now, gone=True)
    _record_presence(session, row, found.back, now, gone=False)
    if not found.mapped:
        return []
    by_id = {user.id: user for user in found.mapped}
    people = session.exec(
        select(AffectedUser).where(
            AffectedUser.migration_id == row.id,
            AffectedUser.outcome == "map",
            col(AffectedUser.entitlement_id).in_(list(by_id)),
        )
    ).all()
    lists = items_of(session, [person.id for person in people if person.id is not None])
    recorded, messages = [], []
    for person in people:
        assert person.id is not None
        user = by_id[person.entitlement_id]
        before = _watched(
            person.entitlement_id,
            person.directory_id,
            person.mapped_elsewhere,
            person.mapped_to,
            person.mapped_at,
        )
        if not before.news(user):
            continue  # recorded already (another process may have since the read)
        if not user.origin_id:
            log.warning("the entitlement %s shows no object id: its mapping is taken as planned", user.id)
        # the change's key: the row version it replaces, which no later change of this person has
        change = f"{person.id}-change-{person.version}"
        elsewhere, was = before.mapped_elsewhere(user), before.mapped_to
        person.mapped_at, person.mapped_to, person.mapped_elsewhere = now, user.principal_name, elsewhere
        planned = person.directory_account
        details: dict[str, object] = {
            "user": person.principal_name,
            "account": user.principal_name,
            "planned": planned,
            "as_planned": not elsewhere,
        }
        if was is not None:
            details["was"] = was
        session.add(audit(now, row, BOT, "identity_mapped", row.state, row.state, details))
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
        # someone whose sign-in was seen knows it already (the thanks for signing in told them), unless
        # they heard of another mapping since
        tell = ticked and sign_in is not None and (sign_in.verified_at is None or was is not None)
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
                    told,
                )
                for admin in found.admins
            ]
        recorded.append(Mapped(person.principal_name, user.principal_name, planned, elsewhere, tell))
    enqueue_all(session, messages, now=now)
    return recorded


def _same(account: str | None, other: str) -> bool:
    return (account or "").casefold() == other.casefold()


def _record_presence(
    session: Session, row: Migration, entitlement_ids: tuple[str, ...], now: datetime, *, gone: bool
) -> None:
    """Record those people, not seen mapped, as gone from the organization (`mapped_at` without
    `mapped_to`: the short reads stop asking for them), or, found gone before, as in it again (added back:
    asked for again, and no longer named removed); each change audited once."""
    if not entitlement_ids:
        return
    people = session.exec(
        select(AffectedUser).where(
            AffectedUser.migration_id == row.id,
            col(AffectedUser.entitlement_id).in_(list(entitlement_ids)),
            col(AffectedUser.mapped_to).is_(None),
            col(AffectedUser.mapped_at).is_(None) if gone else col(AffectedUser.mapped_at).is_not(None),
        )
    ).all()
    for person in people:
        person.mapped_at = now if gone else None
        details: dict[str, object] = {"user": person.principal_name}
        action = "mapped_user_gone" if gone else "mapped_user_back"
        session.add(audit(now, row, BOT, action, row.state, row.state, details))
