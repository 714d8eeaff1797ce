"""After the to-do lists go out, one door for chat: progress, delivery, reminders, snoozes, a word to the
admins.

`Tracking` reads progress itself and hands the rest to their owners: firing schedules (`reminders`),
putting them off (`snoozing`), the asker's words to the admins (`help_requests`); `workflows.schedules`
opens the schedules. `tick` is driven by an injected clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, update
from sqlmodel import Session, col

from storage import Database, Migration, OutboundMessage
from storage.outbox import retry_failed
from workflows import unreached_admins
from workflows.errors import WorkflowError
from workflows.help_requests import HelpRequests
from workflows.machine import FINAL_STATES
from workflows.progress import Progress, read_progress
from workflows.reach import PERSONAL_LISTS, access_news_in_doubt, unconfirmed_lists
from workflows.reminders import Reminders
from workflows.results import Actor, MigrationStatus
from workflows.results_approving import AdminUnreached
from workflows.results_preparing import Told
from workflows.schedules import ReminderSettings, Schedules
from workflows.service import MigrationService
from workflows.snoozing import Snoozed, Snoozing
from workflows.stages import resending
from workflows.stages.list_messages import LIST_MESSAGES
from workflows.stages.told_early import ACCESS_BACK_MESSAGE

_RETRIED = PERSONAL_LISTS | {ACCESS_BACK_MESSAGE}
"""What *Retry failed* sends again: besides the lists, a "you keep access after all" told before them
takes back the "you lose access" they read, which their list does not."""


class Retried(NamedTuple):
    """What *Retry failed* queued again: messages that hand someone their list or its changes, and those
    that tell someone of their access (that they lose it, or keep it after all)."""

    lists: int
    news: int

    @property
    def total(self) -> int:
        return self.lists + self.news


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
        self._reminders = Reminders(database, service, self._settings, self._now)
        self._snoozing = Snoozing(database, self._settings, self._now)
        self.help_requests = HelpRequests(database, self._now)
        """A person's word to the admins: chat calls it directly."""

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

    def access_news_in_doubt(self, status: MigrationStatus) -> tuple[str, ...]:
        """Before `notify`, the addresses of those told of their access that it may not have reached
        (`workflows.reach.access_news_in_doubt`), which *Retry failed* sends again."""
        with self._database.session() as session:
            return tuple(sorted(set(access_news_in_doubt(session, status.id).values())))

    def notice_missed(self, organization: str) -> tuple[MigrationStatus, Told] | None:
        """Before connecting, how the advance notice went out, if chat could not reach someone."""
        status = self._service.status(organization, ended=True)
        told = self._service.told(status.id) if "announce" in status.next_commands else None
        return (status, told) if told is not None and told.unreached else None

    def retry_failed(self, organization: str | None) -> Retried:
        """Queue again every message of the migration that hands someone their list (or its changes, or
        tells them they lose access, or told early that it no longer holds) and could not be delivered, and
        every list `progress` shows as possibly not arrived, which says that it is sent again. Never once
        the migration has ended (`_ended_refusal`)."""
        status = self._service.status(organization)
        if not status.active:
            raise _ended_refusal(status.organization, status.state)

        kinds: list[str] = []

        def lock(session: Session) -> None:
            # read again where they are queued: a `cancel` or `complete` since the status read wins
            row = _locked(session, status.id)
            if row.state in FINAL_STATES:
                raise _ended_refusal(status.organization, row.state)

        def revise(session: Session, messages: Sequence[OutboundMessage]) -> Sequence[OutboundMessage]:
            again = resending.as_now(session, messages)
            kinds[:] = [message.kind for message in again]
            return again

        queued = retry_failed(
            self._database,
            status.id,
            _RETRIED,
            now=self._now(),
            lock=lock,
            revise=revise,
            unconfirmed=unconfirmed_lists,
        )
        if queued is None:
            raise _overtaken(status.organization)
        if not queued:
            return Retried(0, 0)
        lists = sum(kind in LIST_MESSAGES for kind in kinds)
        return Retried(lists, len(kinds) - lists)

    def snooze(
        self, actor: Actor, span: str, *, reminder_id: int | None = None, affected_user_id: int | None = None
    ) -> Snoozed:
        """`Snoozing.snooze`."""
        return self._snoozing.snooze(actor, span, reminder_id=reminder_id, affected_user_id=affected_user_id)

    def next_reminder(self, actor: Actor, *, affected_user_id: int) -> Snoozed:
        """`Snoozing.next_reminder`."""
        return self._snoozing.next_reminder(actor, affected_user_id=affected_user_id)

    def tick(self) -> int:
        """Read the sign-ins that are due, then queue every reminder, digest and billing reminder that is
        due; the number of reminders queued."""
        self._service.check_due_sign_ins()
        self._schedules.open_due()
        return self._reminders.fire_due()

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now


def _locked(session: Session, migration_id: int) -> Migration:
    """The migration, read with its row locked until `session`'s transaction ends, before any of its
    messages is read: a cancel or another retry waits for this one, and this one for a step that locked it
    first to rewrite its lists (invite's last transaction), whose lists it then reads as that step left
    them. Locking a message first would wait for one another in a cycle: every transaction that writes the
    migration and its messages locks the migration first. SQLite locks the file from a transaction's first
    write, not rows: written first, the retry reads no message a sender may change before it commits (the
    changes its lists withdraw, which `relisting.withdraw` locks on PostgreSQL). The write leaves the
    version as it is: a step running meanwhile (invite, notify, the sign-in watch) checks it at its next
    heartbeat, and would fail on a version moved by a retry, which changes nothing of the migration."""
    session.execute(_LOCKING, {"migration": migration_id})
    row = session.get(Migration, migration_id, populate_existing=True)
    assert row is not None
    return row


_LOCKING = (
    update(Migration)
    .where(col(Migration.id) == bindparam("migration"))
    .values(version=col(Migration.version))
    .execution_options(synchronize_session=False)
)


def _overtaken(organization: str) -> WorkflowError:
    """Why *Retry failed* queued nothing: each time it read the failed messages, one of them changed before
    it could queue them (`storage.outbox.retry_failed`). Not "nothing to retry": some may still be failed."""
    return WorkflowError(
        f"Nothing of {organization} was queued again: its failed messages kept changing while I queued them"
        " (someone who signs in gets their list again by themselves). Retry failed again in a moment: it"
        " sends whatever is still failed then."
    )


def _ended_refusal(organization: str, state: str) -> WorkflowError:
    """Why *Retry failed* sends nothing of a migration that has ended: what it sent last stands (a list
    sent again would ask for work that is over, "you lose access" a move called off)."""
    if state == "cancelled":
        return WorkflowError(
            f"The migration of {organization} was cancelled, so nothing of it is sent again: whoever it may"
            " have reached was told it is called off, and that stands."
        )
    return WorkflowError(
        f"The migration of {organization} is completed, so nothing of it is sent again: its lists and"
        " reminders ended when it closed."
    )
