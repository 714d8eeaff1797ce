"""Ranking topics for a question: TF-IDF cosine over words, word pairs and character n-grams."""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from faq import _text
from faq._knowledge import Topic

# How the three similarities are blended; chosen on the tuning material (docs/faq-eval.md). A grid over
# these weights was flat: neighbouring blends differ by two or three tuning questions.
WEIGHT_BEST_PHRASING = 0.35
WEIGHT_WHOLE_TOPIC = 0.35
WEIGHT_CHARACTERS = 0.30
# Microsoft's own page text for a topic (`faq/pages.json`) is further evidence: people who comment on a page
# quote or paraphrase its lines, which no phrasing written here has. It counts only where a text is at least
# `PAGE_QUOTE_FLOOR` similar to a section: below, what it shares is the vocabulary of every question about
# directories (of the real tuning questions with a sentence that close, 8 are in scope and 1 is not; between
# 0.3 and 0.4, 1 and 9). Weights 0.2-0.5 gave 37-38 of 51 cross-validated, 0.6 gave 36 (docs/faq-eval.md,
# round 12).
WEIGHT_PAGES = 0.4
PAGE_QUOTE_FLOOR = 0.4
# Words shorter than this are left alone by typo correction: too many short words are one edit apart.
_MIN_CORRECTED_LENGTH = 5
# The best topic must know at least this share of the question's distinct words: a question mostly made of
# words the topic never uses ("restart the offline self-hosted agent") is about something else. The free
# range on the tuning material was (1/6, 1/5]; one word in five reads plainly.
MIN_KNOWN_SHARE = 0.2
# In a message of several sentences, how much a topic's best sentence weighs against the whole message,
# and how much a sentence that only tells the story weighs against one that asks (docs/faq-eval.md).
SENTENCE_WEIGHT = 0.3
TOLD_SENTENCE_WEIGHT = 0.6
# The first question of a message is its main one; later ones are offered as well (see the answerer).
LATER_QUESTION_WEIGHT = 0.9
# A quoted line (most often Microsoft's page) weighs as a sentence of the story (docs/faq-eval.md, round 12).
QUOTED_WEIGHT = TOLD_SENTENCE_WEIGHT
# A sentence that is mostly a pasted code span (`faq._reading.pasted`) weighs this share of what it would
# otherwise: a log line's words are the tool's, and they pulled a story's ranking to the topic sharing them.
# 0, 0.2 and 0.5 measured alike (docs/faq-eval.md, round 21).
PASTED_SHARE_WEIGHT = 0.2
# How many texts' similarities an index keeps (about 2 kB each): answering a message of several questions
# ranks its sentences again (its main question alone, its other questions), people ask the same questions,
# and evaluations of the same sets rank the same texts.
_KEPT_SIMILARITIES = 1024

Vector = dict[str, float]
Weights = tuple[Vector, float]


@dataclass(frozen=True)
class ScoredTopic:
    topic_id: str
    score: float


@dataclass(frozen=True)
class Ranking:
    topics: list[ScoredTopic]  # every topic, best first
    off_topic: float  # similarity to the subjects the bot does not cover
    word_count: int = 0  # words that carry meaning; 0 for empty input, punctuation or small talk
    known_share: float = 1.0  # share of the question's distinct words the best topic uses
    anchored: bool = True  # the best topic shares a word with the question that is not generic
    about_the_move: bool = False  # the message mentions connecting, switching, a directory or a tenant
    tells_the_move: bool = False  # the message tells that the organization was moved (`faq._reading`)
    about: float = 0.0  # the learned log-odds that the message is about the move (`faq._about`)
    runner_up: float = 0.0  # the best score of a topic that is not related to the best one
    cites_the_page: bool = False  # a sentence quotes or closely paraphrases the best topic's Microsoft page

    @property
    def grounded(self) -> bool:
        """Whether the best topic is about the question at all, however high its similarity: not when the
        subjects the bot does not cover are at least as close (no in-scope question of any evaluation set
        is, 136 out-of-scope ones are: docs/faq-eval.md, round 12)."""
        return self.anchored and self.known_share >= MIN_KNOWN_SHARE and self.top > self.off_topic

    @property
    def length(self) -> float:
        """How long the message is, as the calibration sees it: log(1 + content words)."""
        return math.log1p(self.word_count)

    @property
    def top(self) -> float:
        return self.topics[0].score if self.topics else 0.0

    @property
    def margin(self) -> float:
        """The best topic's lead over the next unrelated topic or the off-topic subjects, whichever is closer.

        A related topic close behind is not a rival: it is offered with the answer (cross-validated on the
        real tuning questions, docs/faq-eval.md round 7).
        """
        return self.top - max(self.runner_up, self.off_topic)


