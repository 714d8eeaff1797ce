"""A person's own words reposted by the bot (a question passed to the admins, one kept for `faq review`):
shown as they wrote them, readable, with none of their markup working under the bot's name.

Quoted live, "**everyone must** [re-enter your password here](https://evil.example/login)" becomes a
disguised link in bold in the admins' channel, posted by the bot. `quoted` makes such text inert in the
conversation's markup on every surface, each of which formats it its own way:

- Slack's own tokens (a link with a label `<url|label>`, a mention `<@U1>`, `<!channel>`), which Slack
  delivers in what a person typed, are written out as text ("label (url)", "@U1", "@channel"), so the link's
  address shows; Slack's escaping of `&`, `<` and `>` is undone here and done again by Slack's renderer for
  every text (`bot.slack.blocks.escaped`).
- A Markdown link `[label](url)` (live in Teams) is parted, "[label] (url)": both show, neither works.
- Emphasis markers (`*`, and `_` and `~` where they can open or close it, not inside a word such as
  `first_last@contoso.com` nor in an address such as `https://dev.azure.com/org/_git/repo`, which an admin
  may copy) become look-alikes no surface formats: `∗` (U+2217), `＿` (U+FF3F), `∼` (U+223C). Neither
  Slack nor Teams has an escape that works everywhere: Slack has none, and Teams' mobile clients show a
  CommonMark backslash (microsoft/AdaptiveCards#5590).
- Line breaks become spaces, so no line of the quote starts a quote, list or heading of its own.
"""

from __future__ import annotations

import re

_SLACK_TOKEN = re.compile(r"<([^<>\s|]+)(?:\|([^<>]*))?>")
"""Slack's `<target>` or `<target|label>`: a link, a mention, a channel, `<!channel>`, a date."""
_SLACK_ESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
"""Slack's escaping of what a person typed, undone `&amp;` last (`&amp;lt;` is what they typed as `&lt;`)."""
_MARKDOWN_LINK = re.compile(r"\]\(")
_EMPHASIS = re.compile(r"\*|(?<![^\W_])[_~]|[_~](?![^\W_])")
"""Every `*`; a `_` or `~` not between two letters or digits."""
_ADDRESS = re.compile(r"(?i)\b(?:https?|ftp)://\S+")
_LOOK_ALIKES = {"*": "\u2217", "_": "\uff3f", "~": "\u223c"}


def quoted(text: str) -> str:
    """`text` on one line, inert and readable on every surface (see the module's docstring)."""
    plain = _SLACK_TOKEN.sub(_written_out, text)
    for escape, character in _SLACK_ESCAPES:
        plain = plain.replace(escape, character)
    flat = " ".join(plain.split())
    unlinked = _MARKDOWN_LINK.sub("] (", flat)
    addresses = [address.span() for address in _ADDRESS.finditer(unlinked)]

    def look_alike(marker: re.Match[str]) -> str:
        at, character = marker.start(), marker.group()
        if character != "*" and any(start <= at < end for start, end in addresses):
            return character  # an address stays as it is: no surface emphasises inside one it shows
        return _LOOK_ALIKES[character]

    return _EMPHASIS.sub(look_alike, unlinked)


def _written_out(token: re.Match[str]) -> str:
    target, label = token.group(1), token.group(2)
    if target.startswith(("@", "#")):  # a person or a channel: by name where Slack gave it
        return target[0] + (label or target[1:]).lstrip("@#")
    if target.startswith("!"):  # `<!channel>`, `<!here>`, `<!subteam^S1|@team>`, `<!date^…|fallback>`
        return label or "@" + target[1:].split("^")[0]
    return f"{label} ({target})" if label else target
