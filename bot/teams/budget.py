"""A Teams limit shared by every `serve` process: N lanes in the database, each counted from its answer.

Teams counts requests per app and tenant when they arrive, whichever process sends them, so a limit kept
in one process is exceeded by two. A limit of N requests a second is N lanes (rows). A request takes an
idle lane that is free, sends, and when the answer is back frees the lane for one second plus a margin
*from the answer*. Microsoft saw the request at some moment between the take and the answer, and the
lane's next request is taken later than a second after that, so no second ever holds more than N
arrivals, however late or bunched the requests arrive (scheduling, the network, a busy host). Evenly
spaced slots counted at take time cannot promise that: requests that left evenly arrive bunched, and
each 429 holds every process off. The price is the round trip L: a lane carries 1/(1 + L) requests a
second, and no scheme that promises no 429 can carry more, since a request may arrive anywhere in it.

Taking is one conditional `UPDATE` of the chosen lane (SQLite and PostgreSQL alike: a rival that took it
first makes it update nothing, and the taker picks again). No leader, no lease: a lane taken by a process
that died comes free once its request could no longer be in flight. A 429 that still comes (another bot,
Microsoft's own counting) moves every lane past its `Retry-After`, so every process waits it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import and_, case, select, update
from sqlmodel import Session

from storage import Database, TeamsRateLane
from storage.inserts import insert_each_once

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 1.0
MARGIN_SECONDS = 0.01
"""Between the answer and the lane's next take: room for the two clocks (ours, Microsoft's) to differ."""
IN_FLIGHT_SECONDS = 30.0
"""How long a taken lane is held if its process never frees it: longer than any request can last."""
_lanes = TeamsRateLane.__table__.c  # type: ignore[attr-defined]


class SharedRate:
    def __init__(
        self,
        database: Database,
        key: str,
        per_second: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second < 1:
            raise ValueError("a shared Teams limit needs at least one request a second")
        self._database = database
        self._key = key
        self._count = int(per_second)
        self._clock = clock
        self._sleep = sleep
        self._turn = asyncio.Lock()
        """One taker at a time in this process: the others wait here, not in the database."""

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Around one request: waits for a free lane, holds it in flight, frees it from the answer."""
        async with self._turn:
            while True:
                lane, wait = await asyncio.to_thread(self._take)
                if lane is not None:
                    break
                await self._sleep(wait)
        try:
            yield
        finally:
            await self._release(lane)

    async def _release(self, lane: int) -> None:
        """Frees the lane from the answer, best effort. Raised, a failure (the database restarting) would
        take the place of what the request gave: a 429 that tells the sender the message did not arrive,
        or the id of one that did. Not freed, the lane stays in flight until `IN_FLIGHT_SECONDS` from its
        take, later than a window after any answer, so the limit holds; only this lane idles meanwhile.
        Logged by class: the database's text is not needed here."""
        try:
            await asyncio.to_thread(self._free, lane, self._clock())
        except Exception as error:
            logger.warning(
                "freeing Teams rate lane %s of %s failed (%s); it comes free %.0f s after it was taken",
                lane,
                self._key,
                type(error).__name__,
                IN_FLIGHT_SECONDS,
            )

    async def hold_off(self, seconds: float) -> None:
        """Teams said 429: no process sends under this limit for `seconds`. Best effort, as `_release`:
        raised, a failure to record it (the database restarting) would take the refusal's place, and the
        sender forgets a refused message only on seeing the refusal; otherwise it stays recorded as handed
        over, and its retry is taken for possibly delivered and never sent. This process holds off anyway
        (its pacer has the Retry-After)."""
        try:
            await asyncio.to_thread(self._push, self._clock() + seconds)
        except Exception as error:
            logger.warning(
                "recording Teams' hold-off after a 429 failed (%s); the other processes do not hold off",
                type(error).__name__,
            )

    def _take(self) -> tuple[int | None, float]:
        """A lane taken now, or None and how long until one may come free."""
        now = self._clock()
        with self._database.session() as session:
            rows = self._rows(session)
            if len(rows) < self._count:  # the first request under this limit (or a higher one) makes them
                lanes = [TeamsRateLane(key=self._key, lane=lane) for lane in range(self._count)]
                insert_each_once(session, lanes, unique=("key", "lane"))
                session.commit()
                rows = self._rows(session)
            by_freedom = sorted((_free_from(free_at, busy, now), lane) for lane, free_at, busy in rows)
            for free_from, lane in by_freedom:
                if free_from > now:
                    break
                taken = session.execute(
                    update(TeamsRateLane)
                    .where(
                        and_(
                            _lanes.key == self._key,
                            _lanes.lane == lane,
                            _lanes.free_at <= now,
                            _lanes.busy_until <= now,
                        )
                    )
                    .values(busy_until=now + IN_FLIGHT_SECONDS)
                )
                session.commit()
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return lane, 0.0
        return None, max(by_freedom[0][0] - now, 0.0)

    def _rows(self, session: Session) -> list[tuple[int, float, float]]:
        """(lane, free_at, busy_until) of each lane of this limit."""
        found = session.execute(
            select(_lanes.lane, _lanes.free_at, _lanes.busy_until).where(
                _lanes.key == self._key, _lanes.lane < self._count
            )
        )
        return [(int(lane), float(free_at), float(busy)) for lane, free_at, busy in found]

    def _free(self, lane: int, answered: float) -> None:
        next_free = answered + WINDOW_SECONDS + MARGIN_SECONDS
        with self._database.session() as session:
            session.execute(
                update(TeamsRateLane)
                .where(and_(_lanes.key == self._key, _lanes.lane == lane))
                .values(busy_until=0.0, free_at=_later(_lanes.free_at, next_free))
            )
            session.commit()

    def _push(self, until: float) -> None:
        with self._database.session() as session:
            session.execute(
                update(TeamsRateLane)
                .where(_lanes.key == self._key)
                .values(free_at=_later(_lanes.free_at, until))
            )
            session.commit()


def _free_from(free_at: float, busy_until: float, now: float) -> float:
    """The earliest a lane can be taken: a lane in flight comes free a window after its answer (not yet
    back, so not before a window from now), or when its holder is taken for dead."""
    if busy_until > now:
        return max(free_at, min(busy_until, now + WINDOW_SECONDS))
    return free_at


def _later(column: Any, moment: float) -> Any:
    """The later of a column and a moment, in SQL (every database has CASE; not all have GREATEST)."""
    return case((column > moment, column), else_=moment)
