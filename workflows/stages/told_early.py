"""A decision about someone's access made before `notify`, when the advance notice may have reached them
(sent, or waiting to be sent): it told them to get ready and promised a to-do list, so "you lose access"
cannot wait for the lists. They hear it once, where the notice went, and `notify` makes that notice the
one their record holds instead of sending another. A notice not sent yet never goes (it would arrive after,
or say what no longer holds), nor the retry of one whose attempt may have landed: "you lose access" then
says only the decision, unless that attempt may have reached them. Given an account before
`notify`, they hear once that it no longer holds (a notice not sent yet is stopped instead) and get their
list at `notify`. Someone the advance notice never reached hears nothing before `notify`, which tells them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from sqlmodel import Session, col, select

from storage import AffectedUser, Migration, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from storage.outbox_threads import SUPERSEDED
from workflows.identities import directory_account
from workflows.machine import CONNECTED_STEPS
from workflows.plan import NO_ACCESS, PlannedUser
from workflows.stages.announcing import ANNOUNCEMENT, announced_whens, caught_up_key, notice_key, rounds
from workflows.stages.list_messages import (
    LOST_ACCESS_MESSAGE,
    decision_key,
    following,
    may_have_reached,
    stop_sending,
    withdrawn,
)
from workflows.stages.unit import Unit

ACCESS_BACK_MESSAGE = "access_lost_taken_back"
"""To someone told before `notify` that they lose access, then given an account: it no longer holds."""
KINDS = frozenset({LOST_ACCESS_MESSAGE, ACCESS_BACK_MESSAGE})
"""The notices told early; a cancel locks them with the advance notices (`called_off`)."""


def account_decided(unit: Unit, person: PlannedUser, decision: int) -> Literal["", "lost", "stopped", "back"]:
    """Tell `person`, not yet given a list, what `decision` (`decision_key`) changes about what the advance
    notice said: what they were told now, if anything."""
    row, session = unit.row, unit.session
    assert row.id is not None
    listed = select(AffectedUser.id).where(
        AffectedUser.migration_id == row.id, AffectedUser.entitlement_id == person.id
    )
    if session.exec(listed).first() is not None:
        return ""  # after `notify`: `relisting` tells them
    earlier = _told(session, row.id, [person.id]).get(person.id, [])
    # the newest decision wins: what an earlier one still waits to say never goes
    withdrawn(earlier, KINDS - {LOST_ACCESS_MESSAGE if person.loses_access else ACCESS_BACK_MESSAGE})
    heard = [message for message in earlier if may_have_reached(message)]
    last_heard = heard[-1].kind if heard else None
    if person.loses_access:
        notice, reached, notices = _advance_notice(session, row, person.id)
        if notice is None or last_heard == LOST_ACCESS_MESSAGE:
            return ""  # never told to get ready, or already told they lose access
        fields = {
            "outcome": NO_ACCESS,
            "decided_by": person.decided_by,
            "case": person.outcome,
            "takes_back": reached,
        }
        _tell(
            unit, notice, person, LOST_ACCESS_MESSAGE, {**fields, **following([*earlier, *notices])}, decision
        )
        return "lost" if reached else "stopped"
    if last_heard != LOST_ACCESS_MESSAGE:
        return ""  # a "you lose access" not sent yet was stopped: nothing to take back
    account = directory_account(person)
    fields = {"account": account.user_principal_name if account else "", **following(earlier)}
    _tell(unit, heard[-1], person, ACCESS_BACK_MESSAGE, fields, decision)
    return "back"


def lost_access_told(session: Session, row: Migration, people: Sequence[str]) -> dict[str, OutboundMessage]:
    """The "you lose access" each of `people` (entitlement ids) was told before `notify` and that still
    stands, by entitlement id: `notify` sends them no second one."""
    assert row.id is not None
    told = _told(session, row.id, people) if people else {}
    standing = {}
    for person, messages in told.items():
        kept = [message for message in messages if message.status != SUPERSEDED]
        if kept and kept[-1].kind == LOST_ACCESS_MESSAGE:
            if kept[-1].status == "failed":
                kept[-1].status = SUPERSEDED  # never reached them: `notify` sends a new one instead
            else:
                standing[person] = kept[-1]
    return standing


def called_off(messages: Sequence[OutboundMessage]) -> list[OutboundMessage]:
    """On cancel, given a migration's messages of `KINDS`, oldest first and locked by the caller: early
    notices not sent yet never go; those that may have reached someone, whose people hear that the move is
    off."""
    reached = []
    for message in messages:
        if not message.payload.get("told_early"):
            continue
        stop_sending(message)
        # a stopped one too: a copy sent again, one after an attempt that may have landed, one cut short
        if may_have_reached(message):
            reached.append(message)
    return reached


def hold(message: OutboundMessage, affected: AffectedUser, *, subscriber: bool) -> None:
    """Make a notice told before `notify` the one `affected`'s record holds, as `notify` would have sent
    it: what `progress`, `todo` and a later decision read by the person's record."""
    message.payload = {
        **message.payload,
        "affected_user_id": affected.id,
        "facts": {"subscriber": subscriber},
    }
    affected.outcome = NO_ACCESS


