"""Which migrations the bot's watch reads the directory connection of, at each poll.

At the portal step (`connecting`) every poll: the connector is clicking now. Short of it, a click in the
portal is possible but rare, and such a migration may rest for weeks, so it is read every
`WorkflowSettings.early_look_every` (more often while an approval waits), the longest unread first, for at
most `early_looks_budget` of each poll: one Microsoft read a minute for each of them would be 1,440 a day.

When each was last read is kept in the database (`storage.ConnectionLook`): a restarted process goes on from
there instead of reading them all at once, and replicas sharing the database claim each look before reading
(`claim`), so however many there are, one of them reads a migration once a period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from storage import ConnectionLook, Database, Migration
from storage.inserts import insert_once
from workflows.machine import CONNECTION_WATCHED
from workflows.settings import WorkflowSettings

AT_THE_PORTAL_STEP = "connecting"


@dataclass(frozen=True)
class EarlyLook:
    """A migration short of the portal step whose look is due."""

    organization: str
    migration_id: int
    every: timedelta
    """Its period: the claim fails if another replica looked within it."""


@dataclass(frozen=True)
class Looks:
    at_the_portal_step: list[str]
    short_of_it: list[EarlyLook]
    """Due for a look, the longest unread first."""
    until: datetime
    """The poll's budget for the looks short of the portal step ends then."""


class LookSchedule:
    def __init__(self, database: Database, settings: WorkflowSettings) -> None:
        self._database = database
        self._settings = settings

    def due(self, now: datetime) -> Looks:
        with self._database.reading() as connection:
            rows = connection.execute(_WATCHED).all()
        at_step = list(dict.fromkeys(org for _, org, state, _ in rows if state == AT_THE_PORTAL_STEP))
        never = datetime.min.replace(tzinfo=now.tzinfo)
        due = sorted(
            (looked_at or never, migration_id, organization, self._every(state))
            for migration_id, organization, state, looked_at in rows
            if state != AT_THE_PORTAL_STEP and (looked_at or never) <= now - self._every(state)
        )
        return Looks(
            at_step,
            [EarlyLook(organization, migration_id, every) for _, migration_id, organization, every in due],
            now + self._settings.early_looks_budget,
        )

    def claim(self, look: EarlyLook, now: datetime) -> bool:
        """Mark `look` read at `now`, unless another process did within its period: True if this one reads.

        Counted when the read starts: one that fails is not retried before its time either. The UPDATE's
        condition is checked on the row as the database holds it once a rival's claim committed
        (PostgreSQL re-reads the row it waited for, SQLite has one writer at a time), so of two claims at
        once one wins."""
        with self._database.session() as session:
            claimed = session.connection().execute(
                update(ConnectionLook)
                .where(
                    col(ConnectionLook.migration_id) == look.migration_id,
                    col(ConnectionLook.looked_at) <= now - look.every,
                )
                .values(looked_at=now)
            )
            # never looked at, or a look too recent: the INSERT tells them apart (a rival's row wins)
            won = claimed.rowcount == 1 or insert_once(
                session,
                ConnectionLook(migration_id=look.migration_id, looked_at=now),
                unique=("migration_id",),
            )
            session.commit()
        return won

    def _every(self, state: str) -> timedelta:
        if state == "awaiting_approval":
            return self._settings.early_look_awaiting_approval_every
        return self._settings.early_look_every


_WATCHED = (
    select(Migration.id, Migration.organization, Migration.state, ConnectionLook.looked_at)
    .join(ConnectionLook, col(ConnectionLook.migration_id) == Migration.id, isouter=True)
    .where(col(Migration.state).in_(sorted(CONNECTION_WATCHED)))
    .order_by(col(Migration.id).desc())
)
"""Built once and run as plain SQL: every poll reads it."""
