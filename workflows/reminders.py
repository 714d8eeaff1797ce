"""After the to-do lists go out: reminders to those who have not done theirs, the stragglers' digest to the
admins (what it holds is `workflows.straggler_digest`'s), and billing until it moves.

Schedules live in the `reminder` table, so they survive restarts (`workflows.schedules` opens them,
`workflows.snoozing` puts them off); `Tracking.tick` (`workflows.tracking`) fires them, driven by an
injected clock.
Each reminder is queued in the same transaction that moves its schedule on, so two processes ticking at
once queue it once (the row's version decides): a rival's commit must fail this one's commit
(`commit_quietly`), so the schedule changes after the transaction's reads, whose flush would raise instead
(queuing a message reads without flushing: `storage.outbox.enqueue_all`). A schedule read again after a
pause (a question to Azure DevOps or Microsoft) goes on only if it is still due: another process may have
fired it meanwhile. Reminders to people land inside their working hours, in the time zone of their chat
profile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam
from sqlmodel import Session, col, select

from storage import WITHOUT_PLAN, AffectedUser, Database, Migration, Reminder, SignInWatch, TodoItem
from storage.outbox import enqueue, enqueue_all
from workflows import invitation_wait, straggler_digest, waiting
from workflows._views import item_payload
from workflows.directory import MicrosoftError
from workflows.errors import WorkflowError
from workflows.identities import affected_reach
from workflows.notices import every_admin, to_every_admin
from workflows.results import BOT, Actor
from workflows.schedules import (
    BILLING_KIND,
    BILLING_STATE,
    CLOSED_STATES,
    TODO_KIND,
    ReminderSettings,
    commit_quietly,
)
from workflows.service import MigrationService
from workflows.stages import interrupted_invitations, verification
from workflows.stages.list_messages import REMINDER_MESSAGE, TODO_LIST_MESSAGE, messages_to
from workflows.todo import INVITATION_IN_DOUBT, required
from workflows.working_hours import last_working_day, month_end, next_working_moment, zone

DIGEST_MESSAGE, BILLING_MESSAGE = "straggler_digest", "billing_reminder"
BILLING_MOVED_MESSAGE = "billing_moved"
"""The bot's own billing check found the subscription moved: the admins hear it, and that `complete` is
next."""
_CHECK_RETRY, _CHECK_RETRY_AT_MOST = timedelta(minutes=15), timedelta(hours=8)
"""A billing check that could not run is tried again after 15 min, 30 min, 1 h... at most 8 h apart."""
_CHECK_FAILURES_TOLD = 3
"""Failed billing checks in a row after which the admins hear that it cannot run."""
_DUE = (
    select(Reminder.id)
    .where(Reminder.status == "active", col(Reminder.next_at) <= bindparam("now"))
    # ties broken too: every replica fires them in the same order
    .order_by(col(Reminder.next_at), col(Reminder.id))
    .limit(bindparam("batch", type_=Integer))
)
"""Built once and run as plain SQL: every look reads it, and building it and passing it through the ORM
cost several times running it."""
_SCHEDULE = (
    select(Reminder, Migration)
    .join(Migration, col(Migration.id) == Reminder.migration_id)
    .where(Reminder.id == bindparam("reminder"))
    .options(WITHOUT_PLAN)
)
"""A due schedule and its migration's row (not its plan), in one statement: each reminder fired reads both."""
_PERSON_AND_ITEMS = (
    select(AffectedUser, TodoItem)
    .outerjoin(TodoItem, col(TodoItem.affected_user_id) == AffectedUser.id)
    .where(AffectedUser.id == bindparam("person"))
    .order_by(col(TodoItem.position))
)
"""A person and their items in list order (none: one row without an item), in one statement: every reminder
to someone reads both."""


