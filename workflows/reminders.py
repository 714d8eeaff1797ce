"""After the to-do lists go out: reminders to those who have not done theirs, and billing until it moves.

Schedules live in the `reminder` table, so they survive restarts (`workflows.schedules` opens them);
`tick` is driven by an injected clock.
Each reminder is queued in the same transaction that moves its schedule on, so two processes ticking at
once queue it once (the row's version decides). Reminders to people land inside their working hours, in
the time zone of their chat profile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from storage import WITHOUT_PLAN, AffectedUser, Database, Migration, OutboundMessage, Reminder, TodoItem
from storage.outbox import NewMessage, enqueue, enqueue_all, retry_failed
from workflows import unreached_admins, waiting
from workflows._views import item_payload
from workflows.decisions import lost_access_by
from workflows.directory import MicrosoftError
from workflows.errors import PermissionDenied, WorkflowError
from workflows.identities import affected_reach, recognises
from workflows.notices import CHANNEL_PREFIX, admins_address, every_admin, to_every_admin
from workflows.plan import NO_ACCESS, PlannedUser
from workflows.progress import (
    PERSONAL_LISTS,
    Progress,
    known_as_user,
    lists_of,
    reach_in,
    read_progress,
    ticks_in_chat,
    unreachable_in,
)
from workflows.results import BOT, Actor, AdminUnreached, MigrationStatus, TodoEntry, Told
from workflows.schedules import (
    BILLING_KIND,
    BILLING_STATE,
    CLOSED_STATES,
    TODO_KIND,
    ReminderSettings,
    Schedules,
    commit_quietly,
)
from workflows.service import MigrationService
from workflows.stages import resending, verification
from workflows.stages.list_messages import (
    TODO_LIST_MESSAGE,
    WHOLE_LISTS,
    by_person,
    may_have_reached,
    messages_to,
)
from workflows.stages.relisting import REMINDER_MESSAGE
from workflows.stages.told_early import ACCESS_BACK_MESSAGE
from workflows.todo import required
from workflows.working_hours import last_working_day, month_end, next_working_moment, zone

DIGEST_MESSAGE, BILLING_MESSAGE = "straggler_digest", "billing_reminder"
BILLING_MOVED_MESSAGE = "billing_moved"
"""The bot's own billing check found the subscription moved: the admins hear it, and that `complete` is
next."""
HELP_MESSAGE = "help_request"
SNOOZES = {"1d": timedelta(days=1), "1w": timedelta(weeks=1)}
"""What the snooze buttons offer."""
_NO_MORE_REMINDERS = {
    "done": "Nothing to snooze: your to-do list is done, so no more reminders will come. 🎉",
    "stopped": "Nothing to snooze: the admins closed this migration, so no more reminders will come.",
}
_CHECK_RETRY, _CHECK_RETRY_AT_MOST = timedelta(minutes=15), timedelta(hours=8)
"""A billing check that could not run is tried again after 15 min, 30 min, 1 h... at most 8 h apart."""
_CHECK_FAILURES_TOLD = 3
_RETRIED = PERSONAL_LISTS | {ACCESS_BACK_MESSAGE}
"""What *Retry failed* sends again: besides the lists, a "you keep access after all" told before them
takes back the "you lose access" they read, which their list does not."""
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


class NoMoreReminders(WorkflowError):
    """No reminder will come again about this list (done, or its migration closed): nothing to put off,
    nor to stop."""


@dataclass(frozen=True)
class Snoozed:
    until: datetime
    """When the next reminder actually comes."""
    time_zone: str | None
    moved: bool = True
    """False when the next reminder was due after the span anyway: the snooze changed nothing."""


class Tracking:
    """Progress reports, delivery status, reminders, the stragglers' digest and the billing reminder."""

    def __init__(
        self,
        database: Database,
        service: MigrationService,
        *,
        clock: Callable[[], datetime],
        settings: ReminderSettings | None = None,
    ) -> None:
        self._database = database
        self._service = service
        self._clock = clock
        self._settings = settings or ReminderSettings()
        self._schedules = Schedules(database, self._settings, self._now)
        self._decided: dict[int, tuple[int, frozenset[str]]] = {}
        """Per migration, its row's version and who an admin decided for in that version's plan."""
        self._administering: dict[str, frozenset[str]] = {}
        """Per organization, its admins' addresses, read once a tick: a reminder to one of them names no
        one who asked for it (they run the move too)."""

    def delivered(self, kind: str, payload: dict[str, Any], time_zone: str | None) -> None:
        """A message reached its recipient: see `Schedules.delivered`."""
        self._schedules.delivered(kind, payload, time_zone)

    def undeliverable(
        self, message: OutboundMessage, code: str | None, reason: str, surfaces: tuple[str, ...]
    ) -> None:
        """A message chat could not deliver for good through the bot's `surfaces` (failing with `code` for
        `reason`): an admin's prompt or portal steps is told to the others (`unreached_admins.record`)."""
        with self._database.session() as session:
            told = unreached_admins.record(
                session, message, self._now(), code=code, reason=reason, surfaces=surfaces
            )
            if told:
                session.commit()

    # -------------------------------------------------------------- reading

    def admins_unreached(self, status: MigrationStatus) -> tuple[AdminUnreached, ...]:
        """Whom the pending approval's prompt, or the portal steps awaited, could not reach."""
        with self._database.session() as session:
            return unreached_admins.of_migration(session, status)

    def progress(self, organization: str | None) -> Progress:
        return self.progress_of(self._service.status(organization, ended=True))

    def progress_of(self, status: MigrationStatus) -> Progress:
        """`progress` of the migration whose status the caller has read already."""
        return read_progress(self._database, status)

    def notice_missed(self, organization: str) -> tuple[MigrationStatus, Told] | None:
        """Before connecting, how the advance notice went out, if chat could not reach someone."""
        status = self._service.status(organization, ended=True)
        told = self._service.told(status.organization) if "announce" in status.next_commands else None
        return (status, told) if told is not None and told.unreached else None

    def retry_failed(self, organization: str | None) -> int:
        """Queue again every message of the migration that hands someone their list (or its changes, or
        tells them they lose access, or told early that it no longer holds) and could not be delivered."""
        status = self._service.status(organization)
        return retry_failed(self._database, status.id, _RETRIED, now=self._now(), revise=resending.as_now)

    def snooze(
        self, actor: Actor, span: str, *, reminder_id: int | None = None, affected_user_id: int | None = None
    ) -> Snoozed:
        """Put off someone's own reminders by a day or a week (still inside their working hours): the
        reminder a button names, or those of their list in a migration."""
        if span not in SNOOZES:
            raise WorkflowError("Snooze for `1d` (a day) or `1w` (a week), e.g. `snooze 1d`.")
        with self._database.session() as session:
            reminder = self._snoozable(session, actor, reminder_id, affected_user_id)
            now, put_off = self._now(), SNOOZES[span]
            # One due after the span stays where it is: a snooze never brings a reminder forward.
            moved = reminder.next_at < now + put_off
            if moved:
                reminder.next_at = self._snoozed_until(reminder, now + put_off)
            snoozed = Snoozed(reminder.next_at, reminder.time_zone, moved)
            try:
                session.commit()
            except StaleDataError:
                session.rollback()
                raise WorkflowError("Your reminder was just being sent; press Snooze again.") from None
            return snoozed

    def next_reminder(self, actor: Actor, *, affected_user_id: int) -> Snoozed:
        """When the next reminder about someone's list comes, if a snooze could put it off: refused with
        the words `snooze` would refuse it with (no reminder yet, the list done, the migration closed)."""
        with self._database.session() as session:
            reminder = self._snoozable(session, actor, None, affected_user_id)
            return Snoozed(reminder.next_at, reminder.time_zone, moved=False)

    def _snoozable(
        self, session: Session, actor: Actor, reminder_id: int | None, affected_user_id: int | None
    ) -> Reminder:
        """`actor`'s reminder that a snooze may put off: the one a button names, or their list's."""
        if reminder_id is not None:
            reminder = session.get(Reminder, reminder_id)
        else:
            key = f"{TODO_KIND}:{affected_user_id}"
            reminder = session.exec(select(Reminder).where(Reminder.key == key)).first()
            if reminder is None:
                raise WorkflowError(self._nothing_to_snooze(session, affected_user_id))
        user = session.get(AffectedUser, reminder.affected_user_id) if reminder else None
        if reminder is None or user is None:
            raise WorkflowError("That reminder no longer exists; say `snooze 1d` or `snooze 1w`.")
        if not recognises(actor, user):
            raise PermissionDenied("These reminders are someone else's; only they can snooze them.")
        # A list finished since its last reminder still has an active schedule until it next fires.
        finished = reminder.kind == TODO_KIND and _open_items(session, user.id) is None
        if reminder.status != "active" or finished:
            status = "done" if finished else reminder.status
            raise NoMoreReminders(_NO_MORE_REMINDERS.get(status, _NO_MORE_REMINDERS["done"]))
        return reminder

    def _nothing_to_snooze(self, session: Session, affected_user_id: int | None) -> str:
        """Why there is no reminder to put off: not due yet after a list that arrived, or no list arrived at
        all (no surface could deliver it, or it is still on its way), when no reminder will come either."""
        user = session.get(AffectedUser, affected_user_id) if affected_user_id is not None else None
        lists = messages_to(session, [user], WHOLE_LISTS) if user is not None else []
        if not lists or may_have_reached(lists[-1]):
            return (
                "Nothing to snooze yet: your first reminder comes "
                f"{self._settings.every_working_days} working days after your list arrived."
            )
        newest = lists[-1]
        if newest.status == "failed":
            why = newest.last_error or "no reason given"
            return (
                "Nothing to snooze: your to-do list never reached you, so no reminders are set (chat could"
                f" not deliver it: {why}). Say `todo` to see your list here."
            )
        return (
            "Nothing to snooze: your to-do list has not reached you yet (it is still on its way), so no"
            " reminders are set. Say `todo` to see your list here."
        )

    def _snoozed_until(self, reminder: Reminder, wanted: datetime) -> datetime:
        """The first working moment from `wanted`, on a later day than the reminder it puts off: snoozing
        a day on Monday afternoon skips Tuesday's reminder rather than moving it an hour."""
        local = zone(reminder.time_zone)
        later = next_working_moment(wanted, local, self._settings.working_hours)
        if later.astimezone(local).date() <= reminder.next_at.astimezone(local).date():
            later = self._next(later, 1, reminder.time_zone)
        return later

    def ask_for_help(
        self, item: TodoEntry, asker: Actor, recipients: Sequence[str], *, choosing: PlannedUser | None = None
    ) -> bool:
        """Queue "ASKER needs help with ITEM" to the admins (`channel:ID` or emails), once per item a day;
        `choosing`: the asker, while several directory accounts share their address (the notice offers
        each, to decide with).

        False when the admins were already told today about this item: a second click pings nobody.
        """
        about = {"title": item.title, "item_id": item.id, "key": item.key, **_choices(choosing)}
        email = item.email or asker.email  # an address to write to, not a guest's #EXT# name
        whose = (item.migration_id, item.organization, asker.name or email, email)
        return self._tell_admins(f"help-{item.id}", whose, about, recipients)

    def ask_admins(
        self, migration: MigrationStatus, asker: Actor, email: str, question: str, recipients: Sequence[str]
    ) -> bool:
        """Queue the asker's own question to the admins of `migration`, once a day per question; `email` is
        where the admins can answer them."""
        digest = hashlib.sha256(" ".join(question.casefold().split()).encode()).hexdigest()[:16]
        whose = (migration.id, migration.organization, asker.name or email, email)
        key = f"question-{migration.id}-{email.casefold()}-{digest}"
        return self._tell_admins(key, whose, {"question": question}, recipients)

    def tell_choice(
        self,
        migration: MigrationStatus,
        asker: Actor,
        email: str,
        person: PlannedUser,
        account: tuple[str, str],
        recipients: Sequence[str],
    ) -> bool:
        """Queue "ASKER says ACCOUNT (object id, sign-in name) is theirs" to the admins of `migration`, with
        every account that shares their address to decide with, once a day per account: the decision stays
        the admins' (`decide`). `email` is where the admins can answer them."""
        whose = (migration.id, migration.organization, asker.name or email, email)
        key = f"choice-{migration.id}-{person.id}-{account[0]}"
        return self._tell_admins(key, whose, {"chose": account[1], **_choices(person)}, recipients)

    def _tell_admins(
        self, key: str, whose: tuple[int, str, str, str], about: dict[str, Any], recipients: Sequence[str]
    ) -> bool:
        """`whose`: the migration's id and organization, the asker's name and address."""
        now = self._now()
        migration_id, organization, name, email = whose
        with self._database.session() as session:
            whom = {"migration_id": migration_id, "organization": organization, "name": name, "email": email}
            today = now.date().isoformat()
            privately = any(not recipient.startswith(CHANNEL_PREFIX) for recipient in recipients)
            messages = [
                NewMessage(f"{key}-{today}-{recipient}", recipient, HELP_MESSAGE, whom | shown)
                for recipient in recipients
                for shown in [_shown_to(recipient, about, privately=privately)]
            ]
            queued = enqueue_all(session, messages, now=now)
            fresh = any(message.id is None for message in queued)
            return commit_quietly(session) and fresh

    def tick(self) -> int:
        """Read the sign-ins that are due, then queue every reminder, digest and billing reminder that is
        due; the number of reminders queued."""
        self._service.check_due_sign_ins()
        self._schedules.open_due()
        self._administering = {}
        queued = 0
        for reminder_id in self._due():
            queued += self._fire(reminder_id)
        return queued

    # -------------------------------------------------------------- ticking

    def _due(self) -> list[int]:
        with self._database.session() as session:
            due = session.connection().execute(_DUE, {"now": self._now(), "batch": self._settings.batch})
            return [reminder_id for reminder_id in due.scalars() if reminder_id is not None]

    def _fire(self, reminder_id: int) -> int:
        """Queue what a due schedule sends; what needs Azure DevOps or Microsoft (the billing check, the
        admins a waiting person is told of) is asked after this transaction ends."""
        waits: dict[str, Any] | None = None
        unknown_admins: str | None = None
        with self._database.session() as session:
            reminder, row = _schedule(session, reminder_id)
            if reminder is None or row is None or reminder.status != "active":
                return 0
            if row.state in CLOSED_STATES:
                return self._end(session, reminder, "stopped")
            now = self._now()
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
                if _list_said_it(session, payload):  # the schedule moves on in silence, as after a notice
                    reminder.next_at = self._next(now, self._settings.every_working_days, reminder.time_zone)
                    commit_quietly(session)
                    return 0
                waits = payload
            else:
                payload = self._digest_payload(session, row)
                if payload is None:
                    return self._end(session, reminder, "done")
                every = self._settings.digest_every_working_days
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
            reminder, row = _schedule(session, reminder_id)
            if reminder is None or row is None:
                return 0
            reminder.failures = 0
            now = self._now()
            admins = self._every_admin(row)
            if result is not None and result.ok:  # moved since the last reminder: nobody has heard yet
                moved = {"migration_id": row.id, "organization": organization, "message": result.message}
                key = f"reminder-{reminder.id}-moved"
                enqueue_all(session, to_every_admin(key, admins, BILLING_MOVED_MESSAGE, moved), now=now)
            if result is None or result.ok:
                # confirmed now, or by `check-billing`, or the migration moved past the billing step
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
            reminder, row = _schedule(session, reminder_id)
            if reminder is None or row is None:
                return 0
            now = self._now()
            reminder.failures += 1
            reminder.next_at = now + min(_CHECK_RETRY * 2 ** (reminder.failures - 1), _CHECK_RETRY_AT_MOST)
            queued = 0
            if reminder.failures == _CHECK_FAILURES_TOLD:
                key = f"reminder-{reminder.id}-unchecked-{now.isoformat()}"
                unchecked: dict[str, Any] = {
                    "migration_id": row.id,
                    "reminder_id": reminder.id,
                    "organization": organization,
                    "message": f"I tried {reminder.failures} times to check which directory the billing"
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
        reminder.sent += 1
        reminder.last_sent_at = now
        reminder.next_at = self._next(now, every, reminder.time_zone)
        if not_after is not None and now < not_after < reminder.next_at:
            reminder.next_at = not_after
        told = {**payload, "migration_id": reminder.migration_id, "reminder_id": reminder.id}
        key = f"reminder-{reminder.id}-{reminder.sent}"
        enqueue_all(session, to_every_admin(key, recipients, kind, told), now=now)
        return 1 if commit_quietly(session) else 0

    def _tell_waiting(self, reminder_id: int, waited: dict[str, Any]) -> int:
        """Someone who waits on the admins hears it once, not their tasks again; the schedule moves on in
        silence until the admins act (their list's change tells them, and reminders go on from there).

        The notice names who can act, asked of Azure DevOps (cached) with no transaction open. The schedule
        and the list are read again after: another process may have fired it meanwhile, or an admin ended
        the wait (their decision told the person), and then no notice goes out."""
        admins = self._admins(str(waited["organization"]), str(waited["email"]))
        with self._database.session() as session:
            reminder, row = _schedule(session, reminder_id)
            now = self._now()
            if reminder is None or row is None or reminder.status != "active" or reminder.next_at > now:
                return 0
            payload = self._todo_payload(session, reminder, row)
            if payload is None:
                return self._end(session, reminder, "done")
            reminder.next_at = self._next(now, self._settings.every_working_days, reminder.time_zone)
            if payload.get("waiting_item") != waited["waiting_item"]:
                commit_quietly(session)
                return 0
            message = enqueue(
                session,
                idempotency_key=f"reminder-{reminder.id}-waiting",
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
            fresh = message.id is None
            return 1 if commit_quietly(session) and fresh else 0

    def _todo_payload(self, session: Session, reminder: Reminder, row: Migration) -> dict[str, Any] | None:
        found = _open_items(session, reminder.affected_user_id)
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

    def _digest_payload(self, session: Session, row: Migration) -> dict[str, Any] | None:
        assert row.id is not None
        users, items = lists_of(session, row.id)  # everyone's list in one read, not one per person
        lists = by_person(items)
        listed = [user for user in users if user.outcome != NO_ACCESS]  # who lose access have nothing to do
        unreachable = {  # who tick items in chat are in chat after all, as `progress` shows them
            user_id
            for user_id in unreachable_in(reach_in(session, row.id)) & {user.id for user in listed}
            if not ticks_in_chat(lists.get(user_id, []))
        }
        connected = verification.connected_at(session, row)
        late = connected is not None and self._now() >= self._next(
            connected, self._settings.sign_in_grace_working_days, None
        )
        stragglers: list[list[Any]] = []
        not_signed_in: list[list[Any]] = []
        waits: list[list[Any]] = []
        waiting_ids: set[str] = set()
        finished = 0  # of those counted: who has nothing left, told apart from who waits for the admins
        decisions = self._decisions(row)
        for user in listed:
            own = lists.get(user.id or 0, [])
            expected = any(item.key in verification.SIGN_IN_ITEMS for item in own)
            signed_in = any(item.key in verification.SIGN_IN_ITEMS and item.verified_at for item in own)
            if late and expected and not signed_in:
                not_signed_in.append([known_as_user(user), user.display_name])
            wait = waiting.awaited(own, user.entitlement_id, decisions)
            if wait is not None:  # not behind: they wait for the admins, who must act first
                # the bare address last: what `decide` takes, where the first names them as `progress` does
                step = waiting.admins_step(wait)
                waits.append([known_as_user(user), user.display_name, step, wait.key, user.email])
                waiting_ids.add(user.entitlement_id)
                continue
            if user.id in unreachable:
                continue  # they cannot tick items in chat: `progress` lists them to be reached another way
            asked = required(own)
            left = sum(item.done_at is None for item in asked)
            if left:
                stragglers.append([known_as_user(user), user.display_name, left, len(asked)])
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
            "grace_working_days": self._settings.sign_in_grace_working_days,
            "still_personal": personal,
            "waiting": waits,
            "lost_access": lost,
        }

    # -------------------------------------------------------------- plumbing

    def _next(self, after: datetime, days: int, time_zone: str | None) -> datetime:
        return self._settings.after_working_days(after, days, time_zone)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now


def _choices(person: PlannedUser | None) -> dict[str, Any]:
    """What a word to the admins carries to decide for someone several directory accounts match: their
    entitlement id and each account's object id and sign-in name, as `decide` takes them."""
    if person is None:
        return {}
    accounts = zip(person.candidates, person.candidate_names, strict=False)
    return {"person": person.id, "choices": [[account, name] for account, name in accounts]}


def _shown_to(recipient: str, about: dict[str, Any], *, privately: bool) -> dict[str, Any]:
    """What a word to the admins says where `recipient` reads it. A channel never holds someone's accounts
    to choose between, nor the one they chose: people other than admins post there. It hears only that they
    said which is theirs, or need a decision (`withheld`), and whether each admin has the accounts, with a
    button for each, in a direct message (`sent_privately`)."""
    if not recipient.startswith(CHANNEL_PREFIX) or not about.get("choices"):
        return about
    kept = {key: value for key, value in about.items() if key not in ("choices", "person", "chose")}
    return kept | {"withheld": "chose" if about.get("chose") else "help", "sent_privately": privately}


def _schedule(session: Session, reminder_id: int) -> tuple[Reminder | None, Migration | None]:
    found = session.exec(_SCHEDULE, params={"reminder": reminder_id}).first()
    return (None, None) if found is None else found


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


def _open_items(
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
