"""The direct messages that hand a person their to-do list, or tell them what changed on it, and the list
that has not gone out yet: a change to someone's list or case is written into it, so they get one list as
it stands rather than a list followed by its corrections. `notifying`, `late_invitees`, `relisting` and
`resending` all build on this.

A whole list's notes follow the person's case: their outcome and account (`AffectedUser`, which every
decision and late invitation updates), and the facts `list_facts` records with the list.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage import AffectedUser, OutboundMessage, TodoItem
from storage.outbox import NOT_IN_CHAT, SENT_AGAIN_KEY
from storage.outbox_threads import FOLLOWS, SUPERSEDED
from workflows._views import item_as_it_stands
from workflows.identities import affected_reach
from workflows.informing import todo_notes
from workflows.plan import Match, Outcome, PlannedUser

TODO_LIST_MESSAGE = "todo_list"
"""Each person's first list, queued by `notify`."""
ACCESS_KEPT_MESSAGE = "access_kept"
"""To someone decided out of access and then given an account: their list, and that they keep access."""
LOST_ACCESS_MESSAGE = "access_lost"
"""To someone an admin decided loses access: told once, with no list and no reminders."""
REMINDER_MESSAGE = "todo_reminder"
"""A reminder of someone's open items (`workflows.reminders` queues them), or that they wait on the admins."""
DECIDED_MESSAGE = "account_decided"
INVITED_MESSAGE = "invited_after_connecting"
WHOLE_LISTS = frozenset({TODO_LIST_MESSAGE, ACCESS_KEPT_MESSAGE})
"""DMs that hand a person their whole list: delivered, their reminders start (or start again)."""
CHANGES = frozenset({DECIDED_MESSAGE, INVITED_MESSAGE})
"""DMs that tell a person the items of their list that are new or changed."""
LIST_MESSAGES = WHOLE_LISTS | CHANGES
"""DMs that hand a person their list or its new and changed items."""
ADDRESSEE = col(OutboundMessage.payload)["affected_user_id"].as_integer()
"""The person (affected user id) a message to one person is for, as queries read it from its payload."""
_SUBSCRIBER_SAID = ("Your Visual Studio subscription benefits carry over", "visual-studio-subscription")
"""How a list tells a Visual Studio subscriber about their benefits: the note, or the item's key."""


def decision_key(migration_id: int | None, what: str, person: int | str | None, decision: int) -> str:
    """The idempotency key of what `decision` (the id of its audit entry) tells `person`: one message per
    decision. Not the moment it was made: decisions in one instant (two admins at once, a clock that does
    not move) would share it, and the outbox would take each later message for the first, already queued.
    A decision made again changes no plan and has no entry, so it tells nothing twice."""
    return f"migration-{migration_id}-{what}-{person}-decision-{decision}"


def list_facts(*, subscriber: bool, after_connecting: bool, invited_as: str | None) -> dict[str, Any]:
    """What a whole list's notes follow besides the person's outcome and account, as its payload keeps it
    (`facts`): `workflows.informing.todo_notes`'s arguments, which a later rewrite has no snapshot to read."""
    return {"subscriber": subscriber, "after_connecting": after_connecting, "invited_as": invited_as}


def notes_for(person: PlannedUser, facts: Mapping[str, Any]) -> list[str]:
    """The notes of the whole list of `person`, with the `facts` its payload keeps."""
    return todo_notes(
        person,
        subscriber=bool(facts.get("subscriber")),
        after_connecting=bool(facts.get("after_connecting")),
        invited_as=facts.get("invited_as"),
    )


def lists_told(session: Session, people: Sequence[AffectedUser]) -> Sequence[OutboundMessage]:
    """Every whole list, lost-access notice and reminder of `people`, withdrawn ones included, oldest first,
    in one query: what `unreached_among` and `subscribed` answer from, and the reminders a late invitation
    changes (`late_invitees`). They stay locked until the caller's transaction ends: an outbox worker's
    claim or send would otherwise make the caller's rewrite of a list fail on its version
    (`storage.models`); it now waits, and finds its claim dropped."""
    return messages_to(session, people, _SUBSCRIBER_TOLD | {REMINDER_MESSAGE}, EVERY_STATUS, locked=True)


def unreached_among(messages: Sequence[OutboundMessage]) -> dict[int, OutboundMessage]:
    """The newest whole list of each person among `messages` (oldest first, and locked: see `lists_told`)
    that surely has not reached them, by their record's id: still waiting to be sent (and not being sent),
    or failed (`resending` sends it again)."""
    newest = {m.payload["affected_user_id"]: m for m in of_kinds(messages, WHOLE_LISTS)}
    return {person: message for person, message in newest.items() if not may_have_reached(message)}


