"""The last word to each person a completed migration leaves behind: reminders stop for good at `complete`,
so whoever still has open items, or no way in at all, hears once where they stand and whom to ask."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage import Migration
from storage.outbox import enqueue_all
from workflows._views import item_payload
from workflows.identities import recognises
from workflows.progress import lists_of
from workflows.results import Actor
from workflows.stages import interrupted_invitations
from workflows.stages.late_invitees import message_to
from workflows.stages.list_messages import by_person
from workflows.stages.notifying import NO_WAY_IN_ITEMS
from workflows.todo import INVITATION_IN_DOUBT, required

LEFT_BEHIND_MESSAGE = "left_behind"
"""The outbox kind of that last word."""


def closed_by(actor: Actor) -> str:
    """The admin who completed a migration, as the people it left behind are told to ask them."""
    return f"{actor.name} ({actor.email})" if actor.name and actor.email else actor.name or actor.email


def tell_left_behind(session: Session, row: Migration, actor: Actor, now: datetime) -> None:
    """Queue the last word to each person with required items still open (those items, and for someone
    with no way in, what they wait for), once per person and migration; not to the admin who closed it
    (`actor`)."""
    assert row.id is not None
    users, items = lists_of(session, row.id)
    by_user = by_person(items)
    told = []
    mailed_unlinked = interrupted_invitations.mailed_unlinked(session, row.id)
    for user in users:
        still_open = [item for item in required(by_user.get(user.id or 0, [])) if item.done_at is None]
        if not still_open or recognises(actor, user):  # who closed it knows what it leaves them
            continue
        waiting = next((item.key for item in still_open if item.key in NO_WAY_IN_ITEMS), "")
        # their email went out: it is their way in, though nobody fetches its link any more
        mailed = waiting == INVITATION_IN_DOUBT and user.entitlement_id in mailed_unlinked
        told.append(
            message_to(
                row,
                user,
                kind=LEFT_BEHIND_MESSAGE,
                key=f"migration-{row.id}-left-behind-{user.id}",
                closed_by=closed_by(actor),
                waiting_item=waiting,
                mailed=mailed,
                items=[item_payload(item) for item in still_open],
            )
        )
    enqueue_all(session, told, now=now)
