"""A decision made after the to-do lists went out: the person's record follows it (chat knows them by the
chosen account, messages go there first), and a list that said "Tell the admins which work account is
yours" now says to sign in with it, with the items a hand-mapped identity needs; they hear it once (their
list not sent yet says it instead). The newest decision wins: another account decided stops the earlier
one's message not sent yet, or corrects the one that may have reached them, and their list becomes the
one that account calls for (items it does not call for leave it, named in the message if they may have
read them; what was done for the other account is open again). Decided back, before the decision in
between reached them, to what they read: their list is again that one, done marks (with those made on it
since) and numbers included, and nothing is said. Someone decided to lose access has their list withdrawn
(no reminders, nothing to wait for) and hears that once. Someone decided out of access who is then given
an account gets the whole list they now need, in a message that takes back "you lose access" (or, not
sent yet, stops it), and reminders from then on.

Before `notify` there is nothing to change: `notify` writes the list from the plan, decision included.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage import AffectedUser, Migration, OutboundMessage, TodoItem
from storage.inserts import insert_all
from workflows._views import item_as_it_stands, item_payload
from workflows.directory import Tenant
from workflows.identities import directory_account
from workflows.plan import NO_ACCESS, Match, PlannedUser
from workflows.stages import ignored_invitations
from workflows.stages.late_invitees import ITEM, item_rows, rewrite_item, tell, write_items
from workflows.stages.list_messages import (
    ACCESS_KEPT_MESSAGE,
    DECIDED_MESSAGE,
    EVERY_STATUS,
    LIST_MESSAGES,
    LOST_ACCESS_MESSAGE,
    REMINDER_MESSAGE,
    WHOLE_LISTS,
    Withdrawn,
    decision_key,
    items_of,
    list_facts,
    may_have_reached,
    messages_to,
    of_kinds,
    out_of_chat,
    rewrite_list,
    subscribed,
    unreached_among,
    withdrawn,
)
from workflows.stages.notifying import tell_lost_access
from workflows.stages.unit import Unit
from workflows.todo import ACCEPT_INVITATION, ACCOUNT_BOUND_ITEMS, CHOOSING_ITEM, TodoTemplate, todo_items

SIGN_IN_ITEM = "sign-in-work-account"
LEAD_ITEMS = frozenset({CHOOSING_ITEM, SIGN_IN_ITEM, ACCEPT_INVITATION})
"""The item a decision rewrites into the first one the decided account calls for: asking to choose, or
signing in with (or first accepting the invitation of) the account decided before."""


Relisted = Literal["unchanged", "changed", "as_told", "restored", "given"]
"""What a decision did to a notified person's list: nothing, changed or withdrew it, made it again what may
have reached them (a decision in between never did), gave it back with their access (they had been decided
out), or gave them their first (decided out before any reached them)."""


def account_decided(unit: Unit, person: PlannedUser, decision: int) -> tuple[Relisted, bool]:
    """Bring a notified person's record and list in line with `decision` (`decision_key`): what it did, and
    whether the newest message tried on them failed as chat could not reach them (`out_of_chat`), so what
    this one tells them may never arrive either."""
    row, session = unit.row, unit.session
    affected = session.exec(_AFFECTED, params={"migration": row.id, "person": person.id}).first()
    if affected is None:
        return "unchanged", False
    # what each step below asks of their messages, read at once and locked (as `lists_told` explains)
    messages = messages_to(session, [affected], _WHAT_A_DECISION_READS, EVERY_STATUS, locked=True)
    unreachable = out_of_chat(messages)  # before `withdrawn` marks the failed ones superseded
    return _relisted(unit, affected, person, decision, messages), unreachable


def _relisted(
    unit: Unit,
    affected: AffectedUser,
    person: PlannedUser,
    decision: int,
    messages: Sequence[OutboundMessage],
) -> Relisted:
    row, session = unit.row, unit.session
    account = directory_account(person)
    was_out = affected.outcome == NO_ACCESS
    subscriber = affected.id in subscribed(messages)
    affected.outcome = person.outcome
    affected.directory_account = account.user_principal_name if account else None
    affected.directory_id = account.id if account else None
    affected.candidates = []  # decided: chat knows them by the chosen account alone, or none
    held = session.exec(_HELD, params={"affected": affected.id}).all()
    if person.loses_access:  # their list asked for what they will not get: withdrawn, and they are told
        for item in held:
            session.delete(item)
        # what still waits to hand them a list (or remind them of it) never will
        listed = withdrawn(messages, LIST_MESSAGES | {REMINDER_MESSAGE})
        # one per decision: decided back in and out again, they hear it again
        key = decision_key(row.id, "access-lost", affected.id, decision)
        tell_lost_access(
            unit,
            affected,
            person,
            key=key,
            subscriber=subscriber,
            withdraws=listed.heard,
            follows=listed.follows,
        )
        return "changed"
    if was_out and account is not None:
        had_a_list = any(may_have_reached(message) for message in of_kinds(messages, LIST_MESSAGES))
        _access_kept(unit, affected, person, account, messages, subscriber=subscriber, decision=decision)
        return "restored" if had_a_list else "given"
    # the item that says to choose, or the first item of an account decided before (now another one)
    choosing = next((item for item in held if item.key in LEAD_ITEMS), None)
    if choosing is None or account is None:
        return "unchanged"
    # the newest decision wins: an earlier one's message that never reached them is stopped, and this one
    # tells its items too; one that may have reached them is corrected
    earlier = withdrawn(messages, {DECIDED_MESSAGE})
    unread = [message for message in earlier.stopped if message not in earlier.reached]
    # one queued before decision messages kept her list as it stood (`before`): what it changed is unknown,
    # so this one tells all it may have changed, as they were told before
    unknown = any("before" not in message.payload for message in unread)
    had = _with_marks_since(_as_they_had(unread), held)
    before = {item.key: _state(item) for item in held} | had
    needed = _decided_list(session, row, person, subscriber)
    dropped = _drop_unneeded(session, held, choosing, needed)
    held = [item for item in held if item.id not in {each.id for each in dropped}]
    reworded = _reword_kept(held, choosing, needed)
    # done for the account decided before: not for this one (none was, while they were asked to choose)
    reopened = [] if choosing.key == CHOOSING_ITEM else _reopen_account_bound(held)
    changed = [rewrite_item(choosing, needed[0]), *_add_missing(session, affected, held, needed, had)]
    for item in [*held, *changed[1:]]:
        _done_as_they_had(item, had)
    reopened = [item for item in reopened if item.done_at is None]
    waiting = _unreached_list_as_it_stands(session, affected, person, messages)
    if waiting and not earlier.heard:
        return "changed"  # the list they have not got yet holds the decision
    heard = _items_heard(messages)
    # what a stopped message or a rewording would have told them, unless it is what they may have read
    untold = {item.get("key") for message in earlier.stopped for item in message.payload.get("items", [])}
    untold |= {item.key for item in [*reworded, *changed]}
    untold |= {item.key for item in reopened}
    told = sorted(
        (
            item
            for item in [*held, *changed[1:]]
            if item.key in untold and (unknown or _new_to(heard, item) or item in reopened)
        ),
        key=lambda item: item.position,
    )
    told_account = _account_told(messages, earlier)
    corrects = told_account if told_account != account.user_principal_name else None
    # what they may have read on their list and no longer need (new tokens, for an identity that now
    # carries over): off it, and said so
    gone = [item_payload(item) for item in dropped if item.key in heard]
    if not (told or gone or corrects):
        return "as_told"  # back to the list that may have reached them: nothing new to say
    tell(
        session,
        row,
        affected,
        kind=DECIDED_MESSAGE,
        key=decision_key(row.id, "account-decided", affected.id, decision),
        now=unit.flow.now,
        account=account.user_principal_name,
        carried_over=person.outcome == "auto",  # a guest with their own address: nothing is mapped
        corrects=corrects,
        items=[item_payload(item) for item in told],
        dropped=gone,
        # their items as they stood before, for a newer decision that stops this message
        before=list(before.values()),
        **earlier.follows,
    )
    return "changed"


def _as_they_had(unread: Sequence[OutboundMessage]) -> dict[str, dict[str, Any]]:
    """Their items as they stood before the decisions whose messages are stopped unread, by key: a newer
    decision that gives an item back in those words gives back its done mark and number too, as nothing
    they read took them away."""
    had: dict[str, dict[str, Any]] = {}
    for message in reversed(unread):  # the oldest saw them first
        had.update((item["key"], item) for item in message.payload.get("before", []))
    return had


def _with_marks_since(had: dict[str, dict[str, Any]], held: Sequence[TodoItem]) -> dict[str, dict[str, Any]]:
    """`had`, with the done marks they made since on the list they read (its buttons carry the same ids):
    the unread decision that reworded or reopened those items never reached them, so they did each as they
    read it. Not a sign-in the watch saw: that was with the account decided then."""
    since = {
        item.key: had[item.key] | _mark(item)
        for item in held
        if item.key in had and item.id == had[item.key].get("id") and item.verified_at is None
        if item.done_at is not None and not had[item.key].get("done_at")
    }
    return had | since


def _state(item: TodoItem) -> dict[str, Any]:
    """`item_as_it_stands`, with who marked it done and when a sign-in showed it: enough to give it back."""
    return item_as_it_stands(item) | _mark(item)


def _mark(item: TodoItem) -> dict[str, Any]:
    done = {"done_at": item.done_at.isoformat()} if item.done_at else {}
    verified = {"verified_at": item.verified_at.isoformat()} if item.verified_at else {}
    return done | {"done_by": item.done_by} | verified


def _said_alike(item: TodoItem | TodoTemplate, said: dict[str, Any]) -> bool:
    return (said.get("title"), said.get("body"), said.get("link")) == (item.title, item.body, item.link)


def _done_as_they_had(item: TodoItem, had: dict[str, dict[str, Any]]) -> None:
    """An open item they had done in the same words before a decision they never read reopened it (or took
    it away) is done again, as they did it."""
    was = had.get(item.key)
    if item.done_at is None and was is not None and was.get("done_at") and _said_alike(item, was):
        item.done_at = _moment(was.get("done_at"))
        item.done_by = was.get("done_by")
        item.verified_at = _moment(was.get("verified_at"))


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _add_missing(
    session: Session,
    affected: AffectedUser,
    held: Sequence[TodoItem],
    needed: Sequence[TodoTemplate],
    had: dict[str, dict[str, Any]],
) -> list[TodoItem]:
    """The items the decided account calls for that their list lacks, at its end; one they had in the same
    words before an unread decision took it away comes back at its number."""
    assert affected.id is not None
    keys = {item.key for item in held}
    missing = [template for template in needed[1:] if template.key not in keys]
    taken = {item.position for item in held}
    new, given_back = [], []
    for values, template in zip(item_rows(affected.id, missing), missing, strict=True):
        was = had.get(template.key)
        if was is not None and _said_alike(template, was) and was["number"] - 1 not in taken:
            values["position"] = was["number"] - 1
            # its id too, which the buttons they read carry, unless a new item took it meanwhile
            if session.get(TodoItem, was["id"]) is None:
                given_back.append({**values, "id": was["id"]})
                taken.add(values["position"])
                continue
        else:
            values["position"] = max(taken) + 1
        taken.add(values["position"])
        new.append(values)
    # apart: a row given its id and one left to the database's are not one statement's
    added = [
        *insert_all(session, TodoItem, new, unique=ITEM),
        *insert_all(session, TodoItem, given_back, unique=ITEM),
    ]
    return sorted(added, key=lambda item: item.position)


def _drop_unneeded(
    session: Session, held: Sequence[TodoItem], choosing: TodoItem, needed: Sequence[TodoTemplate]
) -> list[TodoItem]:
    """Delete the items of their list that the decided account does not call for (an identity that now
    carries over needs no new tokens): the ones deleted. Every other item keeps its place and number, so
    `done N` still means what they read."""
    keys = {template.key for template in needed}
    dropped = [item for item in held if item is not choosing and item.key not in keys]
    for item in dropped:
        session.delete(item)
    return dropped


def _reword_kept(
    held: Sequence[TodoItem], choosing: TodoItem, needed: Sequence[TodoTemplate]
) -> list[TodoItem]:
    """Items the decided account still calls for, in its words (clearing the Git credential cache is asked
    of everyone, but signs in with a guest or a work account): the ones reworded, open again, as what was
    done was done for the other account."""
    wanted = {template.key: template for template in needed}
    reworded = []
    for item in held:
        template = wanted.get(item.key)
        if item is choosing or template is None:
            continue
        if (item.title, item.body, item.link) != (template.title, template.body, template.link):
            reworded.append(rewrite_item(item, template))
    return reworded


def _reopen_account_bound(held: Sequence[TodoItem]) -> list[TodoItem]:
    """Clear the done marks of the items done for the account they signed in with: the ones reopened."""
    reopened = [item for item in held if item.key in ACCOUNT_BOUND_ITEMS and item.done_at is not None]
    for item in reopened:
        item.done_at = item.done_by = item.verified_at = None
    return reopened


def _items_heard(messages: Sequence[OutboundMessage]) -> dict[str, dict[str, Any]]:
    """Each item of their list as the messages that may have reached the person left it, by key: replayed in
    the order they went out, a whole list says all of it, a change adds its items, takes off what it
    dropped and gives a new first item in place of the old one, and "you lose access" takes it all away."""
    heard: dict[str, dict[str, Any]] = {}
    for message in sorted(filter(may_have_reached, messages), key=_when_sent):
        items = {item.get("key"): item for item in message.payload.get("items", [])}
        if message.kind in WHOLE_LISTS or message.kind == LOST_ACCESS_MESSAGE:
            heard = {}
        if LEAD_ITEMS & items.keys():
            heard = {key: item for key, item in heard.items() if key not in LEAD_ITEMS}
        for item in message.payload.get("dropped", []):
            heard.pop(item.get("key"), None)
        heard.update(items)
    return heard


def _when_sent(message: OutboundMessage) -> tuple[datetime, int]:
    """The order messages went out in: a list sent again (`resending`) went out as it was then, after the
    decisions it holds."""
    return (message.not_before, message.id or 0)


def _new_to(heard: dict[str, dict[str, Any]], item: TodoItem) -> bool:
    """Whether the item says what no message that may have reached them said of it."""
    return not _said_alike(item, heard.get(item.key, {}))


_AFFECTED = select(AffectedUser).where(
    AffectedUser.migration_id == bindparam("migration"), AffectedUser.entitlement_id == bindparam("person")
)
_HELD = select(TodoItem).where(TodoItem.affected_user_id == bindparam("affected"))
"""`account_decided`'s reads of the person's record and items, built once: every decision after `notify`
makes them."""
_WHAT_A_DECISION_READS = LIST_MESSAGES | {LOST_ACCESS_MESSAGE, REMINDER_MESSAGE}
"""Every kind of message to the person that `account_decided` asks about, whichever way it goes."""


def _unreached_list_as_it_stands(
    session: Session, affected: AffectedUser, person: PlannedUser, messages: Sequence[OutboundMessage]
) -> bool:
    """Their whole list that has not reached them (waiting, or failed: `resending` sends that again) lists
    their items as they are now, names the account they sign in with, and has the decided person's notes;
    whether it is waiting to be sent."""
    assert affected.id is not None
    unreached = unreached_among(messages).get(affected.id)
    if unreached is None:
        return False
    items = items_of(session, [affected.id]).get(affected.id, [])
    # the facts of `_decided_list`: signing in with the chosen account, no invitation
    rewrite_list(unreached, affected, items, person, after_connecting=False, invited_as=None)
    return unreached.status == "pending"


def _account_told(messages: Sequence[OutboundMessage], earlier: Withdrawn) -> str | None:
    """The account the newest message that may have reached them named as theirs: an earlier decision's,
    or a whole list's (one that held a decision, or gave their list back with an account)."""
    lists = [message for message in of_kinds(messages, WHOLE_LISTS) if may_have_reached(message)]
    newest = max([*earlier.reached, *lists], key=_when_sent, default=None)
    return None if newest is None else newest.payload.get("account")


