"""Teams' documented rate limits kept on the bot's side, so the Bot Connector rarely has to say 429.

msteams-docs `bots/how-to/rate-limit.md`: per bot per conversation 7 operations a second, 8 in 2 s,
60 in 30 s, 1,800 in an hour; per app per tenant 30 a second. Graph installs apps for users at 30
requests a second per app and tenant. One process keeps these; a 429 that still comes (other processes,
other bots) is honoured by whoever called.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Window = tuple[float, int]
PER_CONVERSATION: tuple[Window, ...] = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
PER_TENANT: tuple[Window, ...] = ((1.0, 30),)
GRAPH_INSTALLS: tuple[Window, ...] = ((1.0, 30),)
_CONVERSATIONS_REMEMBERED = 10_000
CONVERSATION_MARGIN = 0.1
TENANT_MARGIN = 0.1
"""A 429 stops every send for at least a second (`Retry-After` is whole seconds): 100 ms of margin, which
keeps 91% of the tenant's rate, costs less than the pauses that arrival jitter would cause on a busy host."""


class Pacer:
    """Sliding windows per key; `acquire` waits until an operation fits every window, then counts it."""

    def __init__(
        self,
        windows: tuple[Window, ...],
        *,
        margin: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        # Microsoft counts a request when it arrives, a little after it is counted here: each window is
        # kept `margin` seconds longer, so a request never lands inside a window that is still full.
        self._windows = tuple((seconds + margin, allowed) for seconds, allowed in windows)
        self._longest = max(seconds for seconds, _ in self._windows)
        self._clock = clock
        self._sleep = sleep
        self._seen: dict[str, deque[float]] = {}

    async def acquire(self, key: str = "") -> None:
        while True:
            wait = self._wait(key)
            if wait <= 0:
                return
            await self._sleep(wait)

    def note(self, key: str) -> None:
        """Count an operation that already happened (creating a conversation counts in it, once known)."""
        self._seen.setdefault(key, deque()).append(self._clock())

    def _wait(self, key: str) -> float:
        now = self._clock()
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self._longest:
            times.popleft()
        wait = 0.0
        for seconds, allowed in self._windows:
            inside = 0
            for moment in reversed(times):
                if moment <= now - seconds:
                    break
                inside += 1
            if inside >= allowed:
                wait = max(wait, times[len(times) - allowed] + seconds - now)
        if wait <= 0:
            times.append(now)
            if len(self._seen) > _CONVERSATIONS_REMEMBERED:
                self._forget_idle(now)
        return wait

    def _forget_idle(self, now: float) -> None:
        for key in [
            key for key, times in self._seen.items() if not times or times[-1] <= now - self._longest
        ]:
            del self._seen[key]
