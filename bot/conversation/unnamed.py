"""Words a channel may read: a check's message without the people it names. People's names are their
addresses, and people other than admins read a channel (walk39 c, d)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.conversation.messages import ADDRESS

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(]|[\w.+'#-]+@)")
"""Between two sentences, the next starting with a capital or an address: a full stop inside an address or
`e.g.` is followed by neither."""
_LIST_START = re.compile(r"[:;]\s")
"""Where a sentence turns to whom it names: "…, stranding their history: a and b → c"."""


def without_addresses(text: str, known: Mapping[str, str]) -> str:
    """`text` with each sentence that names someone cut before the list of whom (at its last colon or
    semicolon before the first address), or, with nothing before to keep, each address said as its
    display name in `known` (by casefolded address: an admin's name is fine where their address is not)
    or as "someone"."""
    kept = []
    for sentence in _SENTENCE_END.split(text):
        named = ADDRESS.search(sentence)
        starts = list(_LIST_START.finditer(sentence, 0, named.start())) if named else []
        if starts:
            kept.append(sentence[: starts[-1].start()].rstrip() + ".")
        elif named:
            said = ADDRESS.sub(lambda found: known.get(found[0].casefold()) or "someone", sentence)
            kept.append(said[:1].upper() + said[1:])
        else:
            kept.append(sentence)
    return " ".join(kept)


def names_anyone(text: str, known: Mapping[str, str] | None = None) -> bool:
    """Whether `text` has an address `without_addresses` would not say as a `known` display name."""
    return any(not (known or {}).get(found.casefold()) for found in ADDRESS.findall(text))
