"""Learning from use: every answer can be rated, and the admins review what the bot got wrong.

Each question the bot answers or declines is kept (redacted, see `faq.redaction.redact`) with an id the
answer's Helpful / Not helpful buttons carry. Declined and not-helpful questions wait for an admin in
`/aad faq review`, who attaches the right topic or writes an organization-specific answer (where the help
desk is, which portal to use). From then on the answerer knows that question for that organization: an
attached question becomes one more phrasing of its topic, a written answer becomes a topic of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

from faq._knowledge import Topic
from faq.redaction import redact

Kind = Literal["answered", "declined", "helpful", "not-helpful"]
Status = Literal["open", "closed", "attached", "answered", "dismissed"]
# Kinds an admin should look at; the others are kept for the counts only.
NEEDS_REVIEW: frozenset[str] = frozenset({"declined", "not-helpful"})
REVIEW_ORDER: tuple[str, ...] = ("not-helpful", "declined")
"""The order `faq review` lists open questions in, each kind oldest first. Not helpful first: someone read
an answer and said it failed them, and the bot gives that answer to everyone who asks alike until an admin
steps in; a declined asker was already told "I don't know" and where to reach an admin. Declines are the
most frequent kind: listed first, a page of them would hide every rating."""
NEW_PLACE_WORD = "new"
PLACE_WORDS: tuple[str, ...] = (*REVIEW_ORDER, NEW_PLACE_WORD)
"""A place in a `faq review` paging by name: a kind of `REVIEW_ORDER`, or (last) the questions that began to
wait after the paging began."""
LOCAL_TOPIC_PREFIX = "local-"
MAX_ANSWER_CHARS = 2000


class FeedbackError(ValueError):
    """A review command that cannot apply; the message names the problem and the fix."""


@dataclass(frozen=True)
class FeedbackItem:
    id: int
    organization: str | None
    question: str  # redacted
    kind: Kind
    topic: str | None  # the topic the bot answered with, if any
    closest: tuple[str, ...]
    status: Status
    asked_at: datetime
    resolution_topic: str | None = None
    resolution_text: str | None = None
    resolved_by: str | None = None
    opened: int = 0
    """The review event (see `Paging`) at which it last began to wait: declined, or rated Not helpful when
    it was not waiting; 0 before any."""
    moved_up: int = 0
    """The review event at which, already waiting, its decline was rated Not helpful; 0 if never."""


@dataclass(frozen=True)
class Paging:
    """Where a `faq review` paging stands: the review event its first page was listed at (`mark`), and the
    place (of `PLACE_WORDS`) and id of the last question it showed.

    A rating moves a question: a decline rated Not helpful comes up among the ratings, an answer rated Not
    helpful begins to wait. Paged by each question's current place, the next page would skip an unseen
    decline rated meanwhile (it moved up past the page) and list again all those after a seen one rated
    (rev44 finding 4). So every question keeps, within one paging, the place it had at `mark`: each store
    numbers these moves (review events) as they happen, and a question that began to wait after `mark`
    comes last (`new`)."""

    mark: int
    place: int = -1
    item_id: int = 0


@dataclass(frozen=True)
class Learned:
    """One question an admin taught the bot, for one organization (None: every organization)."""

    item_id: int
    organization: str | None
    question: str
    topic: str | None  # attached to a topic of the knowledge base ...
    text: str | None  # ... or answered in the admins' own words


class FeedbackStore(Protocol):
    """Where ratings and reviews live: in memory for the console and tests, in the database for `serve`."""

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
        """Keep a question the bot just answered or declined; returns its id."""
        ...

    def rate(self, item_id: int, helpful: bool, at: datetime) -> FeedbackItem:
        """The asker's Helpful / Not helpful; FeedbackError for an unknown id."""
        ...

    def pending(
        self, organization: str | None, limit: int, *, after: Paging | None = None
    ) -> list[FeedbackItem]:
        """Open items of the organization (and of no organization) in `REVIEW_ORDER`; with `after`, in the
        places they had at its mark (`review_key`), those after its last question (reviewed since or not)."""
        ...

    def waiting(self, organization: str | None, *, after: Paging | None = None) -> int:
        """How many `pending` would list without a limit."""
        ...

    def mark(self) -> int:
        """The latest review event: a paging that begins now (`Paging`)."""
        ...

    def paging_after(self, item_id: int) -> Paging:
        """A paging from now, after item `item_id` as it is listed now (`faq review more N` typed alone).
        FeedbackError when there is no such item."""
        ...

    def resolve(
        self, item_id: int, *, topic: str | None, text: str | None, by: str, at: datetime
    ) -> FeedbackItem:
        """Attach a topic, write an answer, or (both None) dismiss. FeedbackError if not open."""
        ...

    def learned(self, organization: str | None) -> tuple[int, tuple[Learned, ...]]:
        """(a number that changes whenever they change, what the admins taught for this organization)."""
        ...


def review_key(item: FeedbackItem, mark: int | None = None) -> tuple[int, int]:
    """Where an item comes in `REVIEW_ORDER`: its kind's place, then its id (the order it was asked in).
    With `mark`, the place it had at that review event (`Paging`): last if it began to wait after it,
    among the declines if its decline was rated Not helpful after it."""
    if mark is not None and item.opened > mark:
        return len(REVIEW_ORDER), item.id
    if mark is not None and item.moved_up > mark:
        return kind_place("declined"), item.id
    return kind_place(item.kind), item.id


