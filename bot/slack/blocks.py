"""A `Message` as Block Kit: the one place that knows Slack's block shapes and size limits."""

from __future__ import annotations

import re
from typing import Any

from bot.conversation.messages import Actions, Attachment, Block, Button, Facts, Heading, Message, Table, Text

SlackBlock = dict[str, Any]

# Slack's documented limits; past them the whole message is rejected, so we cut and say so.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_BUTTONS = 25
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_TEXT = 4000

ACTION_ID = re.compile(r"^(?P<word>[a-z][a-z-]*)(?:#\d+)?$")
"""A button's action_id is its command word, suffixed `#n` when a message repeats the word."""


def render(message: Message) -> list[SlackBlock]:
    """Block Kit blocks for a message; attachments appear as a note (files travel separately)."""
    blocks: list[SlackBlock] = []
    repeats: dict[str, int] = {}
    for block in message.blocks:
        blocks.extend(_render_block(block, repeats))
    if len(blocks) > MAX_BLOCKS:
        cut = len(blocks) - (MAX_BLOCKS - 1)
        blocks = [
            *blocks[: MAX_BLOCKS - 1],
            _context(f"…{cut} more blocks left out (Slack shows at most 50)."),
        ]
    return blocks


def fallback_text(message: Message) -> str:
    """The notification text Slack shows where blocks cannot be rendered."""
    return _clip(message.summary, MAX_FALLBACK_TEXT)


def word_of(action_id: str) -> str | None:
    """The command word a clicked button stands for, or None for a foreign action_id."""
    match = ACTION_ID.match(action_id)
    return match.group("word") if match else None


def attachments_of(message: Message) -> list[Attachment]:
    return [block for block in message.blocks if isinstance(block, Attachment)]


def _render_block(block: Block, repeats: dict[str, int]) -> list[SlackBlock]:
    match block:
        case Heading(text):
            return [{"type": "header", "text": _plain(_clip(text, MAX_HEADER_TEXT))}]
        case Text(markdown):
            return [_section(chunk) for chunk in _chunks(markdown, MAX_SECTION_TEXT)]
        case Facts(pairs):
            fields = [_mrkdwn(_clip(f"*{key}*\n{value}", 2000)) for key, value in pairs]
            return [
                {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
                for start in range(0, len(fields), MAX_FIELDS)
            ]
        case Table(header, rows):
            return [_section(chunk) for chunk in _table_chunks(header, rows)]
        case Actions(buttons):
            elements = [_button(button, repeats) for button in buttons]
            return [
                {"type": "actions", "elements": elements[start : start + MAX_BUTTONS]}
                for start in range(0, len(elements), MAX_BUTTONS)
            ]
        case Attachment(filename, _content, title):
            return [_context(f"📎 {title} (`{filename}`)")]
    raise AssertionError(f"unknown block {block!r}")


def _button(button: Button, repeats: dict[str, int]) -> SlackBlock:
    seen = repeats.get(button.action, 0)
    repeats[button.action] = seen + 1
    element: SlackBlock = {
        "type": "button",
        "text": _plain(_clip(button.label, MAX_BUTTON_LABEL)),
        "action_id": button.action if seen == 0 else f"{button.action}#{seen + 1}",
        "value": button.value[:MAX_BUTTON_VALUE],
    }
    if button.style != "default":
        element["style"] = button.style
    return element


def _table_chunks(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    """Monospaced columns inside code fences, split so that no section passes Slack's limit."""
    widths = [len(cell) for cell in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    lines = [line(header), "  ".join("-" * width for width in widths), *(line(row) for row in rows)]
    fence_room = MAX_SECTION_TEXT - len("```\n\n```")
    return [f"```\n{chunk}\n```" for chunk in _chunks("\n".join(lines), fence_room)]


def _chunks(text: str, limit: int) -> list[str]:
    """Split at line ends where possible so tables and lists stay readable."""
    if not text:
        return [" "]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current or " ")
    return chunks


def _section(markdown: str) -> SlackBlock:
    return {"type": "section", "text": _mrkdwn(markdown)}


def _context(markdown: str) -> SlackBlock:
    return {"type": "context", "elements": [_mrkdwn(markdown)]}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
