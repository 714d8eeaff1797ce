"""A Teams limit shared by every `serve` process: one database row hands out evenly spaced slots.

Teams counts requests per app and tenant, whichever process sends them, so a limit kept in one process
is exceeded by two. Each request reserves the next slot with one atomic `UPDATE ... RETURNING` (SQLite
and PostgreSQL alike): `next_at = max(next_at, now) + 1/rate`, and waits until its slot. No lease, no
leader: a process that dies holds nothing. A 429 that still comes moves the row past its `Retry-After`,
so every process waits it out, not only the one that was told.

The slots are spaced slightly below Microsoft's rate (`SHARE`): a request reaches Teams some time after
its slot (scheduling, the network), and requests that left evenly may arrive bunched.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import case, insert, update
from sqlalchemy.exc import IntegrityError

from storage import Database, TeamsRateSlot

SHARE = 0.93
"""Of Microsoft's rate, what the slots use: room for requests that arrive up to ~70 ms late together."""


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
        self._database = database
        self._key = key
        self._interval = 1.0 / (per_second * SHARE)
        self._clock = clock
        self._sleep = sleep

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Around one request: waits for this request's slot under the shared limit."""
        at = await asyncio.to_thread(self._reserve)
        wait = at - self._clock()
        if wait > 0:
            await self._sleep(wait)
        yield

    async def hold_off(self, seconds: float) -> None:
        """Teams said 429: no process sends under this limit for `seconds`."""
        await asyncio.to_thread(self._push, self._clock() + seconds)

    def _reserve(self) -> float:
        now = self._clock()
        column = TeamsRateSlot.__table__.c.next_at  # type: ignore[attr-defined]
        statement = (
            update(TeamsRateSlot)
            .where(TeamsRateSlot.__table__.c.key == self._key)  # type: ignore[attr-defined]
            .values(next_at=case((column > now, column), else_=now) + self._interval)
            .returning(column)
        )
        with self._database.session() as session:
            reserved = session.execute(statement).scalar()
            if reserved is None:  # the first request ever under this limit
                try:
                    session.execute(insert(TeamsRateSlot).values(key=self._key, next_at=now + self._interval))
                    session.commit()
                    return now
                except IntegrityError:  # another process made the row just now
                    session.rollback()
                    reserved = session.execute(statement).scalar()
            session.commit()
        assert reserved is not None
        return float(reserved) - self._interval

    def _push(self, until: float) -> None:
        column = TeamsRateSlot.__table__.c.next_at  # type: ignore[attr-defined]
        with self._database.session() as session:
            session.execute(
                update(TeamsRateSlot)
                .where(TeamsRateSlot.__table__.c.key == self._key)  # type: ignore[attr-defined]
                .values(next_at=case((column > until, column), else_=until))
            )
            session.commit()
