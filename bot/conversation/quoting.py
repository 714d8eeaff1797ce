"""A person's own words reposted by the bot (a question passed to the admins, one kept for `faq review`):
shown as they wrote them, readable, with none of their markup working under the bot's name.

Quoted live, "**everyone must** [re-enter your password here](https://evil.example/login)" becomes a
disguised link in bold in the admins' channel, posted by the bot. `quoted` makes such text inert in the
conversation's markup on every surface, each of which formats it its own way:

- Slack's own tokens (a link with a label `<url|label>`, a mention `<@U1>`, `<!channel>`), which Slack
  delivers in what a person typed, are written out as text ("label (url)", "@U1", "@channel"), so the link's
  address shows. Slack's escaping of `&`, `<` and `>` is undone where its text comes in
  (`bot.slack.blocks.typed`) and done again by Slack's renderer for every text (`bot.slack.blocks.escaped`).
- A Markdown link `[label](url)` (live in Teams) is parted, "[label] (url)": both show, neither works.
- Emphasis markers (`*`, `_`, `~`) become look-alikes no surface formats, `∗` (U+2217), `＿` (U+FF3F), `∼`
  (U+223C), only where they would emphasise: where one can open emphasis and another of its kind close it,
  by CommonMark's flanking rules (Teams) or by Slack's (a marker at a word's edge). The rest stays as typed,
  so that an admin can copy it: `first_last@contoso.com`, `_svc@contoso.com`, `~/.gitconfig`,
  `dev.azure.com/org/_git/repo`; and nothing in an address with a scheme (`https://…/_apis/*/x`), which no
  surface emphasises inside. Neither Slack nor Teams has an escape that works everywhere: Slack has none,
  and Teams' mobile clients long showed a CommonMark backslash (microsoft/AdaptiveCards#5590).
- Backticks, two or more of which make code (Slack) or bold (Teams, `bot.teams.cards`), become `｀`
  (U+FF40).
- Line breaks become spaces, so no line of the quote starts a quote, list or heading of its own; and the
  one line does not either: a block marker at its start (`# `, `- `, `1. `, `>`, `---`, `~~~`, `[x]:`), which
  makes a heading, a list, a nested quote, a rule, code or an unseen link definition of the FAQ review's
  `> question` on Teams, becomes a look-alike (`＃`, `‐`, `．`, `＞`, `［`, ...).
"""

from __future__ import annotations

import re
import unicodedata

_SLACK_TOKEN = re.compile(r"<((?:[@#!]|[A-Za-z][A-Za-z0-9+.-]*:)[^<>\s|]*)(?:\|([^<>]*))?>")
"""Slack's `<target>` or `<target|label>`: a link (its target has a scheme), a mention, a channel,
`<!channel>`, a date. Not `<TF400813>`, which is what a person typed (Teams delivers it so, unescaped by
`bot.teams.endpoint.words_of`)."""
_MARKDOWN_LINK = re.compile(r"\]\(")
_ADDRESS = re.compile(r"(?i)\b(?:https?|ftp)://\S+")
_LOOK_ALIKES = {"*": "\u2217", "_": "\uff3f", "~": "\u223c"}
_BLOCK_START = re.compile(
    r"(?:#{1,6}|[-+*]|\d{1,9}[.)])(?=\s|$)|>|([-*_])\s*(?:\1\s*){2,}$|~~~|\[(?=[^\]]*\]:)"
)
"""What starts a heading, a list item, a quote, a thematic break, a fence or a link reference definition in
CommonMark (a text `quoted` has no leading space, so no indented code). A definition (`[x]: https://...`) is
not shown at all: the quote would be empty."""
_BLOCK_LOOK_ALIKES = {
    "#": "\uff03",
    "-": "\u2010",
    "+": "\uff0b",
    ".": "\uff0e",
    ")": "\uff09",
    ">": "\uff1e",
    "[": "\uff3b",
    **_LOOK_ALIKES,
}
_BACKTICK = "`"
_BACKTICK_LOOK_ALIKE = "\uff40"


