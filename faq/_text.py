"""Turning free text into the terms the index compares: normalise, fold synonyms, stem, n-grams."""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

# The opening a short question may carry before what it asks ("hi there, so ..."): the recognisers of whole
# messages (`faq._kept`, `faq._connect_for_me`, ...) all skip the same greeting and the same filler word.
GREETING = r"(?:(?:hi|hello|hey)(?: there)?\W+)?"
OPENING = rf"^\W*{GREETING}(?:(?:so|and|ok|okay)\W+)?"

# Questions are short; scoring the first couple of thousand characters keeps a 100 kB paste fast.
MAX_SCORED_CHARS = 2000

# Domain words people use interchangeably, folded onto one term so "MSDN" finds the Visual Studio
# entry and "forbidden" finds the 403 entry. Longer phrases first: the first matching phrase wins.
_SYNONYMS: tuple[tuple[str, str], ...] = (
    (r"whens", "when"),
    # The state of a user ("shows as disconnected") is not the act of disconnecting an organization.
    (r"disconn?ected status|status disconn?ected|disconn?ected|orphaned", "orphan"),
    (r"whos", "who"),
    (r"(?:(?:have|need|got) to do|to ?do(?: list)?|todo|must do|should do)(?! the | a )|checklists?", "todo"),
    (r"accts?|accs", "account"),
    (r"ppl|folks|persons?|peeps", "people"),
    (r"repos|repo|repositor(?:y|ies)", "repository"),
    (r"timeline|schedule|eta|dates?|planned for", "when"),
    (r"stage|status|progress|where are we", "status"),
    (r"rights|permissions?|roles?|privileges?", "permission"),
    (r"buy(?:ing|s)?|bought|purchas\w*", "purchase"),
    (r"another|other|different", "different"),
    (
        r"not found|(?:cant|cannot|couldnt) find|returns? nothing|(?:doesnt|does not|dont) exist"
        r"|(?:isnt|is not|arent) in|missing|not existing|non-? ?existent|(?:doesnt|does not|dont) exists?",
        "notfound",
    ),
    (r"stop(?:ped|s)? working|not working|(?:doesnt|dont|wont|no longer) work|broke|broken|rejected", "fail"),
    (
        r"mark(?:s|ed)? as|flag(?:s|ged)?(?: as)?|shows? up as|appears? as|listed as|shows?|showing"
        r"|displays?|displayed",
        "show",
    ),
    (
        r"carr(?:y|ies|ied) over|transfer(?:s|red)?|keep(?:s|ing)?|kept|retain(?:s|ed)?"
        r"|preserv(?:e|es|ed|ing)",
        "keep",
    ),
    (r"personal access tokens?|access tokens?|pats?|tokens?", "pat"),
    (r"re-?do(?:ne)?|re-?make|re-?create", "recreate"),
    (r"nuk(?:e|es|ed|ing)|wip(?:e|es|ed|ing) out|tear(?:ing)? down|tor[en] down", "delete"),
    (r"unknown|not (?:a )?valid|invalid|unrecogni[sz]ed|not recogni[sz]ed", "invalid"),
    (r"(?:azure |monthly |msdn |dev ?test )?credits?", "benefit"),
    (
        r"work or school accounts?|work accounts?|school accounts?|corporate accounts?|company accounts?"
        r"|org accounts?|organi[sz]ational accounts?|work identit(?:y|ies)|work logins?|work emails?"
        r"|aad accounts?|entra accounts?|azure ad accounts?|corp accounts?",
        "workaccount",
    ),
    (
        r"microsoft accounts?|msa|msas|personal accounts?|live accounts?|live ids?|hotmail(?: com)?"
        r"|outlook com|live com|gmail(?: com)?|private accounts?",
        "msa",
    ),
    (
        r"azure active directory|microsoft entra id|microsoft entra|entra id|azure ad|aad|entra"
        r"|active directory|tenants?|directory|directories",
        "entra",
    ),
    (
        r"http 403|error 403|403|forbidden|access denied|permission denied|not authori[sz]ed|unauthori[sz]ed"
        r"|denied|not permitted|not allowed",
        "forbidden",
    ),
    (
        r"visual studio subscriptions?|visual studio subscribers?|visual studio benefits?|vs subscriptions?"
        r"|vs subs?|msdn|vs enterprise|vs professional|vs pro|visual studio enterprise"
        r"|visual studio professional",
        "vssub",
    ),
    (
        r"git credential manager|credential managers?|credential helpers?|gcm|git credential|credential cache"
        r"|cached credentials?|saved credentials?|stored credentials?",
        "gcm",
    ),
    (r"visual studio code|vs ?code", "vscode"),
    (r"visual studio(?: \d{4})?|vs \d{4}", "visualstudio"),
    (r"git (?:pull|push|fetch|clone)|pull|push|fetch|clone", "git"),
    (r"azure devops services|azure devops|dev azure com|devops|vsts|ado", "ado"),
    (
        r"identity pickers?|people pickers?|user pickers?|person pickers?"
        r"|(?:identity|user|people|person) (?:search|lookup)(?: box| field)?",
        "picker",
    ),
    (r"work items?|workitems?|user stor(?:y|ies)|backlog items?|pbis?", "workitem"),
    (
        r"e mails?|email address(?:es)?|mail address(?:es)?|emails?|mails?|upns?|user principal names?"
        r"|sign in address(?:es)?|login address(?:es)?",
        "email",
    ),
    (r"sign(?:ing|ed)? ?in|log(?:ging|ged)? ?in|logins?|log(?:ging|ged)? ?on|authenticat\w*|auth", "signin"),
    (r"sign(?:ing|ed)? ?out|log(?:ging|ged)? ?out", "signout"),
    (r"historic(?:al)?|history", "history"),
    (
        r"downtime|outages?|offline|unavailable|interrupt\w*|down time|service break"
        # "down" alone is too loose ("the wifi is down again"); "down during/while" means a planned change.
        r"|(?:be|go|goes|going|is|are) down(?= during| while| when| for)"
        # Locked out *during* the change is downtime; "lose access" stays with the connect warning.
        r"|lock(?:ed)? out(?= during| while)",
        "downtime",
    ),
    (r"billing|invoices?|payments?|charges?|charged|pays?|paying|paid", "billing"),
    (r"azure subscriptions?|subscriptions?|subs?", "subscription"),
    (r"project collection administrators?|project collection admins?|pcas?|collection admins?", "pca"),
    (r"administrators?|admins?", "admin"),
    (r"b2b|external users?|guests?|guest users?", "guest"),
    (
        r"lose access|losing access|lost access|lock(?:ed)? out|no longer have access|lose their access",
        "loseaccess",
    ),
    (r"ssh keys?|ssh public keys?|public keys?|publickey", "ssh key"),
    (r"clear(?:ing|ed)?|wipe|flush|reset|purge", "clear"),
    (r"delet(?:e|es|ed|ing)|remov(?:e|es|ed|ing)|kick(?:ed)? out|get rid of", "remove"),
    (r"recreate|regenerate|re create|re generate|renew|new", "new"),
    (r"mapp(?:ing|ed)|map|match(?:ing|ed)?|associate", "map"),
    (
        r"hook(?:ed|ing)? (?:it |us |\w+ )?up|link(?:ing|ed|s)?|attach(?:ed|ing)?|connect(?:ed|ing|s)?",
        "connect",
    ),
    (
        r"cut ?over|switch ?over|go live|migration|migrate|migrating|transition|switch(?:ed|ing)?"
        r"|move|moving|moved",
        "switch",
    ),
    (r"organi[sz]ations?|orgs?", "org"),
    (r"errors?|erroring|errored|fail(?:s|ed|ing|ure|ures)?|fehler|erreur", "fail"),
    (r"turn(?:ed|ing)? on|switch(?:ed)? on|enabl(?:e|ed|ing)", "enable"),
    (r"gr[ae]y(?:ed)? out|not available|unavailable to me|disabled button", "greyed"),
    (r"how long|how much time|how many (?:hours|minutes|days)", "howlong"),
    (r"address(?:es)?", "email"),
    (r"prerequisites?|requirements?|required|requires?", "require"),
    (r"pick(?:s|ed|ing)?|choos(?:e|es|ing)|chose|select(?:s|ed|ing)?", "choose"),
    (r"continu(?:e|es|ed|ing)|proceed(?:s|ed|ing)?|go ahead|carry on", "continue"),
    (r"dms?|direct messages?|messag(?:e|es|ed|ing)", "message"),
)
_SYNONYM_RULES = tuple(
    (re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])"), replacement)
    for pattern, replacement in _SYNONYMS
)

