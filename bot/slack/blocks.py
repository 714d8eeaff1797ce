"""A `Message` as Block Kit: the one place that knows Slack's block shapes and size limits.

Every Web API call that carries blocks (`chat.postMessage`, `chat.update`, `chat.postEphemeral`, a
`response_url`, `views.publish`) takes them from `message_payload` or `view_payload`, so no message
leaves past Slack's limits, whatever is added around it: Slack refuses a message over its limits whole.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from bot.conversation.messages import Actions, Attachment, Block, Button, Facts, Heading, Message, Table, Text

SlackBlock = dict[str, Any]

logger = logging.getLogger(__name__)

# Slack's documented limits (https://api.slack.com/reference/block-kit)
MAX_BLOCKS = 50
"""In a message."""
MAX_VIEW_BLOCKS = 100
"""In a view: the App Home, a modal."""
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTONS = 25
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_CONFIRM_TEXT = 300
MAX_FALLBACK_TEXT = 4000
"""Slack cuts `text` at 40,000 characters; 4,000 is what it advises for notifications."""

ACTION_ID = re.compile(r"^(?P<word>[a-z][a-z-]*)(?:#\d+)?$")
"""A button's action_id is its command word, suffixed `#n` when a message repeats the word."""
LINK_ACTION_ID = re.compile(r"^link\.")
"""A link button's action_id: Slack opens its `url` and still reports the click, which needs only an ack."""
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
"""What `escaped` writes: a cut to a limit goes before one, never through it."""
MAX_BUTTON_URL = 3000


def message_payload(message: Message, *, footer: Sequence[SlackBlock] = ()) -> dict[str, Any]:
    """`text` and `blocks` for any message call; `footer` blocks (a note) count within the budget."""
    return {"text": fallback_text(message), "blocks": render(message, footer=footer)}


def view_payload(message: Message) -> dict[str, Any]:
    """The App Home view: the same message, with a view's larger budget."""
    return {"type": "home", "blocks": render(message, limit=MAX_VIEW_BLOCKS)}


def render(
    message: Message, *, limit: int = MAX_BLOCKS, footer: Sequence[SlackBlock] = ()
) -> list[SlackBlock]:
    """Block Kit blocks for a message, at most `limit` of them, `footer` last.

    When a message is over budget its longest parts (lists, tables, long texts) give up their ends,
    each saying how much was left out; the blocks after them (what to do next, the buttons) stay.
    Attachments appear as a note (files travel separately).
    """
    repeats: dict[str, int] = {}
    parts = [_render_block(block, repeats) for block in message.blocks]
    parts = _within(parts, limit - len(footer))
    return [*(block for part in parts for block in part), *footer]


def fallback_text(message: Message) -> str:
    """The notification text Slack shows where blocks cannot be rendered; never empty."""
    return _clip(escaped(message.summary.strip() or "aadbot"), MAX_FALLBACK_TEXT)


def escaped(text: str) -> str:
    """`text` with Slack's three control characters escaped, as Slack asks of every text it formats
    ("Escaping text", api.slack.com/reference/surfaces/formatting): the conversation writes none of Slack's
    `<...>` tokens (links, mentions, `<!channel>`), so one in a person's words quoted by the bot stays text.
    Escaped before a text is cut to a limit, so that the limit counts what Slack receives."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def typed(text: str) -> str:
    """What a person typed, from the text Slack delivers: its escaping of `&`, `<` and `>` undone once,
    `&amp;` last (`&amp;lt;` is what they typed as `&lt;`), where their text comes in, so that what the bot
    echoes (a command word it does not know, a question it quotes) is escaped once, by `escaped`. Slack's
    own tokens (`<@U1>`, `<https://…|label>`) are real `<` and `>`, and stay."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def word_of(action_id: str) -> str | None:
    """The command word a clicked button stands for, or None for a foreign action_id."""
    match = ACTION_ID.match(action_id)
    return match.group("word") if match else None


def attachments_of(message: Message) -> list[Attachment]:
    return [block for block in message.blocks if isinstance(block, Attachment)]


def note(text: str) -> SlackBlock:
    """A small grey line under a message."""
    return _context(escaped(text))


def _within(parts: list[list[SlackBlock]], room: int) -> list[list[SlackBlock]]:
    """Cut parts until their blocks fit in `room`: the longest part first, then the last ones."""
    parts = [list(part) for part in parts]
    while (excess := sum(len(part) for part in parts) - room) > 0:
        longest = max(range(len(parts)), key=lambda index: len(parts[index]))
        part = parts[longest]
        if len(part) < 3:
            return _without_last_parts(parts, room)
        keep = max(1, len(part) - excess - 1)
        parts[longest] = [*part[:keep], _left_out(len(part) - keep)]
    return parts


