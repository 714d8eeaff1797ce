"""A question the topics do not answer: which topic its error codes decide alone, what a message in another
script is offered, and the record kept of it for the admins' review (`faq review`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from faq import _asker, _language, _reading
from faq._compose import AskerContext
from faq._index import Ranking
from faq._knowledge import Topic
from faq.redaction import redact
from faq.unanswered import UnansweredLog, UnansweredQuestion

MAX_ALTERNATIVES = 3
"""The most topics an answer or a decline offers besides its own."""


def documenting(codes: Mapping[str, frozenset[str]], wanted: Sequence[str]) -> list[str]:
    """The topics documenting any of these error codes (`codes`: each topic's documented codes)."""
    return [topic_id for topic_id, documented in codes.items() if not documented.isdisjoint(wanted)]


def decided_by_code(codes: Mapping[str, frozenset[str]], reading: _reading.Reading, text: str) -> str | None:
    """The one topic documenting the message's codes, if one alone does (VS30063 is both Git's and the
    lock-out's: none), and no pipeline or script got them (its service connection's case, which the
    topic may not be)."""
    found = documenting(codes, reading.codes)
    if len(found) != 1 or _asker.names_automation(text):
        return None
    return found[0]


def in_another_language(
    topics: Mapping[str, Topic],
    codes: Mapping[str, frozenset[str]],
    ranking: Ranking,
    coded: _reading.Reading,
    starters: Sequence[Topic],
    context: AskerContext,
) -> tuple[str, list[Topic]]:
    """Declined in English: the topics its error codes name (`coded`: the message read for its codes),
    then, apart, those its numbers and Latin words rank (`ranking`: what is left of it the topics can read:
    "403", "Entra ID"), else where to start. The reply and the topics it offers (none: the starters)."""
    from_codes = documenting(codes, (*coded.codes, *coded.codes_elsewhere))[:MAX_ALTERNATIVES]
    ranked = [item.topic_id for item in ranking.topics if item.score > 0 and item.topic_id not in from_codes]
    by_codes = [topics[topic_id] for topic_id in from_codes]
    close = [topics[topic_id] for topic_id in ranked[: MAX_ALTERNATIVES - len(from_codes)]]
    return _language.reply(by_codes, close, starters, context), by_codes + close


def record_unanswered(
    log: UnansweredLog | None,
    clock: Callable[[], datetime],
    question: str,
    closest: Sequence[Topic],
    confidence: float,
    context: AskerContext,
) -> None:
    """The declined question kept for review, redacted, with the topics it was offered."""
    if log is not None:
        log.record(
            UnansweredQuestion(
                question=redact(question),
                closest=tuple(topic.id for topic in closest),
                score=confidence,
                organization=context.organization,
                asked_at=clock(),
            )
        )
