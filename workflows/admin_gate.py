"""Who may not run admin commands, remembered, so nobody can use the bot to probe Azure DevOps.

A refused admin check is remembered per person and organization. A person gets at most `limit` refused
look-ups of one organization per `window`, and refused look-ups of at most `organizations` different
organizations per `window`: past either they are refused without asking Azure DevOps at all, which
bounds what probing costs. An organization that does not exist is refused like one the person does not
administer, so the reply never tells a stranger whether an organization exists.

What the limits must not do is lock an admin out: a person whose last look-up of an organization
confirmed them is never limited for it (a few typos of other names change nothing), and a look-up
that failed for another reason (Azure DevOps down, the bot's own credentials) is not a refusal: it is
neither remembered nor counted, and the verdict says why it failed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from workflows.directory import MicrosoftError, OrganizationNotFound
from workflows.errors import WorkflowError

VerdictKind = Literal["admin", "refused", "limited", "unavailable"]


@dataclass(frozen=True)
class AdminVerdict:
    """`refused`: not an admin, or no such organization (told apart for nobody). `limited`: refused
    without asking, too many refused look-ups. `unavailable`: the look-up failed, `reason` says how.

    `wait`: how long the answer stands (`refused`: remembered; `limited`: until a look-up is free again).
    `confirmed`: the organizations this person was last confirmed an admin of, to point a typo home.
    """

    kind: VerdictKind
    wait: timedelta = timedelta(0)
    reason: str = ""
    confirmed: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.kind == "admin"


ADMIN = AdminVerdict("admin")


class AdminGate:
    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        remember: timedelta = timedelta(minutes=10),
        limit: int = 3,
        organizations: int = 5,
        window: timedelta = timedelta(hours=1),
    ) -> None:
        self._clock = clock
        self._remember = remember
        self._limit = limit
        self._organizations = organizations
        self._window = window
        self._refused_until: dict[tuple[str, str], datetime] = {}
        self._refusals: dict[str, list[tuple[datetime, str]]] = {}  # person: (when, organization)
        self._confirmed: dict[str, dict[str, str]] = {}  # person: {folded organization: as typed}
        self._lock = threading.Lock()

    def allows(self, person: str, organization: str, look_up: Callable[[], bool]) -> bool:
        return self.verdict(person, organization, look_up).allowed

    def verdict(self, person: str, organization: str, look_up: Callable[[], bool]) -> AdminVerdict:
        """`look_up()` (True: an admin; `OrganizationNotFound`: no such organization) unless a remembered
        refusal or a limit answers first. Any other `WorkflowError` or `MicrosoftError` is `unavailable`."""
        folded, now = organization.casefold(), self._clock()
        with self._lock:
            early = self._answer_without_asking(person, folded, now)
        if early is not None:
            return early
        try:
            allowed = look_up()
        except OrganizationNotFound:
            allowed = False
        except (WorkflowError, MicrosoftError) as error:
            return AdminVerdict("unavailable", reason=str(error), confirmed=self._confirmed_of(person))
        with self._lock:
            yours = self._confirmed.setdefault(person, {})
            if allowed:
                yours[folded] = organization
                self._refused_until.pop((person, folded), None)
                return ADMIN
            yours.pop(folded, None)
            self._refused_until[(person, folded)] = now + self._remember
            self._refusals[person] = [*self._recent(person, now), (now, folded)]
            return AdminVerdict("refused", self._remember, confirmed=tuple(yours.values()))

    def _answer_without_asking(self, person: str, folded: str, now: datetime) -> AdminVerdict | None:
        yours = self._confirmed.get(person, {})
        if folded in yours:
            return None  # a confirmed admin is asked about again, never limited
        confirmed = tuple(yours.values())
        until = self._refused_until.get((person, folded))
        if until is not None and now < until:
            return AdminVerdict("refused", until - now, confirmed=confirmed)
        recent = self._recent(person, now)
        self._refusals[person] = recent
        of_this = [at for at, refused in recent if refused == folded]
        if len(of_this) >= self._limit:
            free_at = of_this[len(of_this) - self._limit] + self._window
            return AdminVerdict("limited", free_at - now, confirmed=confirmed)
        last_refused = {refused: at for at, refused in recent}  # an organization counts until its last
        if folded not in last_refused and len(last_refused) >= self._organizations:
            leaving = sorted(last_refused.values())
            free_at = leaving[len(leaving) - self._organizations] + self._window
            return AdminVerdict("limited", free_at - now, confirmed=confirmed)
        return None

    def _recent(self, person: str, now: datetime) -> list[tuple[datetime, str]]:
        return [(at, refused) for at, refused in self._refusals.get(person, []) if now - at < self._window]

    def _confirmed_of(self, person: str) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._confirmed.get(person, {}).values())
