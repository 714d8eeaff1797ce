"""Who administers an organization: its owner and Project Collection Administrators, cached briefly,
because chat asks on every click."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from workflows.admin_gate import ADMIN, AdminGate, AdminVerdict
from workflows.admin_memory import AdminMemory
from workflows.directory import Microsoft, MicrosoftError
from workflows.errors import WorkflowError
from workflows.results import Actor


class Administrators:
    def __init__(
        self,
        microsoft: Microsoft,
        clock: Callable[[], datetime],
        ttl: timedelta,
        *,
        gate_memory: AdminMemory | None = None,
    ) -> None:
        """`gate_memory`: where the gate keeps who was refused and confirmed (`workflows.admin_memory`)."""
        self._microsoft = microsoft
        self._clock = clock
        self._ttl = ttl
        self._gate = AdminGate(clock, memory=gate_memory, remember=ttl)
        self._cache: dict[str, tuple[datetime, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def verdict(self, organization: str, actor: Actor, extra_admin_ids: Sequence[str] = ()) -> AdminVerdict:
        """Owner or Project Collection Administrator (by email), or listed in `extra_admin_ids`; if not,
        why not (`workflows.admin_gate`)."""
        if actor.id in extra_admin_ids:
            return ADMIN
        if not actor.email:
            return AdminVerdict("refused")
        email = actor.email.strip().lower()
        # Refusals are remembered and limited per person and organization; no such organization is a
        # refusal too, so the answer never tells whether the organization exists.
        person = actor.id or email
        return self._gate.verdict(person, organization, lambda: email in self._emails(organization))

    def approvers(self, organization: str, *, exclude: Actor) -> list[str]:
        """Who may approve a request by `exclude`: the owner and administrators but them, lower-cased."""
        return [admin for admin in self.emails(organization) if admin != exclude.email.strip().lower()]

    def emails(self, organization: str) -> tuple[str, ...]:
        """Owner first, then the Project Collection Administrators, lower-cased."""
        try:
            return self._emails(organization)
        except MicrosoftError as error:
            raise WorkflowError(f"I could not check the administrators of {organization}: {error}") from None

    def _emails(self, organization: str) -> tuple[str, ...]:
        key, now = organization.casefold(), self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now < cached[0]:
            return cached[1]
        found = self._microsoft.organization(organization)
        admins = tuple(
            dict.fromkeys(a.strip().lower() for a in (found.owner or "", *found.administrators) if a.strip())
        )
        with self._lock:
            self._cache[key] = (now + self._ttl, admins)
        return admins
