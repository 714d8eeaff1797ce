"""What the bot replies to a question (`Answer`), and a topic's answer composed for the asker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from faq import _asker, _compose, _sign_in
from faq._compose import AskerContext
from faq._index import Ranking
from faq._knowledge import PEOPLE, Topic
from faq._ranking import Knowledge

MAX_ALTERNATIVES = 3
"""The most topics an answer or a decline offers besides its own."""
# A runner-up is worth offering when it is nearly as similar as the chosen topic.
CLOSE_RUNNER_UP = 0.6


@dataclass(frozen=True)
class Answer:
    topic: str | None  # None: the bot does not know
    score: float  # calibrated confidence in [0, 1]
    answer: str
    alternatives: list[str] = field(default_factory=list)
    link: str | None = None
    framed: bool = False
    """Likely but not certain: the answer says "This sounds like ..." and offers the alternatives."""
    ask_id: int | None = None
    """Under which id the question is kept for review (declined questions, when a store is wired)."""
    rating: str | None = None
    """What the Helpful / Not helpful buttons send back to `FaqAnswerer.rate` (None: ratings not kept)."""
    also: str | None = None
    """The topic of a second question in the same message, which the answer offers after its own ("Pick it
    below"): the chat puts its button under the answer, sure or not."""
    own_case: bool = False
    """Said of the asker's own case alone (`faq._happening`), even where it names no address of theirs: in a
    channel, for their eyes only."""

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "score": round(self.score, 3),
            "answer": self.answer,
            "alternatives": list(self.alternatives),
            "link": self.link,
            "framed": self.framed,
        }


def chosen(knowledge: Knowledge, topic_id: str, context: AskerContext, opening: str = "") -> Answer:
    """The topic's answer where the topic is known without ranking: certain, with no other to suggest."""
    return answered(knowledge, topic_id, 1.0, Ranking([], 0.0), context, opening=opening)


def answered(
    knowledge: Knowledge,
    topic_id: str,
    confidence: float,
    ranking: Ranking,
    context: AskerContext,
    framed: bool = False,
    also: str | None = None,
    own: str = "",
    opening: str = "",
) -> Answer:
    topic = knowledge.topics[topic_id]
    lost = _sign_in.lost_access(context)
    if lost is not None and _for_those_who_keep_access(topic):
        # README: their answers say what `todo` says, who decided and whom to ask, not steps for others
        return Answer(topic.id, confidence, lost, [], None, framed)
    close = [item.topic_id for item in ranking.topics[1:] if item.score >= CLOSE_RUNNER_UP * ranking.top]
    if framed:  # unsure: the next best topics are the one-click way out
        close = [item.topic_id for item in ranking.topics[1:MAX_ALTERNATIVES] if item.score > 0] + close
    first = [also] if also else []
    alternatives = list(dict.fromkeys(first + close + list(topic.related)))[:MAX_ALTERNATIVES]
    also_topic = knowledge.topics[also] if also else None
    opening = opening or _sign_in.lost_access_opening(context) or ""
    closer = [knowledge.topics[other] for other in alternatives]
    text = _compose.answered(
        topic, context, framed=framed, also=also_topic, closer=closer, own=own, opening=opening
    )
    return Answer(topic.id, confidence, text, alternatives, topic.link or None, framed, also=also)


def after_title(text: str, line: str) -> str:
    """`text` with `line` after its first line, its title (nothing added for an empty `line`)."""
    if not line:
        return text
    title, _, rest = text.partition("\n")
    return f"{title}\n{line}\n{rest}" if rest else f"{title}\n{line}"


def _for_those_who_keep_access(topic: Topic) -> bool:
    """Whether a topic says what to do to keep working after the move (the people's topics, and getting
    back in once locked out): none of it is for someone an admin decided loses access. A topic for everyone
    (what the move is, its downtime, what is kept) is still theirs to read."""
    return topic.audience == PEOPLE or topic.id == _asker.LOCKED_OUT
