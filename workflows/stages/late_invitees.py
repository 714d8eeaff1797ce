"""People given a way in after their to-do lists went out: their "Ask for an account" item (or "Look for your
invitation email", when Microsoft never confirmed the one asked for) becomes what they now need ("Accept the
invitation" for a guest the bot invited, "Sign in with your work account" for someone `invite` found already
in the directory; both are items the sign-in watch ticks), the rest of that list's items join it, and they
hear it once: in their list, if it has not gone out yet.

Before `notify` there is nothing to change: `notify` writes these items itself from the directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage import AffectedUser, Invitation, Migration, OutboundMessage, TodoItem
from storage.inserts import insert_all
from storage.outbox import NewMessage, enqueue_all
from workflows._views import item_payload
from workflows.directory import Tenant
from workflows.identities import affected_reach
from workflows.plan import Match, PlannedUser
from workflows.stages import interrupted_invitations
from workflows.stages.list_messages import (
    INVITED_MESSAGE,
    items_of,
    lists_told,
    rewrite_list,
    subscribed,
    unreached_among,
)
from workflows.todo import INVITATION_IN_DOUBT, TodoTemplate, invitation_in_doubt, todo_items

ASKING_ITEM = "ask-for-access"


def switch_lists(
    session: Session, row: Migration, tenant: Tenant, now: datetime, accounts: Mapping[str, str]
) -> int:
    """Rewrite the asking item of everyone with a sent invitation or a directory account `invite` found,
    add the items their list now lacks, and tell them: in their list if it has not gone out yet, else in a
    notice of the changed items; how many.

    `accounts`: invited address (case-folded) -> the sign-in name of the directory account found for it.
    """
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
            col(TodoItem.key).in_([ASKING_ITEM, INVITATION_IN_DOUBT]),
            col(Invitation.status).in_(["sent", "found"]),
        )
    ).all()
    lists = items_of(session, [item.affected_user_id for item, _, _ in waiting])
    people = [person for _, person, _ in waiting]
    told = lists_told(session, people)
    unreached, subscribing = unreached_among(told), subscribed(told)
    for item, person, invitation in waiting:
        invited = invitation.status == "sent"
        invited_as = invitation.email if invited else None
        now_as = _from_invitation(person, invitation, accounts)
        now_needed = todo_items(
            now_as,
            person.id in subscribing,
            organization=row.organization,
            tenant=tenant,
            invited_as=invited_as,
            after_connecting=True,
        )
        if not invited:
            person.outcome = "map"  # a directory account Connect did not carry them to: mapped, if at all
            person.directory_account = accounts.get(invitation.email, invitation.email)
        person.directory_id = invitation.invited_user_id
        held = lists[item.affected_user_id]
        changed = rewrite_items(session, person, item, held, now_needed)
        their_list = unreached.get(item.affected_user_id)
        if their_list is not None:
            items = [*held, *changed[1:]]  # the asking item rewritten in its place, the new ones after
            rewrite_list(their_list, person, items, now_as, after_connecting=True, invited_as=invited_as)
            if their_list.status == "pending":
                continue  # the list they have not got yet holds the invitation
        tell(
            session,
            row,
            person,
            kind=INVITED_MESSAGE,
            key=f"migration-{row.id}-invited-after-connecting-{person.id}",
            now=now,
            invited=invited,
            items=[item_payload(each) for each in changed],
        )
    return len(waiting)


def mark_in_doubt(session: Session, row: Migration, tenant: Tenant) -> None:
    """Whoever's list asks for an account while the invitation asked for them has no answer from Microsoft:
    the item says it may have gone out (`todo.invitation_in_doubt`), as their answers and `todo` do. In
    silence: the `invite` that settles it tells them (`switch_lists`); a list not sent yet says it instead
    of the wait for the admins."""
    assert row.id is not None
    in_doubt = interrupted_invitations.in_doubt(session, row.id)
    if not in_doubt:
        return
    asking = session.exec(
        select(TodoItem, AffectedUser)
        .join(AffectedUser, col(AffectedUser.id) == TodoItem.affected_user_id)
        .where(
            AffectedUser.migration_id == row.id,
            TodoItem.key == ASKING_ITEM,
            col(AffectedUser.entitlement_id).in_(list(in_doubt)),
        )
    ).all()
    lists = items_of(session, [item.affected_user_id for item, _ in asking])
    unreached = unreached_among(lists_told(session, [person for _, person in asking]))
    for item, person in asking:
        rewrite_item(item, invitation_in_doubt(row.organization, tenant, in_doubt[person.entitlement_id]))
        their_list = unreached.get(item.affected_user_id)
        if their_list is not None:
            rewrite_list(their_list, person, lists[item.affected_user_id], None)
            their_list.payload = {
                key: value for key, value in their_list.payload.items() if key not in _WAIT_FOR_ADMINS
            }


_WAIT_FOR_ADMINS = frozenset({"waiting_item", "admins"})
"""What a whole list says of a wait for the admins (`workflows.waiting`): no longer theirs to wait for once it
no longer asks for an account."""


def rewrite_items(
    session: Session,
    person: AffectedUser,
    item: TodoItem,
    held: Sequence[TodoItem],
    now_needed: list[TodoTemplate],
) -> list[TodoItem]:
    """Rewrite `item` into the first of `now_needed` and add the others their list (`held`, `item` among
    them) lacks: the items that are new or changed, in list order."""
    assert person.id is not None
    return [rewrite_item(item, now_needed[0]), *_added(session, person.id, held, now_needed[1:])]


def tell(
    session: Session,
    row: Migration,
    person: AffectedUser,
    *,
    kind: str,
    key: str,
    now: datetime,
    **fields: object,
) -> OutboundMessage:
    """Queue one direct message to a person with a record (`kind`, idempotency `key`): where to reach them
    and who they are, with `fields`."""
    (message,) = enqueue_all(session, [message_to(row, person, kind=kind, key=key, **fields)], now=now)
    return message


def message_to(row: Migration, person: AffectedUser, *, kind: str, key: str, **fields: object) -> NewMessage:
    """`tell`'s message, to queue with others (`storage.outbox.enqueue_all`)."""
    reach = affected_reach(person)
    payload = {
        **reach.payload(),
        "migration_id": row.id,
        "organization": row.organization,
        "tenant": row.directory_name,
        "affected_user_id": person.id,
        "email": person.email,
        "display_name": person.display_name,
        **fields,
    }
    return NewMessage(key, reach.recipient, kind, payload, row.id)


