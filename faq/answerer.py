"""The FAQ answerer: built once over the bundled topics and what each organization's admins taught, it
answers (`faq._deciding`), explains a chosen topic, and takes the ratings its answers' buttons send back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache, partial

from faq import _about, _deciding, _reading
from faq._about import AboutModel
from faq._answer import Answer, chosen
from faq._calibration import Calibration, bundled_calibration
from faq._compose import AskerContext
from faq._index import Ranking, TopicIndex
from faq._knowledge import Topic, bundled_off_topic, bundled_pages, bundled_topics
from faq._ranking import Knowledge, rank
from faq.feedback import (
    LOCAL_TOPIC_PREFIX,
    FeedbackError,
    FeedbackItem,
    FeedbackStore,
    Kind,
    clean_question,
    with_learned,
)
from faq.unanswered import InMemoryUnansweredLog, UnansweredLog

__all__ = ["Answer", "FaqAnswerer", "default_answerer"]


@cache
def _bundled_index() -> TopicIndex:
    return TopicIndex(bundled_topics(), bundled_off_topic(), bundled_pages())


@cache
def _bundled_about() -> AboutModel:
    return _about.bundled_model()


class FaqAnswerer:
    """Built once; `answer` is cheap and never raises on odd input."""

    def __init__(
        self,
        topics: Sequence[Topic] | None = None,
        *,
        off_topic: Sequence[str] = (),
        calibration: Calibration | None = None,
        about: AboutModel | None = None,
        unanswered: UnansweredLog | None = None,
        feedback: FeedbackStore | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        asker_aware: bool = True,
    ) -> None:
        """`asker_aware=False` leaves out the choices made for a known asker (`faq._asker`), to measure
        them (`faq.asker_effect`)."""
        base = bundled_topics() if topics is None else tuple(topics)
        self._off_topic = tuple(bundled_off_topic() if topics is None else off_topic)
        # Microsoft's page sections belong to the bundled topics: a knowledge base given here has none.
        self._pages = bundled_pages() if topics is None else {}
        index = _bundled_index if topics is None else partial(TopicIndex, base, self._off_topic)
        self._base = Knowledge({topic.id: topic for topic in base}, index)
        self.calibration = calibration or bundled_calibration()
        self.about = about or _bundled_about()
        self.unanswered = unanswered
        self.feedback = feedback
        self._clock = clock
        self._asker_aware = asker_aware
        self._taught: dict[str | None, tuple[int, Knowledge]] = {}
        self._lock = threading.Lock()

    @property
    def topics(self) -> dict[str, Topic]:
        return dict(self._base.topics)

    def rank(self, question: str, reading: _reading.Reading | None = None) -> Ranking:
        """The topics ranked for `question`, its asking sentences weighed above the story around them.

        `reading`: the question as `faq._reading.read` reads it, when the caller has read it already."""
        return rank(self.about, self._base, _reading.read(question) if reading is None else reading, question)

    def answer(self, question: str, context: AskerContext | None = None) -> Answer:
        return _deciding.answer(self, question, context)

    def explain(self, topic_id: str, context: AskerContext | None = None) -> Answer:
        """A topic's answer chosen directly, e.g. from a suggestion button. Unknown ids raise KeyError."""
        context = context or AskerContext()
        knowledge = self._knowledge(context.organization)
        return chosen(knowledge, topic_id, context)

    def fitted(self, topic_id: str, context: AskerContext) -> bool:
        """Whether this topic's answer to this asker says something of their own case: it is not the one
        anyone in their migration gets (`AskerContext.in_general`)."""
        knowledge = self._knowledge(context.organization)  # read once for both: `in_general` keeps it
        mine = chosen(knowledge, topic_id, context).answer
        general = chosen(knowledge, topic_id, context.in_general())
        return mine != general.answer

    def knows(self, topic_id: str, organization: str | None = None) -> bool:
        """Whether `topic_id` is a topic this organization's askers can be shown (bundled or taught)."""
        if topic_id in self._base.topics:
            return True
        # only a topic the admins wrote is new (`with_learned`): any other words (a whole question, as
        # every question typed is first tried as a suggestion's id) need no read of what they taught
        return topic_id.startswith(LOCAL_TOPIC_PREFIX) and topic_id in self._knowledge(organization).topics

    def rate(self, rating: str, helpful: bool, organization: str | None = None) -> FeedbackItem:
        """The asker's Helpful / Not helpful on an answer's `rating`. FeedbackError when it makes no sense."""
        if self.feedback is None:
            raise FeedbackError("Ratings are not kept on this installation.")
        kept = rating.strip().lstrip("#")
        if kept.isdecimal() and len(kept) < 12:
            try:
                return self.feedback.rate(int(kept), helpful, self._clock())
            except FeedbackError:  # the store's words send an admin to `faq review`, which is not theirs
                raise FeedbackError(
                    f"I have no question number {kept} to rate. Use the Helpful or Not helpful button under"
                    " an answer, or type the words it shows."
                ) from None
        topic, _, question = rating.strip().partition(" ")
        if not self.knows(topic, organization) or not question.strip():
            raise FeedbackError(
                "Use the Helpful or Not helpful button under an answer, or type the words it shows."
            )
        closest = [item.topic_id for item in self.rank(question).topics[:3] if item.topic_id != topic]
        item_id = self.feedback.record(
            organization=organization,
            question=question,
            kind="helpful" if helpful else "not-helpful",
            topic=topic,
            closest=closest,
            at=self._clock(),
        )
        return self.feedback.rate(item_id, helpful, self._clock())

    def _knowledge(self, organization: str | None) -> Knowledge:
        """The base knowledge, plus what the organization's admins taught in `faq review` (cached)."""
        if self.feedback is None:
            return self._base
        version, learned = self.feedback.learned(organization)
        if not learned:
            return self._base
        with self._lock:
            cached = self._taught.get(organization)
            if cached is not None and cached[0] == version:
                return cached[1]
            topics = with_learned(list(self._base.topics.values()), learned)
            knowledge = Knowledge(
                {topic.id: topic for topic in topics},
                partial(TopicIndex, topics, self._off_topic, self._pages),
            )
            self._taught[organization] = (version, knowledge)
            return knowledge

    def _rated(self, answer: Answer, question: str) -> Answer:
        """An answer with what its rating buttons carry. Answers are not written down (that costs a disk
        write per question); the buttons carry the question, and a rating writes it then."""
        if self.feedback is None:
            return answer
        return replace(answer, rating=f"{answer.topic} {clean_question(question)}")

    def _kept(self, answer: Answer, question: str, kind: Kind, context: AskerContext) -> Answer:
        """The answer with the id its rating buttons carry, once the question is kept for review."""
        if self.feedback is None:
            return answer
        ask_id = self.feedback.record(
            organization=context.organization,
            question=question,
            kind=kind,
            topic=answer.topic,
            closest=answer.alternatives,
            at=self._clock(),
        )
        return replace(answer, ask_id=ask_id, rating=f"#{ask_id}")


@cache
def default_answerer() -> FaqAnswerer:
    """The shared answerer over the bundled knowledge base, keeping declined questions in memory."""
    return FaqAnswerer(unanswered=InMemoryUnansweredLog())
