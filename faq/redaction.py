"""Secrets taken out of a question before it is kept, shown to the admins or carried by a button."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_plus

from faq._reading import ERROR_CODE
from faq._text import is_stopword

# Enough to read the question; a pasted log file is not worth keeping whole.
KEPT_CHARS = 500
_SEARCHED_CHARS = KEPT_CHARS * 4
_MASK = "[redacted]"
# Long runs of token-like characters mixing letters and digits: PATs, Slack tokens, client secrets, typed
# passwords, unless the run is a path, a dotted name or an encoded text made of names (`_reads_as_names`).
# A run holds its URL's percent-encoding, read decoded.
_SECRET_LIKE = re.compile(
    r"(?=[A-Za-z0-9+/=_.~%-]*\d)(?=[A-Za-z0-9+/=_.~%-]*[A-Za-z])[A-Za-z0-9+/=_.~%-]{20,}"
)
# What an endpoint path, a package, a host or a URL's query is made of: words and numbers between
# punctuation. A part is a name when it is a number, an error code (`TF400813`), or letters with at most
# two short numbers among them (`LocationService2`, `oauth2`, `b2b`, `adal4j`, `1ESPTSchema`). A generated
# secret mixes digits into its letters more often than that, or holds `~` (Entra's client secrets).
_NAME_SEPARATOR = re.compile(r"[^A-Za-z0-9~]+")
# Parts read as numbers, not words: an error code (`TF400813`), a version or an architecture (`v3`, `x64`).
_CODE_OR_VERSION = re.compile(r"[A-Z]{2,6}\d{3,}|[vVxX]\d+")
_DIGITS = re.compile(r"\d+")
_NUMBERS_IN_A_NAME = 2
_LONGEST_NUMBER_IN_A_NAME = 4
# A GUID names an organization, a tenant, an application or a request, and a hex id after GitHub's `blob/`
# a commit: none of them lets anyone in (the bot shows a directory's tenant id in its own links, and a
# support request needs it). People hide part of one with `x` or `y`.
_ID = re.compile(
    r"(?i)[0-9a-fxy]{8}-[0-9a-fxy]{4}-[0-9a-fxy]{4}-[0-9a-fxy]{4}-[0-9a-fxy]{12}"
    r"|\b(?:blob|tree|commits?)/[0-9a-f]{7,40}\b"
)
# What tells a run of names from a typed password: the structure of a path (`/`, a URL's `//`, an id),
# a dotted name of three parts or more (`com.microsoft.aad.adal4j`, `spsprodweu4.vssps.visualstudio.com`),
# a version (`vsts-agent-win-x64-2.144.0`, `api-version=7.1-preview.1`), or percent-encoded text. Without
# one, a long run of words and digits is how people build passwords (`WelcomeToFabrikam2024`,
# `Correct-Horse-Battery-Staple-2024`): masked, since a harmless word masked costs the admins a little
# context and a password kept is a leak.
_PERCENT_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
# Base64's own marks, in a run not percent-encoded: its padding, and `+` where a URL would have `%2B` or a
# space's `+` beside percent-encoded text.
_BASE64 = re.compile(r"[A-Za-z0-9]={1,2}$|\+")
_VERSION = re.compile(r"(?<![A-Za-z0-9])[vV]?\d+(?:\.\d+)+(?:-[A-Za-z]+(?:\.\d+)*)?(?![A-Za-z0-9])")
_DOTTED_PARTS = 3
# A path is judged piece by piece, between the characters no key holds (`/`, a space, `:`), so a key ending a
# readable path (`…/ServiceEndpoint/Endpoints/<key>`) is not kept for the words before it.
_OUTSIDE_A_KEY = re.compile(r"[^A-Za-z0-9+=_.~-]+")
_SHORTEST_KEY = 20
_SHORTEST_PIECE_KEY = 5
_NUMBERS_AT_THE_ENDS = re.compile(r"\d*[A-Za-z]*\d*")
# Stricter than a whole run's `_CONSONANTS_IN_A_ROW`: five consonants, `y` among them (`Bnspt`, `vcnbw`).
_CONSONANTS_IN_A_KEY = re.compile(r"(?i)[b-df-hj-np-tv-z]{5}")
# A host's name (`spsprodweu4.vssps.visualstudio.com`): lower case and dotted, which no generated key is.
_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+){2,}")
# A dotted name that holds a number other than a version or a code is a passphrase (`Fabrikam.Summer.2024`,
# `Welcome.To.Fabrikam1`), unless it is a host (`david342.onmicrosoft.com`, `_HOST`) or a namespace
# (`com.microsoft.alm.oauth2.useragent`), which starts as theirs do.
_NAMESPACE = re.compile(r"(?i)(?:com|org|net|io|microsoft|system)\.")
# Words as camel case splits them. Names are made of words of several letters (`Service`, `Definitions`),
# most with a vowel, acronyms short; letters generated at random switch case or meet a digit every letter
# or two (`AbCdEfGh`, `7f3c9a0b`), and run consonants or capitals together (`Xqzmv`, `GBNXFU`). Measured
# on 80,000 random keys (base64, base62, hex) against the runs of the real questions
# (tests/faq/test_redaction.py).
_CAMEL_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_SHORTEST_AVERAGE_WORD = 4
_VOWEL = re.compile(r"[aeiouyAEIOUY]")
_WORDS_WITHOUT_A_VOWEL = 1 / 3
_LONGEST_ACRONYM = 5
_CONSONANTS_IN_A_ROW = re.compile(r"(?i)[b-df-hj-np-tv-xz]{6}")
# Tokens with a known prefix, whatever their rest: Slack's bot, user and app tokens (`xoxb-`, `xoxp-`,
# `xapp-` ...) and GitHub's (`ghp_` ...).
_PREFIXED_TOKEN = re.compile(r"\b(?:xox[a-z]|xapp|gh[pousr])[-_][A-Za-z0-9-]{10,}")
# Azure DevOps' newer personal access tokens: 84 letters and digits, a run of their own (not the start of a
# longer key, which `_SECRET_LIKE` masks whole).
_LONG_PAT = re.compile(r"(?<![A-Za-z0-9+/=_.~%-])[A-Za-z0-9]{84}(?![A-Za-z0-9+/=_~%-])")
# A JSON web token: a base64url header that starts with '{"' (eyJ), a payload, a signature.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
# A personal access token: 52 characters of base32, whether or not it happens to hold a digit.
_PAT = re.compile(r"\b[a-z2-7]{52}\b")
_AFTER_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9+/=_.~-]+)")
# A word after "Bearer" or "Basic" is a credential when it has the shape of one; "Bearer give me" is English.
_SHORTEST_CREDENTIAL = 8
_CREDENTIAL_MARK = re.compile(r"[0-9+/=_.~-]|[a-z][A-Z]")
# An invitation's own link to accept it (Graph's `inviteRedeemUrl`, the email's link, the sandbox's) lets
# whoever holds it accept: its host and a `redeem` path, plain or percent-encoded (a pasted `rd=` value, a
# Safe Links wrapper). The whole pasted run is masked, since its secret part has no fixed shape, but not
# the punctuation that ends a sentence or clause around it ("… is <link>: open it").
_PASTED_RUN = re.compile(r"[^\s<>\"'|]*[^\s<>\"'|.,:;!?)]")
_REDEEM_LINK = re.compile(
    r"(?i)(?:login\.microsoftonline\.com|invitations\.microsoft\.com)(?:/|%(?:25)*2f).*?redeem"
)
# The password of a URL's `user:password@`, as git and database URLs carry it; the user and host are kept.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)([^\s/@]+)@")
# A URL's user without a password (`https://Winter2024Fabrikam@dev.azure.com/…`): git takes a password or a
# PAT there as well as a name, so it is masked, unless it is the organization the URL goes on to name, as
# Azure DevOps' own clone URLs carry it (`https://fabrikam@dev.azure.com/fabrikam/…`), or ssh's `git`.
_URL_USER = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s:/@]+)@(?=([^\s]*))")
_URL_PART = re.compile(r"[/?#&=.:]")
_VALUE = r"(?P<value>\"[^\"]*\"|'[^']*'|`[^`]*`|[^\s;&\"'`<>]+)"
# The last word of a credential's name. `key` only ends a longer one (`AccountKey`, `x-api-key`, "api key"):
# "the key=value pairs" is about something else.
_SECRET_WORD = (
    r"(?:password|passwd|passphrase|pwd|pw|pass|secret|token|pat|signature|sig"
    r"|(?<=[a-z0-9_-])key|(?<=api )key)s?"
)
_SECRET_WORD_PART = re.compile(r"(?i)pass|pw|secret|token|pat|sig|key")
"""What each of `_SECRET_WORD`'s words holds."""
# A command line's secret: `--password X`, `--client-secret=X`, `--token X`, `curl -u user:X`, and `-p X`,
# which is a password only on a line that logs in (in `az devops` commands it names the project). A word
# after `--password ` is its value unless it reads as a question about the flag ("what does --password
# do?", "is --token required?"): `_ABOUT_THE_FLAG`.
_LONG_FLAG = re.compile(rf"(?i)(?<!\S)(--(?:[a-z0-9]+-)*{_SECRET_WORD})(\s+|=)(?!-){_VALUE}")
_USER_FLAG = re.compile(rf"(?<!\S)(-u|--user)(\s+|=)([^\s:]+:){_VALUE}")
_SHORT_FLAG = re.compile(rf"(?<!\S)(-[pP])(\s+)(?!-){_VALUE}")
_FLAG = re.compile(r"(?<!\S)-")
"""Where each of the flags above begins."""
_LOGS_IN = re.compile(r"(?i)\blogin\b|(?<!\S)(?:-[uU]|--username)\s")
# A value after a credential's name, the name ending in one of `_SECRET_WORD`: `password=…`, `pwd: …`,
# `AZURE_CLIENT_SECRET=…`, `$env:AZURE_DEVOPS_EXT_PAT = '…'`, `SYSTEM_ACCESSTOKEN=…`, a connection string's
# `Password=…;`, a SAS's `sig=…`, JSON's `"secret": "…"`, "my password is now …". After `=` any value but a
# short number (`PAT=1`); after `:`, "is", "was" or a space only one that looks like a credential
# (`_looks_like_credential`), so "password: how do I reset it" and "my token is 2 days old" stay as they are.
# After `:`, "is" or "was" on the same line a name is one too ("my password is Fabrikam", `_is_name`), but
# not a word said of a password's state ("my password is Expired", `_reads_as_state`) nor the first word of
# a longer name ("my password is Windows Hello"); not after a line break (ssh's "password:" prompt, then
# "Permission denied") or a bare space ("token Broker").
_NAMED_SECRET = re.compile(
    r"(?i)\b(?:[a-z0-9]+[_-]){0,6}"
    r"(?:(?:my|client|app|shared|access|account|api|refresh|id|auth|subscription|storage|admin|user)\s?){0,3}"
    rf"{_SECRET_WORD}[\"']?"
    r"(?:(?P<assigned>\s*=>?\s*)|(?P<said>\s*:\s*|\s+(?:is|was)(?:\s+now)?(?:\s*:\s*|\s+))|\s+)"
    rf"{_VALUE}"
)
# Inside a value, what prose does not hold: the symbols of generated secrets (`~`, `+`, `_` …).
_SYMBOL = re.compile(r"[~!@#$%^&*+=_|\\]")
_SHORTEST_VALUE = 6
# "my password is Speed": a name as short as a word that would be a password.
_SHORTEST_NAME = 5
_SHORTEST_PIN = 4
# What people say of a password, token or secret, capitalised or not ("PAT: Unauthorized", "my password is
# Correct but…", "my password was Forgotten"): read as the secret's state or kind, never as the secret
# (`_reads_as_state`). Past participles are listed, not told by their ending: a word in -ed is as likely a
# password ("Seabed", "Speed", "Wicked", "Mildred"). Then the words that go on a sentence about it
# ("Password: Never expires"). Words of five letters or more: a shorter one is no name (`_is_name`).
_STATE_WORD = re.compile(
    r"(?:"
    r"expired|expires|expiring|revoked|locked|unlocked|compromised|disabled|enabled|deleted|rotated|reset|"
    r"forgotten|frozen|written|hidden|stolen|leaked|changed|unchanged|changing|rejected|refused|denied|"
    r"accepted|blocked|required|needed|missing|outdated|synced|synchronized|managed|scoped|shared|saved|"
    r"stored|encrypted|generated|created|issued|renewed|regenerated|updated|given|known|cached|succeeded|"
    r"failed|verified|unauthorized|forbidden|assigned|provided|mapped|linked|protected|restricted|limited|"
    r"removed|replaced|ignored|incorrect|wrong|invalid|valid|correct|right|failing|working|broken|pending|"
    r"temporary|permanent|personal|optional|mandatory|empty|blank|unknown|different|strong|short|active|"
    r"inactive|stale|useless|readonly|bearer|never|always|still|already|there|where|which"
    r")"
)
# A word after a credential's flag that asks about the flag rather than giving its value: a verb of
# "what does --password do?", a word that joins it to the rest of a sentence ("is --token for PATs?"), or
# what is said of a flag ("is --password Optional?", "--password Expired"). Not the other state words:
# "tool --password new" or "--token strong" gives the value.
_ABOUT_THE_FLAG = re.compile(
    r"(?:"
    r"do|does|did|doing|work|works|mean|means|is|are|was|for|and|or|with|without|in|on|to|when|if|"
    r"not|vs|instead|still|only|also|flag|option|argument|parameter|switch|value|accept|accepts|take|"
    r"takes|expect|expects|support|supports|need|needs|required|optional|mandatory|expired"
    r")"
)