def _from_invitation(
    person: AffectedUser, invitation: Invitation, accounts: Mapping[str, str]
) -> PlannedUser:
    """The person as a plan read now would see them: invited, or matched to the account found."""
    found = None
    if invitation.status == "found":
        account = accounts.get(invitation.email, invitation.email)
        found = Match(invitation.invited_user_id or "", account, "mail")
    return PlannedUser(
        id=person.entitlement_id,
        principal_name=person.principal_name,
        outcome="invite" if found is None else "map",
        match=found,
        display_name=person.display_name,
        mail_address=invitation.email,
    )


def rewrite_item(item: TodoItem, now_needed: TodoTemplate) -> TodoItem:
    # The same row, so its place at the top of the list and its reminders carry over; done again only
    # when the person (or their sign-in) says so.
    item.key, item.title, item.body, item.link = (
        now_needed.key,
        now_needed.title,
        now_needed.body,
        now_needed.link,
    )
    item.done_at = item.done_by = item.verified_at = None
    return item


def item_rows(
    affected_user_id: int, templates: Sequence[TodoTemplate], *, first: int = 0
) -> list[dict[str, Any]]:
    """A person's to-do items as new rows' values (`storage.inserts.insert_all`), in the templates' order,
    placed from `first` on."""
    return [
        {
            "affected_user_id": affected_user_id,
            "position": position,
            "key": template.key,
            "title": template.title,
            "body": template.body,
            "link": template.link,
        }
        for position, template in enumerate(templates, start=first)
    ]


ITEM = ("affected_user_id", "key")
"""What tells an item of someone's list apart (its table's unique constraint)."""


def write_items(
    session: Session, affected_user_id: int, templates: Sequence[TodoTemplate], *, first: int = 0
) -> list[TodoItem]:
    """A person's to-do items written (`item_rows`), with their ids, in one statement."""
    return insert_all(session, TodoItem, item_rows(affected_user_id, templates, first=first), unique=ITEM)


def _added(
    session: Session, affected_user_id: int, held: Sequence[TodoItem], wanted: list[TodoTemplate]
) -> list[TodoItem]:
    """The items of the list they now need that theirs (`held`) lacks (new tokens for a new identity), at
    its end."""
    keys, last = {each.key for each in held}, max(each.position for each in held)
    return write_items(
        session, affected_user_id, [each for each in wanted if each.key not in keys], first=last + 1
    )
