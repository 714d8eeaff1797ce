"""A `Message` as an Adaptive Card: the one place that knows cards.

The conversation writes Slack-flavoured markup (`*bold*`, `` `code` ``, a line per `\n`); Teams renders
a subset of CommonMark on cards (tests/teams/data/cards-format.md): `**bold**`, `_italic_`, lists, links,
and no code, whose backticks it shows as typed; a single `\n` breaks a line only between list items. So
text is converted here. Buttons become `Action.Execute` actions whose `verb` is the command word and
whose `data` carries its value. The activity carries the card alone, its summary as `summary`: Teams
splits one with `text` beside a card into two messages and answers with no id to update them by
(tests/teams/data/conversation-messages.md).

Each element is written as the Teams SDK's card models (`microsoft_teams.cards`) write it, key for key and
in their order: importing those models (112 pydantic classes) cost every Teams process 0.4 s of CPU at
start-up. tests/teams/test_teams_cards.py checks every builder here against the SDK's model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any, Final, Literal

from bot.conversation.messages import Actions, Attachment, Button, Facts, Heading, Message, Table, Text
from bot.conversation.quoting import commonmark_emphasis

Element = dict[str, Any]
"""A card, or an element of one, as JSON."""

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION: Final = "1.5"
"""Universal Actions (`Action.Execute`, `refresh`) need 1.4; Teams renders up to 1.5."""
REFRESH_VERB = "refresh"
MAX_CARD_BYTES = 36_000
"""Teams refuses a message whose JSON is over its limit in UTF-16 (413 `MessageSizeTooBig`): 40 KB in
msteams-docs `bots/how-to/format-your-bot-messages.md` until 2024, 100 KB since (80 KB advised). A card is
cut under the lower, with room for the activity around it, and a note saying so."""
MAX_TABLE_ROWS = 40
MAX_TEXT = 8_000
MAX_REFRESH_USERS = 60
"""`refresh.userIds` names at most 60 people (Microsoft's limit for automatic refresh)."""

_SLACK_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")
_HELD = "\ue000"
"""Marks where a code span is held out of the bold conversion (a private-use character: never typed)."""
_CODE_MARKUP = re.compile(r"[\\*<&]|\](?=[(\[]|$)|_+")
"""What a CommonMark renderer could read as markup inside code shown as text: an escape (every `\\`, so that
`foo\\` keeps its `\\` and does not escape the bold's closing `*`), emphasis, an autolink or raw HTML, an
entity (`&copy;`); a `]` that could end a link's or an image's label, before `(` or `[` or at the code's end
(a card defines no reference, so a `[` and any other `]` make none, and a synopsis's `[ORG]` keeps no `\\`
for old mobile builds to show). `_` and a `]` at the end only where they can be markup (`_escaped`)."""
_FENCE = re.compile(r"^```[^`\n]*$", re.MULTILINE)
_BULLET = re.compile(r"^• ", re.MULTILINE)
_LIST_ITEM = re.compile(r"(?:- |\d+\. )")
_ATTACHED = re.compile(r"\bthe attached (?:CSV|list)")
ActionStyle = Literal["positive", "destructive"]
_STYLES: dict[str, ActionStyle] = {"primary": "positive", "danger": "destructive"}


def commonmark(markup: str) -> str:
    """The conversation's markup as Teams renders it on a card: `*bold*` as `**bold**`; code as bold (as
    it is inside bold), since Teams shows backticks and fences as typed; `• ` lines as list items; every
    line its own, which outside a list takes a blank line (`\n\n`) between two."""
    text = _outside_code(_FENCE.sub("", markup), _prose, _code)
    lines = [line for line in _BULLET.sub("- ", text).split("\n") if line.strip()]
    joined = lines[:1]
    for before, after in pairwise(lines):
        in_list = bool(_LIST_ITEM.match(before) and _LIST_ITEM.match(after))
        joined.append(("\n" if in_list else "\n\n") + after)
    return "".join(joined)


def _prose(prose: str) -> str:
    """Slack's `*bold*` as `**bold**`; every `\\` doubled, which CommonMark shows as one: the bot's own markup
    never escapes, and a quoted `C:\\temp\\*.log` or `FABRIKAM\\_svc` lost a `\\` to the escape it made."""
    return _SLACK_BOLD.sub(r"**\1**", prose.replace("\\", "\\\\"))


def _code(code: str, before: str) -> str:
    """Code as bold, or as it is where an odd number of `**` before it means bold is already on; what
    CommonMark would read as markup in it backslash-escaped, so that `/owner:*` or `*.visualstudio.com`
    show as typed instead of opening or closing emphasis, and a typed `[label](url)` is no link. Teams'
    clients honour the escape: desktop and web always, Android and iOS since Microsoft fixed them
    (microsoft/Teams-AdaptiveCards-Mobile#58, #83)."""
    in_bold = before.count("**") % 2 == 1
    shown = _CODE_MARKUP.sub(lambda markup: _escaped(markup, code, in_bold=in_bold), code)
    return shown if in_bold else f"**{shown}**"


def _escaped(markup: re.Match[str], code: str, *, in_bold: bool) -> str:
    """`markup` backslash-escaped, where it could be markup:
    - a run of `_` only at a word's edge, where CommonMark may read emphasis: in a word it never does, and
      old Teams mobile builds show the `\\` of every guest's UPN (`hana_contoso.com#EXT#@...`). Code stands
      between `*` (bold's), punctuation, beside which a `_` can open and close the most: so whatever stands
      around it on the card, an escape is never missing;
    - a `]` that ends the code only in bold already, where the prose after it could go on with `(url)`; in
      its own bold the closing `**` follows it."""
    found = markup[0]
    if found == "]" and markup.end() == len(code) and not in_bold:
        return found
    start, end = markup.start() + 1, markup.end() + 1
    if found.startswith("_") and not any(commonmark_emphasis(f"*{code}*", "_", start, end)):
        return found
    return "".join(f"\\{character}" for character in found)


def _outside_code(markup: str, prose: Callable[[str], str], code: Callable[[str, str], str]) -> str:
    """`prose` applied to the text around code spans only (a `*` inside code is no Slack bold), then each
    span replaced by `code(its text, the converted text before it)`."""
    spans: list[str] = []

    def hold(match: re.Match[str]) -> str:
        spans.append(match[1])
        return f"{_HELD}{len(spans) - 1}{_HELD}"

    converted = prose(_CODE.sub(hold, markup.replace(_HELD, "")))
    parts = converted.split(_HELD)
    shown = parts[:1]
    for number, after in zip(parts[1::2], parts[2::2], strict=True):
        shown += [code(spans[int(number)], "".join(shown)), after]
    return "".join(shown)


def plain(markup: str) -> str:
    """The markup as plain text (a notification shows no Markdown); code keeps every character."""
    return _outside_code(markup, lambda prose: _SLACK_BOLD.sub(r"\1", prose), lambda code, _before: code)


def adaptive_card(body: list[Element], *, refresh: Element | None = None) -> Element:
    """`AdaptiveCard(version=CARD_VERSION, refresh=refresh, body=body)`."""
    card: Element = {"type": "AdaptiveCard", "version": CARD_VERSION}
    if refresh is not None:
        card["refresh"] = refresh
    card["body"] = body
    return card


def text_block(
    text: str,
    *,
    size: Literal["Large"] | None = None,
    weight: Literal["Bolder"] | None = None,
    is_subtle: bool | None = None,
) -> Element:
    """`TextBlock(text=text, size=size, weight=weight, is_subtle=is_subtle, wrap=True)`: every text wraps."""
    block: Element = {"type": "TextBlock", "text": text}
    if size is not None:
        block["size"] = size
    if weight is not None:
        block["weight"] = weight
    if is_subtle is not None:
        block["isSubtle"] = is_subtle
    block["wrap"] = True
    return block


def fact_set(facts: list[tuple[str, str]]) -> Element:
    """`FactSet(facts=[Fact(title=title, value=value) for title, value in facts])`."""
    return {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in facts]}


