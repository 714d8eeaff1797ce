"""Outbound messages: queued in the same transaction as the step that causes them, delivered exactly once.

Several processes may deliver: a worker claims a message for a lease; the version column makes two
claims of the same row impossible, and an expired lease (a crashed worker) makes it claimable again.
Right before each send the worker renews its lease and marks the message `in_flight` in one conditional
UPDATE (`begin_send`): a worker whose lease ran out meanwhile learns it there and does not send. A claim
that finds the previous attempt unfinished (`in_flight`) marks the message `uncertain`: that attempt may
have reached the recipient, so the sender looks for it before posting again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVarTuple

from sqlalchemy import BindParameter, ColumnElement, bindparam, update
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import Select

from storage.database import IN_LIST_AT_MOST, Database
from storage.models import OutboundMessage

_Read = TypeVarTuple("_Read")
"""What `_lock_then_update` reads of each message it locks."""

URGENT, BULK = 0, 1
"""`OutboundMessage.priority`: every URGENT message due is claimed before any BULK one, each class oldest
first. A wave of 20,000 to-do lists takes about 20 minutes to send; an approval prompt, a progress line or
an answer queued behind it must not wait that long."""

WAVES = frozenset(
    {
        "advance_notice",
        "todo_list",
        "access_kept",
        "access_lost",
        "account_decided",
        "invited_after_connecting",
        "access_lost_taken_back",
        "todo_reminder",
        "sign_in_verified",
        "migration_called_off",
    }
)
"""The kinds queued BULK: what each affected person is told (the advance notice, the to-do list and its
changes, reminders, the thanks for signing in, the migration called off), queued by the thousand and
watched for by nobody in particular, so each waits its turn. Everything else is URGENT, as an admin or an
asker waits for it: approval prompts and their decisions, portal steps, channel notices and reports (the
digest, billing), progress lines, replies and answers (`chat_message`), help requests to the admins.
Migration 0016 holds a copy: the kinds as they were when it ran."""


def enqueue(
    session: Session,
    *,
    idempotency_key: str,
    recipient: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    migration_id: int | None = None,
) -> OutboundMessage:
    """Queue a message unless one with this key exists already (then that one is returned).

    `migration_id` groups messages for progress reports; by default the payload's `migration_id`.
    """
    (message,) = enqueue_all(
        session, [NewMessage(idempotency_key, recipient, kind, payload, migration_id)], now=now
    )
    return message


@dataclass(frozen=True)
class NewMessage:
    """A message to queue with `enqueue_all`; its fields mean what `enqueue`'s arguments do."""

    idempotency_key: str
    recipient: str
    kind: str
    payload: dict[str, Any]
    migration_id: int | None = None


def enqueue_all(session: Session, messages: Sequence[NewMessage], *, now: datetime) -> list[OutboundMessage]:
    """`enqueue` each of `messages`, in order: the queued message of each (an existing one for a key queued
    before, the first of the batch for a key it holds twice).

    The keys are looked up together, so many at a time (a statement binds only so many), and the new
    messages are inserted together when the session flushes: one at a time, each lookup would flush the
    message queued before it, a statement per message each way for a wave of thousands.
    """
    keys = list(dict.fromkeys(message.idempotency_key for message in messages))
    queued: dict[str, OutboundMessage] = {}
    for first in range(0, len(keys), IN_LIST_AT_MOST):
        some = keys[first : first + IN_LIST_AT_MOST]
        found = session.exec(_BY_KEYS, params={"keys": some})
        queued.update((message.idempotency_key, message) for message in found)
    for new in messages:
        if new.idempotency_key not in queued:
            queued[new.idempotency_key] = message = _new(new, now)
            session.add(message)
    return [queued[message.idempotency_key] for message in messages]


_BY_KEYS = select(OutboundMessage).where(
    col(OutboundMessage.idempotency_key).in_(bindparam("keys", expanding=True))
)
"""Built once: every message queued looks for its key first (most one at a time), and building the query and
its cache key anew costs about as much as running it."""


