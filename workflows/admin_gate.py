"""Who may not run admin commands, remembered, so nobody can use the bot to probe Azure DevOps.

A refused admin check is remembered per person and organization. A person gets at most `limit` refused
look-ups of one organization per `window`, and refused look-ups of at most `organizations` different
organizations per `window`: past either they are refused without asking Azure DevOps at all, which
bounds what probing costs. An organization that does not exist is refused like one the person does not
administer, so the reply never tells a stranger whether an organization exists.

What the limits must not do is lock an admin out: a person whose last look-up of an organization
confirmed them is never limited for it (a few typos of other names change nothing), and a look-up
that failed for another reason (Azure DevOps down, the bot's own credentials, a bug) is not a refusal: it
is neither remembered nor counted, and the verdict says why it failed. A look-up under way counts, so
requests at once get no more look-ups than requests one after the other, but only for `LOOK_UP_LEASE`:
one whose process died, or whose outcome could not be written, stops counting on its own. An admin Azure
DevOps confirmed is let through even when that outcome cannot be written: nothing else reads it.

The bot keeps all this in its database (`workflows.admin_memory`), so a prober round-robined across
several `serve` replicas, or waiting for a restart, gets no more look-ups than from one process. When that
database fails before Azure DevOps is asked, or as a refusal is written, the check is `unavailable` like
an Azure DevOps outage: refused, held against nobody.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from workflows.admin_memory import (
    AdminMemory,
    Confirmation,
    InMemoryAdminMemory,
    Kept,
    LookUp,
    MemoryFailed,
    Outcome,
    Remembered,
)
from workflows.directory import MicrosoftError, MissingPermission, OrganizationNotFound
from workflows.errors import WorkflowError

log = logging.getLogger(__name__)

VerdictKind = Literal["admin", "refused", "limited", "unavailable"]

CONFIRMATIONS_KEPT = timedelta(days=30)
"""A confirmation not renewed for this long is forgotten: the next look-up confirms the admin again."""
RENEWED_AFTER = timedelta(days=1)
"""A confirmation is renewed once it is this old: an admin's every click is then a read, not a write."""
MEMORY_FAILED = "my own records of admin checks are not answering"
"""The `unavailable` reason when the memory fails (its database locked or gone), reading or writing."""

LOOK_UP_LEASE = timedelta(minutes=3)
"""How long a look-up under way counts as a refusal unless settled first. Its Azure DevOps requests are
each tried at most 5 times, 30 s each, with 7.5 s of backoff in all (`msapi._http.HttpSession`): 157.5 s
before one gives up. A little over that keeps a live look-up counted while it runs, and lets one that is
never settled (its process died, the database failed to record the outcome) stop limiting a real admin
within minutes, not the hour a refusal counts. A look-up slowed down further (Azure DevOps throttling,
many requests each nearly failing) stops counting early: the limits loosen only while it is that slow."""


@dataclass(frozen=True)
class AdminVerdict:
    """`refused`: not an admin, or no such organization (told apart for nobody). `limited`: refused
    without asking, too many refused look-ups. `unavailable`: the look-up failed, `reason` says how.

    `wait`: how long the answer stands (`refused`: remembered; `limited`: until a look-up is free again).
    `confirmed`: the organizations this person was last confirmed an admin of, to point a typo home.
    `operators_must_fix`: `unavailable` until the bot's operators act (its credentials lack a permission),
    so asking again later does not help.
    """

    kind: VerdictKind
    wait: timedelta = timedelta(0)
    reason: str = ""
    confirmed: tuple[str, ...] = ()
    operators_must_fix: bool = False

    @property
    def allowed(self) -> bool:
        return self.kind == "admin"


ADMIN = AdminVerdict("admin")


