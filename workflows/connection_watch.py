"""Which migrations the bot's watch reads the directory connection of, at each poll.

At the portal step (`connecting`) every poll: the connector is clicking now. Short of it, a click in the
portal is possible but rare, and such a migration may rest for weeks, so it is read every
`WorkflowSettings.early_look_every` (more often while an approval waits), the longest unread first, for at
most `early_looks_budget` of each poll: one Microsoft read a minute for each of them would be 1,440 a day.
This process remembers when it last read each one: after a restart it reads them all at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from workflows.settings import WorkflowSettings

AT_THE_PORTAL_STEP = "connecting"


@dataclass(frozen=True)
class Looks:
    at_the_portal_step: list[str]
    short_of_it: list[str]
    """Due for a look, the longest unread first."""
    until: datetime
    """The poll's budget for the looks short of the portal step ends then."""


class LookSchedule:
    def __init__(self, settings: WorkflowSettings) -> None:
        self._settings = settings
        self._last_read: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def due(self, watched: list[tuple[str, str]], now: datetime) -> Looks:
        """`watched`: (organization, state) of every migration the watch looks at."""
        at_step = [organization for organization, state in watched if state == AT_THE_PORTAL_STEP]
        with self._lock:
            resting = {organization: state for organization, state in watched if state != AT_THE_PORTAL_STEP}
            self._last_read = {org: at for org, at in self._last_read.items() if org in resting}
            never = datetime.min.replace(tzinfo=now.tzinfo)
            due = sorted(
                (self._last_read.get(organization, never), organization)
                for organization, state in resting.items()
                if self._last_read.get(organization, never) <= now - self._every(state)
            )
        return Looks(
            at_step, [organization for _, organization in due], now + self._settings.early_looks_budget
        )

    def reading(self, organization: str, now: datetime) -> None:
        """Counted when the read starts: one that fails is not retried before its time either."""
        with self._lock:
            self._last_read[organization] = now

    def _every(self, state: str) -> timedelta:
        if state == "awaiting_approval":
            return self._settings.early_look_awaiting_approval_every
        return self._settings.early_look_every