# A password said in words ("my password is correct horse battery staple", "password: hunter two 2"): after a
# password's name and "is", "was" or ":" on the same line, the words up to the clause's end or the first word
# of prose, when there are `_WORDS_IN_A_PASSPHRASE` or more. Prose is what a sentence about a password is
# made of and a passphrase is not: words that join ("not", "to", "and", "my": "my password is not working",
# "is Synced from on-prem", "is correct horse battery staple and it fails") and what is said of passwords
# and where they are typed ("8 chars minimum", "Azure AD account", "incorrect error message"). Fewer words
# are left to the one-word rules, unless they are the whole clause (`_PASSPHRASE_END`, below).
_PASSWORD_NAME = re.compile(r"(?i)pass(?:word|wd|phrase)s?|\bpwd|\bpw\b|\bpass\b")
_PASSPHRASE_WORD = re.compile(r"[^\s.,;:!?()\[\]{}<>\"'`]+(?:'[a-z]+)?")
_PASSPHRASE_GAP = re.compile(r"[ \t]+")
_WORDS_IN_A_PASSPHRASE = 3
# A passphrase may start with the words a sentence would ("my password is my dog rex 2019", "pw is still
# purple monkey dishwasher") and be two words ("my password is purple monkey"): then it is masked when its
# words run to the clause's end, none of them prose nor said of a password's state. "my password is still the
# old one", "is not working", "is a long one" or "is on the sticky note" stop at a word of prose.
_PASSPHRASE_LEAD = re.compile(r"(?i)(?:(?:my|our|the|an?|still|just|now|literally|simply)[ \t]+){1,2}")
_SHORTEST_CLAUSE_PASSPHRASE = 2
_PASSPHRASE_END = re.compile(
    r"[ \t]*(?:$|[\n.,;:!?)]|(?i:and|but|so|or|because|when|since|though|while|if|then)\b)"
)
_PARTICIPLE = re.compile(r"(?i)(?:ed|en|ing)$")
"""A state said as a participle ("Expired", "Written", "Failing"), never a passphrase's first word."""
_PROSE_WORD = re.compile(
    r"never|couldnt|wouldnt|shouldnt|may|without|onto|after|before|since|till|when|who|already|even|always|"
    r"often|sometimes|usually|quite|enough|same|different|less|other|another|though|although|however|"
    r"anymore|today|yesterday|tomorrow|somewhere|anywhere|everywhere|keeps|kept|looks|"
    r"characters?|chars?|letters?|digits?|symbols?|numbers?|minimum|maximum|min|max|long|length|days?|"
    r"weeks?|months?|years?|hours?|minutes?|old|new|expiry|expiration|policy|policies|complexity|rules?|"
    r"errors?|message|prompt|login|logon|sign|signin|accounts?|user|username|e-?mail|"
    r"azure|microsoft|windows|entra|aad|ad|devops|git|portal|admin|directory|tenant|field|box|screen|page|"
    r"forgot|forget|link|links|button|option|password|passwords|passphrase|pwd|pw|pin|issue|issues|problem|"
    r"problems|question|help|sync|change|prompt|popup|dialog|manager|keychain|vault|tokens?|secrets?|pats?|keys?"
)
"""Besides the ranker's stopwords (`faq._text.is_stopword`), words of prose about a password, lower case
and without apostrophes: what joins, and what is said of passwords and where they are typed."""

