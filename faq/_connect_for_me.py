"""Asking the bot itself to connect the organization ("can you click Connect for me?"): the topic
`connect-for-me`, recognised by its words, not ranked. Ranked, the question shares "connect" with
disconnecting and was answered with the disconnect steps (walk37, finding 5); a ranked topic would move every
weight and the calibration's refit (docs/faq-eval.md, round 28). Asking how to connect, or who may ("can I
connect it myself?"), is the ranker's (`who-can-connect`): only a request put to the bot is this one."""

from __future__ import annotations

import re

from faq._text import OPENING

TOPIC = "connect-for-me"

_BOT = r"(?:you|u|the bot|aadbot|the app)"
_THE_ORGANIZATION = (
    r"(?:it|us|(?:the|our|my|this) (?:org(?:ani[sz]ation)?|directory|tenant|azure devops|devops|ado))"
)
_THE_STEP = r"(?:the )?(?:connect(?:ion)?|switch|connect directory)(?: button)?"
# "click Connect", "connect the organization", "do the switch", said to the bot; "for me" makes it an order.
_DOING_IT = (
    rf"(?:(?:click|press|hit|push|do|make|perform|run) {_THE_STEP}"
    rf"|(?:connect|switch|link) {_THE_ORGANIZATION}"
    r"(?! with\b| to (?:a |an |the )?(?:person|human|admins?|someone|somebody|support|people)\b)"
    r"|(?:connect|switch)(?= (?:for (?:me|us)|yourself|itself|\W*$)))"
)
_ASKS_THE_BOT = re.compile(
    rf"(?i){OPENING}(?:"
    rf"(?:can|could|would|will|won'?t|can'?t|cannot)(?: {_BOT})(?: please| just| not)? {_DOING_IT}"
    rf"|why (?:can'?t|cannot|don'?t|do not|won'?t) {_BOT} (?:just )?{_DOING_IT}"
    rf"|(?:please )?{_DOING_IT}(?: \w+)? for (?:me|us)"
    rf"|is (?:it )?possible for {_BOT} to {_DOING_IT}"
    r")\b"
)
_SHORT = 120


def asks_the_bot_to_connect(text: str) -> bool:
    """Whether a short message asks the bot itself to connect the organization, or why it does not."""
    return len(text) <= _SHORT and _ASKS_THE_BOT.search(text) is not None
