"""Questions written in another language: the topics are written, ranked and answered in English only.

A question in Russian, Japanese or Chinese shares no word with the topics but its numbers and error codes
("403", "TF400813"); ranked, it is declined as if it were about nothing the bot knows, with no hint that
asking in English would help. Read by its letters' scripts: most of them outside the Latin alphabet is
another language, which a person wrote (binary data and random characters are `Reading.unreadable`
before this is asked). A question in a Latin-script language (German, French) is left to the ranker: it
shares the topics' product names and loanwords often enough to be answered or declined with its closest
topics, and telling it from English needs more than its letters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from faq._compose import AskerContext, way_to_a_person
from faq._knowledge import Topic
from faq._text import MAX_SCORED_CHARS

# More than this share of another language's message's letters are outside the Latin alphabet: product
# names ("Entra ID", "Azure DevOps") and pasted addresses are often a third of a short Japanese or Russian
# question. A question in English naming a colleague in Cyrillic or a team in kanji stays far below it.
_OTHER_SHARE = 0.5
# One letter says nothing of a language; two do in Chinese ("你好").
_FEWEST_LETTERS = 2


def in_another_script(text: str) -> bool:
    """Whether most of the message's letters are outside the Latin alphabet (Cyrillic, CJK, Arabic ...)."""
    latin = other = 0
    for char in text[:MAX_SCORED_CHARS]:
        if not char.isalpha():
            continue
        if char.isascii() or unicodedata.name(char, "").startswith("LATIN"):
            latin += 1
        else:
            other += 1
    return other >= _FEWEST_LETTERS and other > _OTHER_SHARE * (latin + other)


def reply(suggested: Sequence[Topic], *, from_its_codes: bool, context: AskerContext) -> str:
    """The decline, in English: the bot reads English only, what its codes or numbers suggest (or where to
    start), and how to reach a person, who may read the asker's language."""
    lines = [
        "Sorry, I only understand questions in English, and yours seems to be in another language. Ask me"
        " again in English, or ask a person (below)."
    ]
    if suggested:
        lines.append(
            "Topics matching the codes or numbers in your message:"
            if from_its_codes
            else "Topics I can help with:"
        )
        lines.extend(f"- {topic.title}" for topic in suggested)
    lines.append(way_to_a_person(context))
    return "\n".join(lines)
