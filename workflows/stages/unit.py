"""The unit of work every stage runs in: load the migration, change it, commit state and audit together.

Each step commits the migration's new state together with its audit entries, so a process killed
between two steps loses nothing; a new service over the same database goes on from there. Steps that
talk to Microsoft first commit a busy state (`checking_prerequisites`, `inviting`, `removing`): that
commit is also what makes two simultaneous triggers collide, so exactly one of them wins. A rival's
change shows up here as a stale row and is reported as a `ConflictError` naming who did what.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, select

from storage import ActiveMigration, Approval, AuditEntry, Database, Migration
from workflows._views import migration_status
from workflows.directory import Microsoft
from workflows.errors import ConflictError, PermissionDenied, WorkflowError
from workflows.machine import ACTION_PHRASES, MigrationFlow, describe_state, next_commands
from workflows.results import Actor, MigrationStatus
from workflows.settings import WorkflowSettings
from workflows.stages.admins import Administrators
from workflows.step_progress import Paced, StepProgress
from workflows.stopping import PROCESS_STOPPING, WHY_STOPPED

CONFLICT_WINDOW = timedelta(minutes=2)
"""A refused command right after someone else's change is reported as that change winning the race."""


@dataclass(frozen=True)
class Context:
    """What every stage works with: one database, one set of Microsoft services, the clock, the rules."""

    database: Database
    microsoft: Microsoft
    clock: Callable[[], datetime]
    settings: WorkflowSettings
    admins: Administrators
    stopping: threading.Event = PROCESS_STOPPING
    """Set when the process is stopping: a long step stops between two people (`interrupt`)."""

    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now

    def flow(self, row: Migration, session: Session, actor: Actor, now: datetime) -> MigrationFlow:
        return MigrationFlow(
            row,
            session,
            actor=(actor.id, actor.email, actor.name),
            now=now,
            step_lease=self.settings.step_lease,
        )

    def unit(self, session: Session, row: Migration, actor: Actor) -> Unit:
        return Unit(self, session, self.flow(row, session, actor, self.now()))


@dataclass
class Unit:
    ctx: Context
    session: Session
    flow: MigrationFlow

    @property
    def row(self) -> Migration:
        return self.flow.row

    @property
    def actor(self) -> Actor:
        return Actor(*self.flow.actor)


@contextmanager
def step(
    ctx: Context, session: Session, organization: str | None, actor: Actor, trigger: str
) -> Iterator[Unit]:
    """Load the migration, run the body, commit; a refusal right after a rival's change is a conflict."""
    unit = ctx.unit(session, find(session, organization), actor)
    with translating_conflicts(unit, trigger):
        yield unit
        commit(unit)


@contextmanager
def translating_conflicts(unit: Unit, trigger: str) -> Iterator[None]:
    try:
        yield
    except (ConflictError, PermissionDenied):
        raise
    except StaleDataError:
        unit.session.rollback()
        raise conflict(unit) from None
    except WorkflowError as error:
        unit.session.rollback()
        raise recent_change_or(unit, unit.actor, trigger, error) from None


@contextmanager
def failing_on_error(unit: Unit, step: str, *, retry: str = "resume") -> Iterator[None]:
    """An unexpected error in a busy step moves the migration on with `fail` (to `failed`, or back to
    the connected step invitations after connecting began in), with the reason and the `retry` word,
    then propagates: without this the migration would sit in the busy state until its lease runs out."""
    try:
        yield
    except WorkflowError:
        raise  # a refusal or a rival's change: the state is not ours to fail
    except Exception as error:
        unit.session.rollback()
        row = unit.row
        if unit.flow.allows("fail"):
            unit.flow.now = unit.ctx.now()
            row.blocked_reason = f"The {step} stopped on an unexpected error ({type(error).__name__})."
            row.blocked_fix = (
                f"Run `{retry}` to try again; if it fails the same way, the bot's operators find the error"
                " in its log."
            )
            unit.flow.fire("fail", details={"error": type(error).__name__, "step": step})
            try:
                unit.session.commit()
            except StaleDataError:
                unit.session.rollback()  # someone else moved it on meanwhile (a cancel): theirs stands
        raise


def interrupt(unit: Unit, what: str, done: int, total: int, *, retry: str = "resume") -> str:
    """The process is stopping (`Context.stopping`): the step stopped between two people, after `done` of
    `total`. Record it and leave the busy state now, so that `retry` carries on at once rather than when
    the step's lease runs out; returns what to tell whoever started the step."""
    row = unit.row
    unit.flow.now = unit.ctx.now()
    row.blocked_reason = f"The {what} were interrupted after {done:,} of {total:,} {WHY_STOPPED}"
    row.blocked_fix = f"`{retry}` carries on from there."
    unit.flow.fire("interrupt", details={"step": what, "done": done, "total": total})
    commit(unit)
    return f"{row.blocked_reason}: {row.blocked_fix}"