def _new(new: NewMessage, now: datetime) -> OutboundMessage:
    migration_id, payload = new.migration_id, new.payload
    if migration_id is None and isinstance(payload.get("migration_id"), int):
        migration_id = payload["migration_id"]
    return OutboundMessage(
        idempotency_key=new.idempotency_key,
        migration_id=migration_id,
        recipient=new.recipient,
        kind=new.kind,
        payload=payload,
        not_before=now,
        created_at=now,
        priority=BULK if new.kind in WAVES else URGENT,
    )


def claim_due(
    database: Database, *, worker: str, now: datetime, lease: timedelta, limit: int = 20
) -> list[OutboundMessage]:
    """Claim up to `limit` pending messages that are due.

    Each claim is one conditional UPDATE that re-checks the message is still free, so of two workers
    racing for it exactly one changes the row (the other waits for the row lock, then finds it taken);
    the batch commits once. A claim does not mark messages `in_flight`: only `begin_send` does, so a
    crash leaves uncertain just the messages whose send had started.

    The candidates are the URGENT messages first, then the BULK ones, oldest first in each (`URGENT`), and
    they come back in that order, for the worker to send the urgent ones first. They are claimed, though,
    in ascending id order, as every transaction that locks several messages locks them
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
    with database.engine.connect() as connection:
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

# The statements below are built once, as `_ANY_DUE` is: every message delivered runs a claim, a
# `begin_send` and a `mark_sent`, and building each statement and its cache key anew cost about as much CPU
# as running it.
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
_BEGIN_SEND = (
    update(OutboundMessage)
    .where(col(OutboundMessage.id) == bindparam("message_id"))
    .where(col(OutboundMessage.status) == "pending")
    .where(col(OutboundMessage.claimed_by) == bindparam("worker"))
    .where(col(OutboundMessage.claimed_until) > bindparam("now"))
    .values(in_flight=True, claimed_until=bindparam("until"), version=col(OutboundMessage.version) + 1)
    .execution_options(synchronize_session=False)
)
_MARK_SENT = (
    update(OutboundMessage)
    .where(col(OutboundMessage.id) == bindparam("message_id"))
    .where(col(OutboundMessage.status) == "pending")
    .where(col(OutboundMessage.claimed_by) == bindparam("worker"))
    .values(
        status="sent",
        sent_at=bindparam("now"),
        delivered_ref=bindparam("ref"),
        in_flight=False,
        error_code=bindparam("code"),
        claimed_by=None,
        claimed_until=None,
        version=col(OutboundMessage.version) + 1,
    )
    .execution_options(synchronize_session=False)
)


def begin_send(database: Database, message_id: int, *, worker: str, now: datetime, lease: timedelta) -> bool:
    """Right before a send: renew the claim and mark the message `in_flight`, if the claim still holds.

    False when the lease ran out (another worker may own the message now): the caller must not send.
    """
    with database.session() as session:
        renewed = session.execute(
            _BEGIN_SEND, {"message_id": message_id, "worker": worker, "now": now, "until": now + lease}
        )
        session.commit()
        return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]


def mark_sent(
    database: Database,
    message_id: int,
    *,
    worker: str,
    now: datetime,
    ref: str | None = None,
    unconfirmed: bool = False,
) -> bool:
    """Record delivery; False when this worker's claim was lost meanwhile (someone else owns it now).
    `unconfirmed`: the platform could not say it arrived (`Receipt.unconfirmed`): its code is `UNCONFIRMED`,
    for the admins' view."""
    with database.session() as session:
        recorded = session.execute(
            _MARK_SENT,
            {
                "message_id": message_id,
                "worker": worker,
                "now": now,
                "ref": ref,
                "code": UNCONFIRMED if unconfirmed else None,
            },
        )
        session.commit()
        return bool(recorded.rowcount == 1)  # type: ignore[attr-defined]