PASSWORD, PAT, CLIENT_SECRET, TOKEN = "password", "pat", "client-secret", "token"
"""What a message gave away (`leaked`): each is changed or revoked in its own place."""
# The words that say which kind a masked secret is. Read only just before it, in its own clause: "my PAT
# expired, and my password is …" gives a password away, not a PAT (rev78). The nearest word names it; a
# "client secret" is no password, and a URL's `user:password@` and a login's `-p` are passwords. A secret
# no word names is what its shape says (`_PAT`, `_PREFIXED_TOKEN`, `_JWT`); with neither, no kind (`leaked`).
_KIND_WORDS = (
    (PAT, re.compile(r"(?i)\bpats?\b|personal[ _-]access[ _-]tokens?|_EXT_PAT\b")),
    (CLIENT_SECRET, re.compile(r"(?i)client[ _-]?secrets?|app(?:lication)?[ _-]secrets?")),
    (
        PASSWORD,
        re.compile(
            r"(?i)pass(?:word|wd|phrase)s?\b|\bpwd\b|\bpw\b|\bpass\b|://[^\s:/@]*:[^\s/@]+@|(?<!\S)-[pP]\s"
        ),
    ),
    (TOKEN, re.compile(r"(?i)\btokens?\b|\bbearer\b")),
)
_NEAR = 40
_CLAUSE_END = re.compile(r"[.,;!?](?=\s)|\n")
# What gives nothing away though `redact` masks it, as a secret's shape or after a secret's name: an
# address (`john.smith1984_gmail.com#EXT#@fabrikam2024.onmicrosoft.com`), never a URL's `user:password@`;
# a setting's value (`pat=true`); and an error code (`PAT TF401019 when I clone`). Read as a word that is no
# secret before looking (rev78: a note on `status contoso-2024-devops-prod1` and on `pat=true`; rev81: on
# `bearer token AADSTS50020`).
_ADDRESS = re.compile(r"(?<![\w.:/%+#-])[\w.+#%-]+@[\w-]+(?:\.[\w-]+)+")
_SETTING = re.compile(r"(?i)[\w$.-]*\s*[=:]\s*(?:true|false|yes|no|on|off|null|none|enabled|disabled)\b")