def _access_kept(
    unit: Unit,
    affected: AffectedUser,
    person: PlannedUser,
    account: Match,
    messages: Sequence[OutboundMessage],
    *,
    subscriber: bool,
    decision: int,
) -> None:
    """Their whole list (they hold none: it was withdrawn, or never written), in one message that takes
    back "you lose access" when they may have heard it; one still waiting to be sent is stopped instead."""
    row, session, now = unit.row, unit.session, unit.flow.now
    assert affected.id is not None
    items = write_items(session, affected.id, _decided_list(session, row, person, subscriber))
    lost = withdrawn(messages, {LOST_ACCESS_MESSAGE})
    tell(
        session,
        row,
        affected,
        kind=ACCESS_KEPT_MESSAGE,
        key=decision_key(row.id, "access-kept", affected.id, decision),
        now=now,
        account=account.user_principal_name,
        carried_over=person.outcome == "auto",
        corrects=lost.heard,
        items=[item_payload(item) for item in items],
        # a later decision reads it here: a list given back has no notes to tell it by
        facts=list_facts(subscriber=subscriber, after_connecting=False, invited_as=None),
        **lost.follows,
    )


def _decided_list(
    session: Session, row: Migration, person: PlannedUser, subscriber: bool
) -> list[TodoTemplate]:
    """The list the decided person now needs: signing in with the chosen account; first accepting its
    invitation while that is pending (a guest invited by hand or by an earlier migration), as `notify`
    lists them, taking back an earlier cancel's "ignore it" as there."""
    tenant = Tenant(id=row.tenant_id, display_name=row.tenant_name)
    if person.group == "to-accept":
        invited = replace(person, outcome="invite")
        return todo_items(
            invited,
            subscriber,
            organization=row.organization,
            tenant=tenant,
            invited_as=person.address,
            taken_back=ignored_invitations.taken_back_of(session, row, person, person.address),
        )
    return todo_items(person, subscriber, organization=row.organization, tenant=tenant, invited_as=None)


def withdraw(session: Session, migration_id: int, people: AbstractSet[int], kinds: AbstractSet[str]) -> None:
    """Withdraw the migration's messages of `kinds` to `people` (their records' ids) that something newer
    contradicts: those still waiting to be sent, and those that failed (`retry_failed` must never send them
    after the newer one). Locked as read, lowest id first, as a claim batch and a cancel lock them: a
    worker's claim or send meanwhile waits for the caller's transaction, then finds them stopped; read
    unlocked, its claim failed the caller on the message's version, and it posted the change alone. In one
    query over the migration, not so many people at a time: a later batch's person may have an older
    message, and locking it after a newer one could deadlock with a claim batch going up the ids."""
    messages = session.exec(_WITHDRAWABLE, params={"migration": migration_id, "kinds": sorted(kinds)}).all()
    withdrawn([message for message in messages if message.payload.get("affected_user_id") in people], kinds)


_WITHDRAWABLE = (
    select(OutboundMessage)
    .where(
        OutboundMessage.migration_id == bindparam("migration"),
        col(OutboundMessage.kind).in_(bindparam("kinds", expanding=True)),
        col(OutboundMessage.status).in_(["pending", "failed"]),
    )
    .order_by(col(OutboundMessage.id))
    .with_for_update()
)