class AdminGate:
    """The rules; what they remember is kept in `memory` (`workflows.admin_memory`): this process's own
    unless given the database's, which every replica shares."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        memory: AdminMemory | None = None,
        remember: timedelta = timedelta(minutes=10),
        limit: int = 3,
        organizations: int = 5,
        window: timedelta = timedelta(hours=1),
        lease: timedelta = LOOK_UP_LEASE,
    ) -> None:
        self._clock = clock
        self._memory = memory or InMemoryAdminMemory()
        self._remember = remember
        self._limit = limit
        self._organizations = organizations
        self._window = window
        self._lease = lease

    def allows(self, person: str, organization: str, look_up: Callable[[], bool]) -> bool:
        return self.verdict(person, organization, look_up).allowed

    def verdict(self, person: str, organization: str, look_up: Callable[[], bool]) -> AdminVerdict:
        """`look_up()` (True: an admin; `OrganizationNotFound`: no such organization) unless a remembered
        refusal or a limit answers first. Any other `WorkflowError` or `MicrosoftError`, or the memory
        failing before Azure DevOps is asked or as a refusal is written, is `unavailable`; any other
        exception is raised, the look-up settled as unavailable first."""
        try:
            return self._verdict(person, organization, look_up)
        except MemoryFailed as error:
            # the kind only: what a database error says may name the person
            log.warning("checking an admin of %s failed (%s): answered unavailable", organization, error)
            return AdminVerdict("unavailable", reason=MEMORY_FAILED)

    def _verdict(self, person: str, organization: str, look_up: Callable[[], bool]) -> AdminVerdict:
        folded, now = organization.casefold(), self._clock()
        # a confirmed admin is asked about again, never limited; a prober answered from memory writes nothing
        recalled = self._memory.recall(
            person,
            organization,
            now=now,
            kept=self._kept(now),
            answer=lambda remembered: self._answer_without_asking(remembered, folded, now),
        )
        if recalled.answer is not None:
            return recalled.answer
        remembered, begun = recalled.remembered, recalled.look_up
        outcome: Outcome
        try:
            outcome = "admin" if look_up() else "refused"
        except OrganizationNotFound:
            outcome = "refused"
        except (WorkflowError, MicrosoftError) as error:  # Azure DevOps's reason is the one to tell
            if begun is not None:
                self._settle(person, organization, begun, "unavailable", now)
            return AdminVerdict(
                "unavailable",
                reason=str(error),
                confirmed=_as_typed(remembered, ()),
                operators_must_fix=isinstance(error, MissingPermission),
            )
        except BaseException:  # a bug, an interrupt: no refusal either, and the caller hears of it
            if begun is not None:
                self._settle(person, organization, begun, "unavailable", now)
            raise
        if outcome == "admin":  # Azure DevOps said yes: that stands without the record
            if begun is not None or _to_renew(remembered.confirmed.get(folded), organization, now):
                self._settle(person, organization, begun, outcome, now)
            return ADMIN
        self._settle(person, organization, begun, outcome, now)
        return AdminVerdict("refused", self._remember, confirmed=_as_typed(remembered, (folded,)))

    def forget_old(self) -> None:
        """Forget what the rules no longer read, everyone's: for a periodic look (the bot's watch), the only
        one to, so that no look-up pays for sweeping everyone's rows and a quiet bot does not keep the last
        refusals (who asked, and about what). `MemoryFailed` if the memory fails."""
        self._memory.forget(kept=self._kept(self._clock()))

    def _kept(self, now: datetime) -> Kept:
        """What the rules still read at `now`: the window, a refusal's memory, a confirmation's."""
        return Kept(
            refusals_from=now - max(self._window, self._remember),
            confirmations_from=now - CONFIRMATIONS_KEPT,
        )

    def _settle(
        self,
        person: str,
        organization: str,
        begun: LookUp | None,
        outcome: Outcome,
        now: datetime,
    ) -> None:
        """Raises what the memory raised recording a refusal, whose wait is told from the record. Any other
        outcome's verdict stands without it, the memory failing or a bug: the failure is logged, the
        exception a look-up raised is raised as it was, and a look-up left unsettled stops counting when
        its lease ends. An admin's look-up that a bug left unsettled is settled as unavailable instead:
        she would be asked about again at every command, each look-up counted, and limited."""
        try:
            self._memory.settle(
                person,
                organization,
                look_up=begun,
                outcome=outcome,
                now=now,
                remember_until=now + self._remember,
            )
        except MemoryFailed as error:
            if outcome == "refused":
                raise
            # the kind only: what a database error says may name the person
            log.warning("recording an admin check of %s as %s failed (%s)", organization, outcome, error)
        except Exception as error:
            if outcome == "refused":
                raise
            # where, to fix it, but not what it says: a database's error can quote the row it refused
            log.error(
                "recording an admin check of %s as %s failed (%s), a bug; traceback:\n%s",
                organization,
                outcome,
                _kinds(error),
                "".join(traceback.format_tb(error.__traceback__)).rstrip(),
            )
            if outcome == "admin" and begun is not None:  # a bug writing her confirmation, say
                self._settle(person, organization, begun, "unavailable", now)

    def _answer_without_asking(
        self, remembered: Remembered, folded: str, now: datetime
    ) -> AdminVerdict | None:
        confirmed = _as_typed(remembered, ())
        until = max(
            (
                refusal.remembered_until
                for refusal in remembered.refusals
                if refusal.organization == folded and refusal.remembered_until is not None
            ),
            default=None,
        )
        if until is not None and now < until:
            return AdminVerdict("refused", until - now, confirmed=confirmed)
        # each counts until it leaves the window, a look-up still under way until its lease ends
        counted = [
            (
                refusal.organization,
                refusal.at + (self._lease if refusal.remembered_until is None else self._window),
            )
            for refusal in remembered.refusals
        ]
        counted = [(refused, until) for refused, until in counted if now < until]
        of_this = sorted(until for refused, until in counted if refused == folded)
        if len(of_this) >= self._limit:
            free_at = of_this[len(of_this) - self._limit]
            return AdminVerdict("limited", free_at - now, confirmed=confirmed)
        last_counted: dict[str, datetime] = {}  # an organization counts until its last refusal leaves
        for refused, until in counted:
            last_counted[refused] = max(until, last_counted.get(refused, until))
        if folded not in last_counted and len(last_counted) >= self._organizations:
            leaving = sorted(last_counted.values())
            free_at = leaving[len(leaving) - self._organizations]
            return AdminVerdict("limited", free_at - now, confirmed=confirmed)
        return None


def _kinds(error: BaseException) -> str:
    """`error`'s class, and its cause's: a database error's says which one the driver raised."""
    cause = error.__cause__
    return type(error).__name__ if cause is None else f"{type(error).__name__} from {type(cause).__name__}"


def _to_renew(known: Confirmation | None, as_typed: str, now: datetime) -> bool:
    """Whether an admin's confirmation is to be written again: new, typed otherwise, or getting old."""
    return known is None or known.as_typed != as_typed or now - known.at >= RENEWED_AFTER


def _as_typed(remembered: Remembered, but: tuple[str, ...]) -> tuple[str, ...]:
    """The organizations `remembered` confirms, as typed, but the case-folded ones in `but`."""
    return tuple(kept.as_typed for folded, kept in remembered.confirmed.items() if folded not in but)
