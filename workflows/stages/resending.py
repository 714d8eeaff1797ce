"""A message that hands a person their list and could not be delivered goes again as the list is now, not
as it was when it was queued (*Retry failed*, or someone out of reach who has since signed in): they get
one message with their list as it stands, never a stale list followed by its corrections.

A whole list lists their items today, the done ones ticked, with the notes their case now gives (a decision
or an invitation that came while it was being sent did not rewrite it). It holds every change made since,
so their messages of changed items that have not reached them go no more. A message of changed items to
a list that did reach them lists those items as they are today; with none of them left, it goes no more.
A "you lose access" that a newer decision contradicts was withdrawn already (`relisting`); one that records
written before that left failed goes no more either.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage import AffectedUser, OutboundMessage
from storage.database import in_batches
from storage.outbox import NOT_IN_CHAT
from storage.outbox_threads import SUPERSEDED
from workflows._views import item_as_it_stands
from workflows.plan import NO_ACCESS
from workflows.stages.list_messages import (
    ACCESS_KEPT_MESSAGE,
    ADDRESSEE,
    CHANGES,
    LIST_MESSAGES,
    LOST_ACCESS_MESSAGE,
    TODO_LIST_MESSAGE,
    WHOLE_LISTS,
    as_recorded,
    case_changed,
    items_of,
    messages_to,
    rewrite_list,
)
from workflows.stages.notifying import todo_list_key
from workflows.stages.relisting import withdraw


def as_now(session: Session, failed: Sequence[OutboundMessage]) -> Sequence[OutboundMessage]:
    """Of `failed` messages about to go again, those still worth sending, each listing the person's items
    as they are now; the others are given up (`storage.outbox.Revise`)."""
    theirs: dict[int, list[OutboundMessage]] = {}
    for message in failed:
        if message.kind in LIST_MESSAGES:
            theirs.setdefault(message.payload["affected_user_id"], []).append(message)
    _give_up_lost_access_given_back(session, failed)
    kept = {
        id(message)
        for message in failed
        if message.kind not in LIST_MESSAGES and message.status != SUPERSEDED
    }
    lists = [message for message in failed if message.kind in WHOLE_LISTS]
    if lists:  # a whole list going again holds the changes to it
        migration = lists[0].migration_id
        assert migration is not None  # every list is a migration's
        withdraw(session, migration, {message.payload["affected_user_id"] for message in lists}, CHANGES)
    people = sorted(theirs)
    # each query binds the ids of the people it reads, and a big organization has more than a statement
    # may hold: so many people at a time, each with all their messages (a list withdraws its changes)
    for batch in in_batches(people):
        some = [message for person in batch for message in theirs[person]]
        kept.update(id(message) for message in _lists_as_now(session, some))
    return [message for message in failed if id(message) in kept]


def _give_up_lost_access_given_back(session: Session, failed: Sequence[OutboundMessage]) -> None:
    """A failed "you lose access" to someone since given access back goes no more. Deciding them back in
    withdraws it now (`relisting`); records written before that left it failed."""
    lost = {message.id: message for message in failed if message.kind == LOST_ACCESS_MESSAGE}
    if not lost:
        return
    given_back = session.exec(
        select(OutboundMessage.id)
        .join(AffectedUser, col(AffectedUser.id) == ADDRESSEE)
        .where(
            col(OutboundMessage.migration_id).in_({message.migration_id for message in lost.values()}),
            OutboundMessage.kind == LOST_ACCESS_MESSAGE,
            OutboundMessage.status == "failed",
            AffectedUser.outcome != NO_ACCESS,
        )
    ).all()
    for message_id in given_back:
        if message_id in lost:
            lost[message_id].status = SUPERSEDED


def _lists_as_now(session: Session, failed: Sequence[OutboundMessage]) -> list[OutboundMessage]:
    """`as_now` for messages of `LIST_MESSAGES`, all the failed ones of each person among them."""
    people = {message.payload["affected_user_id"] for message in failed if message.kind in WHOLE_LISTS}
    listed = session.exec(select(AffectedUser).where(col(AffectedUser.id).in_(people))).all()
    records = {person.id: person for person in listed}
    lists = items_of(session, {message.payload["affected_user_id"] for message in failed})
    again = []
    for message in failed:
        items = lists.get(message.payload["affected_user_id"], [])
        if message.kind in CHANGES:
            told = {item["id"] for item in message.payload.get("items", [])}
            items = [item for item in items if item.id in told]
        if message.status == SUPERSEDED or not items:
            message.status = SUPERSEDED
            continue
        if message.kind in WHOLE_LISTS:
            record = records[message.payload["affected_user_id"]]
            if case_changed(message, record):
                person, facts = as_recorded(record, message.payload)
                rewrite_list(message, record, items, person, **facts)
            else:
                rewrite_list(message, record, items, None)
        else:
            message.payload = {**message.payload, "items": [item_as_it_stands(item) for item in items]}
        again.append(message)
    return again


def unreached(session: Session, people: Sequence[AffectedUser]) -> list[OutboundMessage]:
    """The message handing each of `people` their whole list (notify's, or the one that gave it back after
    they were decided out of access), where chat could not reach them (`NOT_IN_CHAT`)."""
    keys = sorted(todo_list_key(person.migration_id, person.entitlement_id) for person in people)
    firsts = session.exec(
        select(OutboundMessage).where(
            col(OutboundMessage.idempotency_key).in_(keys),
            OutboundMessage.kind == TODO_LIST_MESSAGE,
            OutboundMessage.status == "failed",
        )
    ).all()
    # few lists are given back: the database reads whose they are only for those that failed
    given_back = messages_to(session, people, {ACCESS_KEPT_MESSAGE}, statuses=["failed"])
    return [message for message in [*firsts, *given_back] if message.error_code == NOT_IN_CHAT]