def recent_change_or(unit: Unit, actor: Actor, trigger: str, error: WorkflowError) -> WorkflowError:
    """If another person changed the migration moments ago from a state where `trigger` fitted, say so."""
    latest = latest_audit(unit.session, unit.row)
    if latest is None or same_person(actor, latest.actor_id, latest.actor_email) or _stale(latest, unit):
        return error
    if latest.state_before is None or trigger not in unit.flow.machine.get_triggers(latest.state_before):
        return error
    return conflict_from(latest, unit.row)


def commit(unit: Unit) -> None:
    with _rival_named(unit):
        unit.session.commit()


def lock_migration(unit: Unit) -> None:
    """Write the migration now (`heartbeat`), not at the commit: its row stays locked until then, before
    the unit locks any of its messages, the order of every transaction that writes both (*Retry failed*
    too); a rival's change since (a cancel) is a conflict here."""
    heartbeat(unit.row, unit.flow.now)
    with _rival_named(unit):
        unit.session.flush()


@contextmanager
def _rival_named(unit: Unit) -> Iterator[None]:
    """A rival's change, found by a row's version, rolled back and named (`conflict`)."""
    try:
        yield
    except StaleDataError:
        unit.session.rollback()
        raise conflict(unit) from None


def conflict(unit: Unit) -> ConflictError:
    """Name the rival's change: the latest entry but this actor's own notes (a removal recorded after
    the rival's change, say), which change no state."""
    actor = unit.actor
    unit.session.expire_all()
    entries = unit.session.exec(
        select(AuditEntry)
        .where(AuditEntry.migration_id == unit.row.id)
        .order_by(col(AuditEntry.id).desc())
        .limit(20)
    ).all()
    latest = next(
        (
            entry
            for entry in entries
            if entry.state_before != entry.state_after
            or not same_person(actor, entry.actor_id, entry.actor_email)
        ),
        None,
    )
    if latest is None or _stale(latest, unit):
        return ConflictError(UNNAMED_CONFLICT)
    return conflict_from(latest, unit.row)


UNNAMED_CONFLICT = (
    "Something changed this migration at the same moment, so I did nothing; trying again is safe."
)
"""A conflict no recent change explains: over a message row, say, sent meanwhile by the delivery worker.
Naming a change made hours ago would read as if that person had just acted."""


def _stale(latest: AuditEntry, unit: Unit) -> bool:
    """Whether `latest` is too old to be the change that won the race (`CONFLICT_WINDOW`)."""
    return latest.at < unit.flow.now - CONFLICT_WINDOW


def conflict_from(latest: AuditEntry, row: Migration) -> ConflictError:
    who = latest.actor_name or latest.actor_email or "someone"
    what = ACTION_PHRASES.get(latest.action, latest.action.replace("_", " "))
    state = latest.state_after or row.state
    options = ", ".join(f"`{word}`" for word in next_commands(state))
    if not options:  # "just cancelled the migration; it is now cancelled" would say it twice
        return ConflictError(f"{who} just {what}, so it has ended: there is nothing left to do on it.")
    return ConflictError(f"{who} just {what}; the migration is now {describe_state(state)}. Next: {options}.")


def latest_audit(session: Session, row: Migration) -> AuditEntry | None:
    session.expire_all()
    return session.exec(_LATEST_AUDIT, params={"migration": row.id}).first()


_LATEST_AUDIT = (
    select(AuditEntry)
    .where(AuditEntry.migration_id == bindparam("migration"))
    .order_by(col(AuditEntry.id).desc())
    .limit(1)
)
"""Built once: every refusal asks whether someone else's change just caused it."""


def audit(
    at: datetime,
    row: Migration,
    actor: Actor,
    action: str,
    before: str | None,
    after: str | None,
    details: dict[str, object],
) -> AuditEntry:
    assert row.id is not None
    return AuditEntry(
        migration_id=row.id,
        at=at,
        actor_id=actor.id,
        actor_email=actor.email,
        actor_name=actor.name,
        action=action,
        state_before=before,
        state_after=after,
        details=details,
    )


def note(unit: Unit, actor: Actor, action: str, details: dict[str, object]) -> None:
    """An audit entry that changes no state (a decision, a removal, a verified sign-in)."""
    row = unit.row
    unit.session.add(audit(unit.ctx.now(), row, actor, action, row.state, row.state, details))