def mark_failed(
    database: Database,
    message_id: int,
    *,
    worker: str,
    now: datetime,
    error: str,
    retry_after: timedelta,
    max_attempts: int = 5,
    code: str | None = None,
    permanent: bool = False,
    maybe_delivered: bool = False,
    counted: bool = True,
) -> str | None:
    """Record a failed attempt: retry after `retry_after`, or give up after `max_attempts`. The status it
    left the message in: "failed" when given up (the caller tells whoever waits on it, and only then),
    "pending" to be retried; None when the claim was lost and nothing was recorded.

    `permanent` gives up at once (the recipient cannot be reached); `maybe_delivered` says the attempt
    may have got through (a timeout), so the next one looks before posting; an attempt that is not
    `counted` (rate limited: nothing was tried) does not bring the message closer to giving up.
    `error` is stored and shown to admins, so it must not contain tokens.
    """
    with database.session() as session:
        message = session.get(OutboundMessage, message_id)
        if message is None or message.claimed_by != worker:
            return None
        message.last_error = shown_error(error)
        message.error_code = code
        message.claimed_by = None
        message.claimed_until = None
        message.in_flight = False
        message.uncertain = message.uncertain or maybe_delivered
        if not counted:
            message.attempts -= 1
        if permanent or message.attempts >= max_attempts:
            message.status = "failed"
        else:
            message.not_before = now + retry_after
        status = message.status
        return status if _commit(session) else None


LAST_ERROR_CHARS = 500


def shown_error(reason: str) -> str:
    """`reason` as `last_error` keeps it (and admins see it): its first `LAST_ERROR_CHARS` characters."""
    return reason[:LAST_ERROR_CHARS]


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


Revise = Callable[[Session, Sequence[OutboundMessage]], Sequence[OutboundMessage]]
"""Given failed messages about to go again: those still worth sending, brought up to date, in the same
transaction (the others it gives up)."""


def retry_failed(
    database: Database,
    migration_id: int,
    kinds: Collection[str],
    *,
    now: datetime,
    revise: Revise | None = None,
) -> int:
    """Queue again, with a fresh count, every message of `kinds` of a migration that could not be
    delivered; the caller names the kinds still worth it (a stale reminder or digest is not), and may
    `revise` them first."""
    with database.session() as session:
        failed = session.exec(
            select(OutboundMessage)
            .where(
                OutboundMessage.migration_id == migration_id,
                OutboundMessage.status == "failed",
                col(OutboundMessage.kind).in_(sorted(kinds)),
            )
            .order_by(col(OutboundMessage.id))
        ).all()
        # Written once, at commit: a query of a revise that reads people so many at a time would flush the
        # messages it rewrote before they are queued again, an UPDATE each twice.
        with session.no_autoflush:
            again = revise(session, failed) if revise is not None else failed
        for message in again:
            _queue_again(message, now)
        if not _commit(session):
            return 0
        return len(again)


UNCONFIRMED = "unconfirmed"
"""The error code of a message sent that its platform could not confirm (`mark_sent`'s `unconfirmed`): it may
not have arrived, and is not sent again lest it arrive twice."""

NOT_IN_CHAT = "not_in_chat"
"""The error code of a person the chat platform could not reach: the senders give it, workflows read it."""


def retry_unreached(
    session: Session, failed: Sequence[OutboundMessage], *, now: datetime, revise: Revise | None = None
) -> None:
    """Queue again these messages that could not reach someone who now can be reached, `revise`d first;
    in the caller's transaction."""
    for again in revise(session, failed) if revise is not None and failed else failed:
        _queue_again(again, now)


def _queue_again(message: OutboundMessage, now: datetime) -> None:
    message.status = "pending"
    message.attempts = 0
    message.not_before = now
    message.last_error = None
    message.error_code = None


def messages_of(
    database: Database, migration_id: int, kinds: Collection[str] | None = None
) -> list[OutboundMessage]:
    """A migration's messages, oldest first; only those of `kinds` when given."""
    with database.session() as session:
        query = select(OutboundMessage).where(OutboundMessage.migration_id == migration_id)
        if kinds is not None:
            query = query.where(col(OutboundMessage.kind).in_(kinds))
        return list(session.exec(query.order_by(col(OutboundMessage.id))).all())


def _commit(session: Session) -> bool:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        return False
    return True


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
        & (col(OutboundMessage.status) == "pending")
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


