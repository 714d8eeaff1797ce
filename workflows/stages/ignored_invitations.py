"""Someone a cancel told they could ignore Microsoft's invitation (`CalledOff.invited`), whom a new migration
of the organization to the same directory asks to accept one again: the guest belongs to the directory and
stays invited after a cancel, so the new migration's advance notice, their `todo` before the switch and their
to-do list (as `notify` writes it, or as a later decision or invitation rewrites its item) would ask them to
accept what they were told to ignore, without a word of it. Each says that the earlier word no longer holds,
and which invitation to accept: the same one, still waiting for them, or a new one (the guest deleted after
the cancel and invited again, as the cancel offered the admins)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage import Migration, OutboundMessage
from workflows.notices import CALLED_OFF
from workflows.plan import PlannedUser
from workflows.relative_days import month_day
from workflows.stages.list_messages import may_have_reached
from workflows.stages.redeem_links import SAME_DIRECTORY, directory_of, newest_sent

_PERSON = col(OutboundMessage.payload)["person"]
_TOLD_TO_IGNORE = (
    select(OutboundMessage)
    .where(
        col(OutboundMessage.migration_id).in_(SAME_DIRECTORY),
        OutboundMessage.migration_id != bindparam("migration"),
        OutboundMessage.kind == CALLED_OFF,
        _PERSON["invited"].as_boolean(),
    )
    .order_by(col(OutboundMessage.id))
)
"""Built once: every list, notice and `todo` of an invitee asks it. Only the invited ("ignore the
invitation"), a few of the people a cancel told, are read."""


def taken_back(
    session: Session, row: Migration, users: Iterable[PlannedUser], invited: Mapping[str, str]
) -> dict[str, str]:
    """By entitlement id, for each of `users` asked to accept an invitation (`invited`, as
    `workflows.stages.invited.to_accept` gives it) whom an earlier migration's cancel told to ignore
    theirs: the words that take it back."""
    asked = {user.address.casefold(): user.id for user in users if user.id in invited}
    if not asked:
        return {}
    told: dict[str, datetime] = {}
    for message in session.exec(_TOLD_TO_IGNORE, params={**directory_of(row), "migration": row.id}).all():
        person = asked.get(str(message.payload["person"]["email"]).casefold())
        # one still to go counts too: it may yet arrive, and only one that never will is left out
        if person is not None and (may_have_reached(message) or message.status == "pending"):
            told[person] = message.created_at
    said = {}
    for person, when in told.items():
        newest = newest_sent(session, row, person)
        said[person] = no_longer_ignored(when, newest[0] if newest else None, row.directory_name)
    return said


def taken_back_of(session: Session, row: Migration, person: PlannedUser, address: str) -> str:
    """`taken_back` for one person asked to accept the invitation sent to `address`; empty if nothing is."""
    return taken_back(session, row, [person], {person.id: address}).get(person.id, "")


def no_longer_ignored(told_at: datetime, sent_at: datetime | None, directory: str) -> str:
    """What takes back "you can ignore Microsoft's invitation", said on `told_at`, given when the newest
    invitation to them went (`sent_at`): after it, a new one replaced the one they were told to ignore."""
    earlier = (
        f"When the move was called off on {month_day(told_at.date())}, I said you could ignore Microsoft's"
        f" invitation to join {directory}: that no longer holds, now that the move is on again."
    )
    if sent_at is not None and sent_at > told_at:
        return f"{earlier} A new invitation went out on {month_day(sent_at.date())}: accept that one."
    return f"{earlier} It is the same invitation, still waiting for you: accept it."
