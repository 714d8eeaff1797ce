"""Opening the reminder schedules that `workflows.reminders` fires: a person's when their whole list
reaches them (or again, when a list is given back or a change reopens what they had done), each
migration's digest once it has lists out, its billing reminder once users are notified; and, at every
look, the person's schedule a crash kept `delivered` from opening.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import AffectedUser, Database, Migration, OutboundMessage, Reminder
from storage.database import committed
from storage.inserts import insert_once
from workflows.stages.list_messages import ACCESS_KEPT_MESSAGE, ADDRESSEE, CHANGES, WHOLE_LISTS
from workflows.todo import OPTIONAL_ITEMS
from workflows.working_hours import after_working_days, zone

TODO_KIND, DIGEST_KIND, BILLING_KIND = "todo", "digest", "billing"
CLOSED_STATES = frozenset({"cancelled", "completed"})
"""Admins closing a migration is the signal that nobody is chased any more about it."""
BILLING_STATE = "users_notified"
"""Billing is checked once users have their lists; `check-billing` moves the migration past it."""


_MISSED_LISTS = (
    select(OutboundMessage, Reminder)
    .outerjoin(Reminder, (col(Reminder.affected_user_id) == ADDRESSEE) & (Reminder.kind == TODO_KIND))
    .where(
        col(OutboundMessage.migration_id).in_(bindparam("migrations", expanding=True)),
        col(OutboundMessage.kind).in_(sorted(WHOLE_LISTS)),
        OutboundMessage.status == "sent",
        ADDRESSEE.is_not(None),
        col(Reminder.id).is_(None)
        # ended before this list arrived (it ends when its due round finds nothing open)
        | ((col(Reminder.status) == "done") & (col(Reminder.next_at) <= OutboundMessage.sent_at)),
    )
    .order_by(col(OutboundMessage.id))
)
"""`Schedules._open_missing_todo_schedules`'s anti-join, built once: it loads the lists a crash left without
their schedule, with those schedules."""
_ANY_MISSED_LIST = _MISSED_LISTS.with_only_columns(col(OutboundMessage.id)).order_by(None).limit(1)
"""The same anti-join, one id at most, run as plain SQL: every look asks it and nearly always finds nothing,
and the ORM's loading of two entities cost several times running it."""
_OPEN_MIGRATIONS = select(
    Migration.id,
    Migration.state,
    select(AffectedUser.id).where(AffectedUser.migration_id == Migration.id).exists(),
).where(col(Migration.state).not_in(sorted(CLOSED_STATES)))
_OPENED = select(Reminder.key).where(col(Reminder.key).in_(bindparam("keys", expanding=True)))
"""`Schedules.open_due`'s reads, built once and run as plain SQL: passing them through the ORM at every
look cost several times running them."""
_FIRST_LIST_SENT = (
    select(OutboundMessage.migration_id, func.min(OutboundMessage.sent_at))
    .where(
        col(OutboundMessage.migration_id).in_(bindparam("migrations", expanding=True)),
        col(OutboundMessage.kind).in_(sorted(WHOLE_LISTS)),
        OutboundMessage.status == "sent",
    )
    .group_by(col(OutboundMessage.migration_id))
)
"""When each migration's first whole list reached someone, read only for a digest about to open: people's
reminders count from their list, so the digest does too."""
_TODO_SCHEDULE = select(Reminder).where(Reminder.key == bindparam("key"))
_MIGRATION_OF = select(AffectedUser.migration_id).where(AffectedUser.id == bindparam("user"))
_PERSON_AND_SCHEDULE = (
    select(AffectedUser.migration_id, Reminder)
    .select_from(AffectedUser)
    .outerjoin(Reminder, col(Reminder.key) == bindparam("key"))
    .where(AffectedUser.id == bindparam("user"))
)
"""`delivered`'s reads, built once: it runs for every message that reaches someone, and reads the person's
migration and schedule together (the first list opens the schedule, which needs the migration)."""

Opened = Literal["opened", "taken", "nobody"]
"""A person's reminder schedule inserted; or a rival's inserted first; or no such person."""


