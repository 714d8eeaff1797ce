"""How each person of a migration stands in chat after the to-do lists go out: the message that says so
(`reach_in`), the messages that may not have reached them and *Retry failed* sends again
(`unconfirmed_lists`, `access_news_in_doubt`), and the word a progress report shows for it (`delivery_of`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from storage import AffectedUser, Migration, OutboundMessage
from storage.database import in_batches
from storage.outbox import NOT_IN_CHAT
from storage.outbox_sends import UNCONFIRMED
from storage.outbox_threads import SUPERSEDED
from workflows.decisions import lost_access_by
from workflows.results import BOT
from workflows.stages.list_messages import (
    ADDRESSEE,
    CHANGES,
    LIST_MESSAGES,
    LOST_ACCESS_MESSAGE,
    REMINDER_MESSAGE,
    WHOLE_LISTS,
)
from workflows.stages.told_early import ACCESS_BACK_MESSAGE

PERSONAL_LISTS = LIST_MESSAGES | {LOST_ACCESS_MESSAGE}
"""DMs that hand a person their list, or its changed items, or tell them they lose access: what *Retry
failed* sends again (what a newer decision contradicts was withdrawn, `relisting`)."""


class Reach(NamedTuple):
    """How a person stands in chat, as the message `reach_in` chose for them says it."""

    status: str
    error_code: str | None
    last_error: str | None
    queued_at: datetime
    in_flight: bool
    due_at: datetime
    message_id: int
    heard: bool = False
    """A reminder chat could not reach them with (`NOT_IN_CHAT`) after their list reached them: out of chat
    now, though their list told them what to do."""
    in_doubt: tuple[int, ...] = ()
    """Sent unconfirmed (`unconfirmed`): the ids of their list's messages that may not have reached them, in
    order, this one first."""

    @property
    def unconfirmed(self) -> bool:
        """Sent, but the platform could not confirm that it arrived (`Receipt.unconfirmed`)."""
        return self.status == "sent" and self.error_code == UNCONFIRMED

    @property
    def confirmed(self) -> bool:
        """Sent, and the platform said it arrived."""
        return self.status == "sent" and not self.unconfirmed


def reach_in(session: Session, migration_id: int) -> dict[int, Reach]:
    """By affected user id, how each person of a migration stands in chat: as the newest DM with their
    list says it (after an invitation that follows it, the notice telling them to accept it), or a newer
    reminder that was sent or could not reach them: someone who blocked the bot or left the workspace
    after their list arrived is out of reach from then on, and back once a reminder gets through. A
    reminder its platform could not confirm says neither: they stand as their list left them. Nor do the
    messages that follow one of their list's messages its platform could not confirm, until a whole list
    or a reminder of their items (which carry every item) follows it: the changes after it were written as
    if it had arrived, so they stand as the first of those in doubt left them (`Reach.in_doubt`, what
    *Retry failed* sends again, each as it now stands)."""
    reach: dict[int, Reach] = {}
    in_doubt: dict[int, list[Reach]] = {}
    for person, kind, waits_on_admins, *state in session.execute(_REACHING, {"migration": migration_id}):
        if person is None:  # told before their list, of no record yet: `access_news_in_doubt`'s
            continue
        found = Reach(*state)
        confirmed = found.confirmed
        settled_reminder = confirmed or (found.status == "failed" and found.error_code == NOT_IN_CHAT)
        carries_list = kind in WHOLE_LISTS or (kind == REMINDER_MESSAGE and confirmed and not waits_on_admins)
        if carries_list or kind == LOST_ACCESS_MESSAGE:
            in_doubt.pop(person, None)
        doubted = in_doubt.get(person)
        if doubted and (kind in CHANGES or (kind == REMINDER_MESSAGE and found.status == "sent")):
            reach[person] = doubted[0]
        elif kind in PERSONAL_LISTS or settled_reminder:
            if kind == REMINDER_MESSAGE and found.status == "failed":
                found = found._replace(heard=_reached(reach.get(person)))
            reach[person] = found
        if kind in PERSONAL_LISTS and found.unconfirmed:
            in_doubt.setdefault(person, []).append(found)
    for person, doubted in in_doubt.items():
        if reach[person].unconfirmed:
            reach[person] = reach[person]._replace(in_doubt=tuple(each.message_id for each in doubted))
    return reach


def _reached(before: Reach | None) -> bool:
    """Whether `before` (what `reach_in` chose for someone until a reminder failed to reach them) left them
    with their list: sent and confirmed, or a reminder after it that said so."""
    return before is not None and (before.heard or before.confirmed)


def unconfirmed_lists(session: Session, migration_id: int) -> set[int]:
    """The ids of the messages that leave people with a list that may not have reached them, all of each
    person `progress` shows as *may have arrived*, and the news of their access told them before their list
    that may not have reached them (`access_news_in_doubt`): `storage.outbox.Unconfirmed`, for *Retry
    failed*, which sends again what failed of the same kinds."""
    lists = {message for found in reach_in(session, migration_id).values() for message in found.in_doubt}
    return lists | access_news_in_doubt(session, migration_id).keys()


def access_news_in_doubt(session: Session, migration_id: int) -> dict[int, str]:
    """Of what people were told of their access before their list (`told_early`: "you lose access", or that
    it no longer holds), the ids of the messages its platform could not confirm, each the newest its person
    was told and still true by the plan, while `notify` has not listed them. A reminder does not say it. A
    "you lose access" that `notify` made their record's (`told_early.hold`) is `reach_in`'s; once they have
    a record, the rest is behind them: what they heard since (their list, which gives them access, and any
    decision after it) is newer than any of these, which say the list is still to come. By message id, the
    address it went to (`progress` before `notify` names them)."""
    newest: dict[str, _News] = {}
    for news in map(_News._make, session.execute(_TOLD_EARLY, {"migration": migration_id})):
        if news.entitlement_id is not None:
            newest[news.entitlement_id] = news
    doubted = [news for news in newest.values() if news.unconfirmed and news.addressee is None]
    if not doubted:
        return {}
    listed = _listed_among(session, migration_id, [str(news.entitlement_id) for news in doubted])
    doubted = [news for news in doubted if news.entitlement_id not in listed]
    if not doubted:
        return {}
    row = session.get(Migration, migration_id)
    losing = lost_access_by(row.plan if row is not None else None)
    return {
        news.id: str(news.email)
        for news in doubted
        if (news.kind == LOST_ACCESS_MESSAGE) == (news.entitlement_id in losing)
    }


def _listed_among(session: Session, migration_id: int, entitlement_ids: Sequence[str]) -> set[str]:
    """Those of `entitlement_ids` with a record in the migration: `notify` listed them."""
    listed: set[str] = set()
    for some in in_batches(sorted(entitlement_ids)):
        listed.update(session.exec(_LISTED, params={"migration": migration_id, "people": some}).all())
    return listed


_LISTED = select(AffectedUser.entitlement_id).where(
    AffectedUser.migration_id == bindparam("migration"),
    col(AffectedUser.entitlement_id).in_(bindparam("people", expanding=True)),
)


class _News(NamedTuple):
    """A message about someone's access, as `access_news_in_doubt` reads it."""

    id: int
    kind: str
    entitlement_id: str | None
    """Theirs, in the payload of what they were told before their list."""
    email: str | None
    addressee: int | None
    status: str
    error_code: str | None

    @property
    def unconfirmed(self) -> bool:
        return self.status == "sent" and self.error_code == UNCONFIRMED