def leaked(text: str, *, known: Iterable[str] = ()) -> str | None:
    """The kind of secret `text` gives away, as `redact` finds it (a password, a PAT, a client secret, a
    token), never the secret itself; None when it finds none, or only runs no word or shape names (masked
    all the same, but mostly names: a note on them would be wrong). `known`: names the bot knows, such as
    its organizations', which give nothing away."""
    plain = text.replace(_MASK, " ")
    # the longest first: `fabrikam-fiber-eu` whole, not `fabrikam-fiber` with a run left over
    for name in sorted(known, key=len, reverse=True):
        plain = re.sub(rf"(?i)(?<![\w.-]){re.escape(name)}(?![\w-])", "someone", plain)
    plain = ERROR_CODE.sub("error", _SETTING.sub(" ", _ADDRESS.sub("someone", plain)))
    masked = _masked(plain)
    shape = PAT if _PAT.search(plain) or _LONG_PAT.search(plain) else None
    if shape is None and (_PREFIXED_TOKEN.search(plain) or _JWT.search(plain)):
        shape = TOKEN
    for mask in re.finditer(re.escape(_MASK), masked):
        clause = _CLAUSE_END.split(masked[max(0, mask.start() - _NEAR) : mask.start()])[-1]
        kind = _named_kind(clause + masked[mask.start() : mask.end() + 1]) or shape
        if kind is not None:
            return kind
    return None


