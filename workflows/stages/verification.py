"""After connecting: who has really made it across, from Azure DevOps' own data rather than self-reports.

Each entitlement's `lastAccessedDate` and its identity's origin show who signed in with a directory
account after the connection. A watch per migration reads them on a schedule: a short incremental read
(newest sign-ins first, down to the last one seen) every few minutes, and a full read once a day, which
also catches a late `lastAccessedDate`, lists who is still on their Microsoft account and forgets the
link to accept an invitation of anyone removed from the organization by hand since. A verified
sign-in ticks the user's "Sign in with your work account" (or "Accept the invitation") item, is
audited, and the user hears it once; their list, if chat could not reach them before, goes again as it is.
The same reads show whom the admins have mapped by hand since (`mapped_identities`).

"After the connection" means after the bot saw it (the watch looks every minute): a sign-in in between
counts at the person's next one. Earlier marks would be wrong the other way: an identity that Connect
moved to the directory keeps the last access of its Microsoft account.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, auto

from sqlalchemy import Connection, bindparam
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from storage import WITHOUT_PLAN, AffectedUser, AuditEntry, Invitation, Migration, SignInWatch, TodoItem
from storage.database import IN_LIST_AT_MOST, committed, in_batches
from storage.outbox import enqueue, retry_unreached
from workflows import _plan_codec
from workflows.directory import MicrosoftError, MissingPermission, OrgUser, ShortUserList
from workflows.errors import WorkflowError, as_sentence
from workflows.identities import account_kind, affected_reach, is_guest
from workflows.machine import CONNECTED_UNFINISHED
from workflows.results import BOT
from workflows.stages import (
    mapped_identities,
    mapped_identities_looking,
    mapped_identities_recording,
    redeem_links,
    resending,
)
from workflows.stages.mapped_identities_looking import Found, Read
from workflows.stages.unit import Context, audit, find
from workflows.todo import ACCEPT_INVITATION

SIGN_IN_ITEMS = frozenset({"sign-in-work-account", ACCEPT_INVITATION})
"""The to-do items a sign-in with the directory's identity proves done."""
VERIFIED_MESSAGE = "sign_in_verified"
WATCHED_STATES = CONNECTED_UNFINISHED
"""Connected, and not yet completed: sign-ins are worth reading."""
_RETRY_AT_MOST = timedelta(hours=8)
_FULL_READ_CLAIMED_FOR = timedelta(hours=1)
"""Longer than a full read of a big organization takes. The claim moves `swept_at` so that the next full
read falls due this long after it starts: should the reader die before it applies, another look reads."""
_NEXT_STEP = {"map": "map", "invite": "invite", "ambiguous": "decide", "disabled": "decide"}
"""What admins do for someone still on their Microsoft account, by the plan's outcome."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignInCheck:
    organization: str
    full: bool
    """A full read (everyone) rather than the sign-ins since the last check."""
    read: int
    verified: tuple[str, ...]
    """Principal names whose sign-in was verified by this check."""
    guests: tuple[str, ...] = ()
    """Of `verified`, those who signed in with a guest account (their own address), not a work account."""
    mapped: tuple[mapped_identities.Mapped, ...] = ()
    """Who this check saw mapped by hand (`mapped_identities`)."""
    ticked_before: tuple[str, ...] = ()
    """Of `verified`, those who had ticked the item themselves: the check confirms it and tells them nothing
    new."""


@dataclass(frozen=True)
class StillPersonal:
    """Someone Azure DevOps still shows with their Microsoft account after the connection."""

    entitlement_id: str
    principal_name: str
    outcome: str
    next_step: str
    """map, invite, decide or accept (a late invitee's: she accepts, then they map her history)."""


def check_due(ctx: Context) -> list[SignInCheck]:
    """Start a watch for every connected migration whose users have their lists; run the due ones."""
    now = ctx.now()
    with ctx.database.reading() as connection:
        schedules = _schedules(ctx, connection)
    unopened = [schedule.migration_id for schedule in schedules if schedule.next_at is None]
    opened: set[int] = set()
    if unopened:  # a session only for a look that has a watch to open
        with ctx.database.session() as session:
            opened = {each for each in unopened if _open_watch(session, each, now) is not None}
    open_now = [schedule for schedule in schedules if schedule.next_at or schedule.migration_id in opened]
    # a watch just opened reads at once
    due = [schedule.migration_id for schedule in open_now if (schedule.due_at or now) <= now]
    return [result for migration_id in due if isinstance(result := _check(ctx, migration_id), SignInCheck)]


def next_reads(ctx: Context, session: Session) -> tuple[datetime, ...]:
    """When each watched migration's sign-ins are next read (now, for a watch still to open).

    The daily full read needs no moment of its own: the first look after it falls due makes it, before
    the digest that shows who it found still on a Microsoft account."""
    return tuple(schedule.due_at or ctx.now() for schedule in _schedules(ctx, session.connection()))


@dataclass(frozen=True)
class _Schedule:
    migration_id: int
    next_at: datetime | None
    """The watch's next read; None where no watch is open yet."""
    sweep_at: datetime | None
    """Its next full read, which falls due even before `next_at`; None before the first or while
    Microsoft fails the reads (then the back-off decides)."""

    @property
    def due_at(self) -> datetime | None:
        return None if self.next_at is None else min(self.next_at, self.sweep_at or self.next_at)


_SCHEDULES = (
    select(Migration.id, SignInWatch.next_at, SignInWatch.swept_at, SignInWatch.failures)
    .join(SignInWatch, col(SignInWatch.migration_id) == Migration.id, isouter=True)
    .where(col(Migration.state).in_(sorted(WATCHED_STATES)))
)
"""Built once and run as plain SQL: every look reads it (a rehearsal twice a step), and building it and
passing it through the ORM cost several times running it."""


def _schedules(ctx: Context, connection: Connection) -> list[_Schedule]:
    """Each watched migration's schedule, read from its watch's columns: not the plan, nor the list of
    who is still on a Microsoft account, which `serve` would otherwise load at every look."""
    rows = connection.execute(_SCHEDULES).all()
    every = ctx.settings.sign_in_sweep_every
    return [
        _Schedule(migration_id, next_at, swept_at + every if swept_at and not failures else None)
        for migration_id, next_at, swept_at, failures in rows
        if migration_id is not None
    ]


def check_now(ctx: Context, organization: str | None) -> SignInCheck:
    """An admin's `check-sign-ins`: a full read at once, whatever the schedule says."""
    with ctx.database.session() as session:
        row = find(session, organization)
        if row.state not in WATCHED_STATES:
            raise WorkflowError(
                f"Sign-ins are read once {row.organization} is connected and its users have their lists."
            )
        assert row.id is not None
        if session.get(SignInWatch, row.id) is None and _open_watch(session, row.id, ctx.now()) is None:
            raise WorkflowError(
                f"`notify` the users of {row.organization} first; then I read their sign-ins."
            )
    result = _check(ctx, row.id, full=True, asked=True)
    if result is _Unrecorded.OVERTAKEN:
        raise WorkflowError(
            f"Something changed in {row.organization} while I read its sign-ins, so I recorded nothing; "
            "try `check-sign-ins` again."
        )
    if not isinstance(result, SignInCheck):
        raise WorkflowError(
            "Another check of the sign-ins is running right now; look at `progress` in a moment."
        )
    return result


def still_personal(session: Session, row: Migration) -> tuple[StillPersonal, ...]:
    """Who the last full read found still on a Microsoft account, neither mapped nor invited: by this
    migration, or by whichever (or an admin) sent the invitation the plan has them still to accept. And
    those whose way in came after the connection, whose history their list advises the admins to map
    (`mapped_identities.late_steps`), with that step: an invitation is no step for a late invitee."""
    watch = session.get(SignInWatch, row.id)
    if watch is None or not watch.still_personal:
        return ()
    outcomes = dict(
        session.exec(
            select(AffectedUser.entitlement_id, AffectedUser.outcome).where(
                AffectedUser.migration_id == row.id
            )
        ).all()
    )
    invited = set(
        session.exec(
            select(Invitation.entitlement_id).where(
                Invitation.migration_id == row.id, col(Invitation.status).in_(("sent", "found"))
            )
        ).all()
    ) | (_plan_codec.to_accept(row.plan) if row.plan else frozenset())
    assert row.id is not None
    late = mapped_identities.late_steps(session, row.id)
    left = []
    for entitlement_id, principal_name in watch.still_personal:
        outcome = outcomes.get(entitlement_id, "invite")  # joined after the plan: nobody planned for them
        step = late.get(entitlement_id) or _NEXT_STEP.get(outcome)
        if step is not None and (entitlement_id in late or entitlement_id not in invited):
            left.append(StillPersonal(entitlement_id, principal_name, outcome, step))
    return tuple(left)


def connected_at(session: Session, row: Migration) -> datetime | None:
    """When the bot saw the organization connected (the watch's start), or None before."""
    watch = session.get(SignInWatch, row.id)
    return watch.connected_at if watch is not None else None


def seen_connected(session: Session, migration_id: int) -> datetime | None:
    """When the bot recorded the organization connected (confirmed, found by a check, or outside the
    approval), from the audit trail: before anyone has a list, when no watch has started yet."""
    return session.exec(
        select(AuditEntry.at)
        .where(
            AuditEntry.migration_id == migration_id,
            col(AuditEntry.action).in_(
                ("connection_confirmed", "found_connected", "connected_outside_approval")
            ),
        )
        .order_by(col(AuditEntry.id).desc())
    ).first()


def _open_watch(session: Session, migration_id: int, now: datetime) -> SignInWatch | None:
    if session.exec(select(AffectedUser.id).where(AffectedUser.migration_id == migration_id)).first() is None:
        return None  # nobody has a list yet: nothing to tick
    confirmed = seen_connected(session, migration_id)
    watch = SignInWatch(migration_id=migration_id, connected_at=confirmed or now, next_at=now)
    session.add(watch)
    try:
        session.commit()
    except (IntegrityError, StaleDataError):
        session.rollback()  # another process opened it at the same moment
        return session.get(SignInWatch, migration_id)
    return watch


class _Unrecorded(Enum):
    """Why a check recorded nothing."""

    UNCLAIMED = auto()
    """Another process claimed it (or no watch is open)."""
    UNREAD = auto()
    """Microsoft failed the read (an admin's check raises that instead, for them to read)."""
    OVERTAKEN = auto()
    """A change while it read (an item ticked, another check recorded) failed its commit: the next check reads
    again."""


def _check(
    ctx: Context, migration_id: int, *, full: bool = False, asked: bool = False
) -> SignInCheck | _Unrecorded:
    """Claim the watch (moving its next check on), read Microsoft with no transaction open, apply; or why
    nothing was recorded. `asked` (an admin's check) raises Microsoft's failure instead, for them to read."""
    now = ctx.now()
    with ctx.database.session() as session:
        if (found := _watched(session, migration_id)) is None:
            return _Unrecorded.UNCLAIMED
        watch, row = found
        every = ctx.settings.sign_in_sweep_every
        full = full or watch.swept_at is None or now - watch.swept_at >= every
        since = None if full else (watch.seen_through or watch.connected_at)
        watch.next_at = _next_read(watch, now, ctx.settings.sign_in_check_every)
        swept_before = watch.swept_at
        if full:  # claimed too: other looks would make the whole read again while this one reads
            watch.swept_at = now - every + _FULL_READ_CLAIMED_FOR
        organization, starter = row.organization, row.started_by_email
        waiting = mapped_identities.watched(session, migration_id, everyone=full)
        if not committed(session):
            return _Unrecorded.UNCLAIMED
    try:
        users = ctx.microsoft.sign_ins(organization, since)
    except MicrosoftError as error:
        log.warning("reading the sign-ins of %s failed: %s", organization, error)
        _back_off(ctx, migration_id, full=full, swept_before=swept_before)
        if asked:
            raise WorkflowError(f"I could not read the sign-ins of {organization}: {_then(error)}") from None
        return _Unrecorded.UNREAD
    read = Read(migration_id, organization, starter, now, full)
    mappings = mapped_identities_looking.look_for(ctx, read, users, waiting)
    return _apply(ctx, migration_id, users, full, mappings)


def _then(error: MicrosoftError) -> str:
    """A failed read's error, with what to do next unless it says so itself."""
    if isinstance(error, (ShortUserList, MissingPermission)):
        return str(error)
    return (
        f"{as_sentence(error)} Nothing was ticked off; run `check-sign-ins` again in a few minutes (I also"
        " read them again by myself)."
    )


def _next_read(watch: SignInWatch, now: datetime, every: timedelta) -> datetime:
    """The first moment after `now` on the watch's grid, every `every` from the connection: a read that
    came late, or a look that skipped one, does not shift the reads after it (a rehearsal's walk reads
    when `serve` would)."""
    return watch.connected_at + every * ((now - watch.connected_at) // every + 1)


def _apply(
    ctx: Context, migration_id: int, users: list[OrgUser], full: bool, mappings: Found
) -> SignInCheck | _Unrecorded:
    now = ctx.now()
    with ctx.database.session() as session:
        if (found := _watched(session, migration_id)) is None:
            return _Unrecorded.UNCLAIMED
        watch, row = found
        # a process that read at the same time may have recorded before this one: its changes show by a
        # row's version, at the commit or at a flush before it
        try:
            check = _record_read(session, watch, row, users, full, mappings, now)
            session.commit()
        except (StaleDataError, IntegrityError):
            session.rollback()  # someone ticked an item at this moment; the next check sees it again
            return _Unrecorded.OVERTAKEN
        return check


def _record_read(
    session: Session,
    watch: SignInWatch,
    row: Migration,
    users: list[OrgUser],
    full: bool,
    mappings: Found,
    now: datetime,
) -> SignInCheck:
    """What the read found, in the session's transaction: sign-ins verified, mappings recorded."""
    assert row.id is not None
    moved = {
        user.id: user
        for user in users
        if user.last_accessed is not None and user.last_accessed > watch.connected_at and user.origin != "msa"
    }
    verified, ticked_before = [], []
    accepted: list[str] = []  # their links to accept are forgotten in one statement per chunk
    # nobody signed in since the last read (most reads): no item to look at, and no query built
    for item, person in _unverified_sign_ins(session, row.id, moved) if moved else ():
        if person.entitlement_id not in moved:
            continue
        signed_in = moved[person.entitlement_id].last_accessed
        assert signed_in is not None
        if person.remapped_at is not None and signed_in <= person.remapped_at:
            # seen before their mapping last changed (`mapped_identities_recording` unticked it): a sign-in
            # with the account mapped before (before a first mapping, Azure DevOps let no other in as them)
            continue
        if mappings.changes(person):
            # this read records their mapping changed, and cannot tell whether they signed in before the
            # change: with the account mapped before, which would be thanked and then unticked at once
            continue
        if not _verify(session, row, item, person, signed_in, now):
            ticked_before.append(person.principal_name)
        verified.append(person)
        if item.key == ACCEPT_INVITATION:
            accepted.append(person.entitlement_id)
    for their_ids in in_batches(accepted):
        redeem_links.forget(session, row, their_ids)
    # a read that began before a full one already applied saw everyone's mappings as they were before it:
    # Support may have corrected since a mapping it saw, which the newer read found as recorded
    superseded = watch.full_read_began_at is not None and mappings.read_at < watch.full_read_began_at
    mapped = [] if superseded else mapped_identities_recording.record(session, row, mappings, now)
    if mapped and not full:  # no longer on a Microsoft account, as the next full read will show
        gone = {user.id for user in mappings.mapped}
        watch.still_personal = [entry for entry in watch.still_personal if entry[0] not in gone]
    # signed in with the directory account, a guest has accepted: Teams reaches them now
    for people in in_batches(verified):
        unreached = resending.unreached(session, people)
        retry_unreached(session, unreached, now=now, revise=resending.as_now)
    seen = [user.last_accessed for user in users if user.last_accessed is not None]
    if seen and (watch.seen_through is None or max(seen) > watch.seen_through):
        watch.seen_through = max(seen)
    if full and not superseded:
        watch.full_read_began_at = mappings.read_at
    if full:
        watch.swept_at = now
        redeem_links.forget_all_but(session, row, (user.id for user in users))
        watch.still_personal = [[user.id, user.principal_name] for user in users if user.origin == "msa"]
    watch.failures = 0
    names = tuple(person.principal_name for person in verified)
    guests = tuple(p.principal_name for p in verified if is_guest(p.outcome, p.directory_account))
    return SignInCheck(row.organization, full, len(users), names, guests, tuple(mapped), tuple(ticked_before))


def _unverified_sign_ins(
    session: Session, migration_id: int, moved: Mapping[str, OrgUser]
) -> Sequence[tuple[TodoItem, AffectedUser]]:
    """The sign-in items not verified yet of the migration's people, with each person: of those in `moved`
    (by entitlement id) only, unless they are too many for one statement (a full read of a big organization:
    the caller filters)."""
    query = (
        select(TodoItem, AffectedUser)
        .join(AffectedUser, col(AffectedUser.id) == TodoItem.affected_user_id)
        .where(
            AffectedUser.migration_id == migration_id,
            col(TodoItem.key).in_(sorted(SIGN_IN_ITEMS)),
            col(TodoItem.verified_at).is_(None),
        )
    )
    if len(moved) <= IN_LIST_AT_MOST:
        query = query.where(col(AffectedUser.entitlement_id).in_(list(moved)))
    return session.exec(query).all()


def _watched(session: Session, migration_id: int) -> tuple[SignInWatch, Migration] | None:
    """The watch and its migration in one read, without the plan: a read of the sign-ins never needs it,
    and at 20,000 people it is the row's bulk."""
    found = session.exec(_WATCHED, params={"migration": migration_id}).first()
    return (found[0], found[1]) if found is not None else None


_WATCHED = (
    select(SignInWatch, Migration)
    .join(Migration, col(Migration.id) == SignInWatch.migration_id)
    .where(SignInWatch.migration_id == bindparam("migration"))
    .options(WITHOUT_PLAN)
)
"""Built once: each sign-in read loads it twice, and building the query and its cache key anew costs
about as much as running it."""


def _verify(
    session: Session, row: Migration, item: TodoItem, person: AffectedUser, signed_in: datetime, now: datetime
) -> bool:
    """Tick the item as verified; tell the person once, unless they had ticked it themselves. Whether they
    are told."""
    assert row.id is not None and person.id is not None
    self_reported = item.done_at is not None
    item.verified_at = signed_in
    if not self_reported:
        item.done_at, item.done_by = now, BOT.id
    details: dict[str, object] = {
        "user": person.principal_name,
        "item": item.key,
        "signed_in_at": signed_in.isoformat(),
        "self_reported_before": self_reported,
    }
    session.add(audit(now, row, BOT, "sign_in_verified", row.state, row.state, details))
    if self_reported:
        return False
    reach = affected_reach(person)
    enqueue(
        session,
        # by the sign-in too: one unticked since (their mapping changed) is thanked again when it counts
        idempotency_key=f"migration-{row.id}-sign-in-verified-{person.id}-{signed_in.isoformat()}",
        recipient=reach.recipient,
        kind=VERIFIED_MESSAGE,
        payload={
            **reach.payload(),
            "migration_id": row.id,
            "organization": row.organization,
            "affected_user_id": person.id,
            "email": person.email,
            "display_name": person.display_name,
            "item_id": item.id,
            "title": item.title,
            "account": account_kind(person.outcome, person.directory_account),
            "signed_in_at": signed_in.isoformat(),
        },
        now=now,
    )
    return True


def _back_off(ctx: Context, migration_id: int, *, full: bool, swept_before: datetime | None) -> None:
    """Read again later; a failed full read gives its claim back, so the retry reads everyone."""
    with ctx.database.session() as session:
        watch = session.get(SignInWatch, migration_id)
        if watch is None:
            return
        if full:
            watch.swept_at = swept_before
        watch.failures += 1
        delay = min(ctx.settings.sign_in_check_every * 2**watch.failures, _RETRY_AT_MOST)
        watch.next_at = ctx.now() + delay
        committed(session)  # or another process moved it on meanwhile: its schedule stands
