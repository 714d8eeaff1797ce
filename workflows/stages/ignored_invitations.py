"""Someone a cancel told they could ignore Microsoft's invitation (`CalledOff.invited`), whom a new migration
of the organization to the same directory asks to accept one again: the guest belongs to the directory and
stays invited after a cancel, so the new migration's advance notice, their `todo` before the switch and their
to-do list (as `notify` writes it, or as a later decision or invitation rewrites its item) would ask them to
accept what they were told to ignore, without a word of it. Each says that the earlier word no longer holds,
and which invitation to accept: the same one, still waiting for them, or a new one (the guest deleted after
the cancel and invited again, as the cancel offered the admins).

Nothing orders two messages to one person but their due times, so a cancel's message still waiting (a retry
after a 502, due in ten minutes) would reach them after a notice queued now that takes it back. The new
migration's message that asks them to accept stops it instead (`withdraw`): what never reached them needs no
taking back. One that may have landed (sent, being sent, or after an attempt that may have got through) is
taken back, and the newer message waits while its send is under way (`following`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage import Invitation, Migration, OutboundMessage
from storage.outbox_threads import SUPERSEDED
from workflows.notices import CALLED_OFF
from workflows.plan import PlannedUser
from workflows.relative_days import month_day
from workflows.stages.interrupted_invitations import RECOVERED
from workflows.stages.list_messages import EVERY_STATUS, following, may_have_reached, stop_sending
from workflows.stages.redeem_links import SAME_DIRECTORY, directory_of

_PERSON = col(OutboundMessage.payload)["person"]
_TOLD_TO_IGNORE = (
    select(OutboundMessage)
    .where(
        col(OutboundMessage.migration_id).in_(SAME_DIRECTORY),
        OutboundMessage.migration_id != bindparam("migration"),
        OutboundMessage.kind == CALLED_OFF,
        _PERSON["invited"].as_boolean(),
        col(OutboundMessage.status).in_(EVERY_STATUS),
    )
    .order_by(col(OutboundMessage.id))
)
"""Built once: every list, notice and `todo` of an invitee asks it. Only the invited ("ignore the
invitation"), a few of the people a cancel told, are read; stopped ones too, as one stopped while being sent
may have landed."""
_TOLD_TO_IGNORE_LOCKED = _TOLD_TO_IGNORE.with_for_update()
"""What `withdraw` stops, locked until the caller commits: a worker claiming one meanwhile would otherwise
make that commit fail on the message's version. Lowest id first, as the outbox's own locks are taken."""
_EMAILED = (
    select(Invitation.updated_at)
    .where(
        col(Invitation.migration_id).in_(SAME_DIRECTORY),
        Invitation.entitlement_id == bindparam("person"),
        Invitation.status == "sent",
        Invitation.result != RECOVERED,
    )
    .order_by(col(Invitation.updated_at).desc())
    .limit(1)
)
"""When Microsoft last emailed this person an invitation to the directory: a link fetched after a lost answer
(`RECOVERED`) asked for no email, and is recorded at the fetch, not when the invitation went."""


@dataclass(frozen=True)
class TakenBack:
    """What a new message that asks someone to accept an invitation says of a cancel's "ignore it"."""

    words: str = ""
    """What takes it back; empty when it never reached them."""
    follows: dict[str, list[int]] = field(default_factory=dict)
    """The message's payload field while that "ignore it" is being sent: it must not overtake it."""


def withdraw(
    session: Session, row: Migration, users: Iterable[PlannedUser], invited: Mapping[str, str]
) -> dict[str, TakenBack]:
    """By entitlement id, for each of `users` asked to accept an invitation (`invited`, as
    `workflows.stages.invited.to_accept` gives it) whom an earlier migration's cancel told to ignore theirs:
    that cancel's message stopped if it never reached them (then nothing is said of it), and the words that
    take it back if it may have. In the caller's commit, which sends the message asking them."""
    told = _told(session, row, users, invited, _TOLD_TO_IGNORE_LOCKED)
    for messages in told.values():
        for message in messages:
            if not stop_sending(message) and message.status == "failed":
                message.status = SUPERSEDED  # nor sent again by *Retry failed*: the move is on now
    return {
        person: TakenBack(_words(session, row, person, messages, UTC), following(messages))
        for person, messages in told.items()
    }


def taken_back(
    session: Session, row: Migration, users: Iterable[PlannedUser], invited: Mapping[str, str]
) -> dict[str, str]:
    """`withdraw`, as the words alone, for each of `users` that has any: for an item, which waits for no
    message of its own."""
    said = withdraw(session, row, users, invited)
    return {person: taken.words for person, taken in said.items() if taken.words}


def taken_back_of(session: Session, row: Migration, person: PlannedUser, address: str) -> str:
    """`taken_back` for one person asked to accept the invitation sent to `address`; empty if nothing is."""
    return taken_back(session, row, [person], {person.id: address}).get(person.id, "")


def heard_of(session: Session, row: Migration, person: PlannedUser, address: str, zone: tzinfo) -> str:
    """What takes back a cancel's "ignore it" as `person` asks for their invitation, read without changing
    anything (dates in their `zone`): only if it may have reached them. One still waiting is stopped by the
    new migration's notice or list, or reaches them first and is taken back there."""
    told = _told(session, row, [person], {person.id: address}, _TOLD_TO_IGNORE)
    return _words(session, row, person.id, told.get(person.id, []), zone)


def _told(
    session: Session,
    row: Migration,
    users: Iterable[PlannedUser],
    invited: Mapping[str, str],
    query: SelectOfScalar[OutboundMessage],
) -> dict[str, list[OutboundMessage]]:
    """By entitlement id, each asked person's messages from earlier cancels telling them to ignore it."""
    asked = {user.address.casefold(): user.id for user in users if user.id in invited}
    if not asked:
        return {}
    told: dict[str, list[OutboundMessage]] = {}
    for message in session.exec(query, params={**directory_of(row), "migration": row.id}).all():
        person = asked.get(str(message.payload["person"]["email"]).casefold())
        if person is not None:
            told.setdefault(person, []).append(message)
    return told


def _words(
    session: Session, row: Migration, person: str, messages: Sequence[OutboundMessage], zone: tzinfo
) -> str:
    reached = [message for message in messages if may_have_reached(message)]
    if not reached:
        return ""
    emailed = session.exec(_EMAILED, params={**directory_of(row), "person": person}).first()
    return no_longer_ignored(reached[-1].created_at, emailed, row.directory_name, zone)


def no_longer_ignored(told_at: datetime, sent_at: datetime | None, directory: str, zone: tzinfo = UTC) -> str:
    """What takes back "you can ignore Microsoft's invitation", said on `told_at`, given when Microsoft last
    emailed them an invitation (`sent_at`): after it, a new one replaced the one they were told to ignore.
    Dates as the reader's calendar (`zone`) has them; UTC when their chat says none."""
    earlier = (
        f"When the move was called off on {_day(told_at, zone)}, I said you could ignore Microsoft's"
        f" invitation to join {directory}: that no longer holds, now that the move is on again."
    )
    if sent_at is not None and sent_at > told_at:
        return f"{earlier} A new invitation went out on {_day(sent_at, zone)}: accept that one."
    return f"{earlier} It is the same invitation, still waiting for you: accept it."


def _day(moment: datetime, zone: tzinfo) -> str:
    return month_day(moment.astimezone(zone).date())