def _named_kind(words: str) -> str | None:
    """The kind the word nearest a masked secret's end names; the more specific on a tie."""
    found = [
        (found.end(), -rank, kind)
        for rank, (kind, pattern) in enumerate(_KIND_WORDS)
        for found in pattern.finditer(words)
    ]
    return max(found)[2] if found else None


def redact(text: str) -> str:
    """The question with anything that looks like a secret replaced, cut to a readable length."""
    return _masked(text)[:KEPT_CHARS]


def without_secrets(text: str) -> str:
    """`text` as the answerer reads it: each secret `redact` masks taken out, mask and all, so the question
    keeps its meaning without a word the topics cannot know ("my PAT is <token> stopped working" is read as
    "my PAT is stopped working"). Only as far as `redact` searches: a long paste's rest is read as it came."""
    head = _masked(text)
    return head.replace(_MASK, " ") + text[_SEARCHED_CHARS:]


def _masked(text: str) -> str:
    """`text`, up to a readable length's few times, with anything that looks like a secret replaced."""
    text = invitation_links_masked(text[:_SEARCHED_CHARS], "[redacted invitation link]")
    text = _AFTER_SCHEME.sub(_credential_redacted, text)
    # Each step below searches only a text holding what all its matches hold (most questions hold no
    # URL, no flag, no credential's name): the same text back, for a fraction of the searching.
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\1{_MASK}@", text)
        text = _URL_USER.sub(_url_user_redacted, text)
    if _FLAG.search(text):
        text = _LONG_FLAG.sub(_long_flag_value_redacted, text)
        text = _USER_FLAG.sub(_flag_value_redacted, text)
        text = _SHORT_FLAG.sub(_login_password_redacted, text)
    if _SECRET_WORD_PART.search(text):
        text = _named_values_redacted(text)
    text = _PAT.sub(_MASK, _JWT.sub(_MASK, text))
    text = _LONG_PAT.sub(_MASK, _PREFIXED_TOKEN.sub(_MASK, text))
    return _SECRET_LIKE.sub(_secret_like_redacted, text)


