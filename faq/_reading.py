"""Reading a real question: which sentences ask, which only tell the story, and what is quoted or pasted.

People paste several paragraphs: context, a quoted line of Microsoft's page, a log, then the question
(sometimes two). The ranker weighs the sentences that ask above the rest, leaves quoted documentation and
boilerplate out of what is asked, and keeps error codes wherever they appear.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set
from dataclasses import dataclass
from pathlib import PurePosixPath

from faq._plain import plain
from faq._text import GREETING, MAX_SCORED_CHARS, content_words, prepare

# GitHub's docs-feedback footer and everything after it is not the question.
_FOOTER = re.compile(r"(?im)^\s*(?:-{3,}\s*$|#+\s*document details|\u26a0|\[enter feedback here\])")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
# Punctuation that ends the sentence around a link, not the link ("see https://...connection).").
_AFTER_A_LINK = ").,;:!?'\"]>*"
_FENCE = re.compile(r"```.*?(?:```|$)", re.S)
_QUOTED_LINE = re.compile(r"^\s*>")
# An inline code span (`...`, or a backtick left open to the sentence's end): a command or a log line pasted
# into the text. A sentence that is at least this share of code spans is pasted output, not the asker's words.
_CODE_SPAN = re.compile(r"`[^`]*`?")
_PASTED_SHARE = 0.5
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9\"'(*-])|\n+")
# Sentences that ask: they end with "?", or open with a question word or a request for help.
_ASKING_START = re.compile(
    r"^\W*(?:how|what|why|when|where|which|who|whom|can|could|should|shall|would|will|is|are|am|does|do"
    r"|did|has|have|may|might|must|any (?:idea|thoughts|help|advice|suggestion)s?|is there|are there"
    r"|please (?:help|advise|let|tell|clarify|suggest)|help|i need|we need|need help|i want to|we want to"
    r"|i would like|we would like|looking for\b|wondering|q\d*\b)"
    # The word itself or its negation or contraction ("can't", "cannot", "whats"), not the start of another
    # word: "However, ...", "Documentation issues:", "Maybe ..." do not ask.
    r"(?:n?['\u2019]?t|not|['\u2019]?s)?\b",
    re.I,
)
# Error codes people paste: Azure DevOps (TF, VS), Entra sign-in (AADSTS), Git Credential Manager.
ERROR_CODE = re.compile(r"(?i)\b(?:TF\d{5,6}|VS\d{5}|AADSTS\d{5,7}|SP\d{6})\b")
# An Entra sign-in code (AADSTS) says something about Azure DevOps only when the message is about it: the
# same codes come from every application that signs in with Entra.
_AZURE_DEVOPS = re.compile(
    r"(?i)azure ?devops|\bvsts\b|visual studio team services|dev\.azure\.com|visualstudio\.com|\bado\b"
    r"|499b84ac-1321-427f-aa17-267ca6975798"
)
# Asked inside a migration, an error code pasted with a few words ("I get AADSTS50020 when signing in") is
# the asker's in the move: an Entra code counts as Azure DevOps's, and a code a topic documents answers
# whatever the confidence (`FaqAnswerer.answer`), in a message of at most this many characters. A longer one
# tells its own story (which tool, which application, its log) and is read by its own words, as anywhere
# else: 29 public threads about other tools were answered by their code (docs/faq-eval.md, round 29).
PASTED_LINE_CHARS = 200
# Words that mean moving from one directory to another rather than leaving Microsoft accounts.
_SWITCHING = re.compile(
    r"(?i)(?:switch(?:ing|ed)? (?:the |our |to (?:a |an |the )?(?:new |another |different )?)?"
    r"(?:directory|tenant|aad|azure ad|entra)"
    r"|(?:change|changing|changed|move|moving|moved|migrat\w+) (?:the |our |an? )?"
    r"(?:aad|azure ad|entra(?: id)?"
    r"|directory|tenant)(?: connection)?(?! \w+ settings)"
    r"|(?:from|between) (?:one|the old|our old|an?) (?:directory|tenant|aad|azure ad)"
    r"|(?:another|different|new|old|source|destination|target) (?:azure ad|aad|tenant|directory|entra)"
    r"|aad-?1|aad-?2|tenant switch|directory switch)"
)


# Words that tie a message to the move itself (connecting, switching or leaving a directory); a question
# about the same products that never mentions the move is more often about something else.
_ABOUT_THE_MOVE = re.compile(
    r"(?i)\b(?:(?:dis)?connect(?:s|ed|ing)?|switch\w*|migrat\w*|mov(?:e|ed|ing)|transfer\w*|transition\w*"
    r"|link(?:ed|ing)?|backed|cut ?over|(?:azure ad|aad|entra(?: id)?|active directory|directory|tenant)"
    r"(?: id)?)\b"
)


# Between two words of one sentence: anything but a sentence's end (".", "?" or "!" before a space, or a
# line break), so "dev.azure.com" stays one place while "the attached image. I followed the directions for
# Azure AD" and "disconnected in devops? they're in AAD" say nothing about a directory the organization was
# attached or disconnected to (docs/faq-eval.md, rounds 32 and 33).
_WITHIN_A_SENTENCE = r"(?:[^\w.?!\n]|[.?!](?!\s))+"
# Telling that the move happened or is planned: a verb of moving and, a few words on in the same sentence,
# the directory it is moved to ("since we connected our organization to Azure AD", "after they migrated VSTS
# to the company's tenant"). Narrower than `_ABOUT_THE_MOVE`, which any mention of a tenant or a connection
# sets: of the real tuning questions, 19 of the 26 that tell the move are in scope, 30 of the 251 that do
# not (docs/faq-eval.md, round 9).
_TELLS_THE_MOVE = re.compile(
    r"(?i)\b(?:(?:dis|re)?connect(?:ed|ing)?|switch(?:ed|ing)?|migrat(?:ed|ing)|mov(?:ed|ing)"
    r"|transferr?(?:ed|ing)|link(?:ed|ing)|chang(?:ed|ing)|convert(?:ed|ing)|join(?:ed|ing)|hook(?:ed|ing)"
    # "backed by Azure AD" says what an organization is; "since we backed it by Azure AD", that it changed.
    r"|attach(?:ed|ing)|(?:since|after|once) (?:we|they|i|our \w+) backed)\b"
    rf"(?:{_WITHIN_A_SENTENCE}\w+){{0,8}}?{_WITHIN_A_SENTENCE}"
    r"(?:aad|azure ?ad|azure active directory|entra(?: id)?|active directory"
    r"|(?:new|another|different|our|the|company|corporate|work) (?:azure )?(?:directory|tenant))\b"
    r"(?! accounts?\b)"  # "I sign in with my AAD account": an account, not the organization's directory
)

# Asking what becomes of something ("what happens to our repos?", "will we lose our history?"): said to this
# bot, likely about the move even when it does not name it (see `faq._ranking.rank` for how far that goes).
_ASKS_WHAT_BECOMES = re.compile(
    r"(?i)\bwhat (?:happens|will happen|would happen|becomes|stays|changes)\b"
    r"|\b(?:will|would|do|does|did|can|could) (?:we|i|you|they|our|my|anyone|people)\b.{0,60}?"
    r"\b(?:lose|keep|retain|survive|stay|disappear|be (?:lost|kept|deleted|removed|affected))\b"
    r"|\b(?:is|are|get|gets) (?:\w+ ){0,6}?(?:kept|lost|deleted|retained|preserved|affected)\b"
)

# A question to the bot itself ("who are you?", "what can you do?"), the whole message: it gets a
# self-introduction, not the topic that shares its one word ("who" is `who-can-connect`'s word).
_TO_THE_BOT = (
    r"(?:who|what) (?:are|r) (?:you|u)(?: exactly)?|what (?:can|do|could) (?:you|u) do(?: for me)?"
    r"|what (?:can|do) you help with|are you (?:a |an )?(?:bot|robot|human|person|real|ai)"
    r"|(?:who|what) is (?:this bot|aadbot)|introduce yourself|tell me about yourself"
)
_BOT_QUESTION_CHARS = 200
_ASKS_ABOUT_THE_BOT = re.compile(
    rf"(?i)^\W*{GREETING}(?:{_TO_THE_BOT})"
    rf"(?:[\s,.?!]+(?:and )?(?:{_TO_THE_BOT}))*\W*$"
)

# Asking what the directory itself is ("What's Entra ID?", "Azure AD or Entra, what's the difference?"), the
# whole message: only the directory's names (folded onto one word) and words of naming or comparing. Ranked,
# that one word went to the topic naming directories most, disconnecting them (walk25, finding 4).
_ASKS_WHAT = re.compile(r"(?i)^\W*(?:what|whats|what's|explain|is|are|how|difference)\b")
_NAMING_WORDS = frozenset(
    content_words(prepare("entra difference different differ same vs versus renamed name called new old"))
)


def asks_what_the_directory_is(text: str) -> bool:
    """Whether the message only asks what Microsoft Entra ID (Azure AD, the directory) is."""
    if len(text) > _BOT_QUESTION_CHARS or not _ASKS_WHAT.match(text):
        return False
    words = content_words(prepare(text))
    return "entra" in words and set(words) <= _NAMING_WORDS


# Around a word: sentence punctuation and markup, not part of it. Inside one: letters, apostrophes, hyphens.
_WORD_EDGES = "\"'()[]{}<>.,;:!?*`_-\u2018\u2019\u201c\u201d"
_INSIDE_A_WORD = frozenset("'-\u2019")
# Numbers and error codes are neither words nor noise ("403", "TF400813"); URLs are cut out before this.
_NEUTRAL_TOKEN = re.compile(r"(?i)^(?:[\d.,:/%+#-]+|" + ERROR_CODE.pattern.removeprefix("(?i)") + r")$")
# Below this share of word tokens (among tokens that are words or not) a message is not written in words.
# Questions in every evaluation set have at least 0.67; random bytes at most 0.5 (docs/faq-eval.md).
MIN_WORD_SHARE = 0.5
# Emoji are symbols ("So"), skin-tone modifiers ("Sk"); a sequence holds joiners and variation selectors.
_EMOJI_CATEGORIES = frozenset({"So", "Sk"})
_EMOJI_JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3")

# A pasted log can run to megabytes; questions come first or last, and a few dozen sentences cover them.
_MAX_READ_CHARS = 20_000
_MAX_SENTENCES = 40


@dataclass(frozen=True)
class Reading:
    sentences: tuple[str, ...]
    """The asker's own sentences, in order, without quotes, boilerplate and pasted logs."""
    asked: tuple[str, ...]
    """The sentences that ask something, in order (the main question is usually the first)."""
    told: str
    """Everything written by the asker, what asks first, then the quoted lines as context; without
    boilerplate and pasted logs (but with their codes)."""
    codes: tuple[str, ...]
    """Error codes found anywhere, upper-cased, first occurrence first."""
    switching: bool
    """The asker describes a move from one directory to another."""
    about_the_move: bool = False
    """The message mentions the move at all (connecting, switching, a directory or tenant)."""
    unreadable: bool = False
    """The message is not written in words: binary data, random characters, markup soup."""
    asks_what_becomes: bool = False
    """A sentence that asks is about what happens to something, or whether it is kept or lost."""
    tells_the_move: bool = False
    """The asker tells that the organization was (or will be) connected or moved to a directory."""
    about_the_bot: bool = False
    """The message only asks who or what the bot is ("who are you?")."""
    codes_elsewhere: tuple[str, ...] = ()
    """Entra sign-in codes (AADSTS) in a message that never says it is about Azure DevOps: not read."""
    quoted: tuple[str, ...] = ()
    """The sentences of quoted lines (`> ...`), most often Microsoft's page: context for the ranker (which
    topic the page section is about), never what is asked nor what the asker wrote."""
    text: str = ""
    """The whole message as read (`faq._plain.plain`): what the asker's own patterns look at."""
    names_azure_devops: bool = False
    """The message names Azure DevOps (or VSTS, dev.azure.com, its application id)."""
    links: tuple[str, ...] = ()
    """The addresses (URLs) the asker links, as written, boilerplate left out; cut out of every sentence."""