class _Space:
    """One vector space: IDF from topic-level document frequency, postings for the documents."""

    def __init__(self, per_topic_features: Sequence[Sequence[Counter[str]]]) -> None:
        topic_count = len(per_topic_features)
        document_frequency: Counter[str] = Counter()
        for documents in per_topic_features:
            document_frequency.update(set().union(*documents))
        self._idf = {
            feature: math.log((topic_count + 1) / (count + 1)) + 1.0
            for feature, count in document_frequency.items()
        }
        # A feature the knowledge base never uses weighs most: it pulls the question away from every topic.
        self._unknown_idf = math.log(topic_count + 1) + 1.0
        # Each topic's documents are numbered one after the other: the topic's slice of the totals.
        self._slices: list[slice] = []
        self._document_count = 0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for documents in per_topic_features:
            first = self._document_count
            for features in documents:
                weights, norm = self.weigh(features)
                for feature, weight in weights.items() if norm else ():
                    postings[feature].append((self._document_count, weight / norm))
                self._document_count += 1
            self._slices.append(slice(first, self._document_count))
        # Tuples in a plain dict, summed into a list: the same products added in the same order as a
        # dictionary of totals would add them, in about 60 % of the time (every answer pays this loop). The
        # documents and their weights as two tuples, zipped: a fifth faster than a tuple of pairs.
        self._postings = {
            feature: (tuple(document for document, _ in documents), tuple(weight for _, weight in documents))
            for feature, documents in postings.items()
        }

    def weigh(self, features: Counter[str]) -> Weights:
        """TF-IDF weights, not yet normalised, and their norm. A feature found once weighs its IDF alone
        (1 + log 1 is 1): most are, and the logarithm is skipped for them."""
        idf, unknown = self._idf, self._unknown_idf
        weights = {
            feature: idf.get(feature, unknown)
            if count == 1
            else (1.0 + math.log(count)) * idf.get(feature, unknown)
            for feature, count in features.items()
        }
        return weights, math.sqrt(sum(weight * weight for weight in weights.values()))

    def best_per_topic(self, question: Weights) -> list[float]:
        """For each topic, the best cosine of the question (weighed by `weigh`) with one of its documents (0
        when none shares a feature with it)."""
        totals = [0.0] * self._document_count
        postings = self._postings
        weights, norm = question
        for feature, weight in weights.items() if norm else ():
            posting = postings.get(feature)
            if posting is not None:
                share = weight / norm
                documents, document_weights = posting
                for document, document_weight in zip(documents, document_weights, strict=True):
                    totals[document] += share * document_weight
        return [max(totals[documents], default=0.0) for documents in self._slices]


