"""How far a long step has got (inviting or removing thousands of people takes minutes, one Microsoft call
each): a port the caller fills, so that chat can show a progress line while the workflow knows nothing of
chat. The step reports through `Paced`, so the caller hears often enough to see it move and seldom enough
for a chat message updated in place, and not at all about a step over before anyone would wonder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType


@dataclass(frozen=True)
class StepReport:
    step: str
    """The step for good: its migration and the audit entry that began it, the last one that took the
    migration into its state and is no `resume` (`workflows.stages.unit.paced`), so that a resume after
    the process died goes on with, and ends, what the first run reported."""
    action: str
    """What the step does to each person: `invite` or `remove`."""
    done: int
    """How many of its people were asked about (or for) so far."""
    total: int
    succeeded: int
    """How many of `done` were invited (or removed): failures and refusals are the rest."""
    ended: bool = False
    """The last report: the step returned or broke off, having asked about `done` of `total`."""


StepProgress = Callable[[StepReport], None]
"""Called with each `StepReport` of a step."""

TENTHS = 10
"""Besides every `WorkflowSettings.progress_every`, a report each tenth of the way."""


def unheard(report: StepReport) -> None:
    """For callers that show no progress (tests, the command line)."""


class Paced:
    """Reports `report` hears: none until `every` has passed since the step `began` (a step of a few people
    adds no message), then once another `every` has passed or another tenth of them is done (whichever
    comes first), and, as a context manager, the exact counts at the end, whether the step returned or
    raised, once the step has run `every`. A report costs the caller a message update: for every person
    it would be thousands of them.

    `began` is when the step began, not this run of it: a `resume` long after the process died reports at
    once and ends the line the first run left saying "… done so far". Its counts are the whole step's:
    `done_before` of `total` were finished by earlier runs, and the step reports on from there."""

    def __init__(
        self,
        report: StepProgress,
        step: str,
        action: str,
        total: int,
        *,
        clock: Callable[[], datetime],
        every: timedelta,
        began: datetime,
        done_before: int = 0,
    ) -> None:
        self._report = report
        self._step, self._action, self._total = step, action, total
        self._clock = clock
        self._every = every
        self._began = began
        self._last: tuple[int, datetime] | None = None
        """How many were done at the last report, and when; None before the first."""
        self._done = self._succeeded = done_before
        """Until this run reports: what its earlier runs finished, each of them a success."""

    def __call__(self, done: int, succeeded: int) -> None:
        self._done, self._succeeded = done, succeeded
        now, total = self._clock(), self._total
        if done >= total:
            return  # the end says it, with the counts it ends with
        if self._last is None:
            if now - self._began < self._every:
                return
        else:
            last_done, last_at = self._last
            next_tenth = (last_done * TENTHS // total + 1) * total
            if done * TENTHS < next_tenth and now - last_at < self._every:
                return
        self._last = (done, now)
        self._report(StepReport(self._step, self._action, done, total, succeeded))

    def __enter__(self) -> Paced:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._last is None and self._clock() - self._began < self._every:
            return  # over before anyone would wonder: no line
        report = StepReport(self._step, self._action, self._done, self._total, self._succeeded, ended=True)
        self._report(report)