def read(text: str, *, in_azure_devops: bool = False) -> Reading:
    """`in_azure_devops`: the message is known to be about Azure DevOps (asked inside a migration), so the
    Entra sign-in codes a pasted line carries count even when it never names Azure DevOps (not a longer
    message's: `PASTED_LINE_CHARS`)."""
    text = whole = plain(text)
    if len(text) > _MAX_READ_CHARS:  # keep the start and the end, where people put the question
        half = _MAX_READ_CHARS // 2
        text = f"{text[:half]}\n{text[-half:]}"
    body = _FOOTER.split(text, maxsplit=1)[0] if _FOOTER.search(text) else text
    links = tuple(_URL.findall(body))  # the asker's own: a docs-feedback footer links every page commented on
    codes = tuple(dict.fromkeys(code.upper() for code in ERROR_CODE.findall(text)))
    elsewhere: tuple[str, ...] = ()
    names_azure_devops = bool(_AZURE_DEVOPS.search(text))
    if not (in_azure_devops and len(whole) <= PASTED_LINE_CHARS) and not names_azure_devops:
        elsewhere = tuple(code for code in codes if code.startswith("AADSTS"))
        codes = tuple(code for code in codes if not code.startswith("AADSTS"))
        body = re.sub(r"(?i)\bAADSTS\d+", " ", body)
    body = _FENCE.sub(lambda match: " ".join(ERROR_CODE.findall(match.group(0))), body)
    lines = [line for line in body.splitlines() if not _QUOTED_LINE.match(line)]
    quoted_lines = [_QUOTED_LINE.sub("", line) for line in body.splitlines() if _QUOTED_LINE.match(line)]
    quoted = _sentences(_URL.sub(" ", "\n".join(quoted_lines)))[:_MAX_SENTENCES]
    sentences = _sentences(_URL.sub(" ", "\n".join(lines)))
    if len(sentences) > _MAX_SENTENCES:
        half = _MAX_SENTENCES // 2
        sentences = sentences[:half] + sentences[-half:]
    asked = tuple(sentence for sentence in sentences if _asks(sentence))
    # What is asked goes first, so a long story or log never pushes it out of the scored length; a quoted
    # line last, as context: which page section the asker is at (docs/faq-eval.md, round 12).
    in_order = [*asked, *(sentence for sentence in sentences if sentence not in asked), *quoted]
    told = " ".join(in_order)
    missing = [code for code in codes if code not in told.upper()]
    if missing:  # a code seen only in a quote or a log still says what went wrong
        told = f"{told} {' '.join(missing)}"
    return Reading(
        tuple(sentences),
        asked,
        told,
        codes,
        bool(_SWITCHING.search(text)),
        bool(_ABOUT_THE_MOVE.search(told)),
        not _written_in_words(told),
        any(_ASKS_WHAT_BECOMES.search(sentence) for sentence in asked),
        # Where the ranker reads (a log can be huge), one sentence a line: telling the move is within one.
        bool(_TELLS_THE_MOVE.search("\n".join(in_order)[:MAX_SCORED_CHARS])),
        len(text) <= _BOT_QUESTION_CHARS and bool(_ASKS_ABOUT_THE_BOT.match(text)),
        elsewhere,
        tuple(quoted),
        whole,
        names_azure_devops,
        links,
    )


