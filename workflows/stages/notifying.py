"""After connecting: every affected user is recorded with their own to-do list, and one message to each
is queued in the outbox (sent exactly once, paced, by the delivery worker)."""

from __future__ import annotations

from storage import AffectedUser, TodoItem
from storage.outbox import enqueue
from workflows import _plan_codec
from workflows._views import todo_entry
from workflows.directory import MicrosoftError, OrgUser, Tenant
from workflows.errors import WorkflowError
from workflows.identities import affected_reach, directory_account
from workflows.plan import PlannedUser
from workflows.results import Actor, NotifiedUser, NotifyResult
from workflows.stages.invited import as_invited, sent_invitations
from workflows.stages.unit import Context, Unit, status, step
from workflows.todo import todo_items, todo_notes


def notify(ctx: Context, organization: str | None, actor: Actor) -> NotifyResult:
    """Record every affected user with their own to-do list and queue one message to each."""
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "notify") as unit:
            row = unit.row
            unit.flow.fire("notify")
            plan = _plan_codec.decode(row.plan or {})
            try:
                org_users = {user.id: user for user in ctx.microsoft.org_users(row.organization)}
                tenant = ctx.microsoft.tenant(row.tenant_id)
            except MicrosoftError as error:
                raise WorkflowError(
                    f"I could not read the organization's users: {error} Try again."
                ) from None
            assert row.id is not None
            invited = sent_invitations(session, row.id)
            notified = [
                _notify_one(
                    unit, as_invited(user, invited), org_users.get(user.id), tenant, invited.get(user.id)
                )
                for user in plan.users
            ]
        return NotifyResult(status=status(session, row), users=tuple(notified))


def _notify_one(
    unit: Unit, user: PlannedUser, org_user: OrgUser | None, tenant: Tenant, invited_as: str | None
) -> NotifiedUser:
    row, session, now = unit.row, unit.session, unit.flow.now
    assert row.id is not None
    address = (user.mail_address or user.principal_name).strip()
    account = directory_account(user)
    affected = AffectedUser(
        migration_id=row.id,
        entitlement_id=user.id,
        principal_name=user.principal_name,
        email=address.lower(),
        display_name=user.display_name,
        outcome=user.outcome,
        directory_account=account.user_principal_name if account else None,
        directory_id=account.id if account else None,
        created_at=now,
    )
    session.add(affected)
    session.flush()
    assert affected.id is not None
    items = [
        TodoItem(
            affected_user_id=affected.id,
            position=position,
            key=t.key,
            title=t.title,
            body=t.body,
            link=t.link,
        )
        for position, t in enumerate(
            todo_items(user, org_user, organization=row.organization, tenant=tenant, invited_as=invited_as)
        )
    ]
    session.add_all(items)
    session.flush()
    entries = tuple(todo_entry(item, row) for item in items)
    reach = affected_reach(affected)
    message = enqueue(
        session,
        idempotency_key=f"migration-{row.id}-todo-{user.id}",
        recipient=reach.recipient,
        kind="todo_list",
        migration_id=row.id,
        payload={
            **reach.payload(),
            "migration_id": row.id,
            "organization": row.organization,
            "affected_user_id": affected.id,
            "email": address,
            "display_name": user.display_name,
            "tenant": row.tenant_name or row.tenant_id,
            "outcome": user.outcome,
            "notes": todo_notes(user),
            "items": [
                {"id": e.id, "key": e.key, "title": e.title, "body": e.body, "link": e.link} for e in entries
            ],
        },
        now=now,
    )
    session.flush()
    assert message.id is not None
    return NotifiedUser(affected.id, address, user.display_name, user.outcome, entries, message.id)
