"""The Teams surface's memory in the database, shared by every process: conversations, activities, cards.

Every method is blocking (SQLAlchemy); async callers run them with `asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Delete, String, cast, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage import (
    ApprovalDecision,
    Database,
    TeamsCardCopy,
    TeamsConversation,
    TeamsDispatch,
    TeamsSeenActivity,
    TeamsSharedCard,
)

ACTIVITY_MEMORY = timedelta(hours=1)
"""The Bot Connector redelivers within minutes; an hour covers every redelivery."""
REPLY_MEMORY = timedelta(days=1)
"""How long a reply for one person in a channel's thread (`REPLY_PREFIX`: a typo's suggestion, help) keeps
its card for their refresh: past it, its buttons act on what is a day old, and the row would only pile up,
one a typo for ever; a refresh then reads "no longer current"."""
REPLY_PREFIX = "reply:"
"""The key of such a reply's card among the shared cards (bot.teams.delivery)."""
CLICK_ANSWER_LIMIT = timedelta(seconds=15)
"""Teams waits this long for a click's answer; a click claimed longer ago and still unanswered will never
be answered by the process that claimed it (Teams has shown the clicker a failure), so a redelivery may
take it over."""


@dataclass(frozen=True)
class ConversationRef:
    """Enough to write to a conversation later (Teams' conversation reference)."""

    conversation_id: str
    service_url: str
    tenant_id: str
    kind: str
    user_id: str | None = None
    time_zone: str | None = None
    thread: str | None = None
    """In a channel, the thread to post in (its first post's id); never stored: the channel is."""

    @property
    def address(self) -> str:
        """The conversation id to post to: in a channel thread `;messageid=` its first post, as Teams
        writes it (without it a post starts a thread of its own)."""
        return f"{self.conversation_id};messageid={self.thread}" if self.thread else self.conversation_id

    def in_thread(self, address: str) -> ConversationRef:
        """This conversation, in the thread `address` (a conversation id as Teams writes it) names."""
        return replace(self, thread=address.partition(";messageid=")[2] or None)


def channel_of(address: str) -> str:
    """The conversation an address is in, its thread left out."""
    return address.partition(";messageid=")[0]


def _past_memory(now: datetime) -> Delete:
    """Deletes the activities no redelivery can come for any more."""
    return delete(TeamsSeenActivity).where(col(TeamsSeenActivity.seen_at) < now - ACTIVITY_MEMORY)


def _replies_past_memory(now: datetime) -> Delete:
    """Deletes the cards of replies for one person older than `REPLY_MEMORY`: the keys from `reply:` up
    to `reply;` (the next character), a range of the primary key where LIKE may not use it (PostgreSQL)."""
    key = col(TeamsSharedCard.key)
    upper = REPLY_PREFIX[:-1] + chr(ord(REPLY_PREFIX[-1]) + 1)
    return delete(TeamsSharedCard).where(
        key >= REPLY_PREFIX, key < upper, col(TeamsSharedCard.updated_at) < now - REPLY_MEMORY
    )


def _no_answer() -> ColumnElement[bool]:
    """No answer kept: the ORM writes an unset JSON column as JSON `null`, not SQL NULL."""
    answer = col(TeamsSeenActivity.answer)
    return or_(answer.is_(None), cast(answer, String) == "null")


@dataclass(frozen=True)
class CardCopy:
    conversation_id: str
    activity_id: str