class Reminders:
    """Fires the due schedules: reminders to people, the stragglers' digest, the billing reminder. `now` is
    the injected clock."""

    def __init__(
        self,
        database: Database,
        service: MigrationService,
        settings: ReminderSettings,
        now: Callable[[], datetime],
    ) -> None:
        self._database = database
        self._service = service
        self._settings = settings
        self._now = now
        self._decided: dict[int, tuple[int, frozenset[str]]] = {}
        self._unmapped: dict[int, tuple[datetime | None, frozenset[str] | None]] = {}
        """Per migration, its row's version and who an admin decided for in that version's plan."""
        self._administering: dict[str, frozenset[str]] = {}
        """Per organization, its admins' addresses, read once a tick: a reminder to one of them names no
        one who asked for it (they run the move too)."""

    def fire_due(self) -> int:
        """Queue every reminder, digest and billing reminder that is due; the number of reminders queued."""
        self._administering = {}
        queued = 0
        for reminder_id in self._due():
            queued += self._fire(reminder_id)
        return queued

    def _due(self) -> list[int]:
        with self._database.reading() as connection:
            due = connection.execute(_DUE, {"now": self._now(), "batch": self._settings.batch})
            return [reminder_id for reminder_id in due.scalars() if reminder_id is not None]

    def _fire(self, reminder_id: int) -> int:
        """Queue what a due schedule sends; what needs Azure DevOps or Microsoft (the billing check, the
        admins a waiting person is told of) is asked after this transaction ends."""
        waits: dict[str, Any] | None = None
        unknown_admins: str | None = None
        with self._database.session() as session:
            now = self._now()
            reminder, row = _due_schedule(session, reminder_id, now)
            if reminder is None or row is None:
                return 0
            if row.state in CLOSED_STATES:
                return self._end(session, reminder, "stopped")
            if reminder.kind == invitation_wait.WAIT_OVER:  # at any hour: the admin ran `invite` minutes ago
                return invitation_wait.fire(session, reminder, row, now)
            opens = next_working_moment(now, zone(reminder.time_zone), self._settings.working_hours)
            if opens > now:  # overdue after downtime, at night there: wait for the working morning
                reminder.next_at = opens
                commit_quietly(session)
                return 0
            if reminder.kind == BILLING_KIND:
                organization, billing_due = row.organization, row.state == BILLING_STATE
            elif reminder.kind == TODO_KIND and row.organization not in self._administering:
                unknown_admins = row.organization
            elif reminder.kind == TODO_KIND:
                payload = self._todo_payload(session, reminder, row)
                if payload is None:
                    return self._end(session, reminder, "done")
                if "waiting_on" not in payload:
                    return self._queue(
                        session, reminder, REMINDER_MESSAGE, payload, self._settings.every_working_days
                    )
                if _list_said_it(session, payload) and payload["waiting_item"] not in waiting.LOOK_ONCE:
                    # the schedule moves on in silence, as after a notice
                    reminder.next_at = self._next(now, self._settings.every_working_days, reminder.time_zone)
                    commit_quietly(session)
                    return 0
                waits = payload
            else:
                decisions = self._decisions(row)
                payload = straggler_digest.payload(
                    session, row, decisions, now=self._now(), settings=self._settings
                )
                every = self._settings.digest_every_working_days
                if payload is None:
                    # nobody behind this round, but someone may fall behind later (a late invitee's list,
                    # an item a mapping reopens): the schedule moves on in silence rather than ending, so
                    # the next round names them, one round at a time
                    reminder.next_at = self._next(now, every, reminder.time_zone)
                    commit_quietly(session)
                    return 0
                return self._queue(session, reminder, DIGEST_MESSAGE, payload, every)
        if unknown_admins is not None:  # asked once an organization and tick, with no transaction open
            self._administering[unknown_admins] = frozenset(self._admins(unknown_admins, ""))
            return self._fire(reminder_id)
        if waits is not None:
            return self._tell_waiting(reminder_id, waits)
        return self._fire_billing(reminder_id, organization, billing_due)

    def _fire_billing(self, reminder_id: int, organization: str, due: bool) -> int:
        """Microsoft is asked with no transaction open: the check commits the migration's own step."""
        result = None
        if due:
            try:
                result = self._service.check_billing(organization, BOT)
            except WorkflowError as error:
                return self._billing_unchecked(reminder_id, organization, str(error))
        with self._database.session() as session:
            now = self._now()
            reminder, row = _due_schedule(session, reminder_id, now)
            if reminder is None or row is None:
                return 0
            admins = self._every_admin(row)
            if result is not None and result.ok:  # moved since the last reminder: nobody has heard yet
                moved = {"migration_id": row.id, "organization": organization, "message": result.message}
                key = f"reminder-{reminder.id}-moved"
                enqueue_all(session, to_every_admin(key, admins, BILLING_MOVED_MESSAGE, moved), now=now)
            if result is None or result.ok:
                # confirmed now, or by `check-billing`, or the migration moved past the billing step
                reminder.failures = 0
                self._end(session, reminder, "done")
                return 1 if result is not None else 0
            payload: dict[str, Any] = {
                "recipient": admins,
                "organization": organization,
                "message": result.message,
                "steps": list(result.steps),
                "deadline": month_end(now.date()).isoformat(),
                "missed": _missed_deadline(verification.connected_at(session, row), now),
            }
            every = self._settings.billing_every_working_days
            last_call = self._last_call(now, last_working_day(now.date()))
            if payload["missed"] is not None:  # past the deadline the cadence is all there is to say
                payload["every_working_days"] = every
            return self._queue(session, reminder, BILLING_MESSAGE, payload, every, not_after=last_call)

    def _last_call(self, now: datetime, last_day: date) -> datetime | None:
        """The billing reminder on the month's last working day, a working day after the one sent `now`.

        From that day's first working hour it would follow a reminder sent in the working hour before
        (Friday 16:05, then Monday 09:00) with the same words: one due moment, reminded twice. None when
        a working day on is past that day: the reminder sent now is the last call. The deadline itself is
        the calendar month's end, which may be a weekend.
        """
        first_hour = next_working_moment(
            datetime.combine(last_day, time(0), UTC), UTC, self._settings.working_hours
        )
        call = max(first_hour, self._next(now, 1, None))
        return call if call.date() == last_day else None

    def _billing_unchecked(self, reminder_id: int, organization: str, error: str) -> int:
        """The check could not run: try again later and later; after a few misses, tell the admins."""
        with self._database.session() as session:
            now = self._now()
            reminder, row = _due_schedule(session, reminder_id, now)
            if reminder is None or row is None:
                return 0
            failures = reminder.failures + 1
            queued = 0
            if failures == _CHECK_FAILURES_TOLD:
                key = f"reminder-{reminder.id}-unchecked-{now.isoformat()}"
                unchecked: dict[str, Any] = {
                    "migration_id": row.id,
                    "reminder_id": reminder.id,
                    "organization": organization,
                    "message": f"I tried {failures} times to check which directory the billing"
                    f" subscription is in, and could not: {error}",
                    "steps": [
                        "Check that the bot can sign in to Azure and may read the organization's billing"
                        " (Organization settings > Billing) and the subscription (Reader is enough).",
                        "Run `check-billing` once that is fixed; I keep trying meanwhile.",
                    ],
                    "deadline": month_end(now.date()).isoformat(),
                }
                told = to_every_admin(key, self._every_admin(row), BILLING_MESSAGE, unchecked)
                enqueue_all(session, told, now=now)
                queued = 1
            reminder.failures = failures
            reminder.next_at = now + min(_CHECK_RETRY * 2 ** (failures - 1), _CHECK_RETRY_AT_MOST)
            return queued if commit_quietly(session) else 0

    def _end(self, session: Session, reminder: Reminder, status: str) -> int:
        reminder.status = status
        commit_quietly(session)
        return 0

    def _queue(
        self,
        session: Session,
        reminder: Reminder,
        kind: str,
        payload: dict[str, Any],
        every: int,
        *,
        not_after: datetime | None = None,
    ) -> int:
        """Queue the message and move the schedule on, in one transaction; `not_after` pulls it earlier."""
        now = self._now()
        recipient = payload.pop("recipient")  # the billing reminder's: each of `every_admin`
        recipients = [str(each) for each in recipient] if isinstance(recipient, list) else [str(recipient)]
        told = {**payload, "migration_id": reminder.migration_id, "reminder_id": reminder.id}
        key = f"reminder-{reminder.id}-{reminder.sent + 1}"
        enqueue_all(session, to_every_admin(key, recipients, kind, told), now=now)
        # reset here, after the caller's reads (`_fire_billing`): a read would flush it outside
        # `commit_quietly`, where a rival's commit of the schedule makes it raise
        reminder.sent, reminder.failures = reminder.sent + 1, 0
        reminder.last_sent_at = now
        reminder.next_at = self._next(now, every, reminder.time_zone)
        if not_after is not None and now < not_after < reminder.next_at:
            reminder.next_at = not_after
        return 1 if commit_quietly(session) else 0

    def _tell_waiting(self, reminder_id: int, waited: dict[str, Any]) -> int:
        """Someone who waits on the admins hears it once, not their tasks again; the schedule moves on in
        silence until the admins act (their list's change tells them, and reminders go on from there).

        The notice names who can act, asked of Azure DevOps (cached) with no transaction open. The schedule
        and the list are read again after: another process may have fired it meanwhile, or an admin ended
        the wait (their decision told the person), and then no notice goes out."""
        admins = self._admins(str(waited["organization"]), str(waited["email"]))
        with self._database.session() as session:
            now = self._now()
            reminder, row = _due_schedule(session, reminder_id, now)
            if reminder is None or row is None:
                return 0
            payload = self._todo_payload(session, reminder, row)
            if payload is None:
                return self._end(session, reminder, "done")
            next_at = self._next(now, self._settings.every_working_days, reminder.time_zone)
            if payload.get("waiting_item") != waited["waiting_item"]:
                reminder.next_at = next_at
                commit_quietly(session)
                return 0
            # once a wait, and once to look for an invitation (its wait may follow one for an account)
            look = "-" + waited["waiting_item"] if waited["waiting_item"] in waiting.LOOK_ONCE else ""
            message = enqueue(
                session,
                idempotency_key=f"reminder-{reminder.id}-waiting{look}",
                recipient=str(payload.pop("recipient")),
                kind=REMINDER_MESSAGE,
                payload={
                    **payload,
                    "admins": admins,
                    "migration_id": reminder.migration_id,
                    "reminder_id": reminder.id,
                },
                now=now,
            )
            reminder.next_at = next_at
            fresh = message.id is None
            return 1 if commit_quietly(session) and fresh else 0

    def _todo_payload(self, session: Session, reminder: Reminder, row: Migration) -> dict[str, Any] | None:
        found = person_with_open_items(session, reminder.affected_user_id)
        if found is None:
            return None
        user, items, asked, open_items = found
        reach = affected_reach(user)
        payload = {
            **reach.payload(),
            "recipient": reach.recipient,
            "organization": row.organization,
            "affected_user_id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            # who asks for it, unless it is them or another admin, who runs the move with them
            "sender": ""
            if user.email.casefold() == row.started_by_email.casefold()
            or user.email.casefold() in self._administering.get(row.organization, frozenset())
            else row.started_by_name or row.started_by_email,
            "total": len(asked),
            "items": [item_payload(item) for item in open_items],
        }
        wait = waiting.awaited(items, user.entitlement_id, self._decisions(row))
        if wait is not None:  # `_tell_waiting` adds who can end the wait
            payload |= {"waiting_on": waiting.admins_step(wait), "waiting_item": wait.key, "items": []}
            if wait.key == INVITATION_IN_DOUBT:  # their one reminder to look says what is known of it
                assert row.id is not None
                payload["mailed"] = interrupted_invitations.mailed_to(session, row.id, user.entitlement_id)
        elif waiting.awaits_mapping(
            user.outcome, items, user.entitlement_id, self._still_personal(session, row)
        ):
            payload["awaits_mapping"] = True  # their sign-in waits for it; the other items do not
        return payload

    def _decisions(self, row: Migration) -> frozenset[str]:
        """Who an admin decided for, read from the plan once per version of the row (any change to it moves
        the version on): a round of reminders at 20,000 people would otherwise load and decode the whole
        plan for each person."""
        assert row.id is not None
        known = self._decided.get(row.id)
        if known is None or known[0] != row.version:
            known = (row.version, waiting.decided(row.plan))
            self._decided[row.id] = known
        return known[1]

    def _still_personal(self, session: Session, row: Migration) -> frozenset[str] | None:
        """Who the last full read of the sign-ins found still on a Microsoft account
        (`waiting.still_personal_ids`), read again only after another full read: at 20,000 people the list
        is large, and a round of reminders asks it for each person mapped by hand."""
        assert row.id is not None
        swept = session.exec(select(SignInWatch.swept_at).where(SignInWatch.migration_id == row.id)).first()
        known = self._unmapped.get(row.id)
        if known is None or known[0] != swept:
            known = (swept, waiting.still_personal_ids(session.get(SignInWatch, row.id)))
            self._unmapped[row.id] = known
        return known[1]

    def _every_admin(self, row: Migration) -> list[str]:
        """`notices.every_admin`: asks Azure DevOps (cached) only for a migration started in a direct
        message."""
        return every_admin(row, () if row.channel_id else self._admins(row.organization, ""))

    def _admins(self, organization: str, person: str) -> list[str]:
        """Who can end someone's wait: the migration's admins (owner and Project Collection Administrators,
        as *Ask an admin* names them) but the person (`person`: their address); none when Azure DevOps
        cannot say (the notice then names who started the migration)."""
        try:
            return self._service.approver_emails(organization, exclude=Actor("", person, ""))
        except (WorkflowError, MicrosoftError):
            return []

    # -------------------------------------------------------------- plumbing

    def _next(self, after: datetime, days: int, time_zone: str | None) -> datetime:
        return self._settings.after_working_days(after, days, time_zone)


