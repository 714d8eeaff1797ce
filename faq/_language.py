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

import re
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
# What the asker quotes is not what they wrote: an English question quoting a localized error ("Sign-in
# fails with 'Пользователь не найден в каталоге'") is in English (rev79). An apostrophe inside or closing a
# word ("can't", "users'") opens no quote.
_QUOTED = re.compile(r"(?<!\w)'[^'\n]+'(?!\w)|\"[^\"\n]+\"|“[^”]+”|‘[^’]+’|«[^»]+»|「[^」]+」|『[^』]+』")


def in_another_script(text: str) -> bool:
    """Whether most of the letters the asker wrote (outside quotes, unless the whole message is a quote) are
    outside the Latin alphabet (Cyrillic, CJK, Arabic ...)."""
    text = text[:MAX_SCORED_CHARS]
    latin, other = _letters(_QUOTED.sub(" ", text))
    if latin + other == 0:
        latin, other = _letters(text)
    return other >= _FEWEST_LETTERS and other > _OTHER_SHARE * (latin + other)


def quotes_another_script(text: str) -> bool:
    """Whether the message quotes something written mostly in another script (a localized error)."""
    return any(_mostly_other(quote) for quote in _QUOTED.findall(text[:MAX_SCORED_CHARS]))


def _mostly_other(text: str) -> bool:
    latin, other = _letters(text)
    return other > latin


def _letters(text: str) -> tuple[int, int]:
    """How many of the text's letters are Latin, and how many are not."""
    latin = other = 0
    for char in text:
        if char.isalpha():
            if _latin(char):
                latin += 1
            else:
                other += 1
    return latin, other


def _latin(char: str) -> bool:
    return char.isascii() or unicodedata.name(char, "").startswith("LATIN")


def latin_only(text: str) -> str:
    """The text with every letter of another script a space: Chinese and Japanese write an error code inside
    a word ("出现TF400813错误"), where a code's word boundaries cannot see it. As long as the text, so
    what is said of its length still holds."""
    return "".join(" " if char.isalpha() and not _latin(char) else char for char in text)


def answered_note(codes: Sequence[str]) -> str:
    """The line before an answer to a question in another language that one topic's error code decides."""
    return (
        f"I only understand English, so I answered from the error code in your message ({', '.join(codes)})."
        " If you asked something else, ask me again in English, or ask a person."
    )


def reply(
    from_its_codes: Sequence[Topic], close: Sequence[Topic], starters: Sequence[Topic], context: AskerContext
) -> str:
    """The decline, in English: the bot reads English only, the topics documenting its error codes, those
    its numbers and Latin words rank (`close`), else where to start, and how to reach a person, who may
    read the asker's language."""
    lines = [
        "Sorry, I only understand questions in English, and yours seems to be in another language. Ask me"
        " again in English, or ask a person (below)."
    ]
    listed = (
        ("Topics matching the error codes in your message:", from_its_codes),
        ("Topics that may be close:", close),
        ("Topics I can help with:", () if from_its_codes or close else starters),
    )
    for heading, topics in listed:
        if topics:
            lines.extend([heading, *(f"- {topic.title}" for topic in topics)])
    lines.append(way_to_a_person(context))
    return "\n".join(lines)
