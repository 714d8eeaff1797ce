"""What Slack said of people's addresses, kept in the database for `People` (`storage.slack_people`): a
restarted `serve`, or another on the same database, sends from the member list one of them read lately and
does not ask Slack again what a look-up answered.

`People` counts time on a monotonic clock; the database, on the wall clock: here each answer goes in
stamped with the writing process's wall clock, and comes back with its age by the reading one's. The
processes on one database must keep their clocks agreeing (NTP): "the newest answer wins" and every age
compare them, so a clock minutes ahead would keep its answers standing, and a list it read current,
minutes longer than the bounds say. Remembering is best
effort: the database failing to keep an answer costs a question to Slack after a restart, never a send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from storage import Database, SlackPerson
from storage.slack_people import Said, recall, recall_one, record, record_read

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Remembered:
    said: Said
    age: float
    """Seconds since Slack said it."""


class PeopleMemory(Protocol):
    async def remember(self, said: Sequence[Said]) -> bool:
        """Slack's answers for these addresses, as of now; whether they were kept."""
        ...

    async def listed(self, began_ago: float, deactivated: Sequence[Said], *, kept_for: float) -> None:
        """The member list was read whole, from a read that began `began_ago` seconds ago, and showed
        these addresses held by deactivated members only; answers older than `kept_for` seconds before
        it began are no use any more."""
        ...

    async def recall(
        self, within: float, *, younger_than: float | None = None
    ) -> tuple[float | None, list[Remembered]]:
        """The age of the newest whole read of the member list (None: none known, or none younger than
        `younger_than` seconds), and every answer at most `within` seconds old."""
        ...

    async def recall_one(self, address: str) -> Remembered | None:
        """The newest answer for one case-folded address, if any."""
        ...


class DatabaseMemory:
    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self._database = database
        self._clock = clock

    async def remember(self, said: Sequence[Said]) -> bool:
        return await _tried(False, record, self._database, said, at=self._clock()) is None

    async def listed(self, began_ago: float, deactivated: Sequence[Said], *, kept_for: float) -> None:
        began_at = self._clock() - timedelta(seconds=began_ago)
        forget_before = began_at - timedelta(seconds=kept_for)
        await _tried(
            None,
            record_read,
            self._database,
            began_at=began_at,
            deactivated=deactivated,
            forget_before=forget_before,
        )

    async def recall(
        self, within: float, *, younger_than: float | None = None
    ) -> tuple[float | None, list[Remembered]]:
        now = self._clock()
        after = None if younger_than is None else now - timedelta(seconds=younger_than)
        nothing: tuple[float | None, list[Remembered]] = (None, [])
        return await _tried(nothing, _recalled, self._database, now, now - timedelta(seconds=within), after)

    async def recall_one(self, address: str) -> Remembered | None:
        row = await _tried(None, recall_one, self._database, address)
        return _remembered(row, self._clock()) if row is not None else None


_Result = TypeVar("_Result")
_Failed = TypeVar("_Failed")


async def _tried(
    failed: _Failed, call: Callable[..., _Result], *args: object, **kwargs: object
) -> _Result | _Failed:
    """`call` in a thread; `failed` if the database fails it: the send it came with goes on, asking Slack.
    Any other error is a bug, and raised."""
    try:
        return await asyncio.to_thread(call, *args, **kwargs)
    except SQLAlchemyError as error:
        logger.warning("the database's memory of Slack's people failed (%s)", type(error).__name__)
        return failed


def _recalled(
    database: Database, now: datetime, since: datetime, after: datetime | None
) -> tuple[float | None, list[Remembered]]:
    """`recall`'s rows as answers, in its thread: 20,000 of them took 316 ms of the event loop."""
    read_at, rows = recall(database, since=since, read_after=after)
    answers = [_remembered(row, now) for row in rows]
    return (_age(now, read_at) if read_at else None), answers


def _remembered(row: SlackPerson, now: datetime) -> Remembered:
    return Remembered(Said(row.address, row.user_id, row.time_zone, row.deactivated), _age(now, row.seen_at))


def _age(now: datetime, then: datetime) -> float:
    return max((now - then).total_seconds(), 0.0)
