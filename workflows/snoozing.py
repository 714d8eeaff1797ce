"""Putting off someone's own reminders by a day or a week, inside their working hours; or saying why not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from storage import AffectedUser, Database, Reminder
from workflows.errors import PermissionDenied, WorkflowError
from workflows.identities import recognises
from workflows.reminders import person_with_open_items
from workflows.results import Actor
from workflows.schedules import TODO_KIND, ReminderSettings
from workflows.stages.list_messages import WHOLE_LISTS, may_have_reached, messages_to
from workflows.working_hours import next_working_moment, zone

SNOOZES = {"1d": timedelta(days=1), "1w": timedelta(weeks=1)}
"""What the snooze buttons offer."""
_NO_MORE_REMINDERS = {
    "done": "Nothing to snooze: your to-do list is done, so no more reminders will come. 🎉",
    "stopped": "Nothing to snooze: the admins closed this migration, so no more reminders will come.",
}


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


class Snoozing:
    """Snoozes of the schedules `reminders` fires. `now` is the injected clock."""

    def __init__(self, database: Database, settings: ReminderSettings, now: Callable[[], datetime]) -> None:
        self._database = database
        self._settings = settings
        self._now = now

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
        finished = reminder.kind == TODO_KIND and person_with_open_items(session, user.id) is None
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
            later = self._settings.after_working_days(later, 1, reminder.time_zone)
        return later