def invitation_links_masked(text: str, mask: str) -> str:
    """`text` with each run that holds an invitation's own link to accept it replaced by `mask`."""
    if not _REDEEM_LINK.search(text):  # no run of it can hold one
        return text
    return _PASTED_RUN.sub(lambda run: mask if _REDEEM_LINK.search(run.group(0)) else run.group(0), text)


def _secret_like_redacted(match: re.Match[str]) -> str:
    run = match.group(0)
    return run if _reads_as_names(run) else _MASK


def _reads_as_names(run: str) -> bool:
    """Whether a long run of letters and digits is names, not a secret: an endpoint path
    (`ServiceDefinitions/LocationService2`), a package with its version, a URL with a tenant id. Each
    segment of a path is judged on its own, so a key ending a readable path is not kept for its path."""
    if _BASE64.search(run) and not _PERCENT_ENCODED.search(run):
        return False
    text = _ID.sub("/", unquote_plus(run))
    if "/" in text or _PERCENT_ENCODED.search(run):
        pieces = [piece for piece in _OUTSIDE_A_KEY.split(text) if _could_be_a_key(piece)]
        return _segment_reads_as_names(text) and all(map(_piece_reads_as_a_name, pieces))
    dotted = [part for part in text.split(".") if part]
    if len(dotted) < _DOTTED_PARTS and not _VERSION.search(text):
        return False
    return _segment_reads_as_names(text) and not _numbered_passphrase(text)


def _could_be_a_key(piece: str) -> bool:
    """Whether a piece of a path could be a key: one of several characters with a digit, or as long as a
    key without one. Short ones (`en-us`, `b2b`, `v3`, `xxx`) are a path's, whatever their letters."""
    digit = _DIGITS.search(piece) is not None
    return (digit and len(piece) >= _SHORTEST_PIECE_KEY) or len(piece) >= _SHORTEST_KEY


def _piece_reads_as_a_name(piece: str) -> bool:
    """Whether a piece of a path that could be a key is a name: as `_segment_reads_as_names`, and its
    numbers begin or end its words (`LocationService2`, `1ESPTSchema`), where a key scatters them."""
    if _HOST.fullmatch(piece):
        return True
    parts = [part for part in _NAME_SEPARATOR.split(piece) if part and not _CODE_OR_VERSION.fullmatch(part)]
    words = [word for part in parts for word in _CAMEL_WORD.findall(part) if not word.isupper()]
    return (
        _segment_reads_as_names(piece)
        and all(_NUMBERS_AT_THE_ENDS.fullmatch(part) for part in parts)
        and not any(_CONSONANTS_IN_A_KEY.search(word) for word in words)
    )


