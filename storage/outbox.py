"""Outbound messages: queued in the same transaction as the step that causes them, delivered exactly once.

Queued here, each with the priority its readers need, and queued again when a failed one is still worth
sending. The worker claims them (`outbox_claims`) and records each send's start and outcome
(`outbox_sends`); the versions of one message on a thread replace one another (`outbox_threads`).

A list Teams could not confirm goes again without Teams' record that it was handed over (`TeamsDispatch`),
dropped here in the same transaction that queues it again: either both happen or neither.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, inspect
from sqlmodel import Session, col, select

from storage.database import Database, committed, in_batches
from storage.models import OutboundMessage
from storage.outbox_sends import UNCONFIRMED
from storage.slack_people import forget_missing
from storage.teams import TeamsDispatch

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
        "identity_mapped",
        "migration_called_off",
        "left_behind",
    }
)
"""The kinds queued BULK: what each affected person is told (the advance notice, the to-do list and its
changes, reminders, the thanks for signing in, that they may sign in once mapped, the migration called
off, the last word to whoever a completed one left behind), queued by the thousand and watched for by
nobody in particular, so each waits its turn. Everything else is URGENT, as an admin or an asker waits for
it: approval prompts and their decisions, portal steps, channel notices and reports (the digest, billing),
progress lines, replies and answers (`chat_message`), help requests to the admins. Migration 0016 holds a
copy: the kinds as they were when it ran."""


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
    messages are inserted together when the session flushes: a wave of thousands costs a statement per so
    many keys each way, not one per message.
    """
    keys = list(dict.fromkeys(message.idempotency_key for message in messages))
    unflushed: dict[str, OutboundMessage] = session.info.setdefault(_UNFLUSHED, {})
    queued = {key: unflushed[key] for key in keys if key in unflushed and inspect(unflushed[key]).pending}
    # Looked up without flushing the caller's changes: a flush here would write them outside the caller's
    # commit, where a rival's version check (`Versioned`) raises StaleDataError instead of failing that
    # commit. What was queued before and not flushed yet is found in `unflushed` instead.
    with session.no_autoflush:
        for some in in_batches(keys):
            found = session.exec(_BY_KEYS, params={"keys": some})
            queued.update((message.idempotency_key, message) for message in found)
    for new in messages:
        if new.idempotency_key not in queued:
            queued[new.idempotency_key] = unflushed[new.idempotency_key] = message = _new(new, now)
            session.add(message)
    return [queued[message.idempotency_key] for message in messages]


_UNFLUSHED = "outbox_unflushed"
"""`Session.info`'s key for the messages `enqueue_all` added to the session, by idempotency key: those still
pending (not flushed) are not in the table for the next lookup to find. Those flushed, committed or rolled
back since are no longer pending, and the table says whether they exist."""


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


Revise = Callable[[Session, Sequence[OutboundMessage]], Sequence[OutboundMessage]]
"""Given failed messages about to go again: those still worth sending, brought up to date, in the same
transaction (the others it gives up)."""


def retry_failed(
    database: Database,
    migration_id: int,
    kinds: Collection[str],
    *,
    now: datetime,
    lock: Callable[[Session], object] | None = None,
    revise: Revise | None = None,
    unconfirmed: Unconfirmed | None = None,
) -> int | None:
    """Queue again, with a fresh count, every message of `kinds` of a migration that could not be
    delivered; the caller names the kinds still worth it (a stale reminder or digest is not), and may
    `revise` them first. With `unconfirmed`, also those of `kinds` it names that were sent but may not have
    arrived (`outbox_sends.UNCONFIRMED`): each goes again saying so (`SENT_AGAIN_KEY`). How many.

    `lock` runs first in the transaction: a rival it waits for (a step rewriting these messages) has
    committed when they are read, so what goes again is what that rival left. A rival that changes one of
    them after they were read (one that `lock` does not hold off: a sign-in sending someone's list again)
    fails the commit by its version: they are read again as it left them, and once that happened
    `OVERTAKEN_AT_MOST` times, None says that nothing was queued again."""
    for _ in range(OVERTAKEN_AT_MOST):
        queued = _retry_failed_once(
            database, migration_id, kinds, now=now, lock=lock, revise=revise, unconfirmed=unconfirmed
        )
        if queued is not None:
            return queued
    return None


OVERTAKEN_AT_MOST = 3
"""How many times in a row `retry_failed` tries, each time overtaken by a rival's change: more would keep
the admin who clicked waiting on messages that keep changing."""