def _without_last_parts(parts: list[list[SlackBlock]], room: int) -> list[list[SlackBlock]]:
    """Many short parts (a long to-do list): the last ones go, the closing buttons stay."""
    tail = parts[-1:] if _is_actions(parts[-1]) else []
    body = parts[: len(parts) - len(tail)]
    left_out = 0
    while body and sum(len(part) for part in [*body, *tail]) + 1 > room:
        left_out += len(body.pop())
    if not body:
        return [[block for part in parts for block in part][:room]]
    return [*body, [_left_out(left_out)], *tail]


def _left_out(count: int) -> SlackBlock:
    return _context(f"…{count} more blocks left out here, past what Slack shows in one message.")


def _is_actions(part: list[SlackBlock]) -> bool:
    return bool(part) and all(block["type"] == "actions" for block in part)


def _render_block(block: Block, repeats: dict[str, int]) -> list[SlackBlock]:
    match block:
        case Heading(text):
            return [{"type": "header", "text": _plain(_clip(text, MAX_HEADER_TEXT))}]
        case Text(markdown):
            return [_section(chunk) for chunk in _chunks(escaped(markdown), MAX_SECTION_TEXT)]
        case Facts(pairs):
            fields = [_mrkdwn(_clip(escaped(f"*{key}*\n{value}"), MAX_FIELD_TEXT)) for key, value in pairs]
            return [
                {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
                for start in range(0, len(fields), MAX_FIELDS)
            ]
        case Table(header, rows):
            return [_section(chunk) for chunk in _table_chunks(header, rows)]
        case Actions(buttons):
            elements = [_button(button, repeats) for button in buttons if _fits(button)]
            return [
                {"type": "actions", "elements": elements[start : start + MAX_BUTTONS]}
                for start in range(0, len(elements), MAX_BUTTONS)
            ]
        case Attachment(filename, _content, title):
            return [_context(escaped(f"📎 {title} (`{filename}`)"))]
    raise AssertionError(f"unknown block {block!r}")


def _fits(button: Button) -> bool:
    """A cut value would run another command than the one shown: such a button is left out."""
    if len(button.value) <= MAX_BUTTON_VALUE and len(button.url) <= MAX_BUTTON_URL:
        return True
    logger.warning(
        "button %r left out: its value has %d characters, its url %d",
        button.label,
        len(button.value),
        len(button.url),
    )
    return False


def _button(button: Button, repeats: dict[str, int]) -> SlackBlock:
    seen = repeats.get(button.action, 0)
    repeats[button.action] = seen + 1
    element: SlackBlock = {
        "type": "button",
        "text": _plain(_clip(button.label, MAX_BUTTON_LABEL)),
        "action_id": button.action if seen == 0 else f"{button.action}#{seen + 1}",
    }
    if button.url:
        element["action_id"] = f"link.{element['action_id']}"
        element["url"] = button.url
    if button.value:  # Slack refuses an empty value; a click without one reads as ""
        element["value"] = button.value
    if button.style != "default":
        element["style"] = button.style
    if button.confirm:
        element["confirm"] = {
            "title": _plain("Are you sure?"),
            "text": _plain(_clip(button.confirm, MAX_CONFIRM_TEXT)),
            "confirm": _plain("Yes"),
            "deny": _plain("No"),
        }
        if button.style == "danger":
            element["confirm"]["style"] = "danger"
    return element


def _table_chunks(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    """Monospaced columns inside code fences, split so that no section passes Slack's limit."""
    widths = [len(cell) for cell in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    lines = [line(header), "  ".join("-" * width for width in widths), *(line(row) for row in rows)]
    lines = [escaped(each) for each in lines]  # padded first: the columns line up as Slack shows them
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
            cut = _cut(line, limit)
            chunks.append(line[:cut])
            line = line[cut:]
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
    return text if len(text) <= limit else text[: _cut(text, limit - 1)] + "…"


def _cut(text: str, at: int) -> int:
    """Where to cut `text` near `at` (an already escaped text): before an entity `at` would split."""
    start = text.rfind("&", max(0, at - len("&amp;") + 1), at)
    entity = _ENTITY.match(text, start) if start > 0 else None
    return start if entity is not None and entity.end() > at else at
