"""The end of the wait after an invitation whose answer was lost (`interrupted_invitations`): for ten minutes
`invite` asks Microsoft nothing more for the person, and says until when; then only another `invite` sends
them their link, or their invitation if none went out. Nothing else would run it, so when the wait is over
the admin who last ran the invitations hears it once, with what to run; with no such admin to write to (the
bot's own run), the migration's channel hears how many, never who (people's names are their addresses).
While a step is inviting the message waits, as the step looks at them itself; if the step died inviting,
the message says so, and to `resume` it.

`Reminders` fires the migration's `WAIT_OVER` schedule, at any hour: the admin was at work minutes ago. The
message is queued in the transaction that ends the schedule, whose version decides between two processes
firing it at once, so it goes once across replicas and restarts; an `invite` that records another lost
answer opens the schedule again, for a message of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage import AuditEntry, Migration, Reminder
from storage.outbox import enqueue
from workflows.machine import INVITING_AFTER_CONNECTING, LEASED_STATES, describe_state, next_commands
from workflows.notices import CHANNEL_PREFIX, admins_address
from workflows.schedules import commit_quietly
from workflows.stages.interrupted_invitations import (
    SEARCH_CATCHES_UP,
    WAIT_OVER,
    awaits_search,
    believed_at,
    lost_answers,
)

__all__ = ["WAIT_OVER", "WAIT_OVER_MESSAGE", "fire"]

WAIT_OVER_MESSAGE = "invitation_wait_over"

_RUNS_INVITE = ("invite", "resume")
"""The audit actions of whoever ran `invite` (or `resume`, which runs the invitations an interruption
stopped, when it takes the migration to `_INVITING`)."""

_INVITING = ("inviting", INVITING_AFTER_CONNECTING)
"""The states that run the invitations."""


def fire(session: Session, reminder: Reminder, row: Migration, now: datetime) -> int:
    """The schedule is due: tell the admin that the wait is over, once (and to `resume` a step that died
    inviting); or, if a wait still runs (a lost answer since) or a step is inviting now, look again when it
    ends; or end in silence once an `invite` settled them all. The number of messages queued."""
    assert row.id is not None
    lost = [claim for claim in lost_answers(session, row.id) if awaits_search(claim)]
    if not lost:  # an `invite` since found, or invited, each of them
        reminder.status = "done"
        commit_quietly(session)
        return 0
    over = max(map(believed_at, lost))
    stuck = row.state in LEASED_STATES and _silent(row, now)
    if over > now or (row.state in LEASED_STATES and not stuck):  # a running step looks at them itself
        reminder.next_at = over if over > now else now + SEARCH_CATCHES_UP
        commit_quietly(session)
        return 0
    recipient = _who_ran_invite(session, row) or admins_address(row)
    told: dict[str, Any] = {
        "organization": row.organization,
        "count": len(lost),
        # a channel is told how many, never who
        "people": [] if recipient.startswith(CHANNEL_PREFIX) else sorted(claim.email for claim in lost),
        "command": "resume" if stuck else _what_runs_invite(row),
        "state": describe_state(row.state),
        "stuck_since": row.updated_at.isoformat() if stuck else "",
        "migration_id": row.id,
        "reminder_id": reminder.id,
    }
    key = f"reminder-{reminder.id}-{reminder.sent + 1}"
    enqueue(session, idempotency_key=key, recipient=recipient, kind=WAIT_OVER_MESSAGE, payload=told, now=now)
    reminder.sent += 1
    reminder.last_sent_at = now
    reminder.status = "done"
    return 1 if commit_quietly(session) else 0


def _silent(row: Migration, now: datetime) -> bool:
    """Whether the step the migration is in has not shown it is alive (`unit.heartbeat`) for a step's
    lease: it died (kill -9, a lost machine), and nothing looks at the lost answers until `resume` runs it
    again. Putting the message off for as long as the state says *inviting* would put it off for ever."""
    return row.updated_at + SEARCH_CATCHES_UP <= now


def _who_ran_invite(session: Session, row: Migration) -> str:
    """The address of the admin who last ran the invitations (`invite`, or `resume` of an inviting step),
    who read that they would be told when to run it again; empty for the bot. Not an admin who resumed
    another step since."""
    email = session.exec(
        select(AuditEntry.actor_email)
        .where(
            AuditEntry.migration_id == row.id,
            col(AuditEntry.action).in_(_RUNS_INVITE),
            col(AuditEntry.state_after).in_(_INVITING),
        )
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
