"""Answering one question: rank the topics, calibrate, then answer or decline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from faq import _compose
from faq._calibration import Calibration, bundled_calibration
from faq._compose import AskerContext
from faq._index import Ranking, TopicIndex
from faq._knowledge import Topic, bundled_off_topic, bundled_topics
from faq.unanswered import InMemoryUnansweredLog, UnansweredLog, UnansweredQuestion, redact

_MAX_ALTERNATIVES = 3
# A runner-up is worth offering when it is nearly as similar as the chosen topic.
_CLOSE_RUNNER_UP = 0.6
_STARTER_TOPICS = ("what-is-this-migration", "after-switch-checklist", "downtime")


@dataclass(frozen=True)
class Answer:
    topic: str | None  # None: the bot does not know
    score: float  # calibrated confidence in [0, 1]
    answer: str
    alternatives: list[str] = field(default_factory=list)
    link: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "score": round(self.score, 3),
            "answer": self.answer,
            "alternatives": list(self.alternatives),
            "link": self.link,
        }


@cache
def _bundled_index() -> TopicIndex:
    return TopicIndex(bundled_topics(), bundled_off_topic())


class FaqAnswerer:
    """Built once; `answer` is cheap and never raises on odd input."""

    def __init__(
        self,
        topics: Sequence[Topic] | None = None,
        *,
        off_topic: Sequence[str] = (),
        calibration: Calibration | None = None,
        unanswered: UnansweredLog | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._topics = {topic.id: topic for topic in (bundled_topics() if topics is None else topics)}
        self._index = (
            _bundled_index() if topics is None else TopicIndex(list(self._topics.values()), off_topic)
        )
        self.calibration = calibration or bundled_calibration()
        self.unanswered = unanswered
        self._clock = clock

    @property
    def topics(self) -> dict[str, Topic]:
        return dict(self._topics)

    def answer(self, question: str, context: AskerContext | None = None) -> Answer:
        context = context or AskerContext()
        ranking = self._index.rank(question)
        if ranking.word_count == 0:  # nothing asked yet ("", "?!", "hey bot"): offer starting points
            starters = [self._topics[t] for t in _STARTER_TOPICS if t in self._topics]
            return Answer(None, 0.0, _compose.greeting(starters), [topic.id for topic in starters])
        # An ungrounded question (the topics know too few of its words) has no meaningful confidence.
        confidence = self.calibration.confidence(ranking.top, ranking.margin) if ranking.grounded else 0.0
        if ranking.top > 0 and ranking.grounded and confidence >= self.calibration.threshold:
            return self._answered(ranking.topics[0].topic_id, confidence, ranking, context)
        return self._declined(question, confidence, ranking, context)

    def explain(self, topic_id: str, context: AskerContext | None = None) -> Answer:
        """A topic's answer chosen directly, e.g. from a suggestion button. Unknown ids raise KeyError."""
        return self._answered(topic_id, 1.0, Ranking([], 0.0), context or AskerContext())

    def _answered(self, topic_id: str, confidence: float, ranking: Ranking, context: AskerContext) -> Answer:
        topic = self._topics[topic_id]
        close = [item.topic_id for item in ranking.topics[1:] if item.score >= _CLOSE_RUNNER_UP * ranking.top]
        alternatives = list(dict.fromkeys(close + list(topic.related)))[:_MAX_ALTERNATIVES]
        return Answer(topic.id, confidence, _compose.answered(topic, context), alternatives, topic.link)

    def _declined(self, question: str, confidence: float, ranking: Ranking, context: AskerContext) -> Answer:
        closest = [
            self._topics[item.topic_id] for item in ranking.topics[:_MAX_ALTERNATIVES] if item.score > 0
        ]
        if self.unanswered is not None:
            self.unanswered.record(
                UnansweredQuestion(
                    question=redact(question),
                    closest=tuple(topic.id for topic in closest),
                    score=confidence,
                    organization=context.organization,
                    asked_at=self._clock(),
                )
            )
        return Answer(None, confidence, _compose.declined(closest), [topic.id for topic in closest])


@cache
def default_answerer() -> FaqAnswerer:
    """The shared answerer over the bundled knowledge base, keeping declined questions in memory."""
    return FaqAnswerer(unanswered=InMemoryUnansweredLog())
