"""Who to turn to: "who do I call when I'm stuck?", "who is our help desk?". No topic says it, and no
Microsoft page: where a person is found is the organization's own (issue #13, item 6). The admins write it
once in `faq review answer N TEXT`; from then on any such question gets their answer, however it is worded
(`taught`). Until they do, the asker is told who the admins are and how to reach them, and the question is
kept for their review like a decline, so that they see it asked. Not Microsoft's support, which a topic
answers (`support-request`), nor how the asker's own users reach a help desk (a migration's notice)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from faq._compose import AskerContext, way_to_a_person
from faq._knowledge import Topic
from faq.feedback import LOCAL_TOPIC_PREFIX

_PERSON = (
    r"(?:(?:the\s+|our\s+|my\s+|an?\s+|your\s+)?(?:it\s+|internal\s+)?(?:help\s*-?\s*desk|service\s*-?\s*desk"
    r"|support\s+(?:team|desk|line|contact)|point\s+of\s+contact|contact\s+person)"
    r"|(?:a\s+|an\s+)?(?:real\s+)?(?:human|person|someone|somebody|real\s+person))"
)
_ASKS_FOR_A_PERSON = re.compile(
    r"(?i)\bwho\s+(?:do|should|can|could|would|shall)\s+(?:i|we)\s+(?:call|phone|ring|contact|ask|e-?mail"
    r"|talk\s+to|speak\s+to|reach|turn\s+to|go\s+to|escalate\s+to|ping|message)\b"
    # a person for help, not for something a topic answers ("who do I ask for an invite?")
    r"(?=\s*(?:$|[.,;:!?)]|(?:when|whenever|if|in\s+case|now|first|here|then|for\s+(?:help|support|assistance)"
    r"|about\s+(?:this|the|our)\s+(?:migration|move|switch|change))\b))"
    r"|\bwho(?:'s|\s+is|\s+are)\s+(?:our|the|my)\s+(?:it\s+|internal\s+)?(?:help\s*-?\s*desk|service\s*-?\s*desk"
    r"|support(?:\s+(?:team|desk|line|contact))?|point\s+of\s+contact|contact)\b"
    r"|\b(?:where(?:'s|\s+is)|what(?:'s|\s+is))\s+(?:the\s+|our\s+)?(?:it\s+|internal\s+)?(?:help\s*-?\s*desk"
    r"|service\s*-?\s*desk)\b"
    r"|\b(?:reach|contact|call|talk\s+to|speak\s+to|speak\s+with|talk\s+with|get\s+hold\s+of)\s+"
    + _PERSON
    + r"\b"
)
_MICROSOFTS = re.compile(r"(?i)\bmicrosoft(?:'s)?\s+support\b|\bsupport\s+(?:request|ticket|case)s?\b")
"""Microsoft's support, the topic `support-request`'s."""
_READ_AT_MOST = 500
"""Characters read from the start: people ask it in a line, and a pasted log may name a help desk."""


def asks_for_a_person(question: str) -> bool:
    """Whether the message asks who to turn to: a person, the help desk, the organization's contact."""
    text = question[:_READ_AT_MOST]
    return _ASKS_FOR_A_PERSON.search(text) is not None and _MICROSOFTS.search(text) is None


def taught(topics: Mapping[str, Topic]) -> Topic | None:
    """The organization's admins' own answer to such a question, the latest they wrote; None without one."""
    theirs = [
        topic
        for topic in topics.values()
        if topic.id.startswith(LOCAL_TOPIC_PREFIX) and any(map(asks_for_a_person, topic.phrasings))
    ]
    return max(theirs, key=lambda topic: int(topic.id.removeprefix(LOCAL_TOPIC_PREFIX)), default=None)


def untaught(context: AskerContext) -> str:
    """Who to turn to while the admins have not said where their help desk is."""
    lines = [
        "I don't know where your help desk is: your admins have not added it yet. For help from a person, ask"
        " the admins running your organization's move to Microsoft Entra ID (its owner or Project Collection"
        " Administrators)."
    ]
    reach = way_to_a_person(context)
    if context.admins and reach:
        lines.append(reach)
    return "\n".join(lines)
