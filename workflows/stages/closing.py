"""Ending a migration: complete it once everything is done, or cancel it before the connection.

Either end stops every reminder, so neither happens behind the backs of the people it concerns:
`complete` names who would be left behind and goes ahead only once an admin confirms it, and `cancel`
tells whoever heard of the move (the announced, the invited, the connector holding the portal steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, or_, update
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from storage import Approval, Migration, OutboundMessage
from storage.outbox import messages_of
from workflows import _plan_codec, notices
from workflows.identities import Reach, planned_reach
from workflows.machine import BILLING_UNCONFIRMED
from workflows.plan import NO_ACCESS
from workflows.progress import known_as_user, lists_of
from workflows.results import Actor, MigrationStatus
from workflows.results_closing import CalledOff, CalledOffDelivery, Cancellation, Completion, LeftBehind
from workflows.stages import left_behind_notes, redeem_links, told_early
from workflows.stages.announcing import ANNOUNCEMENT
from workflows.stages.approval_lapse import void_pending
from workflows.stages.billing import check_billing
from workflows.stages.invited import sent_invitations
from workflows.stages.list_messages import by_person, following, may_have_reached, stop_sending
from workflows.stages.notifying import NO_WAY_IN_ITEMS
from workflows.stages.reading import current_status
from workflows.stages.unit import Context, deactivate, status, step
from workflows.stages.verification import SIGN_IN_ITEMS
from workflows.todo import required


def complete(ctx: Context, organization: str | None, actor: Actor, *, confirmed: bool = False) -> Completion:
    """Close the migration; while anyone would be left behind, only once `confirmed`. While billing is
    unconfirmed it looks at the subscription first (billing may have moved since the reminder last looked,
    up to two working days ago): one read of Azure, rather than a refusal that sends the admin to
    `check-billing`."""
    looked = None
    if current_status(ctx, organization).state == BILLING_UNCONFIRMED:
        looked = check_billing(ctx, organization, actor)
        if not looked.ok:
            return Completion(looked.status, LeftBehind(0), completed=False, billing=looked)
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "complete") as unit:
            unit.flow.require("complete", command="complete")
            left = left_behind(session, unit.row)
            if left.anyone and not confirmed:
                return Completion(status(session, unit.row), left, completed=False, billing=looked)
            unit.flow.fire(
                "complete",
                details={
                    "open": len(left.open),
                    "no_way_in": len(left.no_way_in),
                    "not_signed_in": len(left.not_signed_in),
                },
            )
            deactivate(unit)
            # a cancel keeps them: the guests stay invited, and a new migration offers their links
            redeem_links.forget(session, unit.row)
            closed = status(session, unit.row)
            notices.closed(session, unit.row, closed, actor, unit.flow.now, left=left)
            left_behind_notes.tell_left_behind(session, unit.row, actor, unit.flow.now)
        return Completion(closed, left, completed=True, billing=looked)


def left_behind(session: Session, row: Migration) -> LeftBehind:
    """Who still has open items, who cannot sign in at all, and who has not been seen signing in; and who of
    them waits for an admin's decision."""
    assert row.id is not None
    users, items = lists_of(session, row.id)
    waiting = {user.id for user in _plan_codec.decode(row.plan).undecided} if row.plan else set()
    by_user = by_person(items)
    open_, no_way_in, not_signed_in = [], [], []
    for user in users:
        own = by_user.get(user.id or 0, [])
        still_open = {item.key for item in required(own) if item.done_at is None}
        known_as = known_as_user(user)  # as `progress` and the digest name them
        if still_open & NO_WAY_IN_ITEMS:
            no_way_in.append(known_as)
            continue
        if still_open:
            open_.append(known_as)
        sign_in = [item for item in own if item.key in SIGN_IN_ITEMS]
        if sign_in and not any(item.verified_at for item in sign_in):
            not_signed_in.append(known_as)
    undecided = tuple(user.email for user in users if user.entitlement_id in waiting)
    listed = sum(user.outcome != NO_ACCESS for user in users)  # who lose access, as decided, have no list
    return LeftBehind(listed, tuple(open_), tuple(no_way_in), tuple(not_signed_in), undecided)


