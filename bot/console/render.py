"""Messages as plain text for a terminal; buttons become the words to type."""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace

from bot.conversation.faq_views import ASKED
from bot.conversation.messages import (
    Actions,
    Attachment,
    Block,
    Button,
    Facts,
    Heading,
    Message,
    Table,
    Text,
)
from faq.redaction import invitation_links_masked

WIDTH = 100
_BOLD = re.compile(r"\*([^*\n]+)\*")
_LIST_MARKER = re.compile(r"(\d+\.|[-•✅❌⚠️]+)\s+")


def render(message: Message, *, indent: str = "  ") -> str:
    lines: list[str] = []
    for block in message.blocks:
        lines.extend(_block(block))
    return "\n".join(indent + line if line else "" for line in lines)


WITHHELD_LINK = "their own link, sent to them privately (printed only with the sandbox)"


def links_withheld(message: Message) -> Message:
    """`message` with each link button's link, and each invitation's link in its text, replaced by a note.
    Against the real Microsoft a link button, or the FAQ's reply to a direct message, holds one person's
    own link to accept their invitation, and the operator's terminal prints every person's messages."""
    return replace(message, blocks=tuple(_withheld(block) for block in message.blocks))


def _withheld(block: Block) -> Block:
    match block:
        case Actions(buttons):
            return Actions(tuple(replace(b, url=WITHHELD_LINK) if b.url else b for b in buttons))
        case Text(markdown):
            return Text(invitation_links_masked(markdown, WITHHELD_LINK))
    return block


def button_command(button: Button) -> str:
    """The words that do what the button does. A topic button's value also carries the question it was
    offered for (`faq_views.ASKED`), for its *Ask an admin*: the topic alone answers the same when typed,
    and the whole question up to three times over reads as clutter."""
    value = button.value.partition(ASKED)[0] if button.action == "ask" else button.value
    return f"{button.action} {value}".strip()


def _block(block: Block) -> list[str]:
    match block:
        case Heading(text):
            return [text.upper()]
        case Text(markdown):
            return [
                wrapped
                for paragraph in _plain(markdown).split("\n")
                for wrapped in (wrap(paragraph, _hanging(paragraph)) or [""])
            ]
        case Facts(pairs):
            width = max((len(key) for key, _ in pairs), default=0)
            return [f"{key.ljust(width)}  {value}" for key, value in pairs]
        case Table(header, rows):
            return _table(header, rows)
        case Actions(buttons):
            return ["  ".join(_button(button) for button in buttons)]
        case Attachment(filename, content, title):
            return [f"📎 {title} ({filename}, {len(content.splitlines())} lines)"]
    raise AssertionError(f"unknown block {block!r}")


def _button(button: Button) -> str:
    """`[Label: `words to type`]`; a button labelled with its own command shows it once; a link button
    shows its link; one that asks first (`Button.confirm`) asks here too, as the words act at once."""
    if button.url:
        return f"[{button.label}: {button.url}]"
    command = button_command(button)
    asked = f" if yes to “{button.confirm}”" if button.confirm else ""
    return f"[`{command}`{asked}]" if button.label == command else f"[{button.label}: `{command}`{asked}]"


def _plain(markdown: str) -> str:
    """Terminals show no bold: drop the `*` markers, keep `code` as typed."""
    return _BOLD.sub(r"\1", markdown)


def _hanging(paragraph: str) -> str:
    """Continuation lines of a list item or an indented line line up under its text."""
    stripped = paragraph.lstrip()
    marker = _LIST_MARKER.match(stripped)
    return " " * (len(paragraph) - len(stripped) + (marker.end() if marker else 0))


def wrap(paragraph: str, hang: str, width: int = WIDTH) -> list[str]:
    """The lines `textwrap.wrap(paragraph, width, subsequent_indent=hang, break_long_words=False,
    break_on_hyphens=False)` makes, found by searching the text rather than by walking it word by word
    (every chat test renders what the bot says: 33,130 paragraphs in tests/bot, 2.6 s of a profile).

    Each line is the longest run of whole words and spaces from where the last one ended that fits, its
    trailing spaces dropped, as are the spaces that would begin a line after the first; a word longer than
    a line stands alone on one. A word made only of spaces other than ASCII ones (a no-break space, which
    does not separate words) counts as spaces in textwrap's dropping: such a paragraph is left to it."""
    if _OTHER_SPACES.search(paragraph):
        return textwrap.wrap(
            paragraph, width, subsequent_indent=hang, break_long_words=False, break_on_hyphens=False
        )
    text = paragraph.expandtabs().translate(_TO_SPACE)
    lines: list[str] = []
    start = 0
    while start < len(text):
        indent = hang if lines else ""
        if lines and text[start] == " ":
            start = _CHUNK.match(text, start).end()  # type: ignore[union-attr]
            if start == len(text):
                break
        end = _line_end(text, start, width - len(indent))
        line = text[start:end].rstrip(" ")
        if line:
            lines.append(indent + line)
        start = end
    return lines


_OTHER_SPACES = re.compile(r"[^\S\t\n\x0b\x0c\r ]")
_TO_SPACE = str.maketrans("\n\x0b\x0c\r", "    ")
_CHUNK = re.compile(r" +|[^ ]+")
"""A word or a run of spaces: what textwrap puts on a line whole."""


def _line_end(text: str, start: int, room: int) -> int:
    """Where the line from `start` ends: the last end of a word or of a run of spaces within `room`, or,
    when the word (or run) at `start` is longer, its end."""
    limit = start + room
    if limit >= len(text):
        return len(text)
    if limit > start:
        at_space = text[limit] == " "
        if (text[limit - 1] == " ") != at_space:
            return limit
        boundary = (
            start + len(text[start:limit].rstrip(" ")) if at_space else text.rfind(" ", start, limit) + 1
        )
        if boundary > start:
            return boundary
    return _CHUNK.match(text, start).end()  # type: ignore[union-attr]


def _table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    widths = [len(cell) for cell in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return [line(header), "  ".join("-" * width for width in widths), *(line(row) for row in rows)]