def rewrite_list(
    message: OutboundMessage,
    affected: AffectedUser,
    items: Sequence[TodoItem],
    person: PlannedUser | None,
    **facts: object,
) -> None:
    """Make a whole list that has not reached them hand over `items` as they stand, with the account and
    outcome their record now holds, and the notes `person`'s case gives (None: the case its notes were
    written for) with the list's facts, changed by `facts`. It goes where their record now reaches them: a
    decided or late account may be the only one chat knows them by, and the message that would have said
    so is not sent. A worker's claim on it is dropped, so a worker that read the old list cannot send it
    (`storage.outbox_sends.begin_send`)."""
    reach = affected_reach(affected)
    message.recipient = reach.recipient
    payload = {
        **message.payload,
        **reach.payload(),
        "account": affected.directory_account,
        "outcome": affected.outcome,
    }
    # "you keep access" says in its own words what becomes of them: no notes
    if message.kind == TODO_LIST_MESSAGE and person is not None:
        payload["facts"] = {**_facts_of(payload), **facts}
        payload["notes"] = notes_for(person, payload["facts"])
    message.payload = {**payload, "items": [item_as_it_stands(item) for item in items]}
    message.claimed_by = message.claimed_until = None


def _facts_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The facts a whole list was written with. One queued before lists kept them still says whether the
    person is a Visual Studio subscriber: notify gave every subscriber its note or its item."""
    if "facts" in payload:
        return dict(payload["facts"])
    said = [*payload.get("notes", []), *(item.get("key", "") for item in payload.get("items", []))]
    return {"subscriber": any(str(each).startswith(_SUBSCRIBER_SAID) for each in said)}


def subscribed(messages: Sequence[OutboundMessage]) -> set[int]:
    """Those people (by record id) whose newest whole list or lost-access notice among `messages` (oldest
    first, withdrawn ones included), says they are Visual Studio subscribers: nothing else the bot keeps
    knows it, and Azure DevOps is not asked again."""
    told = of_kinds(messages, _SUBSCRIBER_TOLD, EVERY_STATUS)
    newest = {message.payload["affected_user_id"]: message.payload for message in told}
    return {person for person, payload in newest.items() if _facts_of(payload).get("subscriber")}


_SUBSCRIBER_TOLD = WHOLE_LISTS | {LOST_ACCESS_MESSAGE}
"""What says whether someone is a Visual Studio subscriber."""


def case_changed(message: OutboundMessage, affected: AffectedUser) -> bool:
    """Whether their record's outcome or account is no longer the one their whole list was written for: a
    decision or a late invitation came while it was being sent."""
    payload = message.payload
    return (payload.get("outcome"), payload.get("account")) != (affected.outcome, affected.directory_account)


def as_recorded(affected: AffectedUser, payload: Mapping[str, Any]) -> tuple[PlannedUser, dict[str, object]]:
    """The person as their record now has them (the outcome and account a decision or a late invitation
    left), for a whole list (`payload`) written for another case, and the facts that change with it."""
    account, facts = affected.directory_account, payload.get("facts", {})
    person = PlannedUser(
        id=affected.entitlement_id,
        principal_name=affected.principal_name,
        outcome=cast(Outcome, affected.outcome),  # someone decided out of access holds no list
        match=Match(affected.directory_id or "", account, "record") if account else None,
        display_name=affected.display_name,
        # a guest invited after connecting signs in with the address the invitation went to
        mail_address=facts.get("invited_as") or str(payload.get("email") or affected.email),
    )
    # an account found for someone their list had as waiting for an invitation came after connecting
    late = payload.get("outcome") == "invite" and affected.outcome != "invite"
    return person, {"after_connecting": True} if late else {}


def items_of(session: Session, affected_user_ids: Collection[int]) -> dict[int, list[TodoItem]]:
    """Each person's items, in list order, all read in one query."""
    items = session.exec(
        select(TodoItem)
        .where(col(TodoItem.affected_user_id).in_(affected_user_ids))
        .order_by(col(TodoItem.position))
    ).all()
    return by_person(items)


def by_person(items: Sequence[TodoItem]) -> dict[int, list[TodoItem]]:
    """`items` (in list order) by affected user id, each list in its order."""
    lists: dict[int, list[TodoItem]] = {}
    for item in items:
        lists.setdefault(item.affected_user_id, []).append(item)
    return lists


MAY_STILL_SEND = ("pending", "sent", "failed")
"""Messages that are, were or may still be sent: not given up for a newer one."""
EVERY_STATUS = (*MAY_STILL_SEND, SUPERSEDED)


def messages_to(
    session: Session,
    people: Sequence[AffectedUser],
    kinds: AbstractSet[str],
    statuses: Sequence[str] = MAY_STILL_SEND,
    *,
    locked: bool = False,
) -> Sequence[OutboundMessage]:
    """People's messages of `kinds` that are, were or may still be sent (not given up for a newer one), or
    only those of `statuses`; oldest first, all read in one query (`locked`: for update)."""
    params = {
        "migrations": sorted({person.migration_id for person in people}),
        "kinds": sorted(kinds),
        "people": sorted({person.id for person in people if person.id is not None}),
        "statuses": list(statuses),
    }
    return session.exec(_MESSAGES_TO_LOCKED if locked else _MESSAGES_TO, params=params).all()


