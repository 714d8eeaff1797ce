"""The end of the wait after an invitation whose answer was lost (`interrupted_invitations`): for ten minutes
`invite` asks Microsoft nothing more for the person, and says until when; then only another `invite` sends
them their link, or their invitation if none went out. Nothing else would run it, so when the wait is over
the admin who ran `invite` last hears it once, with what to run; with no such admin to write to (the bot's
own run), the migration's channel hears how many, never who (people's names are their addresses).

`Reminders` fires the migration's `WAIT_OVER` schedule, at any hour: the admin was at work minutes ago. The
message is queued in the transaction that ends the schedule, whose version decides between two processes
firing it at once, so it goes once across replicas and restarts; an `invite` that records another lost
answer opens the schedule again, for a message of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage import AuditEntry, Invitation, Migration, Reminder
from storage.outbox import enqueue
from workflows.machine import LEASED_STATES, describe_state, next_commands
from workflows.notices import CHANNEL_PREFIX, admins_address
from workflows.schedules import commit_quietly
from workflows.stages.interrupted_invitations import (
    SEARCH_CATCHES_UP,
    WAIT_OVER,
    asked_unanswered,
    believed_at,
)

__all__ = ["WAIT_OVER", "WAIT_OVER_MESSAGE", "fire"]

WAIT_OVER_MESSAGE = "invitation_wait_over"

_RUNS_INVITE = ("invite", "resume")
"""The audit actions of whoever ran `invite` (or `resume`, which runs the invitations an interruption
stopped)."""


def fire(session: Session, reminder: Reminder, row: Migration, now: datetime) -> int:
    """The schedule is due: tell the admin that the wait is over, once; or, if a wait still runs (a lost
    answer since) or a step is inviting now, look again when it ends; or end in silence once an `invite`
    settled them all. The number of messages queued."""
    lost = [claim for claim in _claims_in_doubt(session, row) if asked_unanswered(claim)]
    if not lost:  # an `invite` since found, or invited, each of them
        reminder.status = "done"
        commit_quietly(session)
        return 0
    over = max(map(believed_at, lost))
    if over > now or row.state in LEASED_STATES:  # a running step looks at them itself
        reminder.next_at = over if over > now else now + SEARCH_CATCHES_UP
        commit_quietly(session)
        return 0
    recipient = _who_ran_invite(session, row) or admins_address(row)
    told: dict[str, Any] = {
        "organization": row.organization,
        "count": len(lost),
        # a channel is told how many, never who
        "people": [] if recipient.startswith(CHANNEL_PREFIX) else sorted(claim.email for claim in lost),
        "command": _what_runs_invite(row),
        "state": describe_state(row.state),
        "migration_id": row.id,
        "reminder_id": reminder.id,
    }
    key = f"reminder-{reminder.id}-{reminder.sent + 1}"
    # queued before the schedule changes: the lookup of its key flushes what changed, and a rival's commit
    # must fail this one's commit (`commit_quietly`), not that flush
    enqueue(session, idempotency_key=key, recipient=recipient, kind=WAIT_OVER_MESSAGE, payload=told, now=now)
    reminder.sent += 1
    reminder.last_sent_at = now
    reminder.status = "done"
    return 1 if commit_quietly(session) else 0


def _claims_in_doubt(session: Session, row: Migration) -> list[Invitation]:
    return list(
        session.exec(
            select(Invitation).where(
                Invitation.migration_id == row.id, col(Invitation.status).in_(("pending", "failed"))
            )
        ).all()
    )


def _who_ran_invite(session: Session, row: Migration) -> str:
    """The address of the admin who ran `invite` last, told when to run it again; empty for the bot."""
    email = session.exec(
        select(AuditEntry.actor_email)
        .where(AuditEntry.migration_id == row.id, col(AuditEntry.action).in_(_RUNS_INVITE))
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    ).first()
    return (email or "").strip()


def _what_runs_invite(row: Migration) -> str:
    """The word that runs the invitations now: `invite`, or `resume` for invitations a failure or a stop cut
    short; empty while neither fits (an approval waits, a prerequisite fails)."""
    if "invite" in next_commands(row.state):
        return "invite"
    if row.state in ("failed", "interrupted") and row.previous_state == "inviting":
        return "resume"
    return ""