class TeamsStore:
    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self._database = database
        self._clock = clock

    def claim_activity(self, key: str, *, retake_after: timedelta | None = None) -> bool:
        """True the first time an activity is seen (atomically across processes), False for a redelivery;
        with `retake_after`, True also for the one redelivery that comes when the claim is that old and no
        answer was kept: the process that claimed it died or was stopped before answering."""
        now = self._clock()
        with self._database.session() as session:
            session.execute(_past_memory(now))
            session.add(TeamsSeenActivity(activity_key=key, seen_at=now))
            try:
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
            if retake_after is None:
                return False
            # compare-and-set on the claim's time: of two redeliveries at once, one takes the click over
            taken = session.execute(
                update(TeamsSeenActivity)
                .where(
                    col(TeamsSeenActivity.activity_key) == key,
                    _no_answer(),
                    col(TeamsSeenActivity.seen_at) < now - retake_after,
                )
                .values(seen_at=now)
            )
            session.commit()
            return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    def forget_old_activities(self) -> None:
        """Forget activities past every redelivery, with the clicks' kept answers (a private list card
        among them): claiming does too, but a quiet bot claims nothing for days (`serve`'s watch calls
        this). And the cards of replies for one person past `REPLY_MEMORY`."""
        now = self._clock()
        with self._database.session() as session:
            session.execute(_past_memory(now))
            session.execute(_replies_past_memory(now))
            session.commit()

    def keep_answer(self, key: str, answer: dict[str, Any]) -> None:
        """The invoke response a claimed activity (a click) was given."""
        with self._database.session() as session:
            row = session.get(TeamsSeenActivity, key)
            if row is not None:
                row.answer = answer
                session.add(row)
                session.commit()

    def answer(self, key: str) -> dict[str, Any] | None:
        """The invoke response kept for a click; None while it is being answered (or was not kept)."""
        with self._database.session() as session:
            row = session.get(TeamsSeenActivity, key)
            return dict(row.answer) if row is not None and row.answer is not None else None

    def remember(self, ref: ConversationRef) -> None:
        with self._database.session() as session:
            row = session.get(TeamsConversation, ref.conversation_id)
            if row is None:
                row = TeamsConversation(
                    conversation_id=ref.conversation_id,
                    service_url=ref.service_url,
                    tenant_id=ref.tenant_id,
                    kind=ref.kind,
                    user_id=ref.user_id,
                    time_zone=ref.time_zone,
                    updated_at=self._clock(),
                )
            else:
                row.service_url, row.tenant_id, row.updated_at = ref.service_url, ref.tenant_id, self._clock()
                row.user_id = ref.user_id or row.user_id
                row.time_zone = ref.time_zone or row.time_zone
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # another process stored the same conversation just now

    def conversation(self, conversation_id: str) -> ConversationRef | None:
        with self._database.session() as session:
            row = session.get(TeamsConversation, conversation_id)
            return _ref(row) if row else None

    def personal(self, user_id: str) -> ConversationRef | None:
        with self._database.session() as session:
            row = session.exec(
                select(TeamsConversation)
                .where(TeamsConversation.user_id == user_id, TeamsConversation.kind == "personal")
                .order_by(col(TeamsConversation.updated_at).desc())
            ).first()
            return _ref(row) if row else None

    def set_time_zone(self, user_id: str, time_zone: str) -> None:
        """What a person's Teams client says their time zone is, kept with their personal chat."""
        with self._database.session() as session:
            for row in session.exec(select(TeamsConversation).where(TeamsConversation.user_id == user_id)):
                row.time_zone = time_zone
                session.add(row)
            session.commit()

    def any_service_url(self) -> str | None:
        """The service URL Teams last wrote from: where new conversations are created."""
        with self._database.session() as session:
            return session.exec(
                select(TeamsConversation.service_url)
                .order_by(col(TeamsConversation.updated_at).desc())
                .limit(1)
            ).first()

    def forget(self, conversation_id: str) -> None:
        with self._database.session() as session:
            session.execute(
                delete(TeamsConversation).where(col(TeamsConversation.conversation_id) == conversation_id)
            )
            session.commit()

    def share(self, key: str, content: dict[str, Any], viewers: list[str]) -> None:
        """The full card of a shared message and who may see its actions; a later version replaces it."""
        with self._database.session() as session:
            row = session.get(TeamsSharedCard, key) or TeamsSharedCard(key=key, updated_at=self._clock())
            row.card, row.viewers, row.updated_at = content, viewers or row.viewers, self._clock()
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()

    def drop_viewers(self, key: str, user_ids: list[str]) -> None:
        """People who acted on a shared message (decided on an approval) see it read-only from now on."""
        with self._database.session() as session:
            row = session.get(TeamsSharedCard, key)
            if row is not None and set(user_ids) & set(row.viewers):
                row.viewers = [viewer for viewer in row.viewers if viewer not in user_ids]
                session.add(row)
                session.commit()

    def deciders(self, key: str) -> list[str]:
        """The sign-in names of the admins who decided on the approval a shared message is about
        (`workflows.notices.approval_thread`); none for any other shared message."""
        kind, _, number = key.partition(":")
        if kind != "approval" or not number.isdigit():
            return []
        with self._database.session() as session:
            found = session.exec(
                select(ApprovalDecision.approver_email).where(ApprovalDecision.approval_id == int(number))
            )
            return [str(email) for email in found if email]

    def shared(self, key: str) -> tuple[dict[str, Any], list[str]] | None:
        with self._database.session() as session:
            row = session.get(TeamsSharedCard, key)
            return (dict(row.card), list(row.viewers)) if row else None

    def copies(self, key: str) -> list[CardCopy]:
        with self._database.session() as session:
            rows = session.exec(
                select(TeamsCardCopy).where(TeamsCardCopy.key == key).order_by(col(TeamsCardCopy.created_at))
            ).all()
            return [CardCopy(row.conversation_id, row.activity_id) for row in rows]

    def is_copy(self, activity_id: str) -> bool:
        """Whether the activity is a copy of a shared card (an approval prompt)."""
        with self._database.session() as session:
            found = session.exec(select(TeamsCardCopy.key).where(TeamsCardCopy.activity_id == activity_id))
            return found.first() is not None

    def add_copy(self, key: str, copy: CardCopy) -> None:
        with self._database.session() as session:
            session.add(
                TeamsCardCopy(
                    key=key,
                    conversation_id=copy.conversation_id,
                    activity_id=copy.activity_id,
                    created_at=self._clock(),
                )
            )
            try:
                session.commit()
            except IntegrityError:
                session.rollback()


class Dispatches:
    """Which outbox messages were handed to Teams (see `storage.TeamsDispatch`)."""

    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self._database = database
        self._clock = clock

    def record(self, key: str, conversation_id: str) -> None:
        with self._database.session() as session:
            session.add(TeamsDispatch(key=key, conversation_id=conversation_id, dispatched_at=self._clock()))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # handed over before, by an attempt that then failed

    def forget(self, key: str) -> None:
        """Teams refused the message: it did not arrive."""
        with self._database.session() as session:
            session.execute(delete(TeamsDispatch).where(col(TeamsDispatch.key) == key))
            session.commit()

    def conversation_of(self, key: str) -> str | None:
        """Where the message was handed to Teams, if it was."""
        with self._database.session() as session:
            row = session.get(TeamsDispatch, key)
            return row.conversation_id if row else None


def _ref(row: TeamsConversation) -> ConversationRef:
    return ConversationRef(
        row.conversation_id, row.service_url, row.tenant_id, row.kind, row.user_id, row.time_zone
    )