def action_set(actions: list[Element]) -> Element:
    """`ActionSet(actions=actions)`."""
    return {"type": "ActionSet", "actions": actions}


def execute_action(title: str, verb: str, value: str, *, style: ActionStyle | None = None) -> Element:
    """`ExecuteAction(title=title, style=style, data={"value": value}, verb=verb)`."""
    action: Element = {"type": "Action.Execute", "title": title}
    if style is not None:
        action["style"] = style
    action["data"] = {"value": value}
    action["verb"] = verb
    return action


def open_url_action(title: str, url: str) -> Element:
    """`OpenUrlAction(title=title, url=url)`."""
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def show_card_action(title: str, card: Element) -> Element:
    """`ShowCardAction(title=title, card=card)`."""
    return {"type": "Action.ShowCard", "title": title, "card": card}


def refresh_definition(action: Element, user_ids: list[str]) -> Element:
    """`RefreshDefinition(action=action, user_ids=user_ids)`."""
    return {"action": action, "userIds": user_ids}


def card(
    message: Message,
    *,
    actions: bool = True,
    refresh: tuple[str, list[str]] | None = None,
    links: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The card for `message`; without `actions` read-only; `refresh` = (shared key, MRIs to refresh for);
    `links`: each file's download link by filename (`bot.teams.files`)."""
    body: list[Element] = []
    unseen = () if actions else message.buttons
    files = any(isinstance(block, Attachment) for block in message.blocks)
    for block in message.blocks:
        match block:
            case Heading(text):
                body.append(text_block(commonmark(text), size="Large", weight="Bolder"))
            case Text(markup):
                body.append(text_block(commonmark(_as_shown(markup, unseen, files))))
            case Facts(pairs):
                body.append(fact_set([(commonmark(key), commonmark(value)) for key, value in pairs]))
            case Table(header, rows):
                body.extend(_table(header, rows))
            case Actions(buttons) if actions:
                body.append(action_set([execute(button) for button in buttons]))
            case Actions():
                pass
            case Attachment(filename, _content, title) if (links or {}).get(filename):
                note = f"📎 {title}: the download link works for an hour."
                body.append(text_block(note, is_subtle=True))
                body.append(action_set([open_url_action(download_title(filename), (links or {})[filename])]))
            case Attachment(filename, _content, title):
                note = (
                    f"📎 {title} ({filename}): I can't link the file because my public address is not "
                    "configured (AADBOT_PUBLIC_URL); Slack and the console have it."
                )
                body.append(text_block(note, is_subtle=True))
    if not body:
        body.append(text_block(commonmark(message.summary)))
    updated = None
    if refresh is not None:
        key, user_ids = refresh
        updated = refresh_definition(
            execute_action("Refresh", REFRESH_VERB, key), user_ids[:MAX_REFRESH_USERS]
        )
    return _fitted({"$schema": CARD_SCHEMA, **adaptive_card(body, refresh=updated)})


def shared_copy(message: Message, key: str, viewers: list[str], reader: str | None) -> dict[str, Any]:
    """How one copy of a shared message (an approval prompt) is sent, as `card`'s options; `viewers`: the
    MRIs of the people who may act on it (approvers still to decide), `reader`: the MRI of a personal
    chat's one reader, None for a channel's copy.

    A personal chat's copy is its reader's view as sent: its actions while they may act, none once they
    decided. No refresh there, which would only fetch the same card, and only where automatic refresh runs:
    what is sent is what any client, or anyone reading the activity, finds on it. A channel's copy, read by
    people who may not decide (the requester, bystanders), is sent read-only and refreshed into the full
    card for `viewers` alone (Teams' user-specific views), as `request-approval`'s four eyes want: the
    buttons of a channel's other shared cards (the progress card's CSV) are no one's but their viewers'."""
    if reader is not None:
        return {"actions": reader in viewers}
    if not message.buttons:
        return {"actions": False}
    return {"actions": False, "refresh": (key, viewers)}


def download_title(filename: str) -> str:
    """A file's link button, named by the file: a message with two files shows two buttons."""
    return f"Download {filename}"


def _as_shown(markup: str, unseen: tuple[Button, ...], files: bool) -> str:
    """The text as true of the card Teams shows: a button it does not show (`unseen`, on a read-only copy)
    named by what typing does the same, and a file it links below called that, not attached."""
    for button in unseen:
        typed = f"{button.action} {button.value}".strip()
        if not button.url:
            markup = markup.replace(f"*{button.label}*", f"`{typed}`")
    return _ATTACHED.sub("the CSV below", markup) if files else markup


def execute(button: Button) -> Element:
    """The button's action; one that asks first opens a card with the question and the real action."""
    if button.url:
        return open_url_action(button.label, button.url)
    style = _STYLES.get(button.style)
    if not button.confirm:
        return execute_action(button.label, button.action, button.value, style=style)
    confirmed = f"Yes, {button.label[:1].lower()}{button.label[1:]}"
    action = execute_action(confirmed, button.action, button.value, style=style)
    question = text_block(commonmark(button.confirm))
    return show_card_action(button.label, adaptive_card([question, action_set([action])]))


def activity(message: Message, **options: Any) -> dict[str, Any]:
    """A message activity carrying the card alone, the summary as its `summary` (the notification's text):
    `text` beside a card makes Teams split them into two messages and answer with no id."""
    return {
        "type": "message",
        "summary": plain(message.summary),
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card(message, **options)}],
    }


