"""A `Message` as an Adaptive Card (built with the Teams SDK's card models): the one place that knows cards.

The conversation writes Slack-flavoured markup (`*bold*`); Adaptive Cards read CommonMark's subset
(`**bold**`, `_italic_`, lists, links), so text is converted here. Buttons become `Action.Execute`
actions whose `verb` is the command word and whose `data` carries its value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    ExecuteAction,
    Fact,
    FactSet,
    OpenUrlAction,
    RefreshDefinition,
    ShowCardAction,
    TextBlock,
)

from bot.conversation.messages import Actions, Attachment, Button, Facts, Heading, Message, Table, Text

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION: Final = "1.5"
"""Universal Actions (`Action.Execute`, `refresh`) need 1.4; Teams renders up to 1.5."""
REFRESH_VERB = "refresh"
MAX_CARD_BYTES = 26_000
"""Teams refuses messages over about 28 KB; a card is cut before that, with a note saying so."""
MAX_TABLE_ROWS = 40
MAX_TEXT = 8_000
MAX_REFRESH_USERS = 60
"""`refresh.userIds` names at most 60 people (Microsoft's limit for automatic refresh)."""

_SLACK_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STYLES: dict[str, Literal["positive", "destructive"]] = {"primary": "positive", "danger": "destructive"}


def commonmark(markup: str) -> str:
    """The conversation's markup in the CommonMark subset Adaptive Cards render."""
    return _SLACK_BOLD.sub(r"**\1**", markup)


DOWNLOAD_TITLE = "Download the full list (CSV)"


def card(
    message: Message,
    *,
    actions: bool = True,
    refresh: tuple[str, list[str]] | None = None,
    links: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The card for `message`; without `actions` read-only; `refresh` = (shared key, MRIs to refresh for);
    `links`: each file's download link by filename (`bot.teams.files`)."""
    body: list[Any] = []
    for block in message.blocks:
        match block:
            case Heading(text):
                body.append(TextBlock(text=text, weight="Bolder", size="Large", wrap=True))
            case Text(markup):
                body.append(TextBlock(text=commonmark(markup), wrap=True))
            case Facts(pairs):
                body.append(FactSet(facts=[Fact(title=key, value=commonmark(value)) for key, value in pairs]))
            case Table(header, rows):
                body.extend(_table(header, rows))
            case Actions(buttons) if actions:
                body.append(ActionSet(actions=[execute(button) for button in buttons]))
            case Actions():
                pass
            case Attachment(filename, _content, title) if (links or {}).get(filename):
                note = f"📎 {title} (`{filename}`): the download link works for an hour."
                body.append(TextBlock(text=note, wrap=True, is_subtle=True))
                download = OpenUrlAction(title=DOWNLOAD_TITLE, url=(links or {})[filename])
                body.append(ActionSet(actions=[download]))
            case Attachment(filename, _content, title):
                note = (
                    f"📎 {title} (`{filename}`): I can't link the file because my public address is not "
                    "configured (AADBOT_PUBLIC_URL); Slack and the console have it."
                )
                body.append(TextBlock(text=note, wrap=True, is_subtle=True))
    if not body:
        body.append(TextBlock(text=message.summary, wrap=True))
    adaptive = AdaptiveCard(version=CARD_VERSION, body=body)
    if refresh is not None:
        key, user_ids = refresh
        adaptive.refresh = RefreshDefinition(
            action=ExecuteAction(title="Refresh", verb=REFRESH_VERB, data={"value": key}),
            user_ids=user_ids[:MAX_REFRESH_USERS],
        )
    content = {"$schema": CARD_SCHEMA, **adaptive.model_dump(by_alias=True, exclude_none=True)}
    content.pop("schema", None)  # the SDK's model writes `schema`; the card format names it `$schema`
    return _fitted(content)


def execute(button: Button) -> ExecuteAction | ShowCardAction:
    """The button's action; one that asks first opens a card with the question and the real action."""
    action = ExecuteAction(title=button.label, verb=button.action, data={"value": button.value})
    style = _STYLES.get(button.style)
    if style:
        action.style = style
    if not button.confirm:
        return action
    action.title = f"Yes, {button.label[:1].lower()}{button.label[1:]}"
    question = AdaptiveCard(body=[TextBlock(text=button.confirm, wrap=True), ActionSet(actions=[action])])
    return ShowCardAction(title=button.label, card=question)


def activity(message: Message, **options: Any) -> dict[str, Any]:
    """A message activity carrying the card, with the summary as its notification text."""
    return {
        "type": "message",
        "text": commonmark(message.summary),
        "textFormat": "markdown",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card(message, **options)}],
    }


def _table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[FactSet | TextBlock]:
    """A fact per row, named by its first cell, its other cells after their column's name: a monospace
    block of five columns wraps into noise on a phone or in a narrow channel, a fact set wraps cleanly."""
    shown = rows[:MAX_TABLE_ROWS]
    facts = [
        Fact(
            title=commonmark(row[0]),
            value=" · ".join(
                f"{name}: {cell}" for name, cell in zip(header[1:], row[1:], strict=True) if cell
            ),
        )
        for row in shown
    ]
    elements: list[FactSet | TextBlock] = [FactSet(facts=facts)] if facts else []
    if len(rows) > len(shown):
        elements.append(TextBlock(text=f"…and {len(rows) - len(shown)} more", wrap=True))
    return elements


def _fitted(content: dict[str, Any]) -> dict[str, Any]:
    """Leave out trailing text blocks until the card fits Teams' message size, and say so."""
    body: list[dict[str, Any]] = content["body"]
    for element in body:
        if element.get("type") == "TextBlock" and len(element["text"]) > MAX_TEXT:
            element["text"] = element["text"][: MAX_TEXT - 1] + "…"
    left_out = 0
    while len(json.dumps(content)) > MAX_CARD_BYTES:
        texts = [i for i, element in enumerate(body) if element.get("type") != "ActionSet"]
        if len(texts) < 2:
            break
        body.pop(texts[-1])
        left_out += 1
    if left_out:
        note = f"…{left_out} parts left out (too long for one Teams message)."
        body.append({"type": "TextBlock", "text": note, "wrap": True, "isSubtle": True})
    return content
