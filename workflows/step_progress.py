"""How far a long step has got (inviting or removing thousands of people takes minutes, one Microsoft call
each): a port the caller fills, so that chat can show a progress line while the workflow knows nothing of
chat. The step reports through `Paced`, so the caller hears often enough to see it move and seldom enough
for a chat message updated in place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

StepProgress = Callable[[int, int], None]
"""Called with how many of the step's people are done and how many it has."""

TENTHS = 10
"""Besides every `WorkflowSettings.progress_every`, a report each tenth of the way."""


def unheard(done: int, total: int) -> None:
    """For callers that show no progress (tests, a `resume`)."""


class Paced:
    """`report` at once (none done of `total`, when there are any), then once `every` has passed or
    another tenth of them is done since the last report (whichever comes first), and at the end. A report
    costs the caller a message update: for every person it would be thousands of them."""

    def __init__(
        self, report: StepProgress, total: int, clock: Callable[[], datetime], every: timedelta
    ) -> None:
        self._report = report
        self._total = total
        self._clock = clock
        self._every = every
        self._last = (0, clock())
        if total:
            report(0, total)

    def __call__(self, done: int) -> None:
        now, total = self._clock(), self._total
        last_done, last_at = self._last
        next_tenth = (last_done * TENTHS // total + 1) * total
        if done < total and done * TENTHS < next_tenth and now - last_at < self._every:
            return
        self._last = (done, now)
        self._report(done, total)
