"""After connecting: every affected user is recorded with their own to-do list, and one message to each
is queued in the outbox (sent exactly once, paced, by the delivery worker).

The stored plan (the approved one, or the one read when the organization was found connected) is what
Connect did with each identity. Someone it left without a directory account may have one by now (a guest
invitation after connecting, or an account made since): the directory, read again, decides their list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from storage import AffectedUser, Migration, TodoItem
from storage.inserts import insert_all
from storage.outbox import NewMessage, enqueue_all
from workflows import _plan_codec, waiting
from workflows._views import item_payload, todo_entry
from workflows.decisions import replan
from workflows.directory import DirectoryUser, MicrosoftError, OrgUser, Tenant
from workflows.errors import WorkflowError
from workflows.identities import candidate_keys, directory_account, known_as, open_candidates
from workflows.plan import NO_ACCESS, PlannedUser
from workflows.results import Actor
from workflows.results_todo_lists import NotifiedUser, NotifyResult, TodoEntry
from workflows.stages import ignored_invitations, interrupted_invitations, told_early
from workflows.stages.invited import as_invited, joined_after_connecting, to_accept
from workflows.stages.late_invitees import ITEM, item_rows, message_to
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
            # with the decisions: a guest an admin chose is to accept her invitation as if she were alone
            today = {user.id: user for user in replan(snapshot, connector, row.plan).users}
            org_users = {user.id: user for user in snapshot.users}
            directory = {user.id: user for user in snapshot.directory_users}
            assert row.id is not None
            invited = to_accept(session, row.id, today.values())
            in_doubt = interrupted_invitations.in_doubt(session, row.id)
            listed = _listed_before(session, row)
            wave, already = [], []
            for user in plan.users:
                now_user, after_connecting = _as_now(user, today.get(user.id), invited)
                if user.id in listed and not (listed[user.id] and _has_a_way_in(now_user, invited)):
                    account = directory_account(now_user)  # named as `progress` names them
                    already.append(known_as(user.address, account.user_principal_name if account else None))
                    continue
                wave.append(
                    _Listing(
                        now_user,
                        after_connecting,
                        org_users.get(user.id),
                        invited.get(user.id),
                        in_doubt.get(user.id),
                    )
                )
            notified = _notify_all(unit, wave, snapshot.tenant, directory)
        return NotifyResult(status(session, row), tuple(notified), tuple(already))


@dataclass(frozen=True)
class _Listing:
    """Someone `notify` gives a list: as their list must treat them (`_as_now`), with what it depends on."""

    user: PlannedUser
    after_connecting: bool
    org_user: OrgUser | None
    invited_as: str | None
    maybe_invited_as: str | None
    """With none sent: the address of an invitation Microsoft never confirmed, which may have gone out."""


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


def _notify_all(
    unit: Unit, wave: Sequence[_Listing], tenant: Tenant, directory: dict[str, DirectoryUser]
) -> list[NotifiedUser]:
    """Record everyone in `wave` with their list and queue their messages, each kind of row written
    together: their records, then their items, then their messages (not a round of each per person)."""
    row, session, now = unit.row, unit.session, unit.flow.now
    assert row.id is not None
    records = insert_all(  # with their ids, which their items and messages carry
        session, AffectedUser, [_record(unit, listing.user, directory) for listing in wave], unique=_PERSON
    )
    new_lists: list[list[dict[str, Any]]] = []
    # one whose invitation Microsoft never confirmed is asked to look for it and accept it all the same
    asked = {
        listing.user.id: address
        for listing in wave
        if (address := listing.invited_as or listing.maybe_invited_as) is not None
    }
    ignored = ignored_invitations.withdraw(session, row, [listing.user for listing in wave], asked)
    for listing, affected in zip(wave, records, strict=True):
        assert affected.id is not None
        if listing.user.loses_access:  # nothing they can do: no items, no reminders, nothing for `complete`
            new_lists.append([])
            continue
        templates = todo_items(
            listing.user,
            _subscribes(listing),
            organization=row.organization,
            tenant=tenant,
            invited_as=listing.invited_as,
            after_connecting=listing.after_connecting,
            maybe_invited_as=listing.maybe_invited_as,
            taken_back=ignored.get(listing.user.id, ignored_invitations.TakenBack()).words,
        )
        new_lists.append(item_rows(affected.id, templates))
    # with their ids, which the messages carry
    written = iter(insert_all(session, TodoItem, [item for each in new_lists for item in each], unique=ITEM))
    lists = [[next(written) for _ in each] for each in new_lists]
    messages: list[NewMessage] = []
    entries: list[tuple[TodoEntry, ...]] = []
    decisions = waiting.decided(row.plan)
    admins: tuple[str, ...] | None = None  # asked once, and only if someone waits on them
    early = told_early.lost_access_told(
        session, row, [each.user.id for each in wave if each.user.loses_access]
    )
    for listing, affected, items in zip(wave, records, lists, strict=True):
        user, key = listing.user, todo_list_key(row.id, listing.user.id)
        if user.id in early:  # told when it was decided, as the advance notice had reached them
            told_early.hold(early[user.id], affected, subscriber=_subscribes(listing))
            entries.append(())
            continue
        if user.loses_access:
            messages.append(
                _lost_access_message(unit, affected, user, key, _subscribes(listing), withdraws=False)
            )
            entries.append(())
            continue
        entries.append(tuple(todo_entry(item, row, affected.email) for item in items))
        facts = list_facts(
            subscriber=_subscribes(listing),
            after_connecting=listing.after_connecting,
            invited_as=listing.invited_as,
        )
        waits: dict[str, Any] = {}
        if (wait := waiting.awaited(items, user.id, decisions)) is not None:
            # their list says whom it waits on and for what, so no later notice need say it again
            admins = unit.ctx.admins.who_can_act(row.organization) if admins is None else admins
            waits = {"waiting_item": wait.key, "admins": [a for a in admins if a != affected.email]}
        elif user.outcome == "map" and not listing.after_connecting:
            # Connect maps nobody by hand: their list says that the admins' mapping comes before signing in
            admins = unit.ctx.admins.who_can_act(row.organization) if admins is None else admins
            waits = {"awaits_mapping": True, "admins": [a for a in admins if a != affected.email]}
        messages.append(
            message_to(
                row,
                affected,
                kind=TODO_LIST_MESSAGE,
                key=key,
                email=user.address,  # as they are known in Azure DevOps, not the record's lower case
                outcome=user.outcome,
                # decided before this list: a later decision corrects it
                account=affected.directory_account,
                notes=notes_for(user, facts),
                # a decision or a late invitation rewrites the notes: the snapshot is gone by then
                facts=facts,
                items=[item_payload(entry) for entry in entries[-1]],
                **waits,
                **ignored.get(user.id, ignored_invitations.TakenBack()).follows,
            )
        )
    queued = iter(enqueue_all(session, messages, now=now))
    session.flush()  # the messages' ids, which the result names
    notified = []
    for listing, affected, listed in zip(wave, records, entries, strict=True):
        user = listing.user
        message = early.get(user.id) or next(queued)
        assert affected.id is not None and message.id is not None
        outcome = NO_ACCESS if user.loses_access else user.outcome
        notified.append(
            NotifiedUser(affected.id, user.address, user.display_name, outcome, listed, message.id)
        )
    return notified


_PERSON = ("migration_id", "entitlement_id")
"""What tells a person's record apart (its table's unique constraint)."""


def _subscribes(listing: _Listing) -> bool:
    return listing.org_user is not None and listing.org_user.is_visual_studio_subscriber


def _record(unit: Unit, user: PlannedUser, directory: dict[str, DirectoryUser]) -> dict[str, Any]:
    """The record of someone given a list, as a new row's values (`storage.inserts.insert_all`)."""
    account = directory_account(user)
    return {
        "migration_id": unit.row.id,
        "entitlement_id": user.id,
        "principal_name": user.principal_name,
        "email": user.address.lower(),
        "display_name": user.display_name,
        "outcome": user.outcome,
        "directory_account": account.user_principal_name if account else None,
        "directory_id": account.id if account else None,
        "candidates": candidate_keys(_candidates(user, directory)),
        "created_at": unit.flow.now,
    }


