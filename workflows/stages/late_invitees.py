"""People invited after their to-do lists went out: their "Ask for an account" item becomes "Accept the
invitation" (the item the sign-in watch ticks), and they hear it once.

Before `notify` there is nothing to change: `notify` writes the invitation item itself for whoever the
bot invited.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage import AffectedUser, Invitation, Migration, TodoItem
from storage.outbox import enqueue
from workflows.directory import Tenant
from workflows.plan import PlannedUser
from workflows.todo import todo_items

INVITED_MESSAGE = "invited_after_connecting"
ASKING_ITEM = "ask-for-access"


def switch_to_accepting(session: Session, row: Migration, tenant: Tenant, now: datetime) -> int:
    """Rewrite the asking item of everyone with a sent invitation, queue their notice; how many."""
    assert row.id is not None
    waiting = session.exec(
        select(TodoItem, AffectedUser, Invitation)
        .join(AffectedUser, col(AffectedUser.id) == TodoItem.affected_user_id)
        .join(
            Invitation,
            (col(Invitation.migration_id) == AffectedUser.migration_id)
            & (col(Invitation.entitlement_id) == AffectedUser.entitlement_id),
        )
        .where(
            AffectedUser.migration_id == row.id,
            TodoItem.key == ASKING_ITEM,
            Invitation.status == "sent",
        )
    ).all()
    for item, person, invitation in waiting:
        invitee = PlannedUser(
            id=person.entitlement_id,
            principal_name=person.principal_name,
            outcome="invite",
            match=None,
            display_name=person.display_name,
            mail_address=invitation.email,
        )
        accept = todo_items(
            invitee, None, organization=row.organization, tenant=tenant, invited_as=invitation.email
        )[0]
        # The same row, so its place at the top of the list and its reminders carry over; done again
        # only when the person (or their sign-in) says so.
        item.key, item.title, item.body, item.link = accept.key, accept.title, accept.body, accept.link
        item.done_at = item.done_by = item.verified_at = None
        assert item.id is not None
        enqueue(
            session,
            idempotency_key=f"migration-{row.id}-invited-after-connecting-{person.id}",
            recipient=person.email,
            kind=INVITED_MESSAGE,
            migration_id=row.id,
            payload={
                "migration_id": row.id,
                "organization": row.organization,
                "tenant": row.tenant_name or row.tenant_id,
                "affected_user_id": person.id,
                "email": person.email,
                "display_name": person.display_name,
                "items": [{key: getattr(item, key) for key in ("id", "key", "title", "body", "link")}],
            },
            now=now,
        )
    return len(waiting)
