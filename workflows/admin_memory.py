"""What the admin gate (`workflows.admin_gate`) remembers of each person, and where it is kept.

`AdminMemory` is what the gate needs of a store. `InMemoryAdminMemory` keeps it in this process, for a
gate without a database; `storage.admin_gate.DatabaseAdminMemory` keeps it in the bot's database, so the
limits hold across every `serve` replica and a restart.

A look-up of an organization the person is not confirmed for is counted as a refusal from the moment it
begins until it is settled (or its lease ends, `workflows.admin_gate.LOOK_UP_LEASE`): two requests at once
(two threads, two replicas) each see the other's, so a prober firing many at once gets no more look-ups
than one asking one after the other.

What the rules no longer read (`Kept`) is never recalled, and is deleted by `forget` alone: the bot's watch
calls it, so a look-up does not also sweep everyone's rows.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, Protocol, TypeVar

Outcome = Literal["admin", "refused", "unavailable"]

Answer = TypeVar("Answer")


class MemoryFailed(Exception):
    """The memory could not be read or written (its database locked, a connection lost): the gate answers
    `unavailable`. The message is the failure's kind only, since what a database error says may name the
    person."""


@dataclass(frozen=True)
class Kept:
    """What the gate's rules still read (`workflows.admin_gate` sets both): a store recalls nothing older,
    and forgets it."""

    refusals_from: datetime
    confirmations_from: datetime


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


@dataclass(frozen=True)
class Recalled(Generic[Answer]):
    """What `AdminMemory.recall` found of a person: `answer` when the gate answered from it, else the
    look-up begun (None: a confirmed admin's, not counted)."""

    remembered: Remembered
    answer: Answer | None = None
    look_up: LookUp | None = None


def answered_from(
    remembered: Remembered, organization: str, answer: Callable[[Remembered], Answer | None]
) -> Recalled[Answer] | None:
    """What `recall` returns without counting a look-up: a confirmed admin's, or `answer`'s; None when a
    look-up is to begin. One rule for every store."""
    if organization in remembered.confirmed:
        return Recalled(remembered)
    answered = answer(remembered)
    return None if answered is None else Recalled(remembered, answered)


class AdminMemory(Protocol):
    def recall(
        self,
        person: str,
        as_typed: str,
        *,
        now: datetime,
        kept: Kept,
        answer: Callable[[Remembered], Answer | None],
    ) -> Recalled[Answer]:
        """What is remembered of `person` and, unless they are confirmed an admin of the organization typed
        `as_typed` (asked about again, never limited nor counted), `answer`'s answer to it. When it has
        none, a look-up of it begins, counted as a refusal at `now` until it is settled: what is
        remembered is read again, `answer` asked again and the look-up counted atomically, so look-ups at
        once each count the others. An answer from memory only reads."""
        ...

    def forget(self, *, kept: Kept) -> None:
        """Everyone's refusals and confirmations older than `kept`."""
        ...

    def settle(
        self,
        person: str,
        as_typed: str,
        *,
        look_up: LookUp | None,
        outcome: Outcome,
        now: datetime,
        remember_until: datetime,
    ) -> None:
        """The outcome of the look-up of the organization typed `as_typed` (`look_up`: the one begun for it,
        if any). `admin`: it counts no more and the organization is confirmed; `refused`: it counts as a
        refusal remembered until `remember_until`, and the confirmation is dropped; `unavailable`: it counts
        no more."""
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

    def recall(
        self,
        person: str,
        as_typed: str,
        *,
        now: datetime,
        kept: Kept,
        answer: Callable[[Remembered], Answer | None],
    ) -> Recalled[Answer]:
        organization = as_typed.casefold()
        with self._lock:  # read, answered and counted in one step
            remembered = self._remembered(person, kept)
            early = answered_from(remembered, organization, answer)
            if early is not None:
                return early
            key = next(self._keys)
            self._people.setdefault(person, _Person()).refusals.append(_Refusal(key, organization, now, None))
            return Recalled(remembered, look_up=LookUp(key))

    def forget(self, *, kept: Kept) -> None:
        with self._lock:
            for person, yours in list(self._people.items()):
                still = _kept(yours, kept)
                if still.refusals or still.confirmed:
                    self._people[person] = still
                else:
                    del self._people[person]

    def settle(
        self,
        person: str,
        as_typed: str,
        *,
        look_up: LookUp | None,
        outcome: Outcome,
        now: datetime,
        remember_until: datetime,
    ) -> None:
        organization = as_typed.casefold()
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

    def _remembered(self, person: str, kept: Kept) -> Remembered:
        yours = _kept(self._people.get(person, _Person()), kept)
        return Remembered(
            confirmed=yours.confirmed,
            refusals=tuple(
                Refusal(refusal.organization, refusal.at, refusal.remembered_until)
                for refusal in yours.refusals
            ),
        )


def _kept(yours: _Person, kept: Kept) -> _Person:
    """What the rules still read of `yours`; the same rows `storage.admin_gate` recalls and keeps."""
    return _Person(
        confirmed={
            folded: confirmation
            for folded, confirmation in yours.confirmed.items()
            if confirmation.at >= kept.confirmations_from
        },
        refusals=[refusal for refusal in yours.refusals if refusal.at >= kept.refusals_from],
    )