def links_a_page(reading: Reading, names: Set[str]) -> bool:
    """Whether the message links a page whose address ends with one of `names` ("...accounts/faq-azure-access
    ?view=azure-devops", or the page's source file `faq-azure-access.md`). Read as text: a pasted address may
    be anything (`urllib` rejects some with an error)."""
    for link in reading.links:
        path = re.split(r"[?#]", link, maxsplit=1)[0].rstrip(_AFTER_A_LINK).rstrip("/")
        if PurePosixPath(path.rsplit("/", 1)[-1]).stem in names:
            return True
    return False


def pasted(sentence: str) -> bool:
    """Whether a sentence is mostly inline code spans: a command run or a line of a log, in the tool's words
    (`TF400813: The user ... is not authorized`), which match a topic's phrasings as the asker's words would.
    Its error codes still count, through `Reading.codes` and the whole message."""
    spans = sum(len(match.group(0)) for match in _CODE_SPAN.finditer(sentence))
    return bool(sentence) and spans >= _PASTED_SHARE * len(sentence)


def _sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in _SENTENCE_END.split(text) if sentence and sentence.strip()]


def _written_in_words(told: str) -> bool:
    """Whether most of the message's tokens are words (in any alphabet), numbers and codes aside."""
    words = junk = 0
    for token in told[:MAX_SCORED_CHARS].split():
        core = token.strip(_WORD_EDGES)
        if not core or _NEUTRAL_TOKEN.match(core) or _emoji(core):
            continue
        if all(char.isalpha() or char in _INSIDE_A_WORD for char in core) or _words_of_another_script(core):
            words += 1
        else:
            junk += 1
    return words >= MIN_WORD_SHARE * (words + junk) if words + junk else True


