"""The stragglers' digest: where a migration's to-do lists stand, for its admins, every few working days
from the first list that reached someone until the migration closes; a round with nobody to name says nothing.
Who still has open items, who has not signed in after the grace days, who is still on a Microsoft
account, who waits on the admins (and whether their list told them), whose list may not have reached
them or failed, and who lost access by whose decision.

`workflows.reminders` fires it on its schedule; `bot.conversation.digest_views` words it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage import Migration
from workflows import waiting
from workflows.decisions import lost_access_by
from workflows.notices import admins_address
from workflows.plan import NO_ACCESS
from workflows.progress import known_as_user, lists_of
from workflows.reach import OUT_OF_CHAT, delivery_of, reach_in
from workflows.schedules import ReminderSettings
from workflows.stages import interrupted_invitations, verification
from workflows.stages.invited import sent_invitations
from workflows.stages.list_messages import by_person
from workflows.todo import INVITATION_IN_DOUBT, required


def payload(
    session: Session, row: Migration, decisions: frozenset[str], *, now: datetime, settings: ReminderSettings
) -> dict[str, Any] | None:
    """The digest of a migration's lists for its admins, as of `now`; None when nobody is behind, unsigned-in,
    still on a Microsoft account or waiting (`decisions`: who an admin decided for, `waiting.decided`)."""
    assert row.id is not None
    users, items = lists_of(session, row.id)  # everyone's list in one read, not one per person
    lists = by_person(items)
    listed = [user for user in users if user.outcome != NO_ACCESS]  # who lose access have nothing to do
    reach = reach_in(session, row.id)
    unreachable: set[int | None] = set()  # out of chat in `progress`'s words; not who wait
    connected = verification.connected_at(session, row)
    late = connected is not None and now >= settings.after_working_days(
        connected, settings.sign_in_grace_working_days, None
    )
    stragglers: list[list[Any]] = []
    not_signed_in: list[list[Any]] = []
    waits: list[list[Any]] = []
    maybe_sent: list[str] = []  # who, with open items, has a list that may not have reached them
    failed: list[str] = []  # who, with open items, has a list that failed
    waiting_ids: set[str] = set()
    mailed = interrupted_invitations.mailed_unlinked(session, row.id)
    invited = mailed | sent_invitations(session, row.id).keys()  # a tick ends the look of these alone
    finished = 0  # of those counted: who has nothing left, told apart from who waits for the admins
    for user in listed:
        own = lists.get(user.id or 0, [])
        known, delivery = known_as_user(user), delivery_of(reach.get(user.id or 0), own)
        expected = any(item.key in verification.SIGN_IN_ITEMS for item in own)
        signed_in = any(item.key in verification.SIGN_IN_ITEMS and item.verified_at for item in own)
        if late and expected and not signed_in:
            not_signed_in.append([known, user.display_name])
        wait = waiting.awaited(own, user.entitlement_id, decisions, went_out=invited)
        if wait is not None:  # not behind: they wait for the admins, who must act first
            # the bare address after the key: what `decide` takes, where the first names them as
            # `progress` does; then whether the invitation they wait on is known to have gone out, and
            # where their list stands (whether they heard of the wait), as `progress` words it
            step = waiting.admins_step(wait)
            went_out = wait.key == INVITATION_IN_DOUBT and user.entitlement_id in mailed
            waits.append([known, user.display_name, step, wait.key, user.email, went_out, delivery])
            waiting_ids.add(user.entitlement_id)
            continue
        if delivery in OUT_OF_CHAT:
            unreachable.add(user.id)
            continue  # they cannot tick items in chat: `progress` lists them to be reached another way
        asked = required(own)
        left = sum(item.done_at is None for item in asked)
        if left:
            stragglers.append([known, user.display_name, left, len(asked)])
            if delivery in ("maybe-sent", "failed"):
                (maybe_sent if delivery == "maybe-sent" else failed).append(known)
        else:
            finished += 1
    personal = [
        [p.principal_name, p.outcome, p.next_step]
        for p in verification.still_personal(session, row)
        if p.entitlement_id not in waiting_ids  # the waiting list says what to do for them
    ]
    deciders = lost_access_by(row.plan)
    lost = [
        [user.email, deciders.get(user.entitlement_id, "")] for user in users if user.outcome == NO_ACCESS
    ]
    if not stragglers and not not_signed_in and not personal and not waits:
        return None
    return {
        "recipient": admins_address(row),
        "organization": row.organization,
        "users": len(listed) - len(unreachable),
        "unreachable": len(unreachable),
        "stragglers": stragglers,
        "finished": finished,
        "not_signed_in": not_signed_in,
        "grace_working_days": settings.sign_in_grace_working_days,
        "still_personal": personal,
        "waiting": waits,
        "maybe_sent": maybe_sent,
        "failed": failed,
        "lost_access": lost,
    }
