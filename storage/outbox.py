"""Outbound messages: queued in the same transaction as the step that causes them, delivered at least once.

Several processes may deliver: a worker claims a message for a lease; the version column makes two
claims of the same row impossible, and an expired lease (a crashed worker) makes it claimable again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, or_, select

from storage.database import Database
from storage.models import OutboundMessage


def enqueue(
    session: Session,
    *,
    idempotency_key: str,
    recipient: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
) -> OutboundMessage:
    """Queue a message unless one with this key exists already (then that one is returned)."""
    existing = session.exec(
        select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
    ).first()
    if existing is not None:
        return existing
    message = OutboundMessage(
        idempotency_key=idempotency_key,
        recipient=recipient,
        kind=kind,
        payload=payload,
        not_before=now,
        created_at=now,
    )
    session.add(message)
    return message


def claim_due(
    database: Database, *, worker: str, now: datetime, lease: timedelta, limit: int = 20
) -> list[OutboundMessage]:
    """Claim up to `limit` pending messages that are due; each claim commits on its own."""
    claimed: list[OutboundMessage] = []
    with database.session() as session:
        due = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.status == "pending", OutboundMessage.not_before <= now)
            .where(
                or_(col(OutboundMessage.claimed_until).is_(None), col(OutboundMessage.claimed_until) < now)
            )
            .order_by(col(OutboundMessage.id))
            .limit(limit)
        ).all()
        for message in due:
            message.claimed_by = worker
            message.claimed_until = now + lease
            message.attempts += 1
            try:
                session.commit()
            except StaleDataError:
                session.rollback()  # another worker claimed it first
                continue
            claimed.append(message)
    return claimed


def mark_sent(database: Database, message_id: int, *, worker: str, now: datetime) -> bool:
    """Record delivery; False when this worker's claim was lost meanwhile (someone else owns it now)."""
    with database.session() as session:
        message = session.get(OutboundMessage, message_id)
        if message is None or message.claimed_by != worker:
            return False
        message.status = "sent"
        message.sent_at = now
        message.claimed_by = None
        message.claimed_until = None
        return _commit(session)


def mark_failed(
    database: Database,
    message_id: int,
    *,
    worker: str,
    now: datetime,
    error: str,
    retry_after: timedelta,
    max_attempts: int = 5,
) -> bool:
    """Record a failed attempt: retry after `retry_after`, or give up after `max_attempts`.

    `error` is stored and shown to admins, so it must not contain tokens.
    """
    with database.session() as session:
        message = session.get(OutboundMessage, message_id)
        if message is None or message.claimed_by != worker:
            return False
        message.last_error = error[:500]
        message.claimed_by = None
        message.claimed_until = None
        if message.attempts >= max_attempts:
            message.status = "failed"
        else:
            message.not_before = now + retry_after
        return _commit(session)


def _commit(session: Session) -> bool:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        return False
    return True
