"""The advance notice (the procedure's first prerequisite): before connecting, every affected user hears
what will happen to them and when."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import AuditEntry, Migration, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from workflows import _plan_codec
from workflows.arguments import announcement_when
from workflows.errors import WorkflowError
from workflows.identities import planned_reach
from workflows.machine import refusal
from workflows.plan import PlannedUser, invitation_bar
from workflows.results import Actor, AnnounceResult, Told, Unreached
from workflows.stages.invited import as_invited, to_accept
from workflows.stages.unit import Context, audit, find, status
from workflows.todo import advance_notice
from workflows.tokens import case_of

ANNOUNCEMENT = "advance_notice"
"""The outbox kind of each person's advance notice: a cancel tells those it reached that it is off."""
_ANNOUNCE_STATES = frozenset({"planned", "blocked", "waiting_for_invite_settings", "awaiting_approval"})


def announce(ctx: Context, organization: str | None, actor: Actor, when: str = "") -> AnnounceResult:
    """Tell every affected user, before connecting, what will happen to them and when (`to_tell`).

    Announcing again the `when` the last announcement named sends nothing new (but to people the plan has
    gained since), and so does one without a `when` after a dated one: a notice without the date would read
    as if it were withdrawn. Any other `when`, an earlier one too, reaches everyone again: they hear the
    date that now stands, once.
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
        earlier = announcements(session, row.id)
        if not when and earlier and earlier[-1][0]:  # a bare `announce` (or its button) keeps the date
            when = rounds([when for when, _ in earlier])[-1][0]
        this, occurrence = rounds([*(when for when, _ in earlier), when])[-1]
        keys = {user.id: notice_key(row.id, this, occurrence, user.id) for user in to_tell(plan.users)}
        sent_before = set(
            session.exec(
                select(OutboundMessage.idempotency_key).where(
                    col(OutboundMessage.idempotency_key).in_(list(keys.values()))
                )
            ).all()
        )
        invited = to_accept(session, row.id, plan.users)
        case, barred = case_of(plan.checks), invitation_bar(plan.checks)
        admins = ctx.admins.who_can_act(row.organization)
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
                        barred=barred,
                        admins=[admin for admin in admins if admin != user.address.lower()],
                    ),
                },
                row.id,
            )
            for user in to_tell(plan.users)
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
        return AnnounceResult(
            status(session, row), queued, len(keys), when, round_began(earlier, when) or now
        )


def told(ctx: Context, organization: str | None) -> Told | None:
    """How the advance notice went out, from its delivery records; None while nobody was announced to."""
    with ctx.database.session() as session:
        return told_in(session, find(session, organization))


def told_in(session: Session, row: Migration) -> Told | None:
    assert row.id is not None
    earlier = announcements(session, row.id)
    if not earlier or row.plan is None:
        return None
    when, occurrence = rounds([when for when, _ in earlier])[-1]
    people = {
        notice_key(row.id, when, occurrence, user.id): user
        for user in to_tell(_plan_codec.decode(row.plan).users)
    }
    outcomes = session.exec(
        select(OutboundMessage.idempotency_key, OutboundMessage.status, OutboundMessage.last_error).where(
            col(OutboundMessage.idempotency_key).in_(list(people))
        )
    ).all()
    unreached = tuple(
        Unreached(people[key].address, people[key].group, why or "")
        for key, outcome, why in outcomes
        if outcome == "failed"
    )
    return Told(
        when,
        round_began(earlier, when) or earlier[-1][1],
        len(people),
        sum(outcome == "sent" for _, outcome, _ in outcomes),
        sum(outcome == "pending" for _, outcome, _ in outcomes),
        unreached,
    )


def to_tell(users: Sequence[PlannedUser]) -> list[PlannedUser]:
    """Whom a notice asking them to get ready is for: not someone decided to lose access, who hears that
    decision instead (at `decide` if a notice reached them, else at `notify`)."""
    return [user for user in users if not user.loses_access]


def announcements(session: Session, migration_id: int) -> list[tuple[str, datetime]]:
    """The `when` of each announcement of the migration and the moment it was made, in order (their audit
    entries)."""
    entries = session.exec(
        select(AuditEntry.details, AuditEntry.at)
        .where(AuditEntry.migration_id == migration_id, AuditEntry.action == "announce")
        .order_by(col(AuditEntry.id))
    ).all()
    return [(str(details.get("when") or ""), at) for details, at in entries]


def announced_whens(session: Session, migration_id: int) -> list[str]:
    """The `when` of each announcement of the migration, in order."""
    return [when for when, _ in announcements(session, migration_id)]


def round_began(earlier: Sequence[tuple[str, datetime]], when: str) -> datetime | None:
    """When the last round of notices began, if announcing `when` now goes on with it (`rounds`)."""
    began = None
    for said, at in earlier:
        if said.casefold() != when.casefold():
            began = None
        elif began is None:
            began = at
    return began


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