@dataclass(frozen=True)
class ReminderSettings:
    every_working_days: int = 2
    digest_every_working_days: int = 2
    billing_every_working_days: int = 2
    working_hours: tuple[int, int] = (9, 17)
    """Local hours [start, end) on Monday to Friday in which people are reminded."""
    batch: int = 200
    sign_in_grace_working_days: int = 3
    """After this many working days from the connection, the digest names who has not signed in."""

    def __post_init__(self) -> None:
        start, end = self.working_hours
        if not 0 <= start < end <= 24:
            raise ValueError("working_hours must be (start, end) with 0 <= start < end <= 24")
        if min(self.every_working_days, self.digest_every_working_days, self.billing_every_working_days) < 1:
            raise ValueError("reminders come every 1 working day or more")

    def after_working_days(self, after: datetime, days: int, time_zone: str | None) -> datetime:
        return after_working_days(after, days, zone(time_zone), self.working_hours)


class Schedules:
    """Opens and restarts schedules; `Tracking` fires them. `now` is the injected clock."""

    def __init__(self, database: Database, settings: ReminderSettings, now: Callable[[], datetime]) -> None:
        self._database = database
        self._settings = settings
        self._now = now

    def delivered(self, kind: str, payload: dict[str, Any], time_zone: str | None) -> None:
        """A message reached its recipient: a to-do list starts that person's reminder schedule, or starts
        it again after their list was withdrawn (they were decided out of access, then given an account);
        a change to their list that asks a required item of them again (a decision for another account
        reopens signing in) starts it again once it has ended."""
        whole = kind in WHOLE_LISTS
        if not (whole or _reopens_required(kind, payload)):
            return
        if not isinstance(payload.get("affected_user_id"), int):
            return
        user_id: int = payload["affected_user_id"]
        now = self._now()
        for _ in range(2):  # a tick moving the schedule on at this moment (a reminder) wins once; then us
            with self._database.session() as session:
                found = session.exec(
                    _PERSON_AND_SCHEDULE, params={"user": user_id, "key": _todo_key(user_id)}
                )
                migration_id, reminder = found.first() or (None, None)
                if migration_id is None:
                    return  # no such person
                if not whole and (reminder is None or reminder.status != "done"):
                    return  # their list opens it when it reaches them; a running one reminds them anyway
                if reminder is None:
                    opened = self._open_todo_schedule(session, user_id, now, time_zone, migration_id)
                    if opened == "opened":  # inserted as it should stand
                        session.commit()
                        return
                    reminder = _schedule_of(session, user_id)  # a rival's, opened at this moment
                    assert reminder is not None
                reminder.time_zone = time_zone or reminder.time_zone
                # ended when their list was withdrawn (decided out of access), or all was done; open again
                restarted = reminder.status == "done"
                if restarted:
                    reminder.status = "active"
                # a list given back counts from now, though the withdrawn one's round was not due yet
                if restarted or reminder.sent == 0 or kind == ACCESS_KEPT_MESSAGE:
                    reminder.next_at = self._next_round(now, reminder.time_zone)
                if commit_quietly(session):
                    return

    def open_due(self) -> None:
        """Digests for migrations with lists out; a billing reminder once users are notified; the
        schedules of delivered lists that `delivered` missed.

        It runs at every look: one statement reads which migrations have lists, one which of their
        schedules are open, one which lists lack theirs, whatever the number of migrations (and, only when a
        digest opens, one when its first list went out); no migration row (nor its plan) is loaded.

        A digest's first round is due `digest_every_working_days` after its migration's first list that
        reached someone (after this look when none has yet): a look that comes late (serve was down) does not
        put it off, and one past that moment sends it at once. People's reminders count from their own
        lists, in their time zones, so the two need not come together."""
        now = self._now()
        with self._database.reading() as connection:  # a session only for a look that opens something
            migrations = connection.execute(_OPEN_MIGRATIONS).all()
            wanted: list[tuple[str, str, int]] = []  # key, kind, migration
            for migration_id, state, lists_out in migrations:
                assert migration_id is not None
                if lists_out:
                    wanted.append((f"{DIGEST_KIND}:{migration_id}", DIGEST_KIND, migration_id))
                if state == BILLING_STATE:
                    wanted.append((f"{BILLING_KIND}:{migration_id}", BILLING_KIND, migration_id))
            keys = [key for key, *_ in wanted]
            opened = set(connection.execute(_OPENED, {"keys": keys}).scalars() if keys else ())
            to_open = [(key, kind, migration_id) for key, kind, migration_id in wanted if key not in opened]
            digests = [migration_id for _, kind, migration_id in to_open if kind == DIGEST_KIND]
            first_sent: dict[int, datetime | None] = dict(
                connection.execute(_FIRST_LIST_SENT, {"migrations": digests}).all() if digests else ()
            )
            with_lists = [migration_id for _, kind, migration_id in wanted if kind == DIGEST_KIND]
            # probes the schedules' index per list, so a look with nothing to recover loads no row at all
            missed = bool(with_lists) and (
                connection.execute(_ANY_MISSED_LIST, {"migrations": with_lists}).first() is not None
            )
        if not to_open and not missed:
            return
        with self._database.session() as session:
            for key, kind, migration_id in to_open:
                first = now
                if kind == DIGEST_KIND:  # a look that comes late (serve was down) puts off no digest
                    first = self._settings.after_working_days(
                        first_sent.get(migration_id) or now, self._settings.digest_every_working_days, None
                    )
                self._open(session, key, kind, migration_id, first)
            if missed:
                self._open_missing_todo_schedules(session, with_lists)

    def _open_missing_todo_schedules(self, session: Session, migration_ids: list[int]) -> None:
        """A delivered whole list whose schedule was not opened, or not started again (the process died
        right after sending it): `delivered` normally does both; this catches what it missed.

        One anti-join over the migrations with lists finds exactly those lists: sent, and their person has
        no schedule, or one that ended before the list arrived (`open_due` asks first whether there is
        one)."""
        missed = session.exec(_MISSED_LISTS, params={"migrations": migration_ids}).all()
        handled: set[int] = set()  # people whose schedule this look opened or started again
        for message, reminder in missed:
            user_id: int = message.payload["affected_user_id"]
            at = message.sent_at or self._now()
            if user_id in handled:
                continue
            if reminder is None:
                if self._open_todo_schedule(session, user_id, at, None) != "nobody":
                    handled.add(user_id)
            elif reminder.status == "done" and at >= reminder.next_at:
                reminder.status = "active"
                reminder.next_at = self._next_round(at, reminder.time_zone)
                handled.add(user_id)
        if missed:
            commit_quietly(session)

    def _open(self, session: Session, key: str, kind: str, migration_id: int, first: datetime) -> None:
        schedule = Reminder(
            key=key, kind=kind, migration_id=migration_id, next_at=first, created_at=self._now()
        )
        insert_once(session, schedule, unique=("key",))  # another process opening it at once is as good
        session.commit()

    def _open_todo_schedule(
        self,
        session: Session,
        user_id: int,
        delivered_at: datetime,
        time_zone: str | None,
        migration_id: int | None = None,
    ) -> Opened:
        """Insert the person's reminder schedule (not committed), its first round counted from
        `delivered_at`, as a core statement: the ORM would load the row back to return it, and nobody
        changes it before the commit. `migration_id`: the person's, when the caller read it already."""
        if migration_id is None:
            migration_id = session.connection().execute(_MIGRATION_OF, {"user": user_id}).scalar()
        if migration_id is None:
            return "nobody"
        schedule = Reminder(
            key=_todo_key(user_id),
            kind=TODO_KIND,
            migration_id=migration_id,
            affected_user_id=user_id,
            time_zone=time_zone,
            next_at=self._next_round(delivered_at, time_zone),
            created_at=self._now(),
        )
        # the delivery callback and the tick may open it at the same moment: one insert wins, quietly
        return "opened" if insert_once(session, schedule, unique=("key",)) else "taken"

    def _next_round(self, after: datetime, time_zone: str | None) -> datetime:
        return self._settings.after_working_days(after, self._settings.every_working_days, time_zone)


def _reopens_required(kind: str, payload: dict[str, Any]) -> bool:
    """Whether a message tells the person of new or changed items (each open) that they are chased for:
    an optional one alone is offered, never reminded."""
    return kind in CHANGES and any(item.get("key") not in OPTIONAL_ITEMS for item in payload.get("items", []))


def _todo_key(user_id: int) -> str:
    return f"{TODO_KIND}:{user_id}"


def _schedule_of(session: Session, user_id: int) -> Reminder | None:
    return session.exec(_TODO_SCHEDULE, params={"key": _todo_key(user_id)}).first()


def commit_quietly(session: Session) -> bool:
    """Commit; False when another process changed the same rows first, or queued the same message (a key
    that must be unique): its work stands."""
    try:
        return committed(session)
    except IntegrityError:
        session.rollback()
        return False
