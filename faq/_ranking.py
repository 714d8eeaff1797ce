"""Ranking the topics for a message: the organization's topics and their index, the message's sentences
weighed, and whether it is about the move or about a topic at all."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from faq import _reading
from faq._about import AboutModel
from faq._calibration import LONG_FROM, Calibration
from faq._index import (
    LATER_QUESTION_WEIGHT,
    PASTED_SHARE_WEIGHT,
    QUOTED_WEIGHT,
    TOLD_SENTENCE_WEIGHT,
    Ranking,
    TopicIndex,
)
from faq._knowledge import Topic
from faq._reading import ERROR_CODE

# In a message that asks two things, the first question decides alone when its best topic leads by this much.
_CLEAR_MAIN_QUESTION = 0.1
# A declined question offers its closest topics only when it is about one of them at all: grounded, and
# nearer the topics than the subjects the bot does not cover. Otherwise ("what's the weather?") the topics
# would only look related. Over the evaluation sets, 0.8 hides the right topic for 6 of the 605 in-scope
# questions that have it among the closest three (docs/faq-eval.md, round 9b).
_OFF_TOPIC_SHARE = 0.8
# Inside a migration a message is read as about the move, unless the learned model is this sure it is about
# something else ("how do I create a service connection", "how much does a Basic license cost"): then it is
# judged as anywhere else. Chosen among -3, -2, -1.5, -1 and -0.5 with each question's log-odds from a model
# not fitted on it: the most such questions declined for no model-written in-scope question lost
# (docs/faq-eval.md, "Near-domain questions inside a migration"). Chosen again among -1.5, -1.25, -1, -0.75
# and -0.5 after round 12's refit (the model reads quoted lines, the long messages' thresholds fell): the
# most declined for no in-scope question lost inside, real or model-written (docs/faq-eval.md, round 13).
_CLEARLY_ELSEWHERE = -1.25


class Knowledge:
    """The topics one organization sees (the bundled ones plus what its admins taught) and their index.

    The index is built when a question first needs it: about 0.15 s of CPU, which a process that answers
    no question (most `serve` starts) never spends. The topics are read and checked at once, so a broken
    knowledge base still fails where the answerer is made."""

    def __init__(self, topics: dict[str, Topic], build_index: Callable[[], TopicIndex]) -> None:
        self.topics = topics
        # The error codes each topic documents: its title and phrasings name them ("TF400813: ..."), or its
        # answer explains them. An answer's code ranks nothing (phrasings teach the ranker and the learned
        # model, so each new one moves the refit: docs/faq-eval.md, round 22); it says which topic to offer.
        self.codes = {
            topic.id: frozenset(
                code.upper()
                for text in (topic.title, *topic.phrasings, topic.answer)
                for code in ERROR_CODE.findall(text)
            )
            for topic in topics.values()
        }
        self._build_index = build_index
        self._index: TopicIndex | None = None
        self._building = threading.Lock()

    @property
    def index(self) -> TopicIndex:
        # Several first questions at once build it once (`cached_property` has no lock since Python 3.12).
        if self._index is None:
            with self._building:
                if self._index is None:
                    self._index = self._build_index()
        return self._index


def rank(
    about_model: AboutModel,
    knowledge: Knowledge,
    reading: _reading.Reading,
    question: str,
    *,
    in_migration: bool = False,
) -> Ranking:
    """Asked inside a migration, a message is about the move whatever its words ("what happens to my
    pipelines?" in the migration's channel), unless the learned model reads it as clearly about something
    else (`_CLEARLY_ELSEWHERE`); a topic kept for the move (`only_about_the_move`) still needs the message
    to name the move, to read as about it by itself, or to ask what becomes of something. Anywhere, asking
    what becomes of something ("what happens to our projects?") may be answered by a topic kept for the
    move, the one change this bot is about, and the calibration then weighs it as a message about the
    move; the learned log-odds stay as they are (docs/faq-eval.md, rounds "faqfix" and "asker", and
    "Near-domain questions inside a migration")."""
    about = about_model.read(reading)
    # What lets a topic kept for the move (`only_about_the_move`) answer: the message names the move, or,
    # inside a migration, the learned model reads it as about the move as much as a typical real question
    # about it ("are pipelines impacted?"), not only by the migration's floor ("how much are basic
    # licenses per user").
    says_the_move = reading.about_the_move or (in_migration and about >= about_model.in_migration)
    if in_migration and about >= _CLEARLY_ELSEWHERE:
        reading = replace(reading, about_the_move=True)
        about = max(about, about_model.in_migration)
    main = reading.asked[0] if reading.asked else None
    weighed = [
        (
            sentence,
            1.0
            if sentence == main
            else LATER_QUESTION_WEIGHT
            if sentence in reading.asked
            else TOLD_SENTENCE_WEIGHT,
        )
        for sentence in reading.sentences
    ] + [(sentence, QUOTED_WEIGHT) for sentence in reading.quoted]  # which page section the asker is at
    sentences = [
        (sentence, weight * PASTED_SHARE_WEIGHT if _reading.pasted(sentence) else weight)
        for sentence, weight in weighed
    ]
    ranking = knowledge.index.rank(reading.told or question, sentences)
    # Quoting or closely paraphrasing a topic's Microsoft page (each about connecting, switching or
    # leaving a directory) lets a topic kept for the move answer, as naming the move does; what the
    # calibration reads stays the reading's (docs/faq-eval.md, round 12).
    cites_the_page = ranking.cites_the_page
    if len(reading.asked) > 1:  # two questions in one: the first one asked is the main one
        main_only = replace(knowledge.index.rank(main or ""), about_the_move=reading.about_the_move)
        if main_only.grounded and main_only.margin >= _CLEAR_MAIN_QUESTION:
            ranking = main_only
    ranking = replace(
        ranking, about_the_move=reading.about_the_move, tells_the_move=reading.tells_the_move, about=about
    )
    if reading.codes_elsewhere:  # which application refused? The other words cannot tell a topic
        ranking = replace(ranking, anchored=False)
    best = knowledge.topics.get(ranking.topics[0].topic_id) if ranking.topics else None
    # Inside a migration, the migration says it for a long story of Git or SSH trouble, not for a topic
    # whose words are everyday ones.
    named = cites_the_page or (
        says_the_move if best is not None and best.only_about_the_move else reading.about_the_move
    )
    if best is not None and _only_about_the_move(best, ranking) and not named:
        if reading.asks_what_becomes:
            ranking = replace(ranking, about_the_move=True)
        else:
            ranking = replace(ranking, anchored=False)  # the topic's words, but not about the move
    return ranking


def documents(knowledge: Knowledge, ranking: Ranking, reading: _reading.Reading) -> bool:
    """Whether the ranking's best topic documents an error code the message carries."""
    return not knowledge.codes[ranking.topics[0].topic_id].isdisjoint(reading.codes)


def other_question(
    calibration: Calibration, knowledge: Knowledge, reading: _reading.Reading, main: Ranking
) -> str | None:
    """A second question in the same message about another topic, worth offering as well."""
    for sentence in reading.asked[1:]:
        ranking = knowledge.index.rank(sentence)
        if (
            not ranking.grounded
            or not ranking.topics
            or ranking.topics[0].topic_id == main.topics[0].topic_id
        ):
            continue
        as_main = replace(
            ranking,
            about_the_move=main.about_the_move,
            tells_the_move=main.tells_the_move,
            about=main.about,
        )
        confidence = calibration.assess(as_main)
        if confidence >= calibration.for_length(ranking.length).framed_threshold:
            return ranking.topics[0].topic_id
    return None


def _only_about_the_move(topic: Topic, ranking: Ranking) -> bool:
    """Whether this topic is answered only when the message mentions the move (for some topics, only a long
    message has to say it)."""
    return topic.only_about_the_move or (topic.long_only_about_the_move and ranking.length >= LONG_FROM)


def about_a_topic(ranking: Ranking) -> bool:
    """Whether the question is about one of the topics at all, however unsure the ranking is."""
    return ranking.grounded and ranking.off_topic < _OFF_TOPIC_SHARE * ranking.top
