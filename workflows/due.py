"""When the background look (`serve`'s, every `AADBOT_POLL_SECONDS`) next has something to do.

A rehearsal moves its clock from one of these moments to the next instead of looking every hour: what
falls due with time alone is known ahead, and what the reads of Microsoft find changes only when people
act. The look itself is `Conversation.watch`: the approvals' lapse, the connection watch, the sign-in
checks, then the reminders, digests and billing reminders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select

from storage import Approval, Reminder
from workflows.stages import verification
from workflows.stages.unit import Context


@dataclass(frozen=True)
class Due:
    by_clock: datetime | None
    """The earliest moment something falls due with time alone: a reminder, digest or billing reminder,
    or an approval's lapse. At or before now when it is overdue: the next look does it. None when nothing
    is scheduled."""
    reads: tuple[datetime, ...]
    """When each connected migration's sign-ins are next read: what a read finds, who signed in, is up
    to people. The connection watch reads at every look, so it has no moment of its own."""


_NEXT_REMINDER = select(func.min(col(Reminder.next_at))).where(Reminder.status == "active")
_NEXT_LAPSE = select(func.min(col(Approval.expires_at))).where(Approval.status == "pending")
"""Built once and run as plain SQL on the session's connection: a rehearsal asks at every step, and
building a statement and passing it through the ORM cost several times running it."""


def next_due(ctx: Context) -> Due:
    with ctx.database.session() as session:
        connection = session.connection()
        reminder = connection.execute(_NEXT_REMINDER).scalar_one()
        lapse = connection.execute(_NEXT_LAPSE).scalar_one()
        reads = verification.next_reads(ctx, session)
    return Due(min((m for m in (reminder, lapse) if m is not None), default=None), reads)
