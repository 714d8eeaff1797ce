"""A message the conversation addressed to someone (a channel announcement, portal steps, an approval
prompt or its decision), kept in the outbox as a typed notice until the platform has it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.conversation.messages import (
    Actions,
    Attachment,
    Block,
    Button,
    ButtonStyle,
    Facts,
    Heading,
    Message,
    Table,
    Text,
)

CHAT_MESSAGE = "chat_message"
"""The outbox kind of a `ChatNotice`."""


@dataclass(frozen=True)
class ChatNotice:
    message: Message
    updates: str | None = None
    """Copies of one thing share this key (an approval prompt): posting it updates every earlier copy."""
    also: tuple[str, ...] = ()
    """For a DM queued before Slack said which address is theirs: their other addresses, for the worker
    to try in turn (`render.addressee_of` reads them)."""
    directory_id: str | None = None

    def to_payload(self) -> dict[str, Any]:
        payload = {
            "summary": self.message.summary,
            "blocks": [_block_payload(block) for block in self.message.blocks],
            "private": self.message.private,
            "updates": self.updates,
        }
        if self.also:
            payload["also"] = list(self.also)
        if self.directory_id:
            payload["directory_id"] = self.directory_id
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ChatNotice:
        blocks = tuple(_block(item) for item in payload["blocks"])
        updates = payload.get("updates")
        message = Message(str(payload["summary"]), blocks, private=bool(payload.get("private")))
        directory_id = payload.get("directory_id")
        return cls(
            message,
            str(updates) if updates else None,
            also=tuple(str(address) for address in payload.get("also", ())),
            directory_id=str(directory_id) if directory_id else None,
        )


def _block_payload(block: Block) -> dict[str, Any]:
    match block:
        case Text(markdown):
            return {"type": "text", "markdown": markdown}
        case Heading(text):
            return {"type": "heading", "text": text}
        case Facts(pairs):
            return {"type": "facts", "pairs": [list(pair) for pair in pairs]}
        case Table(header, rows):
            return {"type": "table", "header": list(header), "rows": [list(row) for row in rows]}
        case Actions(buttons):
            return {
                "type": "actions",
                "buttons": [
                    {
                        "label": b.label,
                        "action": b.action,
                        "value": b.value,
                        "style": b.style,
                        "confirm": b.confirm,
                    }
                    for b in buttons
                ],
            }
        case Attachment(filename, content, title, organization):
            return {
                "type": "attachment",
                "filename": filename,
                "content": content,
                "title": title,
                "organization": organization,
            }
    raise ValueError(f"unknown block {block!r}")


def _block(item: dict[str, Any]) -> Block:
    match item["type"]:
        case "text":
            return Text(str(item["markdown"]))
        case "heading":
            return Heading(str(item["text"]))
        case "facts":
            return Facts(tuple((str(name), str(value)) for name, value in item["pairs"]))
        case "table":
            return Table(
                tuple(str(cell) for cell in item["header"]),
                tuple(tuple(str(cell) for cell in row) for row in item["rows"]),
            )
        case "actions":
            return Actions(
                tuple(
                    Button(
                        str(b["label"]),
                        str(b["action"]),
                        str(b["value"]),
                        _style(b.get("style")),
                        str(b.get("confirm") or ""),
                    )
                    for b in item["buttons"]
                )
            )
        case "attachment":
            return Attachment(
                str(item["filename"]),
                str(item["content"]),
                str(item["title"]),
                str(item.get("organization") or ""),  # absent in messages queued before it was kept
            )
    raise ValueError(f"unknown block type {item['type']!r}")


def _style(value: object) -> ButtonStyle:
    if value == "primary":
        return "primary"
    if value == "danger":
        return "danger"
    return "default"