def _due_schedule(
    session: Session, reminder_id: int, now: datetime
) -> tuple[Reminder | None, Migration | None]:
    """The schedule and its migration, or Nones once it is no longer due: ended, or moved on by another
    process since it was found due."""
    found = session.exec(_SCHEDULE, params={"reminder": reminder_id}).first()
    if found is None or found[0].status != "active" or found[0].next_at > now:
        return None, None
    return found


def _list_said_it(session: Session, waits: dict[str, Any]) -> bool:
    """Whether the person's list named this wait and who can end it (lists queued since it could): a
    notice would only repeat it."""
    person = session.get(AffectedUser, waits["affected_user_id"])
    lists = messages_to(session, [person], {TODO_LIST_MESSAGE}) if person is not None else ()
    return any(message.payload.get("waiting_item") == waits["waiting_item"] for message in lists)


def _missed_deadline(connected_at: datetime | None, now: datetime) -> str | None:
    """The end of the month the organization was connected in, once it has passed with billing unmoved:
    Microsoft asks for billing to move "before the end of the month", and a reminder that only names
    next month's deadline would hide that this one was missed."""
    if connected_at is None:
        return None
    deadline = month_end(connected_at.date())
    return deadline.isoformat() if now.date() > deadline else None


def person_with_open_items(
    session: Session, person: int | None
) -> tuple[AffectedUser, list[TodoItem], list[TodoItem], list[TodoItem]] | None:
    """The person, their items, those asked of them and those still open; None once none is open."""
    rows = session.exec(_PERSON_AND_ITEMS, params={"person": person}).all()
    if not rows:
        return None
    items = [item for _, item in rows if item is not None]
    asked = required(items)
    open_items = [item for item in asked if item.done_at is None]
    return (rows[0][0], items, asked, open_items) if open_items else None
