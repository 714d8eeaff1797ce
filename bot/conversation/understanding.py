"""What someone meant when their words are not a command: a slip of the keyboard, or a question.

`progres fabrikam-fiber` is a typo of `progress`; `will our pipelines keep running?` is a question for
the FAQ, written where commands go. Which one it is decides between "Did you mean" and an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.conversation.commands import Command

MAX_SUGGESTIONS = 3
MIN_PREFIX = 3
"""`sta` may be `status` or `start`; two letters match too much to be a guess."""
QUESTION_OPENERS = frozenset(
    {
        "what",
        "what's",
        "whats",
        "how",
        "how's",
        "why",
        "when",
        "where",
        "who",
        "whom",
        "whose",
        "which",
        "can",
        "can't",
        "could",
        "couldn't",
        "do",
        "does",
        "don't",
        "doesn't",
        "did",
        "didn't",
        "is",
        "isn't",
        "are",
        "aren't",
        "was",
        "were",
        "will",
        "won't",
        "would",
        "wouldn't",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "am",
        "i",
        "i'm",
        "im",
        "i've",
        "my",
        "we",
        "we're",
        "our",
        "us",
        "you",
        "your",
        "there",
        "it",
        "it's",
        "has",
        "have",
        "had",
        "any",
        "anyone",
        "anybody",
        "someone",
        "please",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
    }
)
"""First words of questions and sentences, never of commands."""
SENTENCE_WORDS = 3
"""An unknown first word followed by this many words or more is a sentence, not a mistyped command."""


@dataclass(frozen=True)
class Suggestion:
    word: str
    text: str
    """Everything after the word, as typed: the corrected command keeps its arguments."""

    @property
    def command(self) -> str:
        return f"{self.word} {self.text}".strip()


def suggestions(command: Command, words: Sequence[str]) -> tuple[Suggestion, ...]:
    """Command words `command.word` may have been meant as, best first; empty when none is close."""
    typed = command.word.casefold().replace("_", "-")
    joined = _joined(command, words)
    if joined is not None:
        return (joined,)
    rest = command.text
    if len(typed) >= MIN_PREFIX:
        prefixed = [word for word in words if word.startswith(typed)]
        if prefixed:
            return tuple(Suggestion(word, rest) for word in prefixed[:MAX_SUGGESTIONS])
    allowed = 1 if len(typed) <= 5 else 2
    scored = sorted((distance(typed, word), index, word) for index, word in enumerate(words))
    best = scored[0][0] if scored else allowed + 1
    if best > allowed:
        return ()
    return tuple(Suggestion(word, rest) for score, _, word in scored if score == best)[:MAX_SUGGESTIONS]


def reads_like_question(text: str) -> bool:
    """A question or a sentence: ends with `?`, opens like one, or runs on for several words."""
    words = text.split()
    if not words:
        return False
    if text.rstrip().endswith("?"):
        return True
    first = words[0].casefold().strip(",.!:;")
    return (first in QUESTION_OPENERS and len(words) > 1) or len(words) > SENTENCE_WORDS


def distance(first: str, second: str) -> int:
    """Edits between two words (insert, delete, replace, swap two neighbours): `stauts` is 1 from `status`."""
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, start=1):
        current = [i]
        for j, b in enumerate(second, start=1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _joined(command: Command, words: Sequence[str]) -> Suggestion | None:
    """`request approval`, `stale users`: two words that are one command word with a hyphen."""
    following = command.arg(0)
    if following is None:
        return None
    candidate = f"{command.word}-{following.casefold()}"
    if candidate not in words:
        return None
    rest = command.text.split(maxsplit=1)
    return Suggestion(candidate, rest[1] if len(rest) > 1 else "")