def quoted(text: str) -> str:
    """`text` on one line, inert and readable on every surface (see the module's docstring)."""
    plain = _SLACK_TOKEN.sub(_written_out, text)
    flat = _MARKDOWN_LINK.sub("] (", " ".join(plain.split()))
    if flat.count(_BACKTICK) > 1:
        flat = untick(flat)
    while True:  # a look-alike is punctuation: it can change what its neighbours may do, so look again
        swapped = _inert(flat)
        if swapped == flat:
            return _unblocked(flat)
        flat = swapped


def _unblocked(text: str) -> str:
    """`text` with the marker of a block it would start (see `_BLOCK_START`) as a look-alike: one is enough
    (`＃## x`, `‐--`, `1．`). Punctuation for punctuation: no neighbour flanks otherwise, and the runs
    `_inert` kept can pair with none the fewer."""
    start = _BLOCK_START.match(text)
    if start is None:
        return text
    at = next(index for index, character in enumerate(start[0]) if character in _BLOCK_LOOK_ALIKES)
    return text[:at] + _BLOCK_LOOK_ALIKES[text[at]] + text[at + 1 :]


def untick(text: str) -> str:
    """`text` with each backtick as its look-alike: to show a typed word as code, whose span a backtick in
    it would end early (`a`b` shows `a`, then `b` and the rest of the message out of place)."""
    return text.replace(_BACKTICK, _BACKTICK_LOOK_ALIKE)


def _inert(text: str) -> str:
    """Each run of markers that can open emphasis with a later one that can close it (or close it after
    one that can open it), on either surface, as its look-alikes."""
    addresses = [address.span() for address in _ADDRESS.finditer(text)]
    shown = list(text)
    for marker, look_alike in _LOOK_ALIKES.items():
        runs = [
            run.span()
            for run in re.finditer(re.escape(marker) + "+", text)
            if not any(start <= run.start() < end for start, end in addresses)
        ]
        rules = (_slack,) if marker == "~" else (_slack, commonmark_emphasis)  # Teams has no strikethrough
        for rule in rules:
            can = [rule(text, marker, start, end) for start, end in runs]
            for index, (start, end) in enumerate(runs):
                opens, closes = can[index]
                later = any(close for _, close in can[index + 1 :])
                earlier = any(open_ for open_, _ in can[:index])
                if (opens and later) or (closes and earlier):
                    shown[start:end] = look_alike * (end - start)
    return "".join(shown)


def _slack(text: str, marker: str, start: int, end: int) -> tuple[bool, bool]:
    """Whether the run can open and close emphasis in Slack: at a word's edge, against the word."""
    before, after = _around(text, start, end)
    return (not before.isalnum() and not after.isspace(), not before.isspace() and not after.isalnum())


def commonmark_emphasis(text: str, marker: str, start: int, end: int) -> tuple[bool, bool]:
    """Whether the run `text[start:end]` of `marker` can open and close emphasis by CommonMark's rules (left-
    and right-flanking; a `_` inside a word does neither). The text's ends count as spaces."""
    before, after = _around(text, start, end)
    left = not after.isspace() and (not _punctuation(after) or before.isspace() or _punctuation(before))
    right = not before.isspace() and (not _punctuation(before) or after.isspace() or _punctuation(after))
    if marker == "*":
        return left, right
    return left and (not right or _punctuation(before)), right and (not left or _punctuation(after))


def _around(text: str, start: int, end: int) -> tuple[str, str]:
    """The characters either side of a run; the text's ends count as spaces."""
    return (text[start - 1] if start else " "), (text[end] if end < len(text) else " ")


def _punctuation(character: str) -> bool:
    """CommonMark's Unicode punctuation: the P and S categories."""
    return unicodedata.category(character)[0] in "PS"


def _written_out(token: re.Match[str]) -> str:
    target, label = token.group(1), token.group(2)
    if target.startswith(("@", "#")):  # a person or a channel: by name where Slack gave it
        return target[0] + (label or target[1:]).lstrip("@#")
    if target.startswith("!"):  # `<!channel>`, `<!here>`, `<!subteam^S1|@team>`, `<!date^…|fallback>`
        return label or "@" + target[1:].split("^")[0]
    return f"{label} ({target})" if label else target
