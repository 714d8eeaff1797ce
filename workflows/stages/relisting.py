"""A decision made after the to-do lists went out: the person's record follows it (chat knows them by the
chosen account, messages go there first), and a list that said "Tell the admins which work account is
yours" now says to sign in with it, with the items a hand-mapped identity needs; they hear it once. Someone
decided to lose access has their list withdrawn (no reminders, nothing to wait for) and hears that once.
Someone decided out of access who is then given an account gets the whole list they now need, in a
message that takes back "you lose access" (or, not sent yet, stops it), and reminders from then on.

Before `notify` there is nothing to change: `notify` writes the list from the plan, decision included.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage import AffectedUser, Migration, OutboundMessage, TodoItem
from storage.outbox import SUPERSEDED
from workflows._views import item_payload
from workflows.directory import Tenant
from workflows.identities import directory_account
from workflows.plan import NO_ACCESS, Match, PlannedUser
from workflows.stages.late_invitees import list_items, replace_items, tell
from workflows.stages.notifying import LOST_ACCESS_MESSAGE, tell_lost_access
from workflows.stages.unit import Unit
from workflows.todo import todo_items

DECIDED_MESSAGE = "account_decided"
ACCESS_KEPT_MESSAGE = "access_kept"
"""To someone decided out of access and then given an account: their list, and that they keep access."""
CHOOSING_ITEM = "choose-work-account"
SIGN_IN_ITEM = "sign-in-work-account"


def account_decided(unit: Unit, person: PlannedUser) -> bool:
    """Bring a notified person's record and list in line with the decision; whether their list changed."""
    row, session = unit.row, unit.session
    affected = session.exec(
        select(AffectedUser).where(
            AffectedUser.migration_id == row.id, AffectedUser.entitlement_id == person.id
        )
    ).first()
    if affected is None:
        return False
    account = directory_account(person)
    was_out = affected.outcome == NO_ACCESS
    affected.outcome = person.outcome
    affected.directory_account = account.user_principal_name if account else None
    affected.directory_id = account.id if account else None
    affected.candidates = []  # decided: chat knows them by the chosen account alone, or none
    held = session.exec(select(TodoItem).where(TodoItem.affected_user_id == affected.id)).all()
    if person.loses_access:  # their list asked for what they will not get: withdrawn, and they are told
        for item in held:
            session.delete(item)
        # one per decision: decided back in and out again, they hear it again
        key = f"migration-{row.id}-access-lost-{affected.id}-{unit.flow.now.isoformat()}"
        tell_lost_access(unit, affected, person, key=key)
        return True
    if was_out and account is not None:
        _access_kept(unit, affected, person, account)
        return True
    # the item that says to choose, or the sign-in item of an account decided before (now another one)
    choosing = next((item for item in held if item.key in (CHOOSING_ITEM, SIGN_IN_ITEM)), None)
    if choosing is None or account is None:
        return False
    tenant = Tenant(id=row.tenant_id, display_name=row.tenant_name)
    wanted = todo_items(person, None, organization=row.organization, tenant=tenant, invited_as=None)
    replace_items(
        session,
        row,
        affected,
        choosing,
        held,
        wanted,
        kind=DECIDED_MESSAGE,
        key=f"migration-{row.id}-account-decided-{affected.id}-{account.id}",
        now=unit.flow.now,
        account=account.user_principal_name,
    )
    return True


def _access_kept(unit: Unit, affected: AffectedUser, person: PlannedUser, account: Match) -> None:
    """Their whole list (they hold none: it was withdrawn, or never written), in one message that takes
    back "you lose access" when they may have heard it; one still waiting to be sent is stopped instead."""
    row, session, now = unit.row, unit.session, unit.flow.now
    assert affected.id is not None
    tenant = Tenant(id=row.tenant_id, display_name=row.tenant_name)
    templates = todo_items(person, None, organization=row.organization, tenant=tenant, invited_as=None)
    items = list_items(affected.id, templates)
    session.add_all(items)
    session.flush()
    tell(
        session,
        row,
        affected,
        kind=ACCESS_KEPT_MESSAGE,
        key=f"migration-{row.id}-access-kept-{affected.id}-{now.isoformat()}",
        now=now,
        account=account.user_principal_name,
        corrects=_stop_lost_access(session, row, affected),
        items=[item_payload(item) for item in items],
    )


def _stop_lost_access(session: Session, row: Migration, affected: AffectedUser) -> bool:
    """Stop their "you lose access" messages that are still waiting to be sent; whether one may have
    reached them (sent, being sent, or failed after an attempt that may have got through)."""
    told = session.exec(
        select(OutboundMessage).where(
            OutboundMessage.migration_id == row.id,
            OutboundMessage.kind == LOST_ACCESS_MESSAGE,
            col(OutboundMessage.status).in_(["pending", "sent", "failed"]),
        )
    ).all()
    heard = False
    for message in told:
        if message.payload.get("affected_user_id") != affected.id:
            continue
        if message.status == "pending" and not message.in_flight and not message.uncertain:
            message.status = SUPERSEDED
            message.claimed_by = message.claimed_until = None
        else:
            heard = heard or message.status != "failed" or message.uncertain
    return heard