def _emoji(token: str) -> bool:
    """Whether a token is emoji alone ("🙂", "👍🏽", "🤷‍♀️"): said by a person, neither a word nor noise.
    Random characters run symbols into letters, controls and unassigned code points in one token."""
    return all(unicodedata.category(char) in _EMOJI_CATEGORIES or char in _EMOJI_JOINERS for char in token)


def _words_of_another_script(token: str) -> bool:
    """Whether a token is words of a script written without spaces ("接続すると、エラー403が出ます。"):
    letters outside ASCII with punctuation ("、", "。", "？") and numbers, codes and names ("TF400813",
    "Entra"), which English words never run into. Random characters from all of Unicode mix in symbols,
    controls and unassigned code points."""
    return any(not char.isascii() and char.isalpha() for char in token) and all(
        char.isalpha() or char.isdecimal() or char in _INSIDE_A_WORD or _script_punctuation(char)
        for char in token
    )


def _script_punctuation(char: str) -> bool:
    # "，" and "？" arrive as "," and "?" (`faq._plain` folds full-width forms)
    return unicodedata.category(char).startswith("P")


def _asks(sentence: str) -> bool:
    words = sentence.split()
    if len(words) < 2:
        return False
    return sentence.rstrip().endswith("?") or bool(_ASKING_START.match(sentence))
