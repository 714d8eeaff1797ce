"""One read of the sign-ins, looked at for whom the admins mapped by hand (`mapped_identities`), outside any
transaction: `mapped_identities_recording` records what it found.

The sign-in watch (`verification`) reads the entitlements: its daily full read has everyone, its short
reads only who signed in, so each short read also asks Azure DevOps for the entitlements of a few people
still waiting (`LOOKED_UP_AT_MOST`, one small GET each, the next ones each read). The reads go on looking at
everyone mapped by hand (the full read at all of them, a short read at those it returns), so each later
change a read sees (a mapping Support corrects, one to yet another account, or back to one seen before) is
found too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from storage import AffectedUser
from workflows.directory import MicrosoftError, OrgUser
from workflows.stages.mapped_identities import Watched, mapped_by_hand_among
from workflows.stages.unit import Context

LOOKED_UP_AT_MOST = 25
"""People still waiting whose entitlements a short read asks for one by one; past them, the daily full
read sees their mapping (an organization of more than 100 users has Microsoft Support map them, in days)."""

log = logging.getLogger(__name__)


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
                for person in mapped_by_hand_among(session, read.migration_id, others)
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