def tell_lost_access(
    unit: Unit,
    affected: AffectedUser,
    user: PlannedUser,
    *,
    key: str,
    subscriber: bool,
    withdraws: bool = False,
    follows: Mapping[str, object] | None = None,
) -> int:
    """Tell someone an admin decided loses access (`user.loses_access`), once (`key`): why, and who
    decided; that the list they may have had is withdrawn (`withdraws`), after the messages being sent that
    it stops (`follows`: `list_messages.following`). Their record says so (`NO_ACCESS`) and holds no
    items: nothing to remind them of or to wait for. The notice keeps whether they are a Visual Studio
    `subscriber`, for the list a later decision may give them. The queued message's id."""
    lost = _lost_access_message(unit, affected, user, key, subscriber, withdraws)
    lost.payload.update(follows or {})
    (message,) = enqueue_all(unit.session, [lost], now=unit.flow.now)
    unit.session.flush()
    assert message.id is not None
    return message.id


def _lost_access_message(
    unit: Unit, affected: AffectedUser, user: PlannedUser, key: str, subscriber: bool, withdraws: bool
) -> NewMessage:
    """`tell_lost_access`'s message, its record changed to say so."""
    affected.outcome = NO_ACCESS
    return message_to(
        unit.row,
        affected,
        kind=LOST_ACCESS_MESSAGE,
        key=key,
        outcome=NO_ACCESS,
        decided_by=user.decided_by,
        case=user.outcome,
        withdraws=withdraws,
        facts={"subscriber": subscriber},
    )


def _candidates(user: PlannedUser, directory: dict[str, DirectoryUser]) -> list[DirectoryUser]:
    """The directory accounts the plan could not choose between for them, members first: a member account
    is the one a person works in every day, a guest one only after switching organization."""
    found = [directory[candidate] for candidate in open_candidates(user) if candidate in directory]
    return sorted(found, key=lambda account: account.user_type.casefold() != "member")
