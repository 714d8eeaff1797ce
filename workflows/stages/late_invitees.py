"""People given a way in after their to-do lists went out: their "Ask for an account" item (or "Look for your
invitation email", when Microsoft never confirmed the one asked for) becomes what they now need ("Accept the
invitation" for a guest the bot invited, "Sign in with your work account" for someone `invite` found already
in the directory; both are items the sign-in watch ticks), the rest of that list's items join it, and they
hear it once: in their list, if it has not gone out yet. Should the invitation Microsoft never confirmed
turn out refused, the item goes back to "Ask for an account", saying so, and they hear that once too.
A list not sent yet opens with the wait its items now stand for (`workflows.waiting`), or none.

Before `notify` there is nothing to change: `notify` writes these items itself from the directory.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage import AffectedUser, Invitation, Migration, OutboundMessage, TodoItem
from storage.inserts import insert_all
from storage.outbox import NewMessage, enqueue_all
from workflows import waiting
from workflows._views import item_payload
from workflows.directory import Tenant
from workflows.identities import affected_reach
from workflows.plan import Match, PlannedUser
from workflows.stages import ignored_invitations, interrupted_invitations
from workflows.stages.list_messages import (
    INVITED_MESSAGE,
    REMINDER_MESSAGE,
    items_of,
    lists_told,
    may_have_reached,
    of_kinds,
    rewrite_list,
    subscribed,
    unreached_among,
    withdrawn,
)
from workflows.todo import (
    ASK_FOR_ACCESS,
    INVITATION_IN_DOUBT,
    InvitationRefusal,
    TodoTemplate,
    ask_for_access,
    invitation_in_doubt,
    todo_items,
)


def switch_lists(
    session: Session, row: Migration, tenant: Tenant, now: datetime, accounts: Mapping[str, str]
) -> tuple[int, int]:
    """Rewrite the asking item of everyone with a sent invitation or a directory account `invite` found,
    add the items their list now lacks, and tell them: in their list if it has not gone out yet, else in a
    notice of the changed items; how many of each (invited, found).

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
            col(TodoItem.key).in_([ASK_FOR_ACCESS, INVITATION_IN_DOUBT]),
            col(Invitation.status).in_(["sent", "found"]),
        )
    ).all()
    lists = items_of(session, [item.affected_user_id for item, _, _ in waiting])
    people = [person for _, person, _ in waiting]
    told = lists_told(session, people)
    unreached, subscribing = unreached_among(told), subscribed(told)
    people_now = [_from_invitation(person, invitation, accounts) for _, person, invitation in waiting]
    asked = {
        now_as.id: invitation.email
        for now_as, (_, _, invitation) in zip(people_now, waiting, strict=True)
        if invitation.status == "sent"
    }
    ignored = ignored_invitations.taken_back(session, row, people_now, asked)
    for (item, person, invitation), now_as in zip(waiting, people_now, strict=True):
        invited = invitation.status == "sent"
        invited_as = invitation.email if invited else None
        now_needed = todo_items(
            now_as,
            person.id in subscribing,
            organization=row.organization,
            tenant=tenant,
            invited_as=invited_as,
            after_connecting=True,
            taken_back=ignored.get(now_as.id, ""),
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
            _wait_as_listed(their_list, person, items)
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
    withdrawn(_look_reminders(told), {REMINDER_MESSAGE})  # their notice says what is next
    invited_count = sum(invitation.status == "sent" for _, _, invitation in waiting)
    return invited_count, len(waiting) - invited_count


def mark_in_doubt(session: Session, row: Migration, tenant: Tenant) -> None:
    """Whoever's list asks for an account while the invitation asked for them has no answer from Microsoft:
    the item says it may have gone out (`todo.invitation_in_doubt`), as their answers and `todo` do. Once
    the directory shows their guest and only the link is missing (`interrupted_invitations.mailed`), the
    item, asking or looking, says the email went out and the admins fetch the link. In silence: the
    `invite` that settles it tells them (`switch_lists`, `back_to_asking`); a list not sent yet says it
    instead."""
    assert row.id is not None
    lost = interrupted_invitations.lost_answers(session, row.id)
    if not lost:
        return
    in_doubt = {claim.entitlement_id: claim.email for claim in lost}
    mailed = {claim.entitlement_id for claim in lost if interrupted_invitations.mailed(claim)}
    for key, people in ((ASK_FOR_ACCESS, in_doubt.keys()), (INVITATION_IN_DOUBT, mailed)):
        held, lists, told = _holding(session, row, key, people)
        unreached, looked_for = unreached_among(told), set()
        for item, person in held:
            address, was_mailed = in_doubt[person.entitlement_id], person.entitlement_id in mailed
            now_needed = invitation_in_doubt(row.organization, tenant, address, mailed=was_mailed)
            if item.key == now_needed.key and item.body == now_needed.body:
                continue  # said already: rewriting would untick it
            if item.key == INVITATION_IN_DOUBT:  # a reminder to look queued before said it may have gone out
                looked_for.add(person.id)
            rewrite_item(item, now_needed)
            their_list = unreached.get(item.affected_user_id)
            if their_list is not None:
                _rewrite_unsent(their_list, person, lists[item.affected_user_id], mailed=was_mailed)
        for reminder in _look_reminders(told):
            if reminder.payload["affected_user_id"] in looked_for:
                reminder.payload = {**reminder.payload, "mailed": True}
                reminder.claimed_by = reminder.claimed_until = None  # a worker's read of it cannot be sent


def back_to_asking(session: Session, row: Migration, tenant: Tenant, now: datetime) -> None:
    """Whoever's list says to look for an invitation Microsoft never confirmed, once `invite` asked again
    and was refused (a 403, or another answer: no longer `interrupted_invitations.asked_unanswered`): none
    went out, so the item asks for an account again, saying why in the person's words, and they hear it
    (in their list, if it has not gone out yet), so they stop looking for an email."""
    assert row.id is not None
    refused = interrupted_invitations.refused(session, row.id)
    if not refused:
        return
    looking, lists, told = _holding(session, row, INVITATION_IN_DOUBT, refused)
    unreached = unreached_among(told)
    withdrawn(_look_reminders(told), {REMINDER_MESSAGE})  # none went out: their notice says so
    for item, person in looking:
        invitation = refused[person.entitlement_id]
        why: InvitationRefusal = "settings" if invitation.status == "denied" else "microsoft"
        rewrite_item(item, ask_for_access(row.organization, tenant, person.principal_name, why))
        their_list = unreached.get(item.affected_user_id)
        if their_list is not None:
            _rewrite_unsent(their_list, person, lists[item.affected_user_id])
            if their_list.status == "pending":
                continue
        tell(
            session,
            row,
            person,
            kind=INVITED_MESSAGE,
            # each refused attempt once: a later one, after another lost answer, is news again
            key=f"migration-{row.id}-invitation-refused-{person.id}-{invitation.attempts}",
            now=now,
            refused=why,
            items=[item_payload(item)],
        )


def _look_reminders(told: Sequence[OutboundMessage]) -> list[OutboundMessage]:
    """The reminders to look for an invitation (`waiting.LOOK_ONCE`) among `told` (`lists_told`) that have
    not reached their person. Each says what was known of it when queued: what `invite` learns since changes
    them, as it changes lists not sent yet."""
    return [
        reminder
        for reminder in of_kinds(told, {REMINDER_MESSAGE})
        if reminder.payload.get("waiting_item") in waiting.LOOK_ONCE and not may_have_reached(reminder)
    ]


def _holding(
    session: Session, row: Migration, key: str, people: Collection[str]
) -> tuple[Sequence[tuple[TodoItem, AffectedUser]], dict[int, list[TodoItem]], Sequence[OutboundMessage]]:
    """The items of `key` of these `people` (entitlement ids) and whose they are, their whole lists, and
    what they were told (`lists_told`), each read in one query."""
    held = session.exec(
        select(TodoItem, AffectedUser)
        .join(AffectedUser, col(AffectedUser.id) == TodoItem.affected_user_id)
        .where(
            AffectedUser.migration_id == row.id,
            TodoItem.key == key,
            col(AffectedUser.entitlement_id).in_(list(people)),
        )
    ).all()
    lists = items_of(session, [item.affected_user_id for item, _ in held])
    return held, lists, lists_told(session, [person for _, person in held])


def _rewrite_unsent(
    message: OutboundMessage, person: AffectedUser, items: Sequence[TodoItem], *, mailed: bool = False
) -> None:
    """A whole list that has not reached them, with their `items` as they stand (`rewrite_list`) and the
    wait they stand for (`mailed`: as `_wait_as_listed`)."""
    rewrite_list(message, person, items, None)
    _wait_as_listed(message, person, items, mailed=mailed)


def _wait_as_listed(
    message: OutboundMessage, person: AffectedUser, items: Sequence[TodoItem], *, mailed: bool = False
) -> None:
    """Make a whole list not sent yet open with the wait for the admins its `items` now stand for
    (`workflows.waiting`), or with none: it said the one its old items stood for. Who can end it
    (`admins`) stays as the list named them. `mailed`: the invitation their items say to look for is known
    to have gone out (`interrupted_invitations.mailed`), which the opening says too."""
    wait = waiting.awaited(items, person.entitlement_id, frozenset())  # they wait for no decision
    payload = {key: value for key, value in message.payload.items() if key not in ("waiting_item", "mailed")}
    if wait is not None:
        payload["waiting_item"] = wait.key
        if mailed:
            payload["mailed"] = True
    elif not payload.get("awaits_mapping"):
        payload.pop("admins", None)
    message.payload = payload


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
