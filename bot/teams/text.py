"""A Teams card as text, for `aadbot chat --surface teams`: what Teams would show, read in a terminal.

The card is the one Teams gets (`bot.teams.cards`), walked element by element: text blocks as text,
fact sets as aligned pairs, actions as `[Title]` (a link's target after it, a confirming action as
`[Title…]`). So the console shows the Teams wording (CommonMark bold, cut tables, the file's note).
"""

from __future__ import annotations

from typing import Any

from bot.console.render import button_command
from bot.conversation.messages import Button, Message
from bot.teams import cards


def message_text(message: Message, *, indent: str = "  ") -> str:
    lines = card_lines(cards.card(message))
    return "\n".join(indent + line if line else "" for line in lines)


def card_lines(card: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for element in card.get("body") or []:
        lines.extend(_element(element))
    return lines


def _element(element: dict[str, Any]) -> list[str]:
    kind = element.get("type")
    if kind == "TextBlock":
        # a line per Markdown line; the blank line Teams needs between two is no line of its own
        return [line for line in str(element.get("text") or "").split("\n") if line]
    if kind == "FactSet":
        facts = element.get("facts") or []
        width = max((len(str(fact.get("title"))) for fact in facts), default=0)
        return [f"{str(fact.get('title')).ljust(width)}  {fact.get('value')}" for fact in facts]
    if kind == "ActionSet":
        return ["  ".join(_action(action) for action in element.get("actions") or [])]
    return [f"({kind})"]


def _action(action: dict[str, Any]) -> str:
    """A button with the words that do the same when typed, as the console shows Slack's: nothing is clicked
    in a terminal."""
    title = str(action.get("title") or "")
    if action.get("type") == "Action.OpenUrl":
        return f"[{title}] {action.get('url')}"
    if action.get("type") == "Action.ShowCard":  # asks first: its card holds the question and the real action
        card = action.get("card") or {}
        inner = [found for element in card.get("body") or [] for found in element.get("actions") or []]
        return f"[{title}…: `{_typed(inner[0])}`]" if inner else f"[{title}…]"
    return f"[{title}: `{_typed(action)}`]"


def _typed(action: dict[str, Any]) -> str:
    data = action.get("data") or {}
    return button_command(
        Button(str(action.get("title") or ""), str(action.get("verb")), str(data.get("value", "")))
    )