def cancel(ctx: Context, organization: str | None, actor: Actor, reason: str = "") -> Cancellation:
    """Call the migration off; everyone who heard of it hears that, in the same transaction."""
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "cancel") as unit:
            row, now = unit.row, unit.flow.now
            connecting = row.state == "connecting"
            notices_locked = _lock_what_cancel_changes(session, row)
            void_pending(unit, "the migration was cancelled")
            unit.flow.fire("cancel", details={"reason": reason})
            deactivate(unit)
            row.blocked_reason = reason or None
            row.blocked_fix = None
            closed = status(session, row)
            told, sending = _told_of_the_move(session, row, reason, notices_locked)
            notices.called_off(session, row, told, now, sending)
            if connecting:
                _withdraw_portal_steps(session, row, closed, now)
            people = tuple(person for person, _ in told)
            notices.closed(session, row, closed, actor, now, told=people)
        return Cancellation(closed, people)


def called_off_delivery(ctx: Context, migration_id: int) -> CalledOffDelivery:
    """Who has read that the move is off, who is still to, and who could not be reached (and why)."""
    messages = messages_of(ctx.database, migration_id, {notices.CALLED_OFF})
    reached, waiting, unreached = [], [], []
    for message in messages:
        address = str(message.payload["person"]["email"])
        if message.status == "sent":
            reached.append(address)
        elif message.status == "failed":
            unreached.append((address, message.last_error or "no reason given"))
        else:
            waiting.append(address)
    return CalledOffDelivery(tuple(reached), tuple(waiting), tuple(unreached))


def _lock_what_cancel_changes(session: Session, row: Migration) -> list[OutboundMessage]:
    """Lock, before the cancel changes any message, every message of the migration it may change (those
    still to send or being sent: the approval prompts it voids, the portal steps it withdraws, the notices
    it stops) and the notices whose people it tells: in one query, lowest id first, as a claim batch locks
    them. Locked one kind at a time as each step came to them, a prompt locked by voiding the approval,
    then a notice below it, deadlocked with a batch holding that notice and waiting for the prompt (rev82).
    Answers the notices `_told_of_the_move` reads."""
    # SQLite locks the file from a transaction's first write, not rows: written to first (the migration's
    # version, which the cancel moves on anyway), the cancel reads no message a sender may change before it
    # writes it
    moved = session.execute(_WRITING, {"migration": row.id, "version": row.version})
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleDataError("the migration changed since it was read")  # a rival's cancel: a conflict
    session.refresh(row, ["version"])
    locked = session.exec(
        _WHAT_CANCEL_CHANGES, params={"migration": row.id, "kinds": sorted(_TOLD_OF_THE_MOVE)}
    ).all()
    return [message for message in locked if message.kind in _TOLD_OF_THE_MOVE]


_TOLD_OF_THE_MOVE = frozenset({ANNOUNCEMENT, *told_early.KINDS})
_WRITING = (
    update(Migration)
    .where(col(Migration.id) == bindparam("migration"), col(Migration.version) == bindparam("version"))
    .values(version=col(Migration.version) + 1)
    .execution_options(synchronize_session=False)
)
_WHAT_CANCEL_CHANGES = (
    select(OutboundMessage)
    .where(
        OutboundMessage.migration_id == bindparam("migration"),
        or_(
            col(OutboundMessage.kind).in_(bindparam("kinds", expanding=True)),
            col(OutboundMessage.status) == "pending",
            col(OutboundMessage.in_flight),
        ),
    )
    .order_by(col(OutboundMessage.id))
    .with_for_update()
)


