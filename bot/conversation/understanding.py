"""What someone meant when their words are not a command: a slip of the keyboard, a question, or their own
list asked for in plain words.

`progres fabrikam-fiber` is a typo of `progress`; `will our pipelines keep running?` is a question for
the FAQ, written where commands go. Which one it is decides between "Did you mean" and an answer. "what's
left?" or "remind me tomorrow" is neither: it is `todo` or `snooze 1d`, said in words (`own_list_intent`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.conversation.commands import USAGE_OF, USAGES, Command, parse, straight_apostrophes, typed_words
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
_GREETING = r"(?:(?:ok(?:ay)?|so|hi|hey|hello|and|please)[,!.]?\s+)*"
_TAIL = r"(?:[\s,]+(?:now|still|please|then|again))*[\s?.!]*$"
_LIST = r"(?:(?:to-?\s?do|task)\s+)?(?:list|items|tasks|steps)"
_MINE = r"(?:\s+(?:for\s+me|(?:on|in|of)\s+my\s+" + _LIST + r"))?"
_TO_DO = r"(?:\s+(?:for\s+me\s+)?to\s+(?:do|finish|complete|be\s+done))?"
OWN_LIST_INTENT = re.compile(
    r"(?i)^\s*" + _GREETING + r"(?:"
    r"(?:what(?:'s|s|\s+is)?|what\s+else\s+is|is\s+there\s+anything|is\s+anything|anything)\s+(?:else\s+)?"
    r"(?:still\s+)?(?:left|remaining|outstanding)"
    + _MINE
    + _TO_DO
    + _MINE
    + r"|how\s+many\s+(?:items|things|steps|tasks)\s+(?:are\s+|do\s+i\s+have\s+)?(?:still\s+)?"
    r"(?:left|remaining|open|outstanding)"
    + _MINE
    + _TO_DO
    + r"|what\s+else\s+(?:do|should|must)\s+i\s+(?:(?:have|need|got)\s+to\s+)?do"
    + _MINE
    + r"|what\s+(?:do|should|must)\s+i\s+still\s+(?:(?:have|need|got)\s+to\s+)?do"
    + _MINE
    + r"|what\s+do\s+i\s+(?:still\s+)?have\s+left"
    + _TO_DO
    + _MINE
    + r"|what(?:'s|s|\s+is)\s+still\s+to\s+(?:do|be\s+done)"
    + _MINE
    + r"|(?:(?:show|give|send)\s+(?:me\s+)?)?my\s+"
    + _LIST
    + r"|(?:what(?:'s|s|\s+is|\s+are)|where(?:'s|s|\s+is))\s+(?:on\s+|in\s+)?my\s+"
    + _LIST
    + r"|what\s+are\s+my\s+(?:open|remaining|next)\s+(?:items|tasks|steps)"
    r")" + _TAIL
)
"""Asking for their own open items in plain words ("what's left", "what do I still have to do?", "show my
list"): `todo`, in a direct message or a channel (the list is theirs alone, so it is answered privately).
Only the asker's own list reads so: "which users are left out?", "what is left to do for admins before
connecting?" or "what happens to users who left?" name someone else or ask on, and stay questions for the
FAQ. "what do I have to do?" without "still" or "else" asks what the move means for them: the FAQ's
checklist, fitted to their case, answers it."""
SNOOZE_INTENT = re.compile(
    r"(?i)^\s*" + _GREETING + r"(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+)?(?:"
    r"remind\s+me(?:\s+(?:again|about\s+(?:it|this|that|them|my\s+list)))?\s+"
    r"(?:(?P<day>tomorrow|in\s+(?:a|one|1)\s+day)|(?P<week>next\s+week|in\s+(?:a|one|1)\s+week)"
    r"|later|another\s+(?:day|time))"
    r"|snooze(?:\s+(?:it|this|that|them|(?:the|my|these)\s+reminders?))?"
    r"(?:\s+(?:for\s+|until\s+)?(?:(?P<snooze_day>(?:a|one|1)\s+day|tomorrow)"
    r"|(?P<snooze_week>(?:a|one|1)\s+week|next\s+week)))?"
    r")" + _TAIL
)
"""Asking to be reminded later ("remind me tomorrow", "snooze for a week"): `snooze 1d` or `snooze 1w`, what
the Snooze buttons do; without a day or a week ("remind me later"), the choice of the two."""
STOP_REMINDERS_INTENT = re.compile(
    r"(?i)^\s*"
    + _GREETING
    + r"(?:(?:can|could|would|will)\s+you\s+|(?:how\s+)?(?:do|can)\s+i\s+|i\s+(?:want|need)\s+to\s+"
    r"|i'd\s+like\s+(?:you\s+)?to\s+)?(?:please\s+)?(?:"
    r"stop\s+(?:reminding\s+me|(?:sending\s+(?:me\s+)?)?(?:the\s+|these\s+|your\s+|my\s+|all\s+(?:the\s+)?)?"
    r"reminders?)"
    r"|(?:turn|switch|shut)\s+off\s+(?:the\s+|these\s+|your\s+|my\s+)?reminders?"
    r"|(?:turn|switch|shut)\s+(?:the\s+|these\s+|your\s+|my\s+)?reminders?\s+off"
    r"|(?:no\s+more|disable|mute|unsubscribe\s+from|opt\s+out\s+of)\s+(?:the\s+|these\s+|your\s+|my\s+)?"
    r"reminders?|unsubscribe"
    r"|(?:don't|dont|do\s+not)\s+remind\s+me(?:\s+(?:again|anymore|any\s+more))?"
    r")(?:\s+(?:anymore|any\s+more))?" + _TAIL
)
"""Asking for no more reminders: they cannot be turned off, so the answer says so, how they end, the
Snooze buttons and the way to the admins (`STOP_REMINDERS`)."""
STOP_REMINDERS = "stop-reminders"
"""The words STOP_REMINDERS_INTENT runs: no command anyone types (it is in no `help`), only its answer."""
COMMAND_LIKE = re.compile(r"[/\w]")
"""How a mistyped command word can start: `r&d` may be one, `[enter` or `👍` was never meant as one."""
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

    In a direct message whatever is not a command or a typo is a question: people write to the bot; so is,
    anywhere, what starts with no letter a command could (`[Enter feedback here]`). Plain words about the
    person's own list or its reminders are the command that answers them, anywhere (`own_list_intent`).
    `organizations`: the migrations the bot knows, asked only for words that are no command: a typo of
    a command followed by one (`annouce fabrikam-fiber Friday 14:00 UTC`) is a slip, however long.
    """
    command = parse(text)
    typed = typed_words(text)
    if in_direct_message and DONE_INTENT.match(typed):
        return Reading("command", Command("done", (), typed))
    meant_command = own_list_intent(typed)
    if meant_command is not None:
        return Reading("command", meant_command)
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
    if in_direct_message or not COMMAND_LIKE.match(command.word):  # `[Enter feedback here]`: no command
        return question
    return Reading("unknown", command)


def own_list_intent(typed: str) -> Command | None:
    """Plain words about the person's own list or its reminders, as the command that answers them."""
    words = straight_apostrophes(typed)
    if OWN_LIST_INTENT.match(words):
        return Command("todo", (), typed)
    snooze = SNOOZE_INTENT.match(words)
    if snooze is not None:
        if snooze["day"] or snooze["snooze_day"]:
            return Command("snooze", ("1d",), typed)
        if snooze["week"] or snooze["snooze_week"]:
            return Command("snooze", ("1w",), typed)
        return Command("snooze", (), typed)
    if STOP_REMINDERS_INTENT.match(words):
        return Command(STOP_REMINDERS, (), typed)
    return None


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
        if abs(len(word) - len(typed)) <= allowed and (score := distance(typed, word, allowed)) <= allowed
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


def distance(first: str, second: str, most: int) -> int:
    """Edits between two words (insert, delete, replace, swap two neighbours): `stauts` is 1 from `status`;
    `most + 1` when they are more than `most` apart. Every line that is not a command is measured against
    the command words, and most are far from all: the letters one word has and the other lacks tell most
    of them apart without the table (each edit brings in at most one letter and takes out at most one)."""
    letters, others = set(first), set(second)
    if len(letters - others) > most or len(others - letters) > most:
        return most + 1
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
    return min(previous[-1], most + 1)


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