class TopicIndex:
    """Built once from the topics; `rank` scores every topic for one question.

    The off-topic subjects form one more pseudo-topic, scored like the others but never answered.
    """

    def __init__(
        self, topics: Sequence[Topic], off_topic: Sequence[str] = (), pages: Mapping[str, Sequence[str]] = {}
    ) -> None:
        """`pages`: per topic id, the sections of Microsoft's documentation that answer it (none for the
        others and for the off-topic subjects). A topic that is not `ranked` is left out: its recogniser
        answers it."""
        topics = [topic for topic in topics if topic.ranked]
        self.topic_ids = tuple(topic.id for topic in topics)
        self._related = {topic.id: frozenset(topic.related) for topic in topics}
        texts = [(topic.title, *topic.phrasings) for topic in topics] + [tuple(off_topic)]
        documents = [[_text.content_words(_text.prepare(text)) for text in group] for group in texts]
        self._topic_vocabularies = [
            {word for words in topic_documents for word in words} for topic_documents in documents
        ]
        self._vocabulary = set().union(*self._topic_vocabularies)
        self._one_deletion: dict[str, set[str]] = defaultdict(set)
        for word in self._vocabulary:
            if len(word) >= _MIN_CORRECTED_LENGTH:
                for variant in _deletions(word):
                    self._one_deletion[variant].add(word)
        self._phrasings = _Space([[_text.word_features(words) for words in docs] for docs in documents])
        self._whole_topics = _Space([[_merged(docs)] for docs in documents])
        self._characters = _Space([[_text.char_features(words) for words in docs] for docs in documents])
        page_texts = [pages.get(topic_id, ()) for topic_id in self.topic_ids] + [()]
        self._pages = _Space(
            [
                [_text.word_features(_text.content_words(_text.prepare(text))) for text in texts]
                for texts in page_texts
            ]
        )
        # Kept per index (a taught organization's index is another): a text is ranked again when its message
        # is (the main question alone, the other questions) and when people ask it again.
        self._kept_similarities = functools.lru_cache(maxsize=_KEPT_SIMILARITIES)(self._computed_similarities)

    def rank(self, question: str, sentences: Sequence[tuple[str, float]] = ()) -> Ranking:
        """Every topic with its blended similarity in [0, 1], best first (ties keep knowledge-base order).

        `sentences`, for a message of several sentences (see `faq._reading`), are its sentences with a
        weight each (those that ask weigh most). Long messages spread their similarity over many words, so a
        topic's score is then part whole message, part its best sentence (`SENTENCE_WEIGHT`), and the share
        of known words is the better of the two: a long story around one clear sentence neither dilutes
        nor ungrounds it.
        """
        blended, words, written, pages = self._similarities(question)
        share_words = [words] * len(blended)
        best_page = list(pages)
        if len(sentences) > 1:
            best_sentence = [0.0] * len(blended)
            for sentence, weight in sentences:
                part, part_words, _, part_pages = self._similarities(sentence)
                best_page = [max(pair) for pair in zip(best_page, part_pages, strict=True)]
                for position, similarity in enumerate(part):
                    if weight * similarity > best_sentence[position]:
                        best_sentence[position] = weight * similarity
                        share_words[position] = part_words
            blended = [
                (1.0 - SENTENCE_WEIGHT) * whole + SENTENCE_WEIGHT * best
                for whole, best in zip(blended, best_sentence, strict=True)
            ]
        scored = [
            ScoredTopic(topic_id, blended[position]) for position, topic_id in enumerate(self.topic_ids)
        ]
        best = max(range(len(self.topic_ids)), key=lambda position: blended[position], default=None)
        known_share, anchored = 0.0, False
        if best is not None:
            # Each is the better of the whole message and its best sentence, read apart: a short generic
            # sentence ("Microsoft account works fine.") knows a larger share of its words than the story
            # does, and must not unanchor the story's own words ("git", "password").
            for candidate in (words, share_words[best]):
                known = candidate & self._topic_vocabularies[best]
                if candidate:
                    known_share = max(known_share, len(known) / len(candidate))
                anchored = anchored or bool(known - _text.GENERIC_TERMS)
        ranked = sorted(scored, key=lambda item: -item.score)
        related = self._related.get(ranked[0].topic_id, frozenset()) if ranked else frozenset()
        return Ranking(
            ranked,
            blended[-1],
            written,
            known_share=known_share,
            anchored=anchored,
            runner_up=max((item.score for item in ranked[1:] if item.topic_id not in related), default=0.0),
            cites_the_page=best is not None and best_page[best] >= PAGE_QUOTE_FLOOR,
        )

    def quotes_the_page(self, sentences: Sequence[str], topic_id: str) -> bool:
        """Whether one of `sentences` is as close to a section of the topic's Microsoft page as a quote or a
        close paraphrase is (`PAGE_QUOTE_FLOOR`); False for a topic that is not ranked."""
        if topic_id not in self.topic_ids:
            return False
        position = self.topic_ids.index(topic_id)
        return any(self._similarities(sentence)[3][position] >= PAGE_QUOTE_FLOOR for sentence in sentences)

    def known_share(self, question: str, topic_id: str) -> float:
        """The share of the question's distinct words that this topic uses (as `Ranking.known_share` for the
        best topic)."""
        words = {self._corrected(word) for word in _text.content_words(_text.prepare(question))}
        known = words & self._topic_vocabularies[self.topic_ids.index(topic_id)]
        return len(known) / len(words) if words else 0.0

    def _similarities(self, text: str) -> tuple[Sequence[float], frozenset[str], int, Sequence[float]]:
        """`_computed_similarities`, kept by the part of `text` that is scored."""
        return self._kept_similarities(text[: _text.MAX_SCORED_CHARS])

    def _computed_similarities(
        self, text: str
    ) -> tuple[tuple[float, ...], frozenset[str], int, tuple[float, ...]]:
        """The blended similarity of `text` to every topic and to the off-topic subjects (last), its distinct
        words as corrected, how many words it has that carry meaning, and its similarity to each topic's
        closest page section (0 for the off-topic subjects)."""
        written = _text.content_words(_text.prepare(text))
        words = [self._corrected(word) for word in written]
        # Both word spaces count, per topic, the set of its phrasings' word features: the same IDF, so they
        # weigh a question alike.
        features = _text.word_features(words)
        weighed_words = self._phrasings.weigh(features)
        best_phrasing = self._phrasings.best_per_topic(weighed_words)
        whole_topic = self._whole_topics.best_per_topic(weighed_words)
        characters = self._characters.best_per_topic(self._characters.weigh(_text.char_features(written)))
        pages = self._pages.best_per_topic(self._pages.weigh(features))
        blended = tuple(
            WEIGHT_BEST_PHRASING * best_phrasing[position]
            + WEIGHT_WHOLE_TOPIC * whole_topic[position]
            + WEIGHT_CHARACTERS * characters[position]
            + (WEIGHT_PAGES * pages[position] if pages[position] >= PAGE_QUOTE_FLOOR else 0.0)
            for position in range(len(self.topic_ids) + 1)
        )
        return blended, frozenset(words), len(written), tuple(pages)

    def _corrected(self, word: str) -> str:
        """The knowledge-base word one typo away from `word`, or `word` itself."""
        if word in self._vocabulary or len(word) < _MIN_CORRECTED_LENGTH or not word.isalpha():
            return word
        candidates = set(self._one_deletion.get(word, ()))
        for variant in _deletions(word):
            if variant in self._vocabulary:
                candidates.add(variant)
            candidates.update(self._one_deletion.get(variant, ()))
        return min(candidates) if candidates else word


def _deletions(word: str) -> Iterable[str]:
    return (word[:i] + word[i + 1 :] for i in range(len(word)))


def _merged(documents: Sequence[Sequence[str]]) -> Counter[str]:
    merged: Counter[str] = Counter()
    for words in documents:
        merged.update(_text.word_features(words))
    return merged