def _numbered_passphrase(text: str) -> bool:
    """Whether a dotted or versioned run holds a number that is neither its version nor a code
    (`Fabrikam.Summer.2024`), outside a host's or a namespace's name."""
    parts = [part for part in _NAME_SEPARATOR.split(_VERSION.sub(".", text)) if part]
    numbered = [part for part in parts if _DIGITS.search(part) and not _CODE_OR_VERSION.fullmatch(part)]
    return bool(numbered) and not (_HOST.fullmatch(text) or _NAMESPACE.match(text))


def _segment_reads_as_names(segment: str) -> bool:
    """Whether a run's segment is names: each part between punctuation a name (`_name_part`), and its
    words as long, voiced and cased as names are."""
    parts = [part for part in _NAME_SEPARATOR.split(segment) if part]
    if not all(_name_part(part) for part in parts):
        return False
    words = [
        word for part in parts if not _CODE_OR_VERSION.fullmatch(part) for word in _CAMEL_WORD.findall(part)
    ]
    if not words:
        return True  # numbers and ids
    longer = [word for word in words if len(word) > 1]
    return (
        sum(map(len, words)) >= _SHORTEST_AVERAGE_WORD * len(words)
        and sum(not _VOWEL.search(word) for word in longer) <= _WORDS_WITHOUT_A_VOWEL * len(longer)
        and not any(word.isupper() and len(word) > _LONGEST_ACRONYM for word in words)
        and not any(_CONSONANTS_IN_A_ROW.search(word) for word in words if not word.isupper())
    )


def _name_part(part: str) -> bool:
    if "~" in part:
        return False
    numbers = _DIGITS.findall(part)
    return (
        part.isdecimal()
        or _CODE_OR_VERSION.fullmatch(part) is not None
        or (
            len(numbers) <= _NUMBERS_IN_A_NAME
            and all(len(number) <= _LONGEST_NUMBER_IN_A_NAME for number in numbers)
        )
    )


def _url_user_redacted(match: re.Match[str]) -> str:
    scheme, user, rest = match.groups()
    named = {part.lower() for part in _URL_PART.split(unquote_plus(rest))}
    if user.lower() == "git" or user.lower() in named:
        return match.group(0)
    return f"{scheme}{_MASK}@"


def _credential_redacted(match: re.Match[str]) -> str:
    scheme, space, word = match.groups()
    if len(word) >= 20 or (len(word) >= _SHORTEST_CREDENTIAL and _CREDENTIAL_MARK.search(word)):
        return f"{scheme}{space}{_MASK}"
    return match.group(0)


def _flag_value_redacted(match: re.Match[str]) -> str:
    """Everything of the match but its value, which is masked (unless an earlier step masked it already)."""
    if match.group("value").startswith(_MASK[:-1]):
        return match.group(0)
    return match.group(0)[: match.start("value") - match.start()] + _MASK


def _login_password_redacted(match: re.Match[str]) -> str:
    logs_in = _LOGS_IN.search(match.string, 0, match.start())
    return _flag_value_redacted(match) if logs_in else match.group(0)


def _long_flag_value_redacted(match: re.Match[str]) -> str:
    """`--password=X` always; `--password X` unless X asks about the flag ("what does --password do?")."""
    word = match.group("value").strip(".,;:!?()").lower()
    if match.group(2).isspace() and _ABOUT_THE_FLAG.fullmatch(word):
        return match.group(0)
    return _flag_value_redacted(match)


def _named_values_redacted(text: str) -> str:
    """Each value after a credential's name masked when it is one. A value kept is searched again, so in
    "the secret token: Abc12345" the word "token" read as the secret's value does not hide the real one."""
    kept: list[str] = []
    at = 0
    while match := _NAMED_SECRET.search(text, at):
        said = match.group("said")
        end = _passphrase_end(text, match) if said is not None and "\n" not in said else None
        if end is not None:
            kept.append(text[at : match.start("value")] + _MASK)
            at = end
            continue
        if not _is_secret(
            match.group("value"),
            assigned=match.group("assigned") is not None,
            said=said is not None and "\n" not in said,
            then=text[match.end() : match.end() + 2],
        ):
            kept.append(text[at : match.start("value")])
            at = match.start("value")
            continue
        kept.append(text[at : match.start("value")] + _MASK)
        at = match.end()
    return "".join(kept) + text[at:]


