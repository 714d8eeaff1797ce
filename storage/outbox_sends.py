"""A claimed message's send, recorded: its start right before the platform is asked, its outcome after.

Right before each send the worker renews its lease and marks the message `in_flight` in one conditional
UPDATE (`begin_send`): a worker whose lease ran out meanwhile learns it there and does not send. The
outcome is recorded only while the claim holds (`outbox_claims`), so a message is never recorded twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlmodel import col

from storage.database import Database, committed
from storage.models import OutboundMessage

# Built once, as `outbox_claims`' statements are: every message delivered runs a `begin_send` and a
# `mark_sent`, and building each statement and its cache key anew cost about as much CPU as running it.
_BEGIN_SEND = (
    update(OutboundMessage)
    .where(col(OutboundMessage.id) == bindparam("message_id"))
    .where(col(OutboundMessage.status) == "pending")
    .where(col(OutboundMessage.claimed_by) == bindparam("worker"))
    .where(col(OutboundMessage.claimed_until) > bindparam("now"))
    .values(
        in_flight=True,
        uncertain=col(OutboundMessage.uncertain) | bindparam("maybe"),
        claimed_until=bindparam("until"),
        version=col(OutboundMessage.version) + 1,
    )
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


_LET_GO = (
    update(OutboundMessage)
    .where(col(OutboundMessage.id) == bindparam("message_id"))
    .where(col(OutboundMessage.status) != "pending")
    .where(col(OutboundMessage.claimed_by) == bindparam("worker"))
    .values(claimed_by=None, claimed_until=None, version=col(OutboundMessage.version) + 1)
    .execution_options(synchronize_session=False)
)
"""Ends the claim of a message stopped while this worker was sending it (`workflows.stages.list_messages.
stop_sending` keeps it, as the sign that the send is still under way, which the newer news waits for): it is
never tried again, and it stays `in_flight`, one that may have reached them, as one posted did."""
_UNSENT = _LET_GO.values(in_flight=False, uncertain=col(OutboundMessage.uncertain) | bindparam("maybe"))
"""`_LET_GO` after a send that did not post it: the platform refused it, or it was never asked (a try
after a 429 found it stopped). Only an attempt that may have landed (`maybe`: a timeout, or a post whose
later step failed), this send's or an earlier one's (`uncertain`), leaves it one that may have reached
them: whatever the newer news says of it, and whoever a cancel tells, go by what is known."""


def begin_send(
    database: Database,
    message_id: int,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    maybe_delivered: bool = False,
) -> bool:
    """Right before a send: renew the claim and mark the message `in_flight`, if the claim still holds.
    `maybe_delivered`: an earlier try of this send may have got through (its post, then a 429 on a later
    step), which is recorded now (`uncertain`): nothing that ends the send after it may take that back.

    False when the lease ran out (another worker may own the message now): the caller must not send.
    """
    with database.session() as session:
        values = {"message_id": message_id, "worker": worker, "maybe": maybe_delivered}
        renewed = session.execute(_BEGIN_SEND, values | {"now": now, "until": now + lease})
        began = bool(renewed.rowcount == 1)  # type: ignore[attr-defined]
        if not began:  # stopped between two tries (after a 429): the newer news need not wait any longer
            session.execute(_UNSENT, values)
        session.commit()
        return began


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
        done = bool(recorded.rowcount == 1)  # type: ignore[attr-defined]
        if not done:  # stopped while being sent: its send has ended
            session.execute(_LET_GO, {"message_id": message_id, "worker": worker})
        session.commit()
        return done


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
        if message.status != "pending":  # stopped while being sent: never tried again
            # conditional, not the row read: the heartbeat renews a stopped send's claim too (a new version),
            # and a commit of the row read would then raise StaleDataError and leave the claim held
            session.execute(_UNSENT, {"message_id": message_id, "worker": worker, "maybe": maybe_delivered})
            session.commit()
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
        return status if committed(session) else None


LAST_ERROR_CHARS = 500


def shown_error(reason: str) -> str:
    """`reason` as `last_error` keeps it (and admins see it): its first `LAST_ERROR_CHARS` characters."""
    return reason[:LAST_ERROR_CHARS]


UNCONFIRMED = "unconfirmed"
"""The error code of a message sent that its platform could not confirm (`mark_sent`'s `unconfirmed`): it may
not have arrived, and is not sent again on its own; an admin's *Retry failed* sends it again, saying so
(`outbox.SENT_AGAIN_KEY`)."""