_STOPWORD_TEXT = """a about above again all also am an and any are as at be because been being below
    between both but by can could did do does doing done down during each either else etc ever every for
    from further get gets getting got had has have having he her here hers him his how i if in into is it
    its itself just let like me might mine more most much must my myself need needs no nor not now of off
    on once only or our ours out over own please pls plz shall she should so some still such
    than that the their them then there these they this those through to too under until up us very via
    whats hows wheres thats theres heres lets whole thing things stuff lol wtf btw anyway u ur
    right definitely totally actually exactly currently basically mean means meaning
    want wants was we were what where which while whom whose why will with would yet you your
    yours hi hello hey thanks thank thx guys anyone someone somebody ok okay question quick really
    im ive dont doesnt didnt cant cannot wont isnt arent wasnt hasnt havent ill id youre gonna wanna
    bot aadbot think guess maybe probably perhaps seems seem somehow kinda sorta
    wholl theyll youll theyre weve theyve youve"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_WORD_SPLIT = re.compile(r"[\W_]+")


def prepare(text: str) -> str:
    """Lower-cased, punctuation-free, synonym-folded text, cut to the scored length."""
    return _prepare_scored(text[:MAX_SCORED_CHARS])


@functools.lru_cache(maxsize=4096)
def _prepare_scored(text: str) -> str:
    """Cached: fitting the answerer prepares the same phrasings and questions once per feature set. Keyed
    by the scored part only, as the cache keeps its keys: keyed by whole questions, a `serve` asked long
    pastes held thousands of them (tens of kB each) for as long as it ran."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("'", "").replace("\u2019", "")
    text = " ".join(_WORD_SPLIT.split(text))
    for pattern, replacement in _SYNONYM_RULES:
        text = pattern.sub(replacement, text)
    return text