def _told(session: Session, migration_id: int, people: Sequence[str]) -> dict[str, list[OutboundMessage]]:
    """Each person's notices of `KINDS` before `notify`, oldest first, locked as `relisting` locks them."""
    query = select(OutboundMessage).where(
        OutboundMessage.migration_id == migration_id, col(OutboundMessage.kind).in_(KINDS)
    )
    told: dict[str, list[OutboundMessage]] = {}
    for message in session.exec(query.order_by(col(OutboundMessage.id)).with_for_update()).all():
        person = str(message.payload.get("entitlement_id") or "")  # none once `notify` wrote a record
        if person in people:
            told.setdefault(person, []).append(message)
    return told


def _advance_notice(
    session: Session, row: Migration, person: str
) -> tuple[OutboundMessage | None, bool, Sequence[OutboundMessage]]:
    """The newest advance notice to `person` that may have reached them, else the newest that waited to be
    sent; whether it may have reached them; and every notice to them. Each one waiting is stopped, a retry
    too."""
    assert row.id is not None
    firsts = [notice_key(row.id, when, n, person) for when, n in rounds(announced_whens(session, row.id))]
    keys = [key for first in firsts for key in (first, caught_up_key(first))]
    notices = session.exec(
        select(OutboundMessage)
        .where(col(OutboundMessage.idempotency_key).in_(keys), OutboundMessage.kind == ANNOUNCEMENT)
        .order_by(col(OutboundMessage.id))
        .with_for_update()
    ).all()
    # a retry (after a timeout, or a send cut short) could post "get ready" after "you lose access"
    waiting = [notice for notice in notices if stop_sending(notice)]
    reached = [notice for notice in notices if may_have_reached(notice)]
    if reached:
        return reached[-1], True, notices
    return (waiting[-1] if waiting else None), False, notices


def _tell(
    unit: Unit,
    where: OutboundMessage,
    person: PlannedUser,
    kind: str,
    fields: Mapping[str, object],
    decision: int,
) -> None:
    """Queue `kind` to `person`, reaching them as `where` (a message to them) did."""
    row, now = unit.row, unit.flow.now
    assert row.id is not None
    reach = {name: where.payload.get(name) for name in ("also", "directory_id", "candidates")}
    payload = {
        **reach,
        "migration_id": row.id,
        "organization": row.organization,
        "tenant": row.directory_name,
        "entitlement_id": person.id,
        "email": person.address,
        "display_name": person.display_name,
        "told_early": True,
        "connected": row.state in CONNECTED_STEPS,  # connected, not yet listed: the move is no longer ahead
        **fields,
    }
    # one per decision: decided back in and out again, they hear it again
    key = decision_key(row.id, "told-early", person.id, decision)
    enqueue_all(unit.session, [NewMessage(key, where.recipient, kind, payload, row.id)], now=now)
