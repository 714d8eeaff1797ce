"""The rehearsal clock of `aadbot chat`: `:later 1d` lives the next day as `serve` would, in a moment.

The chat's runtime reads the time from a `RehearsalClock`. Moving it forward walks the clock through the
span from one moment the background look has work (`workflows.due`) to the next, and at each runs what
`serve` runs in the background (the connection watch, the reminders and sign-in checks, the outbox),
printing what each person receives under the time it arrives. No sleeping: only the clock moves.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.conversation.messages import Channel, DirectMessage, Outgoing
from workflows.due import Due

LONGEST = timedelta(weeks=4)
"""A migration's reminders are over within weeks; a longer span is more likely a typo."""
_SPAN = re.compile(r"^(?P<count>\d{1,3})\s*(?P<unit>m|min|h|d|w)$")
_UNITS = {"m": timedelta(minutes=1), "min": timedelta(minutes=1), "h": timedelta(hours=1)}
_UNITS |= {"d": timedelta(days=1), "w": timedelta(weeks=1)}
USAGE = (
    "Say how far to move the clock: `:later 3h`, `:later 1d`, `:later 1w` (minutes m, hours h, days d,"
    " weeks w)."
)


class RehearsalClock:
    """The real time plus however far the rehearsal moved it; thread-safe, never goes back.

    While `:later` walks through a span the clock stands still at each step (`stand_at`), as a test's
    clock does: everything due at 09:00 happens at 09:00, however long the look at it takes."""

    def __init__(self, real: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._real = real
        self._ahead = timedelta(0)
        self._standing: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._standing or self._real() + self._ahead

    @property
    def ahead(self) -> timedelta:
        with self._lock:
            return self._ahead

    def stand_at(self, moment: datetime) -> None:
        with self._lock:
            self._standing = max(moment, self._standing or moment)

    def walk_on(self) -> None:
        """Run again from where it stands."""
        with self._lock:
            if self._standing is not None:
                self._ahead = max(self._ahead, self._standing - self._real())
            self._standing = None


def span_of(text: str) -> timedelta:
    """`3h`, `1d`, `2w`, `90m` as a duration; ValueError (with the usage) otherwise."""
    match = _SPAN.match(text.strip().lower())
    if match is None:
        raise ValueError(USAGE)
    span = int(match["count"]) * _UNITS[match["unit"]]
    if not timedelta(0) < span <= LONGEST:
        raise ValueError(f"Move the clock by more than nothing and at most four weeks. {USAGE}")
    return span


def live_through(
    clock: RehearsalClock,
    span: timedelta,
    *,
    look: Callable[[], list[Outgoing]],
    next_due: Callable[[], Due],
    show: Callable[[datetime, list[Outgoing]], None],
    look_every: timedelta,
    stride: timedelta | None = None,
) -> list[Outgoing]:
    """Move `clock` by `span`, calling `look` (what `serve` runs in the background) when it has work and
    `show` with what it delivered there; everything delivered, in order.

    The first look comes `look_every` after what was typed, as `serve`'s next look would, and each
    sign-in read then due is made at its moment. Nobody acts while the clock walks, so Microsoft's side
    stays as the typed commands left it and a second read would find nothing new: from there the walk
    goes from one moment due with time alone to the next. Something overdue is done at the next look,
    `look_every` on. `stride`: at most this long between two looks (a test walks by the hour to show the
    due moments miss nothing)."""
    now = clock()
    end = now + span
    clock.stand_at(now)
    first = now + look_every
    reads = {max(first, moment) for moment in next_due().reads}
    received: list[Outgoing] = []
    try:
        while now < end:  # the clock stands at `now`: from before the walk, then from the last look
            due = next_due().by_clock
            moments = [moment for moment in (first, *reads) if moment > now]
            if due is not None:
                moments.append(due if due > now else now + look_every)
            if stride is not None:
                moments.append(now + stride)
            now = min([end, *moments])
            clock.stand_at(now)
            arrived = look()
            if arrived:
                show(now, arrived)
                received.extend(arrived)
    finally:
        clock.walk_on()
    return received


def when(moment: datetime) -> str:
    """`Tuesday 1 December, 09:00 UTC`: the day of the week matters for working hours."""
    utc = moment.astimezone(UTC)
    return f"{utc:%A} {utc.day} {utc:%B}, {utc:%H:%M} UTC"


def duration(ahead: timedelta) -> str:
    days, seconds = ahead.days, ahead.seconds
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    return " ".join(parts) or "no time"


def summary(received: list[Outgoing], span: timedelta, now: datetime) -> str:
    """One line after `:later`: what came, to whom, and the time it is now."""
    counts = Counter(_recipient(message) for message in received)
    got = ", ".join(f"{who} {count}" for who, count in counts.most_common())
    what = (
        f"{len(received)} message{'s' * (len(received) != 1)} ({got})" if received else "nothing for anyone"
    )
    return f"(it is now {when(now)}, {duration(span)} later: {what})"


def _recipient(message: Outgoing) -> str:
    match message.to:
        case DirectMessage(email):
            return email
        case Channel(channel):
            return channel or "the channel"
    return "you"
