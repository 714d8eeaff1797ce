"""What the Slack app must remember between requests: copies of shared messages, and requests already seen.

A Protocol so that the database can hold it in production; `InMemorySlackState` serves tests and a
single process. Methods are async so that a database implementation may hop to a thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

REQUEST_MEMORY_SECONDS = 3600.0
"""Slack retries a delivery within minutes; an hour of memory covers every retry and replay window."""


@dataclass(frozen=True)
class MessageCopy:
    channel: str
    ts: str


class SlackState(Protocol):
    async def claim_request(self, request_id: str) -> bool:
        """True the first time `request_id` is seen (atomically), False for a retry or replay."""
        ...

    async def copies(self, key: str) -> list[MessageCopy]:
        """Every posted copy of the message that `key` stands for, oldest first."""
        ...

    async def add_copy(self, key: str, copy: MessageCopy) -> None: ...


class InMemorySlackState:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._copies: dict[str, list[MessageCopy]] = {}

    async def claim_request(self, request_id: str) -> bool:
        now = self._clock()
        self._forget_before(now - REQUEST_MEMORY_SECONDS)
        if request_id in self._seen:
            return False
        self._seen[request_id] = now
        return True

    async def copies(self, key: str) -> list[MessageCopy]:
        return list(self._copies.get(key, ()))

    async def add_copy(self, key: str, copy: MessageCopy) -> None:
        known = self._copies.setdefault(key, [])
        if copy not in known:
            known.append(copy)

    def _forget_before(self, cutoff: float) -> None:
        # dicts keep insertion order, so the oldest entries come first
        for request_id, seen_at in list(self._seen.items()):
            if seen_at >= cutoff:
                break
            del self._seen[request_id]
