"""Who may not run admin commands, remembered, so nobody can use the bot to probe Azure DevOps.

A refused admin check is cached per person and organization, and a person whose checks keep failing
gets at most `limit` fresh look-ups per `window`: past it they are refused without asking Azure
DevOps at all. A look-up that fails (the organization does not exist, the service is down) counts as
a refusal, so the reply never tells a stranger whether an organization exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from workflows.directory import MicrosoftError
from workflows.errors import WorkflowError


class AdminGate:
    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        remember: timedelta = timedelta(minutes=10),
        limit: int = 3,
        window: timedelta = timedelta(hours=1),
    ) -> None:
        self._clock = clock
        self._remember = remember
        self._limit = limit
        self._window = window
        self._refused: dict[tuple[str, str], datetime] = {}
        self._lookups: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    def allows(self, person: str, organization: str, look_up: Callable[[], bool]) -> bool:
        """`look_up()` (True: an admin) unless a recent refusal or the person's rate limit answers first.

        A `WorkflowError` or `MicrosoftError` from `look_up` counts as a refusal.
        """
        key, now = (person, organization.casefold()), self._clock()
        with self._lock:
            until = self._refused.get(key)
            if until is not None and now < until:
                return False
            recent = [at for at in self._lookups.get(person, []) if now - at < self._window]
            if len(recent) >= self._limit:
                self._lookups[person] = recent
                return False
        try:
            allowed = look_up()
        except (WorkflowError, MicrosoftError):
            allowed = False
        with self._lock:
            if allowed:
                self._refused.pop(key, None)
            else:
                self._refused[key] = now + self._remember
                self._lookups[person] = [*recent, now]
        return allowed

    def lookups(self, person: str) -> int:
        """How many refused look-ups of `person` count against the limit now."""
        now = self._clock()
        with self._lock:
            return sum(1 for at in self._lookups.get(person, []) if now - at < self._window)