def moved(item: FeedbackItem, helpful: bool, event: int) -> FeedbackItem:
    """`item` rated, `event` its review event should the rating move it (`FeedbackItem.opened`,
    `moved_up`)."""
    kind: Kind = "helpful" if helpful else "not-helpful"
    status: Status = "closed" if helpful else "open"
    if helpful or item.kind == kind:
        return replace(item, kind=kind, status=status)
    if item.status == "open":  # a decline, rated Not helpful
        return replace(item, kind=kind, status=status, moved_up=event)
    return replace(item, kind=kind, status=status, opened=event)


def kind_place(kind: str) -> int:
    return REVIEW_ORDER.index(kind) if kind in REVIEW_ORDER else len(REVIEW_ORDER)


def unknown_item(item_id: int) -> FeedbackError:
    return FeedbackError(f"I have no question number {item_id}; `faq review` lists the open ones.")


def clean_question(question: str) -> str:
    return redact(question.strip())


def check_resolution(topic: str | None, text: str | None, known_topics: Sequence[str]) -> None:
    """The admin's choice is usable: an existing topic, or a non-empty answer of reasonable length."""
    if topic is not None and topic not in known_topics:
        raise FeedbackError(f"I know no topic `{topic}`.")
    if text is not None:
        if not text.strip():
            raise FeedbackError("The answer is empty: write it after the item number.")
        if len(text) > MAX_ANSWER_CHARS:
            raise FeedbackError(f"The answer is {len(text)} characters; keep it under {MAX_ANSWER_CHARS}.")


def local_topic_id(item_id: int) -> str:
    return f"{LOCAL_TOPIC_PREFIX}{item_id}"


def with_learned(topics: Sequence[Topic], learned: Sequence[Learned]) -> list[Topic]:
    """The knowledge base as one organization sees it after its admins' reviews."""
    extra: dict[str, list[str]] = {}
    local: list[Topic] = []
    for entry in learned:
        if entry.topic is not None:
            extra.setdefault(entry.topic, []).append(entry.question)
        elif entry.text:
            local.append(
                Topic(
                    id=local_topic_id(entry.item_id),
                    title="Your admins' answer",
                    phrasings=(entry.question,),
                    answer=entry.text,
                    link="",  # the organization's own answer: no Microsoft page says it
                    related=(),
                    notes=(),
                )
            )
    taught = [
        replace(topic, phrasings=topic.phrasings + tuple(extra[topic.id])) if topic.id in extra else topic
        for topic in topics
    ]
    return taught + local


class InMemoryFeedbackStore:
    """The store for the console, tests and `aadbot ask`: nothing survives the process."""

    def __init__(self) -> None:
        self._items: dict[int, FeedbackItem] = {}
        self._version = 0
        self._events = 0
        self._lock = threading.Lock()

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
        with self._lock:
            item_id = len(self._items) + 1
            status: Status = "open" if kind in NEEDS_REVIEW else "closed"
            self._items[item_id] = FeedbackItem(
                item_id, organization, clean_question(question), kind, topic, tuple(closest), status, at
            )
            if status == "open":
                self._events += 1
                self._items[item_id] = replace(self._items[item_id], opened=self._events)
            return item_id

    def rate(self, item_id: int, helpful: bool, at: datetime) -> FeedbackItem:
        with self._lock:
            item = self._get(item_id)
            if item.status in ("attached", "answered", "dismissed"):
                return item  # already reviewed: a late click changes nothing
            rated = moved(item, helpful, self._events + 1)
            self._events = max(self._events, rated.opened, rated.moved_up)
            self._items[item_id] = rated
            return rated

    def pending(
        self, organization: str | None, limit: int, *, after: Paging | None = None
    ) -> list[FeedbackItem]:
        with self._lock:
            return self._open(organization, after)[:limit]

    def waiting(self, organization: str | None, *, after: Paging | None = None) -> int:
        with self._lock:
            return len(self._open(organization, after))

    def mark(self) -> int:
        with self._lock:
            return self._events

    def paging_after(self, item_id: int) -> Paging:
        with self._lock:
            item = self._get(item_id)
            return Paging(self._events, kind_place(item.kind), item.id)

    def _open(self, organization: str | None, after: Paging | None) -> list[FeedbackItem]:
        mark = None if after is None else after.mark
        mine = sorted(
            (
                item
                for item in self._items.values()
                if item.status == "open" and item.organization in (organization, None)
            ),
            key=lambda item: review_key(item, mark),
        )
        if after is None:
            return mine
        return [item for item in mine if review_key(item, mark) > (after.place, after.item_id)]

    def resolve(
        self, item_id: int, *, topic: str | None, text: str | None, by: str, at: datetime
    ) -> FeedbackItem:
        with self._lock:
            item = self._get(item_id)
            if item.status != "open":
                raise FeedbackError(f"Item {item_id} was already reviewed ({item.status}); nothing changed.")
            status: Status = "attached" if topic else "answered" if text else "dismissed"
            done = replace(item, status=status, resolution_topic=topic, resolution_text=text, resolved_by=by)
            self._items[item_id] = done
            self._version += 1
            return done

    def learned(self, organization: str | None) -> tuple[int, tuple[Learned, ...]]:
        with self._lock:
            entries = tuple(
                Learned(
                    item.id, item.organization, item.question, item.resolution_topic, item.resolution_text
                )
                for item in self._items.values()
                if item.status in ("attached", "answered") and item.organization in (organization, None)
            )
            return self._version, entries

    def _get(self, item_id: int) -> FeedbackItem:
        item = self._items.get(item_id)
        if item is None:
            raise unknown_item(item_id)
        return item
