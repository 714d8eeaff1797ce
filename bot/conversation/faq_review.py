"""Helpful / Not helpful on every answer, and `/aad faq review` for the admins.

Hooked into `Conversation` by adding `FaqReview.handlers()` to its command table: the rating buttons send
`faq-helpful ID` / `faq-not-helpful ID`, admins type `faq review ...` (an admin word, see `commands.USAGES`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import get_close_matches

from bot.conversation import faq_views
from bot.conversation.commands import Command
from bot.conversation.desk import Handler
from bot.conversation.messages import Outgoing
from faq import Answer, AskerContext, FaqAnswerer
from faq.feedback import (
    PLACE_WORDS,
    FeedbackError,
    FeedbackItem,
    FeedbackStore,
    Paging,
    check_resolution,
    review_key,
)
from workflows.errors import WorkflowError
from workflows.results import Actor

REVIEW_USAGE = (
    "Say `faq review` to list the questions waiting (`faq review more` the next ones), then"
    " `faq review attach N TOPIC`, `faq review answer N TEXT` or `faq review dismiss N`; `faq review topics`"
    " lists the topics to attach."
)
TOPICS_WORD = "topics"
MORE_WORD = faq_views.MORE_WORD
_SUGGESTED = 3
_NEAR = 0.1
"""The score of a topic, for a word typed as its id, from which it is suggested (a made-up word: 0.01)."""
_MISSPELT = 0.75
"""How alike a word and a topic id are (`difflib`'s ratio) for the id to be suggested: `stale-user` and
`downtme` are their ids misspelt (0.93 and more); `pipelines` is not `timeline` (0.71)."""
NOTHING_TO_RATE = (
    "I have no answer of yours to rate just now. Right after an answer, type `Helpful` or `Not helpful`,"
    " or the words its button shows (like `faq-not-helpful #3`)."
)
REVIEW_PAGE = faq_views.REVIEW_PAGE
_REMEMBERED_ASKERS = 1000


class FaqReview:
    def __init__(
        self,
        answerer: FaqAnswerer,
        context_of: Callable[[Actor], AskerContext],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._answerer = answerer
        self._context_of = context_of
        self._clock = clock
        # Each asker's last unrated answer, so a typed label rates it; the oldest forgotten first.
        self._unrated: OrderedDict[str, str] = OrderedDict()
        # Each admin's paging (per organization): where each question they were shown stood in it, so
        # `more N` typed alone continues from N as the button would, and `more` from their last page.
        self._pagings: OrderedDict[tuple[str, str | None], _AdminPaging] = OrderedDict()
        self._lock = threading.Lock()

    def handlers(self) -> dict[str, Handler]:
        return {
            faq_views.RATE_HELPFUL: self._helpful,
            faq_views.RATE_NOT_HELPFUL: self._not_helpful,
            faq_views.REVIEW_WORD: self._review,
        }

    def _helpful(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return self._rate(actor, command, helpful=True)

    def _not_helpful(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return self._rate(actor, command, helpful=False)

    def answered(self, actor: Actor, answer: Answer) -> Answer:
        """Remember the answer just given to this asker, for a `Helpful` typed next."""
        with self._lock:
            self._unrated.pop(_asker(actor), None)
            if answer.rating is not None:
                self._unrated[_asker(actor)] = answer.rating
                if len(self._unrated) > _REMEMBERED_ASKERS:
                    self._unrated.popitem(last=False)
        return answer

    def _rate(self, actor: Actor, command: Command, *, helpful: bool) -> list[Outgoing]:
        with self._lock:
            last = self._unrated.pop(_asker(actor), None)
        rating = command.text if command.text.strip() else last
        if rating is None:
            raise WorkflowError(NOTHING_TO_RATE)
        context = self._context_of(actor)
        try:
            item = self._answerer.rate(rating, helpful, context.organization)
        except FeedbackError as error:
            raise WorkflowError(str(error)) from None
        return [faq_views.rated(item, helpful, admins=bool(context.admins))]

    def _review(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        store = self._store()
        words = command.text.split(maxsplit=3)
        if not words or words[0].casefold() != "review":
            raise WorkflowError(REVIEW_USAGE)
        organization = self._context_of(actor).organization
        action = words[1].casefold() if len(words) > 1 else ""
        if action in ("", MORE_WORD):
            try:
                admin = (_asker(actor), organization)
                return [self._page(store, admin, more=bool(action), after=command.text.split()[2:])]
            except FeedbackError as error:
                raise WorkflowError(str(error)) from None
        if action == TOPICS_WORD:
            return [faq_views.topics(list(self._answerer.topics.values()))]
        item_id = _number(words[2] if len(words) > 2 else None, REVIEW_USAGE)
        rest = words[3].strip() if len(words) > 3 else ""
        topic: str | None = None
        text: str | None = None
        if action == "attach":
            topic = rest.split()[0] if rest else ""
            if not self._answerer.knows(topic, organization) or topic.startswith("local-"):
                raise WorkflowError(self._unknown_topic(topic, item_id))
        elif action == "answer":
            text = rest
            check_answer(text)
        elif action != "dismiss":
            raise WorkflowError(REVIEW_USAGE)
        who = actor.email or actor.id
        try:
            item = store.resolve(item_id, topic=topic, text=text, by=who, at=self._clock())
        except FeedbackError as error:
            raise WorkflowError(str(error)) from None
        return [faq_views.resolved(item)]

    def _page(
        self, store: FeedbackStore, admin: tuple[str, str | None], *, more: bool, after: list[str]
    ) -> Outgoing:
        """A page of `REVIEW_PAGE` questions: the first, or (`more`) those listed after question N
        (`after`: N, or N with the place and mark of the paging that showed it, as the Next button and the
        words under a page give them), by default after this admin's last page. Paged by question, not by
        count: a question reviewed since the page before shifts none of the rest out of sight, and one
        rated since keeps its place in this paging (`faq.feedback.Paging`). N typed alone, without the
        place and mark, continues this admin's paging from N when it showed N (from N's place now
        otherwise): the place N had then, not now, so nothing rated since is skipped or shown again."""
        organization = admin[1]
        with self._lock:
            paging = self._pagings.get(admin) if more else None
        start = Paging(store.mark())
        if len(after) > 1:
            start = _paging(after)
        elif after:
            item_id = _number(after[0], REVIEW_USAGE)
            shown = paging.places.get(item_id) if paging is not None else None
            start = shown if shown is not None else store.paging_after(item_id)
        elif paging is not None:
            start = paging.last
        elif more:
            first = store.pending(organization, REVIEW_PAGE, after=start)
            if first:
                start = Paging(start.mark, *review_key(first[-1], start.mark))
        items = store.pending(organization, REVIEW_PAGE, after=start)
        last = Paging(start.mark, *review_key(items[-1], start.mark)) if items else start
        self._remember(admin, start.mark, items, last)
        return faq_views.review(
            items,
            organization,
            total=store.waiting(organization),
            later=store.waiting(organization, after=last) if items else 0,
            after=start.item_id if start.place >= 0 else None,
            last=last,
        )

    def _remember(
        self, admin: tuple[str, str | None], mark: int, items: list[FeedbackItem], last: Paging
    ) -> None:
        """The page just shown, in the admin's paging of `mark` (a new one starts it over)."""
        with self._lock:
            paging = self._pagings.pop(admin, None)
            places = paging.places if paging is not None and paging.mark == mark else {}
            places.update({item.id: Paging(mark, *review_key(item, mark)) for item in items})
            self._pagings[admin] = _AdminPaging(mark, places, last)
            if len(self._pagings) > _REMEMBERED_ASKERS:
                self._pagings.popitem(last=False)

    def _unknown_topic(self, topic: str, item_id: int) -> str:
        """The topics nearest the word typed: an id it misspells (`stale-user`, `helpdeks`), then those its
        words are about (`pipelines`: the service connections' topic); how to answer in the admin's own
        words, which is what a help desk's place needs (no topic has it); and where all topics are listed."""
        ids = [each for each in self._answerer.topics if not each.startswith("local-")]
        spelt = get_close_matches(topic.casefold(), ids, n=_SUGGESTED, cutoff=_MISSPELT) if topic else []
        ranked = self._answerer.rank(topic.replace("-", " ")).topics if topic else []
        meant = [item.topic_id for item in ranked[:_SUGGESTED] if item.score >= _NEAR]
        near = [f"`{each}`" for each in dict.fromkeys(spelt + meant)][:_SUGGESTED]
        nearest = f" Nearest: {', '.join(near)}." if near else ""
        return (
            f"I know no topic `{topic}`.{nearest} To answer it in your own words (where your help desk is,"
            f" for example): `faq review answer {item_id} TEXT`. `faq review {TOPICS_WORD}` lists every topic"
            " id."
        )

    def _store(self) -> FeedbackStore:
        if self._answerer.feedback is None:
            raise WorkflowError("Ratings and reviews are not kept on this installation (no database).")
        return self._answerer.feedback


@dataclass(frozen=True)
class _AdminPaging:
    """One admin's paging: begun at review event `mark`, the place in it of each question it showed, and
    where its last page ended."""

    mark: int
    places: dict[int, Paging]
    last: Paging


def check_answer(text: str) -> None:
    try:
        check_resolution(None, text, [])
    except FeedbackError as error:
        raise WorkflowError(str(error)) from None


def _asker(actor: Actor) -> str:
    return actor.id or actor.email.casefold()


def _paging(words: list[str]) -> Paging:
    """`N PLACE MARK` as `faq_views.review` writes them."""
    item_id = _number(words[0], REVIEW_USAGE)
    place = words[1].casefold() if len(words) == 3 else ""
    if place not in PLACE_WORDS or not words[2].isdecimal() or len(words[2]) > 12:
        raise WorkflowError(REVIEW_USAGE)
    return Paging(int(words[2]), PLACE_WORDS.index(place), item_id)


def _number(raw: str | None, usage: str) -> int:
    if raw is None or not raw.lstrip("#").isdecimal() or len(raw) > 12:
        raise WorkflowError(usage)
    return int(raw.lstrip("#"))
