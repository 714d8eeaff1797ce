"""Slack's own word on a payload: slack_sdk's block models, plus the documented limits they leave out.

Limits from https://api.slack.com/reference/block-kit/blocks and .../composition-objects, and
https://api.slack.com/methods/chat.postMessage (50 blocks in a message, 100 in a view, a `text`
fallback). slack_sdk's models check most per-element limits themselves; a block that round-trips
through `Block.parse` unchanged has no key Slack does not know.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
FIELD_TEXT = 2000


def problems(payload: dict[str, Any], *, view: bool = False) -> list[str]:
    """Everything Slack would refuse in a `chat.postMessage` (or `views.publish`) payload."""
    found: list[str] = []
    blocks: list[dict[str, Any]] = payload["blocks"]
    limit = VIEW_BLOCKS if view else MESSAGE_BLOCKS
    if len(blocks) > limit:
        found.append(f"{len(blocks)} blocks, over {limit}")
    if view:
        try:
            View(type=payload["type"], blocks=blocks).validate_json()
        except SlackObjectFormationError as error:
            found.append(f"view: {error}")
    elif not str(payload.get("text") or "").strip():
        found.append("no text fallback")
    action_ids: list[str] = []
    for block in blocks:
        refused, buttons = _block_problems(block)
        found.extend(refused)
        action_ids.extend(buttons)
    if len(action_ids) != len(set(action_ids)):
        found.append(f"repeated action_ids {sorted(action_ids)}")
    return found


_CHECKED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
"""`_checked_block`'s answers by the block's `repr`: the same blocks come again and again (a message is
checked with and without its footer, the fake Slack sees the same notices in test after test), and slack_sdk's
models take most of a check. A `repr` tells lists from tuples and keeps every value, so two blocks with
one `repr` are the same block."""


def _block_problems(block: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What Slack would refuse in `block`, and the action_ids of its buttons (none for a block refused
    whole)."""
    shown = repr(block)
    answer = _CHECKED.get(shown)
    if answer is None:
        answer = _CHECKED[shown] = _checked_block(block)
    return answer


def _checked_block(block: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    parsed = Block.parse(block)
    if parsed is None:
        return (f"unknown block {block}",), ()
    try:
        parsed.validate_json()
    except SlackObjectFormationError as error:
        return (f"{block['type']}: {error}",), ()
    found: list[str] = []
    if parsed.to_dict() != block:
        found.append(f"keys Slack does not know in {block}")
    found.extend(_text_limits(block))
    action_ids: list[str] = []
    for element in block.get("elements", []):
        if element.get("type") == "button":
            action_ids.append(element["action_id"])
            if len(element["text"]["text"]) > BUTTON_TEXT:
                found.append(f"button text over {BUTTON_TEXT}")
            if len(element.get("value", "")) > BUTTON_VALUE:
                found.append(f"button value over {BUTTON_VALUE}")
    return tuple(found), tuple(action_ids)


def _text_limits(block: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if block["type"] == "header" and len(block["text"]["text"]) > HEADER_TEXT:
        found.append(f"header over {HEADER_TEXT}")
    if block["type"] == "section":
        if "text" in block and len(block["text"]["text"]) > SECTION_TEXT:
            found.append(f"section text over {SECTION_TEXT}")
        found.extend(
            f"field over {FIELD_TEXT}" for f in block.get("fields", []) if len(f["text"]) > FIELD_TEXT
        )
    return found
