"""Claiming outbound messages for a worker, and giving them back: leases, renewed while the worker lives.

Several processes may deliver: a worker claims a message for a lease; the version column makes two
claims of the same row impossible, and an expired lease (a crashed worker) makes it claimable again. A
claim that finds the previous attempt unfinished (`in_flight`, `outbox_sends.begin_send`) marks the
message `uncertain`: that attempt may have reached the recipient, so the sender looks for it before
posting again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVarTuple

from sqlalchemy import BindParameter, ColumnElement, bindparam, update
from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import Select

from storage.database import Database
from storage.models import OutboundMessage
from storage.outbox_sends import shown_error

_Read = TypeVarTuple("_Read")
"""What `_lock_then_update` reads of each message it locks."""


def claim_due(
    database: Database, *, worker: str, now: datetime, lease: timedelta, limit: int = 20
) -> list[OutboundMessage]:
    """Claim up to `limit` pending messages that are due.

    Each claim is one conditional UPDATE that re-checks the message is still free, so of two workers
    racing for it exactly one changes the row (the other waits for the row lock, then finds it taken);
    the batch commits once. A claim does not mark messages `in_flight`: only `begin_send` does, so a
    crash leaves uncertain just the messages whose send had started.

    The candidates are the URGENT messages first, then the BULK ones, oldest first in each
    (`outbox.URGENT`), and they come back in that order, for the worker to send the urgent ones first. They
    are claimed, though, in ascending id order, as every transaction that locks several messages locks them
    (`workflows.stages.list_messages.lists_told`), so none of them waits for another in a cycle: a claim
    that looks again goes on up the queue, never back below a row it holds (a message that came free down
    there, or a bulk one below an urgent one it took, is the next claim's).
    """
    won: list[int] = []
    after = 0
    with database.session() as session:
        while len(won) < limit:
            # past candidates another worker took: a lost race is no reason to stop
            found = session.exec(_CANDIDATES, params={"now": now, "after": after, "limit": limit - len(won)})
            candidates = sorted(message_id for message_id in found if message_id is not None)
            if not candidates:
                break
            for message_id in candidates:
                claimed = session.execute(
                    _CLAIM, {"message_id": message_id, "now": now, "worker": worker, "until": now + lease}
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    won.append(message_id)
            after = candidates[-1]
        session.commit()
        if not won:
            return []
        return list(session.exec(_BY_IDS, params={"ids": won}).all())


def has_due(database: Database, *, now: datetime) -> bool:
    """Whether `claim_due` would find a message to claim now (another worker may still win it)."""
    with database.reading() as connection:
        return connection.execute(_ANY_DUE, {"now": now}).first() is not None


def _free(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Pending, due, and claimed by no worker or by one whose lease ran out."""
    return (
        (col(OutboundMessage.status) == "pending")
        & (col(OutboundMessage.not_before) <= now)
        & or_(col(OutboundMessage.claimed_until).is_(None), col(OutboundMessage.claimed_until) < now)
    )


_FREE = _free(bindparam("now"))
"""`_free` at the bound `now`, for the statements built once."""


_ANY_DUE = select(OutboundMessage.id).where(_FREE).limit(1)
"""Built once and run as plain SQL: the console asks after every command and look, mostly to find nothing,
and building the query and passing it through the ORM cost several times running it."""

# The statements below are built once, as `_ANY_DUE` is: every message delivered runs a claim (and
# `outbox_sends`' statements), and building each statement and its cache key anew cost about as much CPU as
# running it.
_CANDIDATES = (
    select(OutboundMessage.id)
    .where(_FREE, col(OutboundMessage.id) > bindparam("after"))
    .order_by(col(OutboundMessage.priority), col(OutboundMessage.id))
    .limit(bindparam("limit"))
)
"""Read along `ix_outbound_message_claim_order` (status, priority, id): the first due ones found are the
ones taken, however many are pending or sent."""
_CLAIM = (
    update(OutboundMessage)
    .where(col(OutboundMessage.id) == bindparam("message_id"))
    .where(_FREE)
    .values(
        claimed_by=bindparam("worker"),
        claimed_until=bindparam("until"),
        attempts=col(OutboundMessage.attempts) + 1,
        uncertain=col(OutboundMessage.uncertain) | col(OutboundMessage.in_flight),
        in_flight=False,
        version=col(OutboundMessage.version) + 1,
    )
    .execution_options(synchronize_session=False)
)
_BY_IDS = (
    select(OutboundMessage)
    .where(col(OutboundMessage.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(OutboundMessage.priority), col(OutboundMessage.id))
)


def put_back(
    database: Database, message_ids: list[int], *, worker: str, until: datetime, code: str, reason: str
) -> set[int]:
    """Give back this worker's claims on messages its sender was not ready for (nothing was tried), due
    again at `until`, uncounted, with `code` and `reason` shown to admins meanwhile: one UPDATE for a
    batch, however many of it are held. The ids of those it put back whose reason changed: the others
    were waiting for this one already, and have not moved."""
    told = _Told(until, code, reason)
    locked, _ = _give_back(database, message_ids, worker, told.locking(OutboundMessage.id), told.values)
    return told.changed(locked)


def put_back_alike(
    database: Database,
    migration_ids: Collection[int],
    *,
    not_to: str,
    now: datetime,
    until: datetime,
    code: str,
    reason: str,
) -> set[int]:
    """Put back, unclaimed, every message due now of these migrations whose recipient does not begin with
    `not_to` (their direct messages): its sender said it is not ready for one of them, so it is not for
    these either. One statement, so thousands held cost no claim each; uncounted (none was claimed), and
    an unfinished attempt (`in_flight`) is left to mark the next claim uncertain. The migrations of those
    whose reason changed: their progress moved.

    Locked lowest id first before the UPDATE, as `renew_claims` explains."""
    if not migration_ids:
        return set()
    alike = (
        col(OutboundMessage.migration_id).in_(sorted(migration_ids))
        & _free(now)
        & ~col(OutboundMessage.recipient).startswith(not_to)
    )
    told = _Told(until, code, reason)
    with database.session() as session:
        locked, _ = _lock_then_update(session, alike, told.locking(OutboundMessage.migration_id), told.values)
        session.commit()
        return told.changed(locked)


class _Told:
    """Why messages put back wait (`code`, `reason` as admins see it), and until when: what `put_back`
    and `put_back_alike` set, and which of those they lock was not waiting for that already."""

    def __init__(self, until: datetime, code: str, reason: str) -> None:
        self._told = (code, shown_error(reason))
        self.values: Mapping[Any, object] = {
            OutboundMessage.not_before: until,
            OutboundMessage.error_code: code,
            OutboundMessage.last_error: self._told[1],
        }

    @staticmethod
    def locking(key: int | None) -> Select[int | None, str | None, str | None]:
        """Reads `key` (an id column) of each message locked, with what it was waiting for."""
        return select(col(key), col(OutboundMessage.error_code), col(OutboundMessage.last_error))

    def changed(self, locked: Sequence[tuple[int | None, str | None, str | None]]) -> set[int]:
        """The keys of the messages `locking` read that were waiting for something else, or nothing."""
        return {key for key, *was in locked if key is not None and tuple(was) != self._told}


def renew_claims(
    database: Database, message_ids: list[int], *, worker: str, now: datetime, lease: timedelta
) -> set[int]:
    """Extend this worker's live claims (a heartbeat); the ids it still holds.

    The rows are locked lowest id first, as `claim_due` explains, before the UPDATE renews them (SQLite
    locks the whole database instead): left to itself, the UPDATE locks them in the order its plan reads
    them (as they lie on disk, for a scan of the table), and could wait for a list `invite` has locked
    while holding one `invite` waits for.
    """
    if not message_ids:
        return set()
    held = (
        col(OutboundMessage.id).in_(message_ids)
        # one stopped mid-send too: newer news waits while its send is under way (`outbox_threads.FOLLOWS`)
        & ((col(OutboundMessage.status) == "pending") | col(OutboundMessage.in_flight))
        & (col(OutboundMessage.claimed_by) == worker)
        & (col(OutboundMessage.claimed_until) > now)
    )
    with database.session() as session:
        _lock_then_update(session, held, _IDS, {OutboundMessage.claimed_until: now + lease})
        session.commit()
        still = session.exec(
            select(OutboundMessage.id).where(
                col(OutboundMessage.id).in_(message_ids),
                OutboundMessage.claimed_by == worker,
                col(OutboundMessage.claimed_until) > now,
            )
        ).all()
        return {message_id for message_id in still if message_id is not None}


def release_claims(database: Database, message_ids: list[int], *, worker: str) -> int:
    """Give back this worker's claims on messages it never began to send (its process is stopping): due at
    once for any worker, and the claim not counted as an attempt. How many it gave back."""
    return _give_back(database, message_ids, worker, _IDS)[1]


def _give_back(
    database: Database,
    message_ids: list[int],
    worker: str,
    locking: Select[*_Read],
    values: Mapping[Any, object] | None = None,
) -> tuple[Sequence[tuple[*_Read]], int]:
    """Free this worker's claims on `message_ids` it never began to send, uncounted, setting `values`
    too: what `locking` reads of each, as they were, and how many. Locked lowest id first before the
    UPDATE, as `renew_claims` explains."""
    if not message_ids:
        return [], 0
    held = (
        col(OutboundMessage.id).in_(message_ids)
        & (col(OutboundMessage.status) == "pending")
        & (col(OutboundMessage.claimed_by) == worker)
        & ~col(OutboundMessage.in_flight)
    )
    freed = {
        OutboundMessage.claimed_by: None,
        OutboundMessage.claimed_until: None,
        OutboundMessage.attempts: col(OutboundMessage.attempts) - 1,
    }
    with database.session() as session:
        given = _lock_then_update(session, held, locking, {**freed, **(values or {})})
        session.commit()
        return given


_IDS: Select[int | None] = Select(col(OutboundMessage.id))
"""What `_lock_then_update` reads when only the lock matters: a `Select`, not `select`'s scalar one, its
rows as tuples as for the others."""


def _lock_then_update(
    session: Session,
    where: ColumnElement[bool],
    locking: Select[*_Read],
    values: Mapping[Any, object],
) -> tuple[Sequence[tuple[*_Read]], int]:
    """Locks the messages `where` picks, lowest id first (as `renew_claims` explains), then sets `values`
    (keyed by the model's attributes, so that mypy checks their names) and a new version on them,
    uncommitted: what `locking` reads of each, as locked, and how many were updated."""
    locked = session.exec(locking.where(where).order_by(col(OutboundMessage.id)).with_for_update()).all()
    updated = session.execute(
        update(OutboundMessage)
        .where(where)
        .values({OutboundMessage.version: col(OutboundMessage.version) + 1, **values})
        .execution_options(synchronize_session=False)
    )
    return locked, int(updated.rowcount)  # type: ignore[attr-defined]
