"""After connecting: every affected user is recorded with their own to-do list, and one message to each
is queued in the outbox (sent exactly once, paced, by the delivery worker).

The stored plan (the approved one, or the one read when the organization was found connected) is what
Connect did with each identity. Someone it left without a directory account may have one by now (a guest
invitation after connecting, or an account made since): the directory, read again, decides their list.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from storage import AffectedUser, Migration, TodoItem
from workflows import _plan_codec
from workflows._views import item_payload, todo_entry
from workflows.directory import DirectoryUser, MicrosoftError, OrgUser, Tenant
from workflows.errors import WorkflowError
from workflows.identities import candidate_keys, directory_account, open_candidates
from workflows.plan import NO_ACCESS, PlannedUser, build_plan
from workflows.results import Actor, NotifiedUser, NotifyResult
from workflows.stages.invited import as_invited, joined_after_connecting, to_accept
from workflows.stages.late_invitees import list_items, tell
from workflows.stages.list_messages import LOST_ACCESS_MESSAGE, TODO_LIST_MESSAGE, list_facts, notes_for
from workflows.stages.unit import Context, Unit, status, step
from workflows.todo import todo_items
from workflows.waiting import WAITING_ITEMS

NO_WAY_IN_ITEMS = frozenset(WAITING_ITEMS)
"""Items that, open, mean the person has no directory account they can sign in with yet."""


def notify(ctx: Context, organization: str | None, actor: Actor) -> NotifyResult:
    """Record every affected user with their own to-do list and queue one message to each."""
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "notify") as unit:
            row = unit.row
            unit.flow.fire("notify")
            plan = _plan_codec.decode(row.plan or {})
            connector = row.started_by_email
            try:
                snapshot = ctx.microsoft.snapshot(row.organization, row.tenant_id, connector=connector)
            except MicrosoftError as error:
                raise WorkflowError(
                    f"I could not read the organization's users: {error} Try again."
                ) from None
            today = {user.id: user for user in build_plan(snapshot, connector).users}
            org_users = {user.id: user for user in snapshot.users}
            directory = {user.id: user for user in snapshot.directory_users}
            assert row.id is not None
            invited = to_accept(session, row.id, today.values())
            listed = _listed_before(session, row)
            notified, already = [], []
            for user in plan.users:
                now_user, after_connecting = _as_now(user, today.get(user.id), invited)
                if user.id in listed and not (listed[user.id] and _has_a_way_in(now_user, invited)):
                    already.append(user.address)
                    continue
                notified.append(
                    _notify_one(
                        unit,
                        now_user,
                        after_connecting,
                        org_users.get(user.id),
                        snapshot.tenant,
                        invited.get(user.id),
                        directory,
                    )
                )
        return NotifyResult(status(session, row), tuple(notified), tuple(already))


def _listed_before(session: Session, row: Migration) -> dict[str, bool]:
    """Everyone an earlier migration of this organization to this directory gave a list, and whether it
    left them with no way in: they get a second list only once they have one, never the same again."""
    earlier = session.exec(
        select(AffectedUser.entitlement_id, TodoItem.key)
        .join(Migration, col(Migration.id) == AffectedUser.migration_id)
        .join(TodoItem, col(TodoItem.affected_user_id) == AffectedUser.id)
        .where(
            func.lower(Migration.organization) == row.organization.casefold(),
            Migration.tenant_id == row.tenant_id,
            Migration.id != row.id,
        )
    ).all()
    listed: dict[str, bool] = {}
    for entitlement, key in earlier:
        listed[entitlement] = listed.get(entitlement, False) or key in NO_WAY_IN_ITEMS
    return listed


def _has_a_way_in(user: PlannedUser, invited: dict[str, str]) -> bool:
    if user.outcome == "invite":
        return user.id in invited
    return user.outcome in ("auto", "map")


def todo_list_key(migration_id: int, entitlement_id: str) -> str:
    """The outbox key of a person's to-do list: one per person and migration."""
    return f"migration-{migration_id}-todo-{entitlement_id}"