def of_kinds(
    messages: Sequence[OutboundMessage], kinds: AbstractSet[str], statuses: Sequence[str] = MAY_STILL_SEND
) -> list[OutboundMessage]:
    """What `messages_to` would answer now among `messages` it answered for more kinds or statuses: a
    status changed since (a message withdrawn) counts as it stands."""
    return [message for message in messages if message.kind in kinds and message.status in statuses]


_MESSAGES_TO = (
    select(OutboundMessage)
    .where(
        col(OutboundMessage.migration_id).in_(bindparam("migrations", expanding=True)),
        col(OutboundMessage.kind).in_(bindparam("kinds", expanding=True)),
        ADDRESSEE.in_(bindparam("people", expanding=True)),
        col(OutboundMessage.status).in_(bindparam("statuses", expanding=True)),
    )
    .order_by(col(OutboundMessage.id))
)
_MESSAGES_TO_LOCKED = _MESSAGES_TO.with_for_update()
"""`messages_to`'s query, built once: a decision, a late invitation and a list sent again each ask it several
times, and building it and its cache key anew cost about as much as running it."""


def may_have_reached(message: OutboundMessage) -> bool:
    """Sent, being sent, or after an attempt that may have got through, this copy's (`_may_have_landed`)
    or the one it is sent again for (`_sent_again`), whatever became of this one."""
    return _may_have_landed(message) or _sent_again(message)


def _may_have_landed(message: OutboundMessage) -> bool:
    """This copy: sent, being sent, or after an attempt of its own that may have got through."""
    return message.status == "sent" or message.in_flight or message.uncertain


def _sent_again(message: OutboundMessage) -> bool:
    """Queued again after its platform could not confirm that it arrived (*Retry failed*): the first copy
    may have reached them, so it is no message they surely never read until a copy is confirmed."""
    return bool(message.payload.get(SENT_AGAIN_KEY))


def out_of_chat(messages: Sequence[OutboundMessage]) -> bool:
    """The newest of `messages` that was tried failed because chat could not reach the person (`NOT_IN_CHAT`):
    a message queued for them now would fail the same way. One being sent, or that may have got through, is
    the newest tried: an older failure no longer tells."""
    tried = [message for message in messages if may_have_reached(message) or message.error_code is not None]
    # this copy's own outcome: one sent again that found them out of chat says so, whatever its first did
    return bool(tried) and not _may_have_landed(tried[-1]) and tried[-1].error_code == NOT_IN_CHAT


@dataclass(frozen=True)
class Withdrawn:
    reached: tuple[OutboundMessage, ...]
    """Oldest first, those that may have reached the person: the newer message takes them back."""
    stopped: tuple[OutboundMessage, ...]
    """Those that never will: what they said, the newer message says instead. A copy queued again after its
    platform could not confirm the first (`_sent_again`), one waiting to be tried again after an attempt
    that may have landed (`uncertain`: a timeout), or one being sent, is among them and among `reached`
    both."""

    @property
    def heard(self) -> bool:
        return bool(self.reached)

    @property
    def follows(self) -> dict[str, list[int]]:
        """The payload field of the newer message: those stopped while being sent, which it waits for."""
        return following(self.stopped)


def withdrawn(messages: Sequence[OutboundMessage], kinds: AbstractSet[str]) -> Withdrawn:
    """`withdraw` among messages already read."""
    reached, stopped = [], []
    for message in of_kinds(messages, kinds):
        if may_have_reached(message):
            reached.append(message)
        failed = message.status == "failed"  # never sent again either: a newer message says it instead
        if stop_sending(message) or failed:
            message.status = SUPERSEDED
            stopped.append(message)
    return Withdrawn(tuple(reached), tuple(stopped))


def stop_sending(message: OutboundMessage) -> bool:
    """Never send `message` (again), as newer news says otherwise; whether it still could have been.

    Whatever waits is stopped, a copy queued again or the retry of an attempt that may have landed too:
    sent after the newer news, it would say again what that takes back. One being sent (`in_flight`) may
    land all the same, but is never tried again, nor does a process that finds its send cut short claim it
    again: it stays one that may have reached them unless its send ends surely unposted (refused, or never
    asked, with no try of it that may have landed: `storage.outbox_sends`). Its claim is kept, the sign that
    its send is under way: the newer news waits for it (`following`)."""
    if message.status != "pending":
        return False
    message.status = SUPERSEDED
    if not message.in_flight:
        message.claimed_by = message.claimed_until = None
    return True


def following(messages: Iterable[OutboundMessage]) -> dict[str, list[int]]:
    """The payload field (`FOLLOWS`) of newer news to a person, given their older `messages` it takes back
    or stops: those being sent, which it must not overtake (another replica posting it while such a send is
    open would have them read the news and then what it takes back). Empty when none is."""
    sending = [message.id for message in messages if message.in_flight and message.id is not None]
    return {FOLLOWS: sending} if sending else {}
