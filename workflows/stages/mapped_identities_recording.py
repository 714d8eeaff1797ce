"""Recording what a read of the sign-ins found of the people mapped by hand (`mapped_identities_looking`),
in the watch's transaction, and whom it tells.

Seen mapped, a person is recorded once (in the watch's transaction, so replicas and restarts record and tell
it once): the opening of their sign-in item that says to wait is ticked in its place, and they hear once
that they may sign in now, with what their list still holds (unless their sign-in was seen already, which
told them). A mapping to another account than the plan named may attach their history to someone else's
account: each admin hears that privately. Each later change a read sees is recorded and told once too: its
messages are keyed by the person's row version the change replaces, which every recorded change moves on.
A sign-in seen before such a change was with the account mapped before: the item is no longer ticked.

Reads happen outside the transaction, so one that began before another may be applied after it: nobody a
later read recorded is recorded again from an earlier one, and an earlier read than the latest full read
applied records nothing (`verification`): the full read saw everyone, some perhaps as they were recorded (a
mapping Support corrected since the earlier read, whose row did not move). A later short read saw only whom
it returned: it stamps those seen mapped as recorded with its own start (`mapped_at`), so an earlier read
records nothing over them either; they are the few who signed in since the read before, so it costs a write
each of them only.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from storage import AffectedUser, Migration, TodoItem
from storage.database import in_batches
from storage.outbox import NewMessage, enqueue_all
from workflows._views import item_payload
from workflows.directory import OrgUser
from workflows.identities import affected_reach
from workflows.item_rewording import history_shown, mapping_seen
from workflows.results import BOT
from workflows.stages.list_messages import items_of
from workflows.stages.mapped_identities import (
    ELSEWHERE_MESSAGE,
    MAPPED_MESSAGE,
    Mapped,
    Watched,
    mapped_by_hand_among,
)
from workflows.stages.mapped_identities_looking import Found
from workflows.stages.unit import audit
from workflows.todo import ACCEPT_INVITATION, OPTIONAL_ITEMS
from workflows.waiting import SIGN_IN_ITEM

log = logging.getLogger(__name__)


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
        some = mapped_by_hand_among(session, row.id, batch)
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
    for person in mapped_by_hand_among(session, migration_id, list(shown)):
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


def _record_presence(session: Session, row: Migration, found: Found, now: datetime, *, gone: bool) -> None:
    """Record the people `found` gone from the organization (`mapped_at` without `mapped_to`: the short
    reads stop asking for them; someone seen mapped is no longer counted mapped), or, found gone before,
    in it again (added back: asked for again, and no longer named removed); each change audited once, none
    over what a read that began later recorded."""
    assert row.id is not None
    for person in mapped_by_hand_among(session, row.id, list(found.gone if gone else found.back)):
        if Watched.of(person).gone == gone or _newer(person, found):
            continue
        details: dict[str, object] = {"user": person.principal_name}
        if gone and person.mapped_to is not None:
            details["was"] = person.mapped_to
        person.mapped_at = found.read_at if gone else None
        person.mapped_to, person.mapped_elsewhere, person.mapped_origin_id = None, False, None
        action = "mapped_user_gone" if gone else "mapped_user_back"
        session.add(audit(now, row, BOT, action, row.state, row.state, details))
