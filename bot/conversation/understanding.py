"""What someone meant when their words are not a command: a slip of the keyboard, or a question.

`progres fabrikam-fiber` is a typo of `progress`; `will our pipelines keep running?` is a question for
the FAQ, written where commands go. Which one it is decides between "Did you mean" and an answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.conversation.commands import USAGE_OF, USAGES, Command, parse, typed_words
from bot.conversation.faq_views import ASK_ADMIN, RATE_HELPFUL, RATE_NOT_HELPFUL, RATING_OF_LABEL

MAX_SUGGESTIONS = 3
MIN_PREFIX = 3
"""`sta` may be `status` or `start`; two letters match too much to be a guess."""
QUESTION_OPENERS = frozenset(
    {
        "what",
        "what's",
        "what're",
        "when's",
        "where's",
        "who's",
        "why's",
        "that's",
        "there's",
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
TYPED_BUTTONS = frozenset({RATE_HELPFUL, RATE_NOT_HELPFUL, ASK_ADMIN})
"""Button words that are no command in `help` but are typed where there is no button to click (the console
shows every button as its words): `faq-not-helpful #3` rates answer 3, never a new question."""
_DONE_WHAT = r"(?:it|that|this|them|those|everything|all(?:\s+of\s+(?:it|them))?|the\s+steps?)"
DONE_INTENT = re.compile(
    r"(?i)^\s*(?:(?:ok(?:ay)?|yes|yep|so)[,!.]?\s+)?"
    r"(?:(?:i|we)(?:'ve| have)?\s+|(?:it|that)(?:'s| is)\s+|all\s+)?"
    r"(?:already\s+|just\s+)?"
    r"(?:(?:done|finished|completed)(?:\s+"
    + _DONE_WHAT
    + r")?|did\s+"
    + _DONE_WHAT
    + r"|did(?=\s+already\b)|(?<=already\s)did)"
    r"(?:\s+(?:already|now))?[\s.!]*$"
)
"""Telling the bot a step is done ("I did it already", "done", "all finished") without saying which: in a
direct message it is `done` without a number, which shows their open items, not an FAQ answer. No
question ("did I do it?") and no number ("done 2", the command) reads so. Nor does what answers something
else: a bare "I did" (a yes to "Did you mean…?") or "it's fixed now" (a problem gone, not a step done)."""
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


@dataclass(frozen=True)
class Reading:
    """What the words were taken for, and the command to run (`ask` for a question)."""

    kind: Literal["command", "question", "typo", "unknown", "extra"]
    """`extra`: a command word followed by more words than it takes."""
    command: Command
    meant: tuple[Suggestion, ...] = field(default=())


def read(
    text: str,
    *,
    in_direct_message: bool = False,
    organizations: Callable[[], Iterable[str]] = lambda: (),
) -> Reading:
    """A command, a question for the FAQ, a typo of a command, or none of these.

    In a direct message whatever is not a command or a typo is a question: people write to the bot.
    `organizations`: the migrations the bot knows, asked only for words that are no command: a typo of
    a command followed by one (`annouce fabrikam-fiber Friday 14:00 UTC`) is a slip, however long.
    """
    command = parse(text)
    typed = typed_words(text)
    if in_direct_message and DONE_INTENT.match(typed):
        return Reading("command", Command("done", (), typed))
    rating = RATING_OF_LABEL.get(" ".join(typed.split()).strip(" .!").casefold())
    if rating is not None:  # a rating button's label, typed: never a question, never `notify helpful`
        return Reading("command", Command(rating, (), ""))
    usage = USAGE_OF.get(command.word)
    if (
        usage is not None
        and _has_extra_words(command, usage.most_arguments)
        and _names_an_organization(command, organizations)
    ):  # `plan fabrikam-fiber extra args here` addresses a migration: words too many, never a question
        return Reading("extra", command)
    if command.word in TYPED_BUTTONS or (
        usage is not None and not _is_sentence_after(command, usage.most_arguments, typed)
    ):
        return Reading("command", command)
    question = Reading("question", Command("ask", tuple(typed.split()), typed))
    meant = suggestions(command, [usage.word for usage in USAGES])
    if meant and len(typed.split()) == 1:  # `stat?` is a slip, not a question
        return Reading("typo", command, meant)
    if meant and _names_an_organization(command, organizations):
        return Reading("typo", command, meant)
    if reads_like_question(typed):
        return question
    if meant:
        return Reading("typo", command, meant)
    return question if in_direct_message else Reading("unknown", command)


def suggestions(command: Command, words: Sequence[str]) -> tuple[Suggestion, ...]:
    """Command words `command.word` may have been meant as, best first; empty when none is close."""
    typed = command.word.casefold().replace("_", "-")
    joined = _joined(command, words)
    if joined is not None:
        return (joined,)
    prefixed = [word for word in words if word.startswith(typed)] if len(typed) >= MIN_PREFIX else []
    allowed = 1 if len(typed) <= 5 else 2
    # A word longer or shorter by more than `allowed` is further than that (each extra letter is an edit),
    # so only the others are measured: every line that is not a command is read against every command word.
    scored = sorted(
        (score, index, word)
        for index, word in enumerate(words)
        if abs(len(word) - len(typed)) <= allowed and (score := distance(typed, word)) <= allowed
    )
    close = [word for score, _, word in scored if score == scored[0][0]]
    # never the word as typed: a command word that reaches here was not understood as it stands
    meant = [word for word in dict.fromkeys([*prefixed, *close]) if word != command.word.casefold()]
    return tuple(Suggestion(word, command.text) for word in meant[:MAX_SUGGESTIONS])


def asks(text: str) -> bool:
    """Ends with `?` or opens like a question (`how`, `can I`, `my`...)."""
    words = text.split()
    if not words:
        return False
    first = words[0].casefold().strip(",.!:;")
    return text.rstrip().endswith("?") or (first in QUESTION_OPENERS and len(words) > 1)


def reads_like_question(text: str) -> bool:
    """A question, or a sentence: more words than a command takes (a quoted reason counts as one)."""
    return asks(text) or len(parse(text).args) >= SENTENCE_WORDS


def _names_an_organization(command: Command, organizations: Callable[[], Iterable[str]]) -> bool:
    following = command.arg(0)
    return following is not None and following.casefold() in {name.casefold() for name in organizations()}


def _has_extra_words(command: Command, most_arguments: int | None) -> bool:
    return most_arguments is not None and len(command.args) > most_arguments


def understood_and_extra(command: Command, most_arguments: int) -> tuple[str, str]:
    """`plan fabrikam-fiber extra args here` -> (`plan fabrikam-fiber`, `extra args here`)."""
    understood = " ".join((command.word, *command.args[:most_arguments]))
    return understood, " ".join(command.args[most_arguments:])


def _is_sentence_after(command: Command, most_arguments: int | None, text: str) -> bool:
    """`status: disconnected users, what do I do?` starts with a command word but asks a question."""
    return most_arguments is not None and len(command.args) > most_arguments + 1 and reads_like_question(text)


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