def _passphrase_end(text: str, match: re.Match[str]) -> int | None:
    """Where a password said in several words ends, when `match` (a credential's name, said on its line,
    and what follows) names a password said so; None for anything else."""
    if _PASSWORD_NAME.search(text, match.start(), match.start("value")) is None:
        return None
    start = match.start("value")
    words, end = _passphrase_words(text, start, adjective_first=True)
    if words >= _WORDS_IN_A_PASSPHRASE:
        return end
    lead = _PASSPHRASE_LEAD.match(text, start)
    words, end = _passphrase_words(text, lead.end() if lead else start, adjective_first=False)
    if words >= _SHORTEST_CLAUSE_PASSPHRASE and _PASSPHRASE_END.match(text, end):
        return end
    return None


def _passphrase_words(text: str, at: int, *, adjective_first: bool) -> tuple[int, int]:
    """How many words from `at` are no prose, and where the last ends (`at` when none are)."""
    words, end = 0, at
    while (word := _PASSPHRASE_WORD.match(text, at)) and not _prose(
        word.group(0), first=adjective_first and not words
    ):
        words, end = words + 1, word.end()
        gap = _PASSPHRASE_GAP.match(text, end)
        if gap is None:
            break
        at = gap.end()
    return words, end


def _prose(word: str, *, first: bool) -> bool:
    """Whether a word ends a password said in words: a word of prose, or one said of a password's state
    ("getting rejected constantly", "stored plain text somewhere"), but an adjective first: "correct horse
    battery staple" is a passphrase."""
    plain = word.lower().replace("'", "").replace("\u2019", "")  # "isn’t" as typed on a phone
    if is_stopword(plain) or _PROSE_WORD.fullmatch(plain):
        return True
    return _reads_as_state(word) and not (first and _PARTICIPLE.search(word) is None)


def _is_secret(value: str, *, assigned: bool, said: bool, then: str) -> bool:
    """After `=` any value but a short number (`PAT=1` is a setting) and punctuation (`password=?`); after
    `:`, "is" or "was" on the same line a credential's shape or a one-word name (`then`, what follows the
    value, does not go on with a capitalised word: "Windows Hello" names a thing); after a space a
    credential's shape."""
    if value.startswith(_MASK[:-1]):
        return False  # masked by an earlier step: the URL's password before its `@host`
    if ERROR_CODE.fullmatch(value.strip("\"'`?.,:;!()")):
        return False  # what the service said of it ("PAT TF401019 when I clone"), which the answer needs
    if assigned:
        return not (value.isdecimal() and len(value) < _SHORTEST_PIN) and bool(value.strip("\"'`?.,:;!()"))
    if _looks_like_credential(value):
        return True
    one_word = not re.fullmatch(r"\s[A-Z]", then)
    return said and one_word and _is_name(value) and not _reads_as_state(value)


def _is_name(value: str) -> bool:
    """A capitalised word of letters (`Fabrikam`), as a password that is a word is typed; not one in
    capitals (`NOT`), in camel case (`FailedToReadTenantPolicy`, an error's code) or with a hyphen or an
    apostrophe (`GitHub-issued`). A password in lower case ("my password is fabrikam") reads as English and
    is not told apart from "my password is expired"."""
    word = value.rstrip(".,;:!?)")
    return len(word) >= _SHORTEST_NAME and word[0].isupper() and word[1:].isalpha() and word[1:].islower()


def _reads_as_state(value: str) -> bool:
    """A word said of a password rather than one (`_STATE_WORD`: "Revoked", "Frozen", "Useless")."""
    return bool(_STATE_WORD.fullmatch(value.rstrip(".,;:!?)").lower()))


def _looks_like_credential(value: str) -> bool:
    """Quoted, or at least six characters that mix letters and digits in one word (`hunter2`, `Summer2024!`)
    or hold a symbol (`hunter~two`). Not a number ("12 characters"), a hyphenated word ("e-mailed",
    "90-day") or any other word ("expired"; a name, `Fabrikam`, is one only where `_is_name` says)."""
    if value[0] in "\"'`":
        return True
    word = value.strip(".,;:!?()[]{}")
    if len(word) < _SHORTEST_VALUE:
        return False
    mixed = any(
        len(part) >= _SHORTEST_VALUE and any(c.isdigit() for c in part) and any(c.isalpha() for c in part)
        for part in re.split(r"[-.']", word)
    )
    return mixed or bool(_SYMBOL.search(word))
