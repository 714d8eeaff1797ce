"""What the admin gate (`workflows.admin_gate`) remembers of each person, and where it is kept.

`AdminMemory` is what the gate needs of a store. `InMemoryAdminMemory` keeps it in this process, for a
gate without a database; `storage.admin_gate.DatabaseAdminMemory` keeps it in the bot's database, so the
limits hold across every `serve` replica and a restart.

A look-up of an organization the person is not confirmed for is counted as a refusal from the moment it
begins until it is settled (or its lease ends, `workflows.admin_gate.LOOK_UP_LEASE`): two requests at once
(two threads, two replicas) each see the other's, so a prober firing many at once gets no more look-ups
than one asking one after the other.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

Outcome = Literal["admin", "refused", "unavailable"]

CONFIRMATIONS_KEPT = timedelta(days=30)
"""A confirmation not renewed for this long is forgotten: the next look-up confirms the admin again."""
RENEWED_AFTER = timedelta(days=1)
"""A confirmation is renewed once it is this old: an admin's every click is then a read, not a write."""

Answer = TypeVar("Answer")


@dataclass(frozen=True)
class Refusal:
    organization: str
    """Case-folded."""
    at: datetime
    remembered_until: datetime | None
    """None while the look-up is under way: it counts towards the limits for its lease, it is no remembered
    refusal."""


@dataclass(frozen=True)
class Confirmation:
    as_typed: str
    at: datetime


@dataclass(frozen=True)
class Remembered:
    """What the gate remembers of one person."""

    confirmed: Mapping[str, Confirmation]
    """The organizations their last look-up confirmed them an admin of, case-folded, in the order
    confirmed."""
    refusals: tuple[Refusal, ...]
    """Oldest first."""


@dataclass(frozen=True)
class LookUp:
    """A look-up under way, counted as a refusal until it is settled."""

    key: int


class AdminMemory(Protocol):
    def recall(self, person: str, *, now: datetime, since: datetime) -> Remembered:
        """What is remembered of `person`, refusals since `since`: only read, nothing held."""
        ...

    def begin_look_up(
        self,
        person: str,
        organization: str,
        *,
        now: datetime,
        since: datetime,
        answer: Callable[[Remembered], Answer | None],
    ) -> Answer | LookUp:
        """`answer`'s answer to what is remembered of `person`, read and acted on atomically: when it has
        none, a look-up of `organization` begins, counted as a refusal at `now` until it is settled.
        Everyone's refusals before `since`, and confirmations no longer kept, are forgotten."""
        ...

    def forget(self, *, now: datetime, since: datetime) -> None:
        """Everyone's refusals before `since`, and confirmations no longer kept at `now`."""
        ...

    def settle(
        self,
        person: str,
        organization: str,
        as_typed: str,
        *,
        look_up: LookUp | None,
        outcome: Outcome,
        now: datetime,
        remember_until: datetime,
    ) -> None:
        """The look-up's outcome (`look_up`: the one begun for it, if any). `admin`: it counts no more and
        `organization` is confirmed; `refused`: it counts as a refusal remembered until `remember_until`,
        and the confirmation is dropped; `unavailable`: it counts no more."""
        ...


@dataclass
class _Refusal:
    key: int
    organization: str
    at: datetime
    remembered_until: datetime | None


@dataclass
class _Person:
    confirmed: dict[str, Confirmation] = field(default_factory=dict)
    """By case-folded organization, in the order confirmed."""
    refusals: list[_Refusal] = field(default_factory=list)


class InMemoryAdminMemory:
    """One process's memory: a gate without a database, and the tests of the gate's rules."""

    def __init__(self) -> None:
        self._people: dict[str, _Person] = {}
        self._keys = itertools.count(1)
        self._lock = threading.Lock()

    def recall(self, person: str, *, now: datetime, since: datetime) -> Remembered:
        with self._lock:
            return self._remembered(person, now, since)

    def begin_look_up(
        self,
        person: str,
        organization: str,
        *,
        now: datetime,
        since: datetime,
        answer: Callable[[Remembered], Answer | None],
    ) -> Answer | LookUp:
        with self._lock:
            self._forget(now, since)
            answered = answer(self._remembered(person, now, since))
            if answered is not None:
                return answered
            key = next(self._keys)
            self._people.setdefault(person, _Person()).refusals.append(_Refusal(key, organization, now, None))
            return LookUp(key)

    def forget(self, *, now: datetime, since: datetime) -> None:
        with self._lock:
            self._forget(now, since)

    def settle(
        self,
        person: str,
        organization: str,
        as_typed: str,
        *,
        look_up: LookUp | None,
        outcome: Outcome,
        now: datetime,
        remember_until: datetime,
    ) -> None:
        with self._lock:
            yours = self._people.setdefault(person, _Person())
            begun = [
                refusal for refusal in yours.refusals if look_up is not None and refusal.key == look_up.key
            ]
            if outcome == "refused":
                yours.confirmed.pop(organization, None)
                if begun:
                    begun[0].remembered_until = remember_until
                else:
                    yours.refusals.append(_Refusal(next(self._keys), organization, now, remember_until))
            else:
                yours.refusals = [refusal for refusal in yours.refusals if refusal not in begun]
            if outcome == "admin":
                yours.confirmed.pop(organization, None)  # renewed: last in the order confirmed
                yours.confirmed[organization] = Confirmation(as_typed, now)

    def _remembered(self, person: str, now: datetime, since: datetime) -> Remembered:
        yours = self._people.get(person, _Person())
        kept_from = now - CONFIRMATIONS_KEPT
        return Remembered(
            confirmed={folded: kept for folded, kept in yours.confirmed.items() if kept.at >= kept_from},
            refusals=tuple(
                Refusal(refusal.organization, refusal.at, refusal.remembered_until)
                for refusal in yours.refusals
                if refusal.at >= since
            ),
        )

    def _forget(self, now: datetime, since: datetime) -> None:
        kept_from = now - CONFIRMATIONS_KEPT
        for person, yours in list(self._people.items()):
            yours.refusals = [refusal for refusal in yours.refusals if refusal.at >= since]
            yours.confirmed = {
                folded: kept for folded, kept in yours.confirmed.items() if kept.at >= kept_from
            }
            if not yours.refusals and not yours.confirmed:
                del self._people[person]
