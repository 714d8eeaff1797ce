"""Versions of one message on a thread (an approval prompt, then its decision; a progress line as it grows):
a newer version replaces an older one not sent yet, and waits while an older one is being sent. News to a
person that takes back older news stopped mid-send (`FOLLOWS`) waits for that send alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, update
from sqlmodel import Session, col, or_, select

from storage.database import Database
from storage.models import OutboundMessage

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


FOLLOWS = "follows"
"""The payload key of news that takes back older news to the same person which was being sent when it was
stopped (`workflows.stages.list_messages.stop_sending`): the older messages' ids. That send cannot be called
back, so the newer news waits (`FOLLOWS_SENDING`) until it ends or its lease runs out: posted first, another
replica's "you keep access after all" would be followed by the "you lose access" it takes back."""
FOLLOWS_SENDING = "older_news_sending"
"""The error code newer news waits with while older news it takes back is still being sent (`FOLLOWS`)."""


def still_sending(database: Database, message_ids: Sequence[int], *, now: datetime) -> bool:
    """Whether any of `message_ids` is being sent under a live claim: its send began and has not ended
    (`storage.outbox_sends` lets go of a stopped message's claim when its send ends), nor has its lease run
    out (its process died: it ended as it will)."""
    with database.reading() as connection:
        found = connection.execute(_SENDING, {"ids": list(message_ids), "now": now}).first()
    return found is not None


_SENDING = (
    select(OutboundMessage.id)
    .where(
        col(OutboundMessage.id).in_(bindparam("ids", expanding=True)),
        col(OutboundMessage.in_flight).is_(True),
        col(OutboundMessage.claimed_until) > bindparam("now"),
    )
    .limit(1)
)


message_thread: ColumnElement[str] = col(OutboundMessage.payload)["updates"].as_string()
"""The thread a message is a version of, its payload's `updates`, as SQL reads it: without the payload."""


def on_thread(thread: str) -> ColumnElement[bool]:
    """The messages that are versions of the message whose payload's `updates` is `thread`: matched in SQL,
    so that a look for them reads none of the other rows' payloads."""
    matches: ColumnElement[bool] = message_thread == thread
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
