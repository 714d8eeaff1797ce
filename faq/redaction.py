"""Secrets taken out of a question before it is kept, shown to the admins or carried by a button."""

from __future__ import annotations

import re

# Enough to read the question; a pasted log file is not worth keeping whole.
KEPT_CHARS = 500
# Long runs of token-like characters mixing letters and digits: PATs, Slack tokens, client secrets.
_SECRET_LIKE = re.compile(r"(?=[A-Za-z0-9+/=_.~-]*\d)(?=[A-Za-z0-9+/=_.~-]*[A-Za-z])[A-Za-z0-9+/=_.~-]{20,}")
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
# A value after a credential's name: `password=…`, `pwd: …`, `client_secret=…`, a connection string's
# `Password=…;`, JSON's `"secret": "…"`. After `=` anything is a value; after `:` or "is" only a word with the
# shape of a credential (see `_CREDENTIAL_MARK`), so "password: how do I reset it" and "the token is expired"
# stay as they are.
_NAMED_SECRET = re.compile(
    r"(?i)\b((?:[a-z]+[_-]|client|shared)?(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
    r"|account[_-]?key|pat)[\"']?)(\s*=\s*|\s*:\s*|\s+is\s+)(\"[^\"]*\"|'[^']*'|[^\s;&\"'<>]+)"
)
_REDEEM_LINK = re.compile(
    r"(?i)(?:login\.microsoftonline\.com|invitations\.microsoft\.com)(?:/|%(?:25)*2f).*?redeem"
)


def redact(text: str) -> str:
    """The question with anything that looks like a secret replaced, cut to a readable length."""
    text = invitation_links_masked(text[: KEPT_CHARS * 4], "[redacted invitation link]")
    text = _AFTER_SCHEME.sub(_credential_redacted, text)
    text = _NAMED_SECRET.sub(_named_value_redacted, text)
    text = _PAT.sub("[redacted]", _JWT.sub("[redacted]", text))
    return _SECRET_LIKE.sub("[redacted]", text)[:KEPT_CHARS]


def invitation_links_masked(text: str, mask: str) -> str:
    """`text` with each run that holds an invitation's own link to accept it replaced by `mask`."""
    return _PASTED_RUN.sub(lambda run: mask if _REDEEM_LINK.search(run.group(0)) else run.group(0), text)


def _credential_redacted(match: re.Match[str]) -> str:
    scheme, space, word = match.groups()
    if len(word) >= 20 or (len(word) >= _SHORTEST_CREDENTIAL and _CREDENTIAL_MARK.search(word)):
        return f"{scheme}{space}[redacted]"
    return match.group(0)


def _named_value_redacted(match: re.Match[str]) -> str:
    name, separator, value = match.groups()
    if "=" in separator or value[0] in "\"'" or _CREDENTIAL_MARK.search(value):
        return f"{name}{separator}[redacted]"
    return match.group(0)
