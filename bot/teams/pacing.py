"""Teams' documented rate limits kept on the bot's side, so the Bot Connector rarely has to say 429.

msteams-docs `bots/how-to/rate-limit.md`: per bot per conversation 7 operations a second, 8 in 2 s,
60 in 30 s, 1,800 in an hour; per app per tenant 30 a second. Graph installs apps for users at 30
requests a second per app and tenant. The per-conversation windows are kept here, per process (one
person's messages go out one at a time); the per-tenant limits are shared by every process
(`bot.teams.budget`). A 429 that still comes (other bots) is honoured by whoever called.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

Window = tuple[float, int]
PER_CONVERSATION: tuple[Window, ...] = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
GRAPH_INSTALLS_PER_SECOND = 30.0
_CONVERSATIONS_REMEMBERED = 10_000
MARGIN = 0.02
_RECHECK_SECONDS = 0.01
"""How soon to look again when only operations still in flight fill a window."""


class Pacer:
    """Sliding windows per key: `slot` waits until an operation fits every window and counts it.

    Microsoft counts a request when it arrives, which is some time after it was let go here (queues,
    a busy host). So an operation in flight counts as happening now, and once its answer is back it
    counts from that moment, never earlier than Microsoft saw it: a window is never thought to have
    room that Microsoft still sees as full.
    """

    def __init__(
        self,
        windows: tuple[Window, ...],
        *,
        margin: float = MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._windows = tuple((seconds + margin, allowed) for seconds, allowed in windows)
        self._longest = max(seconds for seconds, _ in self._windows)
        self._clock = clock
        self._sleep = sleep
        self._done: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def slot(self, key: str = "") -> AsyncIterator[None]:
        """Around one request: waits for room, then holds its place until the answer is back."""
        while True:
            wait = self._wait(key)
            if wait <= 0:
                break
            await self._sleep(wait)
        self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            self._in_flight[key] -= 1
            self.note(key)

    def note(self, key: str) -> None:
        """Count an operation whose answer just came (creating a conversation counts in it, once known)."""
        self._done.setdefault(key, deque()).append(self._clock())
        if len(self._done) > _CONVERSATIONS_REMEMBERED:
            self._forget_idle(self._clock())

    def _wait(self, key: str) -> float:
        now = self._clock()
        times = self._done.setdefault(key, deque())
        while times and times[0] <= now - self._longest:
            times.popleft()
        flying = self._in_flight.get(key, 0)
        wait = 0.0
        for seconds, allowed in self._windows:
            inside = flying
            for moment in reversed(times):
                if moment <= now - seconds:
                    break
                inside += 1
            if inside >= allowed:
                room_after = allowed - flying  # completed operations that may stay in the window
                if room_after <= 0:
                    wait = max(wait, _RECHECK_SECONDS)
                else:
                    wait = max(wait, times[len(times) - room_after] + seconds - now)
        return wait

    def _forget_idle(self, now: float) -> None:
        idle = [
            key
            for key, times in self._done.items()
            if not self._in_flight.get(key) and (not times or times[-1] <= now - self._longest)
        ]
        for key in idle:
            self._done.pop(key, None)
            self._in_flight.pop(key, None)
