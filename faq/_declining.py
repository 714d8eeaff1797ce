"""A question the topics do not answer: which topic its error codes decide alone, what a message in another
script is offered, the record kept of it for the admins' review (`faq review`), and the reply declining it
with the topics it offers instead."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from faq import _asker, _compose, _language, _reading, _sign_in
from faq._answer import MAX_ALTERNATIVES, Answer
from faq._compose import AskerContext
from faq._index import Ranking
from faq._knowledge import Topic
from faq._ranking import Knowledge, about_a_topic
from faq.redaction import redact
from faq.unanswered import UnansweredLog, UnansweredQuestion

WHAT_IT_IS = "what-is-this-migration"  # says what Microsoft Entra ID is, and that it was Azure AD
_STARTER_TOPICS = (WHAT_IT_IS, "after-switch-checklist", "downtime")
# A question about none of the topics offers its closest ones only when they score at least this ("branch
# policies" ranks the Connect list's topic at 0.10, "what's the weather?" TFVC workspaces at 0.01): below,
# they are only the least unrelated, and the starting topics are offered instead. Of the 301 evaluation
# questions declined as about no topic, 4 are in scope, their topic among the closest three, scoring 0.26 to
# 0.44; 174 score below 0.15 (docs/faq-eval.md, brief faq45; chosen on those rows).
_NEAR_ENOUGH_TO_OFFER = 0.15


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


def declined(
    log: UnansweredLog | None,
    clock: Callable[[], datetime],
    knowledge: Knowledge,
    question: str,
    confidence: float,
    ranking: Ranking,
    context: AskerContext,
    reading: _reading.Reading,
) -> Answer:
    closest = [
        knowledge.topics[item.topic_id] for item in ranking.topics[:MAX_ALTERNATIVES] if item.score > 0
    ]
    record_unanswered(log, clock, question, closest, confidence, context)
    documented = [
        knowledge.topics[topic_id] for topic_id in documenting(knowledge.codes, reading.codes_elsewhere)
    ][:MAX_ALTERNATIVES]
    lost = _sign_in.lost_access(context)
    if lost is not None and (documented or about_a_topic(ranking)):  # not "I don't know" why
        return Answer(None, confidence, lost, [])  # no topic for the people who keep access is theirs
    if documented:  # in case it was Azure DevOps after all: the code's own topic
        text = _compose.sign_in_code_elsewhere(reading.codes_elsewhere[0], documented, context)
        return Answer(None, confidence, text, [topic.id for topic in documented])
    # About none of the topics ("how do I set branch policies?"): what the bot is for, and still the
    # closest topics (or where to start), which the contract promises every decline offers.
    if not about_a_topic(ranking):
        near = ranking.top >= _NEAR_ENOUGH_TO_OFFER and bool(closest)
        offered = closest if near else starters(knowledge)
        text = _compose.outside(offered, context, closest=near)
        return Answer(None, confidence, text, [topic.id for topic in offered])
    return Answer(None, confidence, _compose.declined(closest, context), [topic.id for topic in closest])


def starters(knowledge: Knowledge) -> list[Topic]:
    """Where to start, offered when nothing in the message points at a topic."""
    return [knowledge.topics[topic_id] for topic_id in _STARTER_TOPICS if topic_id in knowledge.topics]