SUPERSEDED = "superseded"
"""The status of a message that a newer one replaced before it was sent (an approval prompt, decided)."""


def failed_on_thread(session: Session, *, recipient: str, thread: str) -> bool:
    """Whether a message to `recipient` that carries `thread` in its payload failed for good: one posted
    to a channel the bot is not in, and so would every newer version of it."""
    failed = session.exec(
        select(OutboundMessage.id)
        .where(OutboundMessage.recipient == recipient, OutboundMessage.status == "failed", on_thread(thread))
        .limit(1)
    ).first()
    return failed is not None


WAITS = "older_version_sending"
"""What `thread_turn` says of a message whose older version is being sent (it goes once that one is out),
and the error code it waits with."""


def on_thread(thread: str) -> ColumnElement[bool]:
    """The messages that are versions of the message whose payload's `updates` is `thread`: matched in SQL,
    so that a look for them reads none of the other rows' payloads."""
    matches: ColumnElement[bool] = col(OutboundMessage.payload)["updates"].as_string() == thread
    return matches


def thread_turn(
    database: Database, message_id: int, *, worker: str, recipient: str, kind: str, thread: str
) -> str | None:
    """Whether this worker's claimed message of `kind` to `recipient`, one version of the message its
    payload's `updates` names (`thread`), may be sent now (None) or not: copies to other people are theirs
    to post.

    `SUPERSEDED` when a newer version is queued, being sent or sent: one to `recipient`, or one of another
    kind to anyone (the decision on a prompt, to the channel only: the senders update every copy of the
    thread with what they send, so a prompt sent after it would put its buttons back on the channel's
    copy too). It is given up here, as `supersede` gives up the ones not begun when a newer one is queued.
    It was being sent then (by a replica that died), so it was left; sent after the newer one, it would
    bring back what that one replaced (a progress line's "... done so far" after "all done", a prompt's
    buttons after its decision). Copies of one version (one kind) to other people do not count.

    `WAITS` when an older version is being sent (by another replica's worker): no copy of it is recorded
    until Slack or Teams answers, so one sent meanwhile would post a second message where the first was
    to be updated.
    """
    to_recipient = col(OutboundMessage.recipient) == recipient
    newer_or_sending = or_(
        (col(OutboundMessage.id) > message_id)
        & col(OutboundMessage.status).in_(["pending", "sent"])
        & (to_recipient | (col(OutboundMessage.kind) != kind)),
        (col(OutboundMessage.id) < message_id)
        & to_recipient
        & (col(OutboundMessage.status) == "pending")
        & col(OutboundMessage.in_flight).is_(True),
    )
    # other kinds count to anyone, so the rows of every recipient on the thread are looked at
    with database.session() as session:
        found = session.exec(select(OutboundMessage.id).where(on_thread(thread), newer_or_sending)).all()
        others = [other for other in found if other is not None]
        if not any(other > message_id for other in others):
            return WAITS if others else None
        session.execute(
            update(OutboundMessage)
            .where(
                col(OutboundMessage.id) == message_id,
                col(OutboundMessage.status) == "pending",
                col(OutboundMessage.claimed_by) == worker,
                ~col(OutboundMessage.in_flight),
            )
            .values(
                status=SUPERSEDED,
                claimed_by=None,
                claimed_until=None,
                version=col(OutboundMessage.version) + 1,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return SUPERSEDED


def supersede(session: Session, *, kinds: Sequence[str], thread: str, before: datetime) -> int:
    """Give up pending messages of `kinds` that carry `thread` in their payload and are not being sent.

    Used in the transaction that queues a newer message on the same thread (the decision on an approval
    prompt): the old prompt, still waiting for Slack, must not be posted after the decision.
    """
    stale = session.exec(
        select(OutboundMessage).where(
            col(OutboundMessage.kind).in_(list(kinds)),
            OutboundMessage.status == "pending",
            col(OutboundMessage.in_flight).is_(False),
            col(OutboundMessage.created_at) <= before,
            on_thread(thread),
        )
    ).all()
    for message in stale:
        message.status = SUPERSEDED
        message.claimed_by = None
        message.claimed_until = None
    return len(stale)
