"""When an approval stops holding: it expires with time, or a change (a re-check, a cancel, a new plan)
voids it. Whoever looks first turns lapsed requests into expired ones, so none shows as pending."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from storage import Approval, Migration
from workflows import notices
from workflows._views import migration_status
from workflows.results import BOT, MigrationStatus
from workflows.results_approving import DecisionOutcome, DecisionResult
from workflows.stages.unit import Context, Unit, audit, hhmm, status


def expire(unit: Unit, approval: Approval) -> None:
    approval.status = "expired"
    if unit.row.state == "awaiting_approval":
        unit.flow.fire("expire", details={"approval_id": approval.id})


def void(unit: Unit, approval: Approval, why: str) -> None:
    """The approval no longer holds; a migration awaiting it goes back to `planned`, or to `blocked` while
    a stored check fails."""
    approval.status = "void"
    details: dict[str, object] = {"approval_id": approval.id, "why": why}
    if unit.row.state == "awaiting_approval":
        unit.flow.fire("void_approval", details=details)
    else:
        state = unit.row.state
        unit.session.add(audit(unit.ctx.now(), unit.row, unit.actor, "void_approval", state, state, details))


def expire_due(unit: Unit) -> list[Approval]:
    """Expire the migration's pending requests that lapsed; those still pending, for the step to go on with
    (`void_pending`) without reading them again."""
    waiting = []
    for approval in pending(unit):
        if approval.expires_at <= unit.flow.now:
            expire(unit, approval)
            tell_lapsed(unit, approval, "expired", expired_message(approval))
        else:
            waiting.append(approval)
    return waiting


def expire_all_lapsed(ctx: Context) -> None:
    """What the bot's watch does: the prompts of lapsed requests lose their buttons when they lapse, not
    when someone next reads the migration. A session only for a look that finds one."""
    now = ctx.now()
    with ctx.database.reading() as connection:
        lapsed = connection.execute(_LAPSED, {"now": now}).scalars().all()
    if lapsed:
        with ctx.database.session() as session:
            _expire_each(ctx, session, lapsed, now)


_LAPSED = select(Approval.id).where(
    Approval.status == "pending", col(Approval.expires_at) <= bindparam("now")
)
_LAPSED_OF_ONE = _LAPSED.where(Approval.migration_id == bindparam("migration"))
"""Built once and run as plain SQL: every look and every status reads them and seldom finds one, and building
them and passing them through the ORM cost several times running them."""


def expire_lapsed(ctx: Context, session: Session, migration_id: int | None = None) -> None:
    """Expire the lapsed requests (of one migration, or all); the session has no changes of its own yet."""
    now = ctx.now()
    query = _LAPSED if migration_id is None else _LAPSED_OF_ONE
    lapsed = session.connection().execute(query, {"now": now, "migration": migration_id}).scalars().all()
    _expire_each(ctx, session, lapsed, now)


def _expire_each(ctx: Context, session: Session, lapsed: Sequence[int], now: datetime) -> None:
    """Expire these requests, read as lapsed at `now`, each in its own commit."""
    for approval_id in lapsed:
        approval = session.get(Approval, approval_id)
        if approval is None or approval.status != "pending":
            continue  # reloaded after a conflict below: another look has expired this one too
        row = session.get(Migration, approval.migration_id)
        assert row is not None
        unit = Unit(ctx, session, ctx.flow(row, session, BOT, now))
        # The whole block, not only the commit: tell_lapsed's queries flush the versioned UPDATEs first.
        try:
            expire(unit, approval)
            tell_lapsed(unit, approval, "expired", expired_message(approval))
            session.commit()
        except StaleDataError:
            # Another look (every replica's watch looks at each lapse) expired it and told the channel,
            # or someone decided on it at this moment: their change stands.
            session.rollback()


def status_after_lapses(ctx: Context, session: Session, row: Migration) -> MigrationStatus:
    """`status` once the migration's lapsed requests are expired (the session has no changes of its own
    yet). Nearly always none has lapsed: then one read both finds that and gives the pending request."""
    pending = session.connection().execute(_PENDING_UNTIL, {"migration": row.id}).all()
    if any(expires_at <= ctx.now() for _, expires_at in pending):
        expire_lapsed(ctx, session, row.id)
        return status(session, row)
    return migration_status(row, pending[0][0] if pending else None)


_PENDING_UNTIL = select(Approval.id, Approval.expires_at).where(
    Approval.migration_id == bindparam("migration"), Approval.status == "pending"
)
"""Built once and run as plain SQL: every status reads it."""


def void_pending(unit: Unit, why: str, waiting: Sequence[Approval] | None = None) -> Sequence[Approval]:
    """Void the pending requests (`waiting`, when this unit has read them: `expire_due`) without moving the
    migration (the caller's transition does that); those it voided."""
    voided = pending(unit) if waiting is None else waiting
    for approval in voided:
        approval.status = "void"
        state = unit.row.state
        details: dict[str, object] = {"approval_id": approval.id, "why": why}
        unit.session.add(audit(unit.ctx.now(), unit.row, unit.actor, "void_approval", state, state, details))
        tell_lapsed(unit, approval, "void", f"This request no longer holds: {why}.")
    return voided


def expired_message(approval: Approval) -> str:
    return (
        f"This approval request expired at {hhmm(approval.expires_at)} UTC;"
        " run `request-approval` for a fresh one."
    )


def tell_lapsed(unit: Unit, approval: Approval, outcome: DecisionOutcome, message: str) -> None:
    """Every copy of the prompt loses its buttons and says why, recorded with the lapse itself."""
    assert approval.id is not None
    lapsed = DecisionResult(
        approval_id=approval.id,
        outcome=outcome,
        approvals=approval.approvals,
        approvers_required=approval.approvers_required,
        status=status(unit.session, unit.row),
        message=message,
    )
    watch_every = unit.ctx.settings.connection_watch_every  # a lapse sends no portal steps: unused
    notices.decision(unit.session, unit.row, lapsed, unit.actor, unit.flow.now, watch_every)


def pending(unit: Unit) -> Sequence[Approval]:
    return unit.session.exec(_PENDING, params={"migration": unit.row.id}).all()


_PENDING = select(Approval).where(
    Approval.migration_id == bindparam("migration"), Approval.status == "pending"
)
"""Built once: every step that changes the plan, and every approval request, voids what is pending."""
