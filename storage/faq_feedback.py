"""The FAQ's ratings and reviews in the database (`faq.feedback.FeedbackStore`), shared by every process."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, or_, tuple_
from sqlmodel import Session, col, select

from faq.feedback import (
    NEEDS_REVIEW,
    REVIEW_ORDER,
    FeedbackError,
    FeedbackItem,
    Kind,
    Learned,
    Paging,
    Status,
    clean_question,
    kind_place,
    moved,
    unknown_item,
)
from storage.database import Database
from storage.models import FaqFeedback

_REVIEWED = ("attached", "answered", "dismissed")
_KIND_PLACE = case(
    *((col(FaqFeedback.kind) == kind, place) for place, kind in enumerate(REVIEW_ORDER)),
    else_=len(REVIEW_ORDER),
)
"""`faq.feedback.review_key`'s first part, in SQL."""


def _place(mark: int) -> ColumnElement[int]:
    """`faq.feedback.review_key`'s first part at review event `mark`, in SQL."""
    return case(
        (func.coalesce(col(FaqFeedback.opened), 0) > mark, len(REVIEW_ORDER)),
        (func.coalesce(col(FaqFeedback.moved_up), 0) > mark, kind_place("declined")),
        else_=_KIND_PLACE,
    )


class SqlFeedbackStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def record(
        self,
        *,
        organization: str | None,
        question: str,
        kind: Kind,
        topic: str | None,
        closest: Sequence[str],
        at: datetime,
    ) -> int:
        row = FaqFeedback(
            organization=organization,
            question=clean_question(question),
            kind=kind,
            topic=topic,
            closest=list(closest),
            status="open" if kind in NEEDS_REVIEW else "closed",
            asked_at=at,
        )
        with self._database.session() as session:
            if row.status == "open":
                row.opened = _next_event(session)
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def rate(self, item_id: int, helpful: bool, at: datetime) -> FeedbackItem:
        with self._database.session() as session:
            row = session.get(FaqFeedback, item_id)
            if row is None:
                raise unknown_item(item_id)
            if row.status not in _REVIEWED:  # a late click on a reviewed item changes nothing
                rated = moved(_item(row), helpful, _next_event(session))
                row.kind, row.status = rated.kind, rated.status
                row.opened, row.moved_up = rated.opened or row.opened, rated.moved_up or row.moved_up
                session.add(row)
                session.commit()
            return _item(row)

    def pending(
        self, organization: str | None, limit: int, *, after: Paging | None = None
    ) -> list[FeedbackItem]:
        place = _KIND_PLACE if after is None else _place(after.mark)
        with self._database.session() as session:
            rows = session.exec(
                select(FaqFeedback)
                .where(*_open(organization, after))
                .order_by(place, col(FaqFeedback.id))
                .limit(limit)
            ).all()
            return [_item(row) for row in rows]

    def waiting(self, organization: str | None, *, after: Paging | None = None) -> int:
        with self._database.session() as session:
            counted = select(func.count()).select_from(FaqFeedback)
            return session.exec(counted.where(*_open(organization, after))).one()

    def mark(self) -> int:
        with self._database.session() as session:
            return _next_event(session) - 1

    def paging_after(self, item_id: int) -> Paging:
        with self._database.session() as session:
            row = session.get(FaqFeedback, item_id)
            if row is None:
                raise unknown_item(item_id)
            return Paging(_next_event(session) - 1, kind_place(row.kind), item_id)

    def resolve(
        self, item_id: int, *, topic: str | None, text: str | None, by: str, at: datetime
    ) -> FeedbackItem:
        with self._database.session() as session:
            # The status test in the UPDATE makes two admins reviewing at once safe: one wins.
            row = session.get(FaqFeedback, item_id)
            if row is None:
                raise unknown_item(item_id)
            status: Status = "attached" if topic else "answered" if text else "dismissed"
            changed = session.execute(
                FaqFeedback.__table__.update()  # type: ignore[attr-defined]
                .where(FaqFeedback.__table__.c.id == item_id)  # type: ignore[attr-defined]
                .where(FaqFeedback.__table__.c.status == "open")  # type: ignore[attr-defined]
                .values(
                    status=status,
                    resolution_topic=topic,
                    resolution_text=text,
                    resolved_by=by,
                    resolved_at=at,
                )
            ).rowcount
            session.commit()
            if not changed:
                raise FeedbackError(f"Item {item_id} was already reviewed ({row.status}); nothing changed.")
            session.refresh(row)
            return _item(row)

    def learned(self, organization: str | None) -> tuple[int, tuple[Learned, ...]]:
        # one statement, the newest review riding along on each row: every answer reads this
        with self._database.session() as session:
            rows = session.exec(
                select(FaqFeedback, _NEWEST_REVIEW)
                .where(col(FaqFeedback.status).in_(("attached", "answered")), _of(organization))
                .order_by(col(FaqFeedback.id))
            ).all()
            version = hash((len(rows), rows[0][1] if rows else None))
            return version, tuple(
                Learned(
                    row.id or 0,
                    row.organization,
                    _question(row),
                    row.resolution_topic,
                    row.resolution_text,
                )
                for row, _ in rows
            )


_NEWEST_REVIEW = select(func.max(FaqFeedback.resolved_at)).scalar_subquery()
"""When anything was last reviewed, anywhere: with the number of rows, what tells that the learned changed."""


def _open(organization: str | None, after: Paging | None) -> list[ColumnElement[bool]]:
    """Open items of the organization; with `after`, those after its last question in the places they
    had at its mark (`faq.feedback.review_key`)."""
    where = [col(FaqFeedback.status) == "open", _of(organization)]
    if after is not None:
        where.append(tuple_(_place(after.mark), col(FaqFeedback.id)) > tuple_(after.place, after.item_id))
    return where


def _next_event(session: Session) -> int:
    """The number of the next review event (`faq.feedback.Paging`): one more than any so far. Two
    replicas rating at the same instant may share one; a paging begun right between them can then take
    the second for earlier than it was."""
    opened, moved_up = session.exec(
        select(func.max(col(FaqFeedback.opened)), func.max(col(FaqFeedback.moved_up)))
    ).one()
    return max(opened or 0, moved_up or 0) + 1


def _of(organization: str | None) -> ColumnElement[bool]:
    """Items of the organization, and those asked outside any migration."""
    nowhere = col(FaqFeedback.organization).is_(None)
    if organization is None:
        return nowhere
    return or_(col(FaqFeedback.organization) == organization, nowhere)


def _question(row: FaqFeedback) -> str:
    """The question redacted again as it is read: a row kept before redaction learned a shape (a URL's
    password, `AZURE_CLIENT_SECRET=`) still holds that secret, and `faq review`, the Ask-an-admin button and
    the learned phrasings must not show it. A question redacted already comes back unchanged."""
    return _redacted(row.question)


@functools.lru_cache(maxsize=4096)
def _redacted(question: str) -> str:
    """Every answer reads the learned questions again (`learned`): the same text is redacted once, not at
    each answer (about 35 us a question)."""
    return clean_question(question)


def _item(row: FaqFeedback) -> FeedbackItem:
    return FeedbackItem(
        id=row.id or 0,
        organization=row.organization,
        question=_question(row),
        kind=row.kind,  # type: ignore[arg-type]
        topic=row.topic,
        closest=tuple(row.closest),
        status=row.status,  # type: ignore[arg-type]
        asked_at=row.asked_at,
        resolution_topic=row.resolution_topic,
        resolution_text=row.resolution_text,
        resolved_by=row.resolved_by,
        opened=row.opened or 0,
        moved_up=row.moved_up or 0,
    )
