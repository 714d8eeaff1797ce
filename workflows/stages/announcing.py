"""The advance notice (the procedure's first prerequisite): before connecting, every affected user hears
what will happen to them and when."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import AuditEntry, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from workflows import _plan_codec
from workflows.arguments import announcement_when
from workflows.errors import WorkflowError
from workflows.identities import planned_reach
from workflows.machine import refusal
from workflows.results import Actor, AnnounceResult
from workflows.stages.invited import as_invited, to_accept
from workflows.stages.unit import Context, audit, find, status
from workflows.todo import advance_notice
from workflows.tokens import case_of

ANNOUNCEMENT = "advance_notice"
"""The outbox kind of each person's advance notice: a cancel tells those it reached that it is off."""
_ANNOUNCE_STATES = frozenset({"planned", "blocked", "waiting_for_invite_settings", "awaiting_approval"})


def announce(ctx: Context, organization: str | None, actor: Actor, when: str = "") -> AnnounceResult:
    """Tell every affected user, before connecting, what will happen to them and when.

    Announcing again the `when` the last announcement named sends nothing new (but to people the plan has
    gained since); any other `when`, an earlier one too, reaches everyone again: they hear the date that
    now stands, once.
    """
    when = " ".join(when.split())
    with ctx.database.session() as session:
        row = find(session, organization)
        if row.state not in _ANNOUNCE_STATES or row.plan is None:
            raise refusal(row.state, "announce")
        assert row.id is not None
        now = ctx.now()
        when = announcement_when(when, now=now, usage=f"announce {row.organization}")
        plan = _plan_codec.decode(row.plan)
        tenant = row.directory_name
        this, occurrence = rounds([*announced_whens(session, row.id), when])[-1]
        keys = {user.id: notice_key(row.id, this, occurrence, user.id) for user in plan.users}
        sent_before = set(
            session.exec(
                select(OutboundMessage.idempotency_key).where(
                    col(OutboundMessage.idempotency_key).in_(list(keys.values()))
                )
            ).all()
        )
        invited = to_accept(session, row.id, plan.users)
        case = case_of(plan.checks)
        messages = [
            NewMessage(
                keys[user.id],
                reach.recipient,
                ANNOUNCEMENT,
                {
                    **reach.payload(),
                    "migration_id": row.id,
                    "organization": row.organization,
                    "tenant": tenant,
                    "email": user.address,
                    "display_name": user.display_name,
                    "when": when,
                    "lines": advance_notice(
                        as_invited(user, invited),
                        organization=row.organization,
                        tenant=tenant,
                        invited_as=invited.get(user.id),
                        case=case,
                    ),
                },
                row.id,
            )
            for user in plan.users
            if keys[user.id] not in sent_before
            for reach in [planned_reach(user, connected=False)]
        ]
        # Flushed only at commit: a concurrent identical announce then shows as one IntegrityError there.
        enqueue_all(session, messages, now=now)
        queued = len(keys) - len(sent_before)
        session.add(
            audit(ctx.now(), row, actor, "announce", row.state, row.state, {"when": when, "users": queued})
        )
        name = row.organization
        try:
            session.commit()
        except IntegrityError:  # another admin's identical announce committed first: theirs went out
            session.rollback()
            raise WorkflowError(
                f"{name} was just announced for {when or 'this date'} by someone else at the"
                " same moment; everyone gets that notice once. Nothing more was sent."
            ) from None
        return AnnounceResult(status(session, row), queued, len(plan.users), when)


def announced_whens(session: Session, migration_id: int) -> list[str]:
    """The `when` of each announcement of the migration, in order (their audit entries)."""
    details = session.exec(
        select(AuditEntry.details)
        .where(AuditEntry.migration_id == migration_id, AuditEntry.action == "announce")
        .order_by(col(AuditEntry.id))
    ).all()
    return [str(detail.get("when") or "") for detail in details]


def rounds(whens: Sequence[str]) -> list[tuple[str, int]]:
    """The rounds of notices that announcements of `whens` (in order) sent: each one's `when`, and how many
    rounds before it named the same date. Announcing the date of the last round again is that round (it
    reaches only whom it missed); any other date, an earlier one too, starts a round that reaches everyone."""
    found: list[tuple[str, int]] = []
    for when in whens:
        if found and found[-1][0].casefold() == when.casefold():
            continue
        found.append((when, sum(earlier.casefold() == when.casefold() for earlier, _ in found)))
    return found


def notice_key(migration_id: int, when: str, occurrence: int, user_id: str) -> str:
    """The idempotency key of the advance notice to `user_id` in the `occurrence`th round naming `when`
    (`rounds`): the same for the same round, so a notice goes once, and found by exact key when reading what
    someone was told. The first round's has no count, as before dates could be announced again."""
    digest = hashlib.sha256(when.casefold().encode()).hexdigest()[:12]
    again = f"-{occurrence}" if occurrence else ""
    return f"migration-{migration_id}-notice-{digest}{again}-{user_id}"