_TOLD_EARLY = (
    select_columns(
        col(OutboundMessage.id),
        col(OutboundMessage.kind),
        col(OutboundMessage.payload)["entitlement_id"].as_string(),
        col(OutboundMessage.payload)["email"].as_string(),
        ADDRESSEE,
        col(OutboundMessage.status),
        col(OutboundMessage.error_code),
    )
    .where(
        col(OutboundMessage.migration_id) == bindparam("migration"),
        col(OutboundMessage.kind).in_((LOST_ACCESS_MESSAGE, ACCESS_BACK_MESSAGE)),
        col(OutboundMessage.status) != SUPERSEDED,  # stopped: the newer news said it instead
    )
    .order_by(col(OutboundMessage.id))
)


_REACHING = (
    select_columns(
        ADDRESSEE,
        col(OutboundMessage.kind),
        col(OutboundMessage.payload)["waiting_item"].as_string().is_not(None),  # a reminder without items
        col(OutboundMessage.status),
        col(OutboundMessage.error_code),
        col(OutboundMessage.last_error),
        col(OutboundMessage.created_at),
        col(OutboundMessage.in_flight),
        col(OutboundMessage.not_before),
        col(OutboundMessage.id),
    )
    .where(
        col(OutboundMessage.migration_id) == bindparam("migration"),
        col(OutboundMessage.kind).in_(sorted(PERSONAL_LISTS | {REMINDER_MESSAGE})),
        col(OutboundMessage.status) != SUPERSEDED,  # never sent: says nothing of how they stand
    )
    .order_by(col(OutboundMessage.id))
)
"""`reach_in`'s columns, not the messages' payloads: a digest and a progress report read every list of the
migration, and each list's payload holds all its items."""


class _Ticked(Protocol):
    @property
    def done_by(self) -> str | None: ...


def ticks_in_chat(items: Iterable[_Ticked]) -> bool:
    """They ticked an item of their list themselves (`done N`, a Done button), on some surface: in chat after
    all, though their list could not be delivered to them (their account there not found by their address,
    or a list that failed before Slack and Teams were both tried)."""
    return any(item.done_by is not None and item.done_by != BOT.id for item in items)


OUT_OF_CHAT = ("not-in-chat", "left-chat")
"""The `delivery_of` words of who chat cannot reach now: never, or no more since their list reached them."""


def delivery_of(message: Reach | None, items: Iterable[_Ticked]) -> str:
    """Where someone's list stands (`UserProgress.delivery`), from the message `reach_in` chose for them and
    their items (`ticks_in_chat`)."""
    if message is None:
        return "queued"
    if message.status == "sent":
        return "maybe-sent" if message.unconfirmed else "sent"
    if message.status == "failed":
        if message.error_code != NOT_IN_CHAT:
            return "failed"
        if ticks_in_chat(items):
            return "in-chat"
        return "left-chat" if message.heard else "not-in-chat"
    if message.in_flight:
        return "sending"
    # tried, and put back or failed for now
    return "waiting" if message.error_code is not None else "queued"