# Words recur from question to question: the stems and character n-grams of this many are kept (about 2 MB
# when full; the evaluation's 1,200 questions meet 2,500 words). Longer "words" (a pasted token or hash) are
# rarely met twice and would hold kilobytes each.
_KEPT_WORDS = 4096
_LONGEST_KEPT_WORD = 30


def stem(word: str) -> str:
    """A deliberately small suffix stripper: enough to meet "inviting", "invites" and "invitation"."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ation", "tion", "sion", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix) + (1 if suffix in ("tion", "sion") else 0)]
            if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "aeiouls":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if word.endswith("at") and len(word) > 5:
        word = word[:-2]
    return word


_kept_stem = functools.lru_cache(maxsize=_KEPT_WORDS)(stem)


def is_stopword(word: str) -> bool:
    """Whether a word, lower case and without apostrophes ("dont"), carries no meaning of its own."""
    return word in _STOPWORDS


def content_words(prepared: str) -> list[str]:
    """The stemmed words that carry meaning, in order."""
    return [
        _kept_stem(word) if len(word) <= _LONGEST_KEPT_WORD else stem(word)
        for word in prepared.split()
        if word not in _STOPWORDS
    ]


def word_features(words: Iterable[str]) -> Counter[str]:
    """Unigrams plus adjacent pairs, so "guest member" weighs more than the two words apart."""
    words = list(words)
    return Counter(
        itertools.chain(words, (f"{first}_{second}" for first, second in itertools.pairwise(words)))
    )


def char_features(words: Iterable[str]) -> Counter[str]:
    """Character 3- to 5-grams inside each word: they survive typos the word features miss."""
    grams = (
        _kept_char_grams(word) if len(word) <= _LONGEST_KEPT_WORD else _char_grams(word) for word in words
    )
    return Counter(itertools.chain.from_iterable(grams))


def _char_grams(word: str) -> tuple[str, ...]:
    """The word's 3-grams, then its 4-grams, then its 5-grams, each in order (the order they are counted in,
    which the similarities' sums follow)."""
    padded = f" {word} "
    return tuple(padded[i : i + size] for size in (3, 4, 5) for i in range(len(padded) - size + 1))


_kept_char_grams = functools.lru_cache(maxsize=_KEPT_WORDS)(_char_grams)


# Everyday software words: the knowledge base uses them, but so does any IT question ("add a stage",
# "restart the script"), so a question that shares only these with a topic is not about it.
_GENERIC_TEXT = """new add use change status show work script convert fail help problem issue ask say tell
    step happen setting run start update create restart open"""
GENERIC_TERMS = frozenset(word for text in _GENERIC_TEXT.split() for word in content_words(prepare(text)))
