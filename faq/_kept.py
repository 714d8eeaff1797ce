"""What the move does to someone's work ("what happens to my pull requests?", "will we lose our work
items?"): the topic `what-is-kept`, recognised by its words on the whole short message, not ranked. Ranked,
"what happens to my pull requests?" shares too few words with the topic and was declined (walk34, finding 4);
more phrasings would move every topic's weights and the calibration's refit (docs/faq-eval.md, rounds 28
and 30)."""

from __future__ import annotations

import re

from faq._text import OPENING

TOPIC = "what-is-kept"

_WORK = (
    r"(?:pull requests?|prs?|work ?items?|commits?|(?:commit |git |work |change )?history|code|repos?"
    r"|repositories|pipelines?|builds?|wikis?|boards?|backlogs?|projects?|branches|tickets|comments"
    r"|(?:work|git|azure devops|devops) data)"
)
_THEIR_WORK = rf"(?:all )?(?:my|our|the) {_WORK}(?:(?:,| and| or|, and|, or) (?:(?:my|our|the) )?{_WORK})*"
_THE_MOVE = r"(?:the |this )?(?:switch|move|migration|change|connection|connecting)"
_WHAT_HAPPENS_TO_THEIR_WORK = re.compile(
    rf"(?i){OPENING}(?:"
    rf"what (?:will |would |is going to )?happens? (?:to|with) {_THEIR_WORK}"
    rf"|(?:will|do|would) (?:i|we) (?:lose|keep) {_THEIR_WORK}"
    rf"|(?:will|do|does) {_THEIR_WORK} (?:be kept|be lost|stay|survive|disappear|get lost|carry over|move)"
    rf")(?: (?:after|when|once|during|in) (?:{_THE_MOVE}|we (?:connect|switch|move))| (?:then|now))?\W*$"
)
_SHORT = 120


def asks_what_happens_to_their_work(text: str) -> bool:
    """Whether the whole message only asks whether their pull requests, work items, history... are kept."""
    return len(text) <= _SHORT and _WHAT_HAPPENS_TO_THEIR_WORK.match(text) is not None
