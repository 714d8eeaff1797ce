"""What the Slack app must remember between requests: copies of shared messages, the files uploaded for a
message, and requests already seen.

`DatabaseSlackState` holds it in production, shared by every process on the database: claiming a
request is an INSERT, so of two processes handed the same retry exactly one acts.
`InMemorySlackState` serves tests and a single process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage import Database, SlackMessageCopy, SlackProcessedRequest

REQUEST_MEMORY_SECONDS = 3600.0
"""Slack retries a delivery within minutes; an hour of memory covers every retry and replay window."""
FILES_OF = "files-of:"
"""The files uploaded for an outbox message are kept beside the copies (`slack_message_copies`), under this
prefix and the message's key, one row per conversation, their ids in `ts`: no table of their own for a
few rows a message with files leaves. `SHARED` among them: Slack answered their share ok."""
SHARED = "shared"
"""Told from a file id, which Slack writes in capitals (`F0123ABCD`)."""


@dataclass(frozen=True)
class MessageCopy:
    channel: str
    ts: str


@dataclass(frozen=True)
class Uploads:
    """The files uploaded to share with an outbox message's post in one conversation."""

    file_ids: frozenset[str] = frozenset()
    shared: bool = False
    """Slack answered their share ok (its history may show it only seconds later)."""


class SlackState(Protocol):
    async def claim_request(self, request_id: str) -> bool:
        """True the first time `request_id` is seen (atomically), False for a retry or replay."""
        ...

    async def copies(self, key: str) -> list[MessageCopy]:
        """Every posted copy of the message that `key` stands for, oldest first."""
        ...

    async def add_copy(self, key: str, copy: MessageCopy) -> None: ...

    async def uploaded(self, key: str, channel: str) -> Uploads | None:
        """What was uploaded to share with the message `key` posted in `channel`; None: no post of it there
        is known (`add_uploaded`)."""
        ...

    async def add_uploaded(self, key: str, channel: str, file_ids: Sequence[str]) -> None:
        """Kept before the files are shared (none: right after a post of `key`, before anything is), and not
        shared until `mark_shared`: whether a share that got no answer went through is looked up in Slack."""
        ...

    async def mark_shared(self, key: str, channel: str) -> None:
        """Slack answered the share of the files last added ok."""
        ...


class InMemorySlackState:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._copies: dict[str, list[MessageCopy]] = {}
        self._uploaded: dict[tuple[str, str], Uploads] = {}

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

    async def uploaded(self, key: str, channel: str) -> Uploads | None:
        return self._uploaded.get((key, channel))

    async def add_uploaded(self, key: str, channel: str, file_ids: Sequence[str]) -> None:
        self._uploaded[(key, channel)] = _added(self._uploaded.get((key, channel), Uploads()), file_ids)

    async def mark_shared(self, key: str, channel: str) -> None:
        self._uploaded[(key, channel)] = replace(self._uploaded.get((key, channel), Uploads()), shared=True)

    def _forget_before(self, cutoff: float) -> None:
        # dicts keep insertion order, so the oldest entries come first
        for request_id, seen_at in list(self._seen.items()):
            if seen_at >= cutoff:
                break
            del self._seen[request_id]


class DatabaseSlackState:
    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self._database = database
        self._clock = clock

    async def claim_request(self, request_id: str) -> bool:
        return await asyncio.to_thread(self._claim, request_id)

    async def copies(self, key: str) -> list[MessageCopy]:
        return await asyncio.to_thread(self._copies, key)

    async def add_copy(self, key: str, copy: MessageCopy) -> None:
        await asyncio.to_thread(self._add_copy, key, copy)

    async def uploaded(self, key: str, channel: str) -> Uploads | None:
        return await asyncio.to_thread(self._uploaded, key, channel)

    async def add_uploaded(self, key: str, channel: str, file_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self._change_uploads, key, channel, lambda kept: _added(kept, file_ids))

    async def mark_shared(self, key: str, channel: str) -> None:
        await asyncio.to_thread(self._change_uploads, key, channel, lambda kept: replace(kept, shared=True))

    def _claim(self, request_id: str) -> bool:
        now = self._clock()
        with self._database.session() as session:
            forgotten = now - timedelta(seconds=REQUEST_MEMORY_SECONDS)
            session.execute(
                delete(SlackProcessedRequest).where(col(SlackProcessedRequest.seen_at) < forgotten)
            )
            session.add(SlackProcessedRequest(request_id=request_id, seen_at=now))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
            return True

    def _copies(self, key: str) -> list[MessageCopy]:
        with self._database.session() as session:
            rows = session.exec(
                select(SlackMessageCopy)
                .where(SlackMessageCopy.key == key)
                .order_by(col(SlackMessageCopy.created_at), col(SlackMessageCopy.channel))
            ).all()
            return [MessageCopy(row.channel, row.ts) for row in rows]

    def _add_copy(self, key: str, copy: MessageCopy) -> None:
        with self._database.session() as session:
            session.add(SlackMessageCopy(key=key, channel=copy.channel, ts=copy.ts, created_at=self._clock()))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # that channel's copy is known already

    def _uploaded(self, key: str, channel: str) -> Uploads | None:
        with self._database.session() as session:
            row = session.get(SlackMessageCopy, (FILES_OF + key, channel))
            return _read(row.ts) if row is not None else None

    def _change_uploads(self, key: str, channel: str, change: Callable[[Uploads], Uploads]) -> None:
        try:
            self._write_uploads(key, channel, change)
        except IntegrityError:
            # another process's first insert came between our read and ours (a claim taken over from one
            # still sending): change the row it wrote
            self._write_uploads(key, channel, change)

    def _write_uploads(self, key: str, channel: str, change: Callable[[Uploads], Uploads]) -> None:
        with self._database.session() as session:
            row = session.get(SlackMessageCopy, (FILES_OF + key, channel))
            if row is None:
                row = SlackMessageCopy(key=FILES_OF + key, channel=channel, ts="", created_at=self._clock())
            row.ts = _written(change(_read(row.ts)))
            session.add(row)
            session.commit()


def _added(kept: Uploads, file_ids: Sequence[str]) -> Uploads:
    """`kept` with `file_ids`, whose share is yet to be answered."""
    return Uploads(kept.file_ids | set(file_ids))


def _read(ts: str) -> Uploads:
    words = set(ts.split())
    return Uploads(frozenset(words - {SHARED}), SHARED in words)


def _written(uploads: Uploads) -> str:
    return " ".join([*sorted(uploads.file_ids), *([SHARED] if uploads.shared else [])])
