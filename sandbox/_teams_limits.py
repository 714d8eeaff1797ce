"""Teams' documented limits: rates as sliding windows, answering how long to wait when one is full, and
a message's size (`MESSAGE_BYTES`).

msteams-docs `bots/how-to/rate-limit.md`: per bot per conversation 7 operations a second, 8 in 2 s, 60 in
30 s and 1,800 in an hour (sending and creating conversations alike); per app per tenant, 30 a second.
Graph's `concepts/throttling-limits.md`: installing an app for users, 30 requests a second per app and tenant.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any

Window = tuple[float, int]
"""(seconds, operations allowed within them)"""

PER_CONVERSATION: tuple[Window, ...] = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
PER_TENANT: tuple[Window, ...] = ((1.0, 30),)
GRAPH_INSTALLS: tuple[Window, ...] = ((1.0, 30),)

MESSAGE_BYTES = 100 * 1024
"""msteams-docs `bots/how-to/format-your-bot-messages.md` ("Regarding bot message size limit"): a bot's
message is refused over 100 KB, the message encoded as UTF-16 (80 KB advised; 40 KB until 2024, ~28 KB in
older pages), with 413 RequestEntityTooLarge and the error code `MessageSizeTooBig`."""


def message_bytes(activity: dict[str, Any]) -> int:
    """An activity's size as Teams counts it: its JSON in UTF-16, two bytes for every ASCII character."""
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le"))


class SlidingLimits:
    """Counts operations per key in every window; an operation over a limit is refused and not counted."""

    def __init__(self, windows: tuple[Window, ...], clock: Callable[[], float]) -> None:
        self._windows = windows
        self._clock = clock
        self._longest = max(seconds for seconds, _ in windows)
        self._seen: dict[str, deque[float]] = {}

    def wait(self, key: str) -> float:
        """0 when the operation may go now (and it is counted), else the seconds until it may."""
        now = self._clock()
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self._longest:
            times.popleft()
        longest_wait = 0.0
        for seconds, allowed in self._windows:
            inside = [moment for moment in times if moment > now - seconds]
            if len(inside) >= allowed:
                # the window frees a place when its oldest counted operation leaves it
                longest_wait = max(longest_wait, inside[-allowed] + seconds - now)
        if longest_wait > 0:
            return longest_wait
        times.append(now)
        return 0.0