def _as_now(
    stored: PlannedUser, today: PlannedUser | None, invited: dict[str, str]
) -> tuple[PlannedUser, bool]:
    """The person as their list must treat them, and whether their way in came after the connection."""
    if not joined_after_connecting(stored, invited, today.outcome if today is not None else None):
        return as_invited(stored, invited), False
    if stored.id in invited:  # invited after connecting: today's plan knows the guest account Teams needs
        return (as_invited(today, invited) if today is not None and today.match else stored), True
    assert today is not None  # an account made since: today's plan has it
    return today, True


def _notify_one(
    unit: Unit,
    user: PlannedUser,
    after_connecting: bool,
    org_user: OrgUser | None,
    tenant: Tenant,
    invited_as: str | None,
    directory: dict[str, DirectoryUser],
) -> NotifiedUser:
    row, session, now = unit.row, unit.session, unit.flow.now
    assert row.id is not None
    address = user.address
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
        candidates=candidate_keys(_candidates(user, directory)),
        created_at=now,
    )
    session.add(affected)
    session.flush()
    assert affected.id is not None
    subscriber = org_user is not None and org_user.is_visual_studio_subscriber
    if user.loses_access:  # nothing they can do: no items, so no reminders and nothing for `complete`
        key = todo_list_key(row.id, user.id)
        told = tell_lost_access(unit, affected, user, key=key, subscriber=subscriber)
        return NotifiedUser(affected.id, address, user.display_name, NO_ACCESS, (), told)
    items = list_items(
        affected.id,
        todo_items(
            user,
            subscriber,
            organization=row.organization,
            tenant=tenant,
            invited_as=invited_as,
            after_connecting=after_connecting,
        ),
    )
    session.add_all(items)
    session.flush()
    entries = tuple(todo_entry(item, row, affected.email) for item in items)
    facts = list_facts(subscriber=subscriber, after_connecting=after_connecting, invited_as=invited_as)
    message = tell(
        session,
        row,
        affected,
        kind=TODO_LIST_MESSAGE,
        key=todo_list_key(row.id, user.id),
        now=now,
        email=address,  # as they are known in Azure DevOps, not the record's lower case
        outcome=user.outcome,
        account=affected.directory_account,  # decided before this list: a later decision corrects it
        notes=notes_for(user, facts),
        facts=facts,  # a decision or a late invitation rewrites the notes: the snapshot is gone by then
        items=[item_payload(entry) for entry in entries],
    )
    session.flush()
    assert message.id is not None
    return NotifiedUser(affected.id, address, user.display_name, user.outcome, entries, message.id)


def tell_lost_access(
    unit: Unit,
    affected: AffectedUser,
    user: PlannedUser,
    *,
    key: str,
    subscriber: bool,
    withdraws: bool = False,
) -> int:
    """Tell someone an admin decided loses access (`user.loses_access`), once (`key`): why, and who
    decided; that the list they may have had is withdrawn (`withdraws`). Their record says so (`NO_ACCESS`)
    and holds no items: nothing to remind them of or to wait for. The notice keeps whether they are a
    Visual Studio `subscriber`, for the list a later decision may give them. The queued message's id."""
    affected.outcome = NO_ACCESS
    message = tell(
        unit.session,
        unit.row,
        affected,
        kind=LOST_ACCESS_MESSAGE,
        key=key,
        now=unit.flow.now,
        outcome=NO_ACCESS,
        decided_by=user.decided_by,
        case=user.outcome,
        withdraws=withdraws,
        facts={"subscriber": subscriber},
    )
    unit.session.flush()
    assert message.id is not None
    return message.id


def _candidates(user: PlannedUser, directory: dict[str, DirectoryUser]) -> list[DirectoryUser]:
    """The directory accounts the plan could not choose between for them, members first: a member account
    is the one a person works in every day, a guest one only after switching organization."""
    found = [directory[candidate] for candidate in open_candidates(user) if candidate in directory]
    return sorted(found, key=lambda account: account.user_type.casefold() != "member")