def _told_of_the_move(
    session: Session, row: Migration, reason: str, locked: Sequence[OutboundMessage]
) -> tuple[list[tuple[CalledOff, Reach]], dict[str, dict[str, list[int]]]]:
    """Whoever an announcement may have reached (a stopped retry after an attempt that may have landed too)
    or Microsoft invited, and which of them hold an invitation the move asked them to accept
    (`CalledOff.invited`); announcements still waiting to go out never will. And, by casefolded address,
    what "the move is off" must follow: the news to them stopped while being sent (`following`)."""
    assert row.id is not None
    tenant = row.directory_name
    announced: dict[str, tuple[str, Reach, str]] = {}
    # `locked`: unlocked, a replica posting someone else's notice meanwhile made the cancel fail on the
    # row's version (fix142)
    stopped: dict[str, list[OutboundMessage]] = {}
    for message in (message for message in locked if message.kind == ANNOUNCEMENT):
        stop_sending(message)  # sent after "the move is off", "get ready" would contradict it
        address = str(message.payload["email"])
        stopped.setdefault(address.casefold(), []).append(message)
        if message.status == "failed" or not may_have_reached(message):
            continue  # it never reached them (a decision that they lose access stopped it)
        announced[address.casefold()] = (str(message.payload.get("when") or ""), _reach_of(message), address)
    # told before the lists what the decision changes
    for message in told_early.called_off([message for message in locked if message.kind != ANNOUNCEMENT]):
        address = str(message.payload["email"])
        stopped.setdefault(address.casefold(), []).append(message)
        announced.setdefault(address.casefold(), ("", _reach_of(message), address))
    plan = _plan_codec.decode(row.plan) if row.plan else None
    invited = sent_invitations(session, row.id)
    told: dict[str, tuple[CalledOff, Reach]] = {}
    for user in plan.users if plan else ():
        address = user.address
        heard = announced.pop(address.casefold(), None)
        if heard is None and user.id not in invited:
            continue
        # A guest still to accept an earlier invitation (an earlier cancelled migration's, an admin's) was
        # asked by what reached them to accept it, as this move relied on it: "off" alone would leave that
        # standing. Told nothing, they hear nothing of an invitation this move did not send.
        ignore = user.id in invited or (heard is not None and user.group == "to-accept")
        # where they are now: an admin's `decide` after the announcement names the account to try first
        reach = planned_reach(user, connected=False)
        when = heard[0] if heard else None
        told[address.casefold()] = (
            CalledOff(address, user.display_name, row.organization, tenant, reason, when, ignore),
            reach,
        )
    for key, (when, reach, address) in announced.items():  # announced, then gone from a newer plan
        told.setdefault(key, (CalledOff(address, "", row.organization, tenant, reason, when), reach))
    sending = {address: following(messages) for address, messages in stopped.items()}
    return list(told.values()), {address: field for address, field in sending.items() if field}


def _reach_of(message: OutboundMessage) -> Reach:
    """Where a message to one person went."""
    payload = message.payload
    also = tuple(str(address) for address in payload.get("also", ()))
    directory_id = payload.get("directory_id")
    candidates = tuple(str(candidate) for candidate in payload.get("candidates") or ())
    return Reach((message.recipient, *also), str(directory_id) if directory_id else None, candidates)


def _withdraw_portal_steps(session: Session, row: Migration, closed: MigrationStatus, now: datetime) -> None:
    """The connector holding the portal steps of the approved request reads "do not connect" there."""
    approval = session.exec(
        select(Approval)
        .where(Approval.migration_id == row.id, Approval.status == "approved")
        .order_by(col(Approval.id).desc())
    ).first()
    if approval is None or approval.id is None:
        return
    steps = session.exec(
        select(OutboundMessage).where(
            OutboundMessage.migration_id == row.id,
            OutboundMessage.kind == notices.PORTAL_STEPS,
            OutboundMessage.idempotency_key == f"approval-{approval.id}-portal-steps",
        )
    ).first()
    if steps is not None:
        notices.portal_withdrawn(session, row, approval.id, steps.recipient, closed, now)