def _retry_failed_once(
    database: Database,
    migration_id: int,
    kinds: Collection[str],
    *,
    now: datetime,
    lock: Callable[[Session], object] | None,
    revise: Revise | None,
    unconfirmed: Unconfirmed | None,
) -> int | None:
    """`retry_failed`, once: None if a rival's change failed the commit."""
    with database.session() as session:
        if lock is not None:
            lock(session)
        failed = session.exec(
            select(OutboundMessage)
            .where(
                OutboundMessage.migration_id == migration_id,
                OutboundMessage.status == "failed",
                col(OutboundMessage.kind).in_(sorted(kinds)),
            )
            .order_by(col(OutboundMessage.id))
        ).all()
        doubted = _unconfirmed_of(session, unconfirmed(session, migration_id), kinds) if unconfirmed else []
        # Written once, at commit: a query of a revise that reads people so many at a time would flush the
        # messages it rewrote before they are queued again, an UPDATE each twice.
        with session.no_autoflush:
            both = sorted([*failed, *doubted], key=lambda message: message.id or 0)
            again = revise(session, both) if revise is not None else both
            # an admin retries once someone joined Slack: a look-up's recent "no such member" is no answer
            unreached = [message for message in again if message.error_code == NOT_IN_CHAT]
            forget_missing(session, [address for message in unreached for address in _addresses(message)])
        resent = [message for message in again if message.status == "sent"]
        for message in again:
            _queue_again(message, now)
        _send_again(session, resent)
        return len(again) if committed(session) else None


Unconfirmed = Callable[[Session, int], Collection[int]]
"""Of a migration's messages sent but not confirmed, the ids of those to send again (the caller's choice:
one a newer message to the same person followed says nothing of how they stand)."""
SENT_AGAIN_KEY = "sent_again"
"""The payload key of a message queued again after its platform could not confirm that it arrived
(`retry_failed`'s `unconfirmed`): it tells its reader that it is sent again in case the first did not."""


def _unconfirmed_of(session: Session, ids: Collection[int], kinds: Collection[str]) -> list[OutboundMessage]:
    """The messages among `ids` of `kinds` still sent but unconfirmed, so many ids at a time."""
    wanted = sorted(ids)
    found: list[OutboundMessage] = []
    for some in in_batches(wanted):
        found += session.exec(
            select(OutboundMessage).where(
                col(OutboundMessage.id).in_(some),
                OutboundMessage.status == "sent",
                OutboundMessage.error_code == UNCONFIRMED,
                col(OutboundMessage.kind).in_(sorted(kinds)),
            )
        ).all()
    return found


def _send_again(session: Session, messages: Sequence[OutboundMessage]) -> None:
    """Messages that may have arrived, queued again: each says it is sent again, and is sent, not looked
    for first. Teams' record that it was handed over (`TeamsDispatch`) goes: a crash in the new attempt
    must not take the old one's for its own, so that a send that never began is sent."""
    for message in messages:
        message.payload = {**message.payload, SENT_AGAIN_KEY: True}
        # an attempt cut short before the unconfirmed one marked it to be looked for first: this one is sent
        message.uncertain = False
    keys = [message.idempotency_key for message in messages]
    # Not flushing the messages queued again: a flush here would write them outside the commit, where a
    # rival's change to one of them since (another admin's retry, a sign-in, a decision) raises
    # StaleDataError instead of failing the commit that `retry_failed` answers 0 for.
    with session.no_autoflush:
        for some in in_batches(keys):
            session.execute(delete(TeamsDispatch).where(col(TeamsDispatch.key).in_(some)))


NOT_IN_CHAT = "not_in_chat"
"""The error code of a person the chat platform could not reach: the senders give it, workflows read it."""


def retry_unreached(
    session: Session, failed: Sequence[OutboundMessage], *, now: datetime, revise: Revise | None = None
) -> None:
    """Queue again these messages that could not reach someone who now can be reached, `revise`d first;
    in the caller's transaction."""
    for again in revise(session, failed) if revise is not None and failed else failed:
        _queue_again(again, now)


def _addresses(message: OutboundMessage) -> list[str]:
    """Every address a direct message may reach its person by: the recipient and the person's others."""
    also = message.payload.get("also")
    return (
        [message.recipient, *(str(address) for address in also)]
        if isinstance(also, list)
        else [message.recipient]
    )


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
