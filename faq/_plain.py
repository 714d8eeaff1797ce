"""A message as the FAQ reads it: the characters and markup that phones, word processors and chat surfaces put
into what a person typed or pasted, folded onto the plain text the reader's and the asker's patterns are
written in ("can't", "sign in", "TF400813"), once, before anything reads it.

- Typography: curly quotes and apostrophes (iOS, macOS, Teams and Word type `can’t`), dashes (`‐ ‑ ‒ – — ―
  −`), non-breaking and other Unicode spaces, line and paragraph separators, and invisible characters (a
  zero-width space or joiner, a soft hyphen, a byte-order mark) that a pasted page carries inside words.
- Fullwidth letters, digits and punctuation (`ＴＦ４００８１３`) and the ellipsis.
- Slack's tokens (`<mailto:a@b|a@b>`, `<https://x|label>`, `<@U1>`, `<!channel>`): Slack makes them of what
  a person typed, and `bot.slack.blocks.typed` keeps them (the bot writes them out when it quotes a person);
  read here as what was typed, the label, else the address.

Not here, as each surface undoes its own escaping once where its text comes in: Teams' `<at>` mentions,
markup and HTML character references (`bot.teams.endpoint.words_of`), Slack's `&amp;`, `&lt;` and `&gt;`
(`bot.slack.blocks.typed`). An `&amp;` that reaches the FAQ after that is what the person typed (decoding it
again was measured: docs/faq-eval.md, round 27). The question kept for the admins and carried by the rating
buttons stays as it came; this is for reading.
"""

from __future__ import annotations

import re

_SLACK_TOKEN = re.compile(
    r"<(?:(?P<address>(?:mailto:|(?:https?|ftp)://)[^<>\s|]*)|[@#!][^<>\s|]*)(?:\|(?P<label>[^<>]*))?>"
)
"""Slack's link (its target has a scheme), mention, channel or special token, with its label if any. Not
`<TF400813>` or `<your-org>`, which are what a person typed."""

_APOSTROPHES = "\u2018\u2019\u201a\u201b\u2032\u02bc"
_QUOTATION_MARKS = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_FOLDED = str.maketrans(
    {
        **dict.fromkeys(_APOSTROPHES, "'"),
        **dict.fromkeys(_QUOTATION_MARKS, '"'),
        **dict.fromkeys(_DASHES, "-"),
        **dict.fromkeys(_INVISIBLE, None),
        "\u2026": "...",
        # Fullwidth forms (`ＴＦ４００８１３`), one for one. Not all of NFKC, which makes letters of symbols
        # (`㎏`, `ℌ`) and so words of random characters (the ranker's own folding uses it).
        **{chr(0xFF01 + offset): chr(0x21 + offset) for offset in range(94)},
        # Unicode spaces (the non-breaking one, the ideographic one...); line and paragraph separators end a
        # line, as a typed one does.
        **dict.fromkeys("\x0b\x0c\x1c\x1d\x1e\x1f\u00a0\u1680\u202f\u205f\u3000", " "),
        **dict.fromkeys([chr(code) for code in range(0x2000, 0x200B)], " "),
        **dict.fromkeys("\x85\u2028\u2029", "\n"),
    }
)


def plain(text: str) -> str:
    """`text` with its typography, compatibility forms and Slack's tokens folded (see the module)."""
    if "<" in text:
        text = _SLACK_TOKEN.sub(_typed_part, text)
    return text.translate(_FOLDED)


def _typed_part(token: re.Match[str]) -> str:
    """What the person typed that Slack made a token of: a link's label, else its address; a mention or a
    special token (`<@U1>`, `<!here>`) says nothing about the question."""
    if token.group("label"):
        return token.group("label")
    return token.group("address") or " "