def _table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[Element]:
    """A fact per row, named by its first cell, its other cells after their column's name: a monospace
    block of five columns wraps into noise on a phone or in a narrow channel, a fact set wraps cleanly."""
    shown = rows[:MAX_TABLE_ROWS]
    facts = [
        (
            commonmark(row[0]),
            commonmark(
                " · ".join(f"{name}: {cell}" for name, cell in zip(header[1:], row[1:], strict=True) if cell)
            ),
        )
        for row in shown
    ]
    elements = [fact_set(facts)] if facts else []
    if len(rows) > len(shown):
        elements.append(text_block(f"…and {len(rows) - len(shown)} more"))
    return elements


def _fitted(content: Element) -> Element:
    """Leave out trailing text blocks until the card fits Teams' message size, and say so."""
    body: list[Element] = content["body"]
    for element in body:
        if element.get("type") == "TextBlock" and len(element["text"]) > MAX_TEXT:
            element["text"] = element["text"][: MAX_TEXT - 1] + "…"
    left_out = 0
    while _utf16_bytes(content) > MAX_CARD_BYTES:
        texts = [i for i, element in enumerate(body) if element.get("type") != "ActionSet"]
        if len(texts) < 2:
            break
        body.pop(texts[-1])
        left_out += 1
    if left_out:
        note = f"…{left_out} parts left out (too long for one Teams message)."
        body.append(text_block(note, is_subtle=True))
    return content


def _utf16_bytes(content: Element) -> int:
    """The card's size as Teams counts it: `json.dumps` alone writes every character outside ASCII as
    `\\uXXXX`, six where UTF-16 takes two, and every ASCII character as one where UTF-16 takes two."""
    return len(json.dumps(content, ensure_ascii=False).encode("utf-16-le"))
