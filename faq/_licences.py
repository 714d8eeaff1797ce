"""Whether invited guests need a paid directory license: recognised by its words, not ranked. The tutorial's
answer ("If no paid license exists in your Azure AD, every invited user gets the rights that the Azure AD free
account offers") had no topic, and the question went to the 403 one (walk33, finding 8). A ranked topic moves
every topic's weights and the calibration's refit (docs/faq-eval.md, round 28), so the knowledge base keeps
it unranked and this recogniser answers it. A question about a price is not this one: licence prices stay
declined (issue #13, item 4)."""

from __future__ import annotations

import re

TOPIC = "guest-licenses"

_LICENCE = re.compile(
    r"(?i)\b(?:licen[cs]e[ds]?|licensing|(?:azure ad|entra(?: id)?|aad) (?:premium|p[12])|premium licen"
    r"|paid (?:plan|edition|tier|version|subscription)|free (?:edition|tier|version|azure ad|entra(?: id)?))"
)
_GUESTS = re.compile(
    r"(?i)\b(?:guests?|invited|invitees?|invit(?:e|ing) (?:them|users?|people)|external (?:users?|people)"
    r"|b2b|people we (?:invite|add))\b"
)
_PRICE = re.compile(
    r"(?i)(?:\bhow much\b|\bcosts?\b|\bpric(?:e[sd]?|ing)\b|\bper (?:user|guest|seat|month)\b|\bmonthly\b"
    r"|\bfees?\b|\bdiscounts?\b|\bquotes?\b|[$\u20ac\u00a3])"
)
_SHORT = 200
"""Characters: a longer story mentioning licenses and guests asks something of its own."""


def asks_whether_guests_need_one(text: str) -> bool:
    """Whether a short message asks about the directory license of invited guests, and not about a price."""
    return (
        len(text) <= _SHORT
        and _LICENCE.search(text) is not None
        and _GUESTS.search(text) is not None
        and _PRICE.search(text) is None
    )
