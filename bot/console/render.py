"""Messages as plain text for a terminal; buttons become the words to type."""

from __future__ import annotations

import textwrap

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

WIDTH = 100


def render(message: Message, *, indent: str = "  ") -> str:
    lines: list[str] = []
    for block in message.blocks:
        lines.extend(_block(block))
    return "\n".join(indent + line if line else "" for line in lines)


def button_command(button: Button) -> str:
    return f"{button.action} {button.value}".strip()


def _block(block: Block) -> list[str]:
    match block:
        case Heading(text):
            return [text.upper()]
        case Text(markdown):
            return [
                wrapped
                for paragraph in markdown.split("\n")
                for wrapped in (textwrap.wrap(paragraph, WIDTH) or [""])
            ]
        case Facts(pairs):
            width = max((len(key) for key, _ in pairs), default=0)
            return [f"{key.ljust(width)}  {value}" for key, value in pairs]
        case Table(header, rows):
            return _table(header, rows)
        case Actions(buttons):
            return ["  ".join(f"[{button.label}: `{button_command(button)}`]" for button in buttons)]
        case Attachment(filename, content, title):
            return [f"📎 {title} ({filename}, {len(content.splitlines())} lines)"]
    raise AssertionError(f"unknown block {block!r}")


def _table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    widths = [len(cell) for cell in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
    return [line(header), "  ".join("-" * width for width in widths), *(line(row) for row in rows)]