def find(session: Session, organization: str | None) -> Migration:
    if organization is not None and organization.strip():
        name = organization.strip().casefold()
        found = (
            next(iter(active(session, name)), None)
            or session.exec(
                select(Migration)
                .where(func.lower(Migration.organization) == name)
                .order_by(col(Migration.id).desc())
            ).first()
        )
        if found is not None:
            return found
        raise WorkflowError(
            f"There is no migration of {organization.strip()}; start one with `start ORG TENANT`."
        )
    return _only_active(active(session))


def _only_active(active_rows: Sequence[Migration]) -> Migration:
    """The one migration in progress, when none is named, from `active`'s rows."""
    if len(active_rows) == 1:
        return active_rows[0]
    if not active_rows:
        raise WorkflowError("No migration is in progress; start one with `start ORG TENANT`.")
    names = ", ".join(sorted(row.organization for row in active_rows))
    raise WorkflowError(
        f"Several migrations are in progress ({names}); name the organization, e.g. `status ORG`."
    )


def find_or_latest(session: Session, organization: str | None) -> Migration:
    """`find`, but with nothing in progress and no name given, the newest migration, ended or not: what
    a completed migration left open stays in view."""
    if organization is not None and organization.strip():
        return find(session, organization)
    active_rows = active(session)
    if not active_rows:
        latest = session.exec(select(Migration).order_by(col(Migration.id).desc())).first()
        if latest is not None:
            return latest
    return _only_active(active_rows)


def active(session: Session, organization_key: str | None = None) -> Sequence[Migration]:
    if organization_key is None:
        return session.exec(_ACTIVE).all()
    return session.exec(_ACTIVE_NAMED, params={"key": organization_key}).all()


_ACTIVE = (
    select(Migration)
    .join(ActiveMigration, col(ActiveMigration.migration_id) == Migration.id)
    .order_by(col(Migration.id))
)
_ACTIVE_NAMED = _ACTIVE.where(ActiveMigration.organization_key == bindparam("key"))
"""Built once: every command finds its migration, and building the query and its cache key anew costs
about as much as running it."""


def deactivate(unit: Unit) -> None:
    """The migration ends (completed or cancelled): its organization is free again."""
    found = unit.session.exec(
        select(ActiveMigration).where(ActiveMigration.migration_id == unit.row.id)
    ).first()
    if found is not None:
        unit.session.delete(found)


def organization_name(ctx: Context, organization: str | None) -> str:
    if organization is not None and organization.strip():
        return organization.strip()
    with ctx.database.session() as session:  # the admins of an ended migration still read it
        return find_or_latest(session, None).organization


def status(session: Session, row: Migration) -> MigrationStatus:
    session.flush()  # what this unit changed (an approval requested or lapsed) counts, as in any ORM read
    pending = session.connection().execute(_PENDING_APPROVAL, {"migration": row.id}).scalars().first()
    return migration_status(row, pending)


_PENDING_APPROVAL = select(Approval.id).where(
    Approval.migration_id == bindparam("migration"), Approval.status == "pending"
)
"""Built once and run as plain SQL: every answer with a status reads it, and building it and passing it
through the ORM cost several times running it."""


def same_person(actor: Actor, other_id: str, other_email: str) -> bool:
    return actor.id == other_id or bool(actor.email and actor.email.casefold() == other_email.casefold())


def heartbeat(row: Migration, now: datetime) -> None:
    """Write the row even if nothing changed: the step shows it is alive, and the version check turns a
    rival's change (a cancel) into a conflict at this commit."""
    row.updated_at = now
    flag_modified(row, "updated_at")


def step_began(unit: Unit) -> AuditEntry:
    """The audit entry that took the migration into the step it is in: not a `resume` of it, so a resume
    after the process died or stopped goes on with the step the first run began."""
    row = unit.row
    began = unit.session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.migration_id == row.id,
            AuditEntry.state_after == row.state,
            col(AuditEntry.state_before) != row.state,
            AuditEntry.action != "resume",
        )
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    ).first()
    if began is None:
        raise RuntimeError(f"the migration is {row.state} with no audit entry that took it there")
    return began


def paced(
    unit: Unit, progress: StepProgress, action: str, began: AuditEntry, total: int, done_before: int = 0
) -> Paced:
    """`progress` paced for the step `began` (`step_began`), keyed by that entry, so a resume goes on with
    the first run's line and ends it. `total` is the whole step's, and `done_before` how many of them
    earlier runs of it finished (invited, removed): a resume counts on from there, not from zero."""
    settings = unit.ctx.settings
    step = f"migration-{unit.row.id}-step-{began.id}"
    return Paced(
        progress,
        step,
        action,
        total,
        clock=unit.ctx.now,
        every=settings.progress_every,
        began=began.at,
        done_before=done_before,
    )


def hhmm(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
