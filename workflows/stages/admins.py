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

# A refusal is remembered and counted for every replica, so it must not rest on this process's admin list from
# before someone was made an admin: a list older than this is read again first. Not on every refusal: every
# FAQ question, help and App Home view checks the asker, and a wave of people asking would each cost Azure
# DevOps a read of the organization; at most one a minute per organization and process does.
REFUSAL_LIST_AGE = timedelta(minutes=1)


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
        return self._gate.verdict(person, organization, lambda: self._administers(organization, email))

    def forget_old_verdicts(self) -> None:
        self._gate.forget_old()

    def approvers(self, organization: str, *, exclude: Actor) -> list[str]:
        """Who may approve a request by `exclude`: the owner and administrators but them, lower-cased."""
        return [admin for admin in self.emails(organization) if admin != exclude.email.strip().lower()]

    def emails(self, organization: str) -> tuple[str, ...]:
        """Owner first, then the Project Collection Administrators, lower-cased."""
        try:
            cached = self._cached(organization)
            return cached[1] if cached is not None else self._fetch(organization)
        except MicrosoftError as error:
            raise WorkflowError(f"I could not check the administrators of {organization}: {error}") from None

    def who_can_act(self, organization: str) -> tuple[str, ...]:
        """`emails`, for a person waiting on the admins; none when Azure DevOps cannot say (their message
        then says "the migration admins" rather than not going out)."""
        try:
            return self.emails(organization)
        except WorkflowError:
            return ()

    def _administers(self, organization: str, email: str) -> bool:
        cached = self._cached(organization)
        if cached is not None:
            fetched_at, admins = cached
            if email in admins or self._clock() < fetched_at + REFUSAL_LIST_AGE:
                return email in admins
        return email in self._fetch(organization)

    def _cached(self, organization: str) -> tuple[datetime, tuple[str, ...]] | None:
        """When the organization's list was read, and the list, while it is kept."""
        with self._lock:
            cached = self._cache.get(organization.casefold())
        return cached if cached is not None and self._clock() < cached[0] + self._ttl else None

    def _fetch(self, organization: str) -> tuple[str, ...]:
        found = self._microsoft.administrators(organization)
        admins = tuple(dict.fromkeys(a.strip().lower() for a in found if a.strip()))
        with self._lock:
            self._cache[organization.casefold()] = (self._clock(), admins)  # when it was read
        return admins
