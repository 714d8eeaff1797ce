"""A decision made after the to-do lists went out: the person's record follows it (chat knows them by the
chosen account, messages go there first), and a list that said "Tell the admins which work account is
yours" now says to sign in with it, with the items a hand-mapped identity needs; they hear it once. Someone
decided to lose access has their list withdrawn (no reminders, nothing to wait for) and hears that once.

Before `notify` there is nothing to change: `notify` writes the list from the plan, decision included.
"""

from __future__ import annotations

from sqlmodel import select

from storage import AffectedUser, TodoItem
from workflows.directory import Tenant
from workflows.identities import directory_account
from workflows.plan import PlannedUser
from workflows.stages.late_invitees import replace_items
from workflows.stages.notifying import tell_lost_access
from workflows.stages.unit import Unit
from workflows.todo import todo_items

DECIDED_MESSAGE = "account_decided"
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
    affected.outcome = person.outcome
    affected.directory_account = account.user_principal_name if account else None
    affected.directory_id = account.id if account else None
    affected.candidates = []  # decided: chat knows them by the chosen account alone, or none
    held = session.exec(select(TodoItem).where(TodoItem.affected_user_id == affected.id)).all()
    if person.loses_access:  # their list asked for what they will not get: withdrawn, and they are told
        for item in held:
            session.delete(item)
        key = f"migration-{row.id}-access-lost-{affected.id}"
        tell_lost_access(unit, affected, person, key=key)
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
