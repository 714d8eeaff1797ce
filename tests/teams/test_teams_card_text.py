"""Every card a whole fabrikam migration shows in Teams reads as Teams renders it (walk28 problems 2, 3, 4).

Teams renders a TextBlock's (and a Fact's) Markdown in Microsoft's subset (data/cards-format.md): a single
`\\n` joins two lines except between list items, and code, not in the subset, keeps its backticks. An
activity with `text` beside its card is split in two with no id to update (data/conversation-messages.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx

from tests.teams.conftest import ORGANIZATION, Teams, connect, texts

DANA, LEE, ANN, CAROL, KIM = (f"{name}@fabrikam.com" for name in ("dana", "lee", "ann", "carol", "kim"))
_LIST_ITEM = re.compile(r"(?:- |\d+\. )")
DATA = Path(__file__).parent / "data"


def markdown_texts(node: Any) -> Iterator[str]:
    """Every text Teams reads as Markdown on a card: TextBlocks' and Facts' titles and values."""
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            yield str(node.get("text"))
        if node.get("type") == "FactSet":
            for fact in node.get("facts") or []:
                yield str(fact.get("title"))
                yield str(fact.get("value"))
        for value in node.values():
            yield from markdown_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from markdown_texts(item)


def joined_lines(text: str) -> list[str]:
    """The lines a single `\\n` would run together in Teams: any not between two list items."""
    lines = text.split("\n")
    return [
        f"{before!r} + {after!r}"
        for before, after in pairwise(lines)
        if before and after and not (_LIST_ITEM.match(before) and _LIST_ITEM.match(after))
    ]


def misread(card: dict[str, Any]) -> list[str]:
    problems = []
    for text in markdown_texts(card):
        problems += [f"lines run together: {pair}" for pair in joined_lines(text)]
        if "`" in text:
            problems.append(f"backtick shown raw: {text!r}")
    return problems


def move_billing(teams: Teams) -> None:
    """An admin moves the billing subscription into the directory in the Azure portal."""
    subscription = teams.runtime.microsoft.organization(ORGANIZATION).billing_subscription_id
    body = {"subscriptionId": subscription, "tenantId": teams.settings.tenant_id}
    httpx.post(f"{teams.url}/_sandbox/subscription", json=body, timeout=10).raise_for_status()


def test_microsofts_subset_has_no_code_and_breaks_lines_outside_lists_with_a_blank_line() -> None:
    """The rules the sweep below checks, as Microsoft writes them (vendored, unchanged)."""
    teams = (DATA / "cards-format.md").read_text()
    adaptive = (DATA / "text-features.md").read_text()
    styles = re.findall(r"^\| ([A-Z][a-z ]+?) *\|", teams, re.MULTILINE)
    assert styles == ["Style", "Bold", "Italic", "Unordered list", "Ordered list", "Hyperlinks"]
    assert "* Preformatted text" in teams and "* Anything not in the table above" in adaptive
    assert "You can use the `\\r` or `\\n` escape sequences for newlines in lists." in teams
    assert "If you require newlines elsewhere in the TextBlock, use `\\n\\n`." in teams


def test_every_card_of_a_whole_migration_reads_as_teams_renders_it(teams: Teams) -> None:
    answers: list[dict[str, Any]] = []

    def click(upn: str, activity_id: str, title: str) -> None:
        answer = teams.click(upn, activity_id, title).json()
        assert answer["status"] == 200, answer
        answers.append(answer["body"])

    for words in ("help", "help all"):
        teams.say(DANA, words, channel=False)
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    for word in ("plan", "announce", "invite", "stale-users", "status", "request-approval"):
        teams.say(DANA, f"{word} {ORGANIZATION}{' next monday' if word == 'announce' else ''}")
    teams.deliver_outbox()
    prompt = next(e for e in teams.personal(LEE) if "Approve" in str(teams.view(LEE, e["id"])))
    click(LEE, prompt["id"], "Approve")
    teams.deliver_outbox()
    connect(teams)
    teams.watch()
    teams.deliver_outbox()
    teams.say(DANA, f"notify {ORGANIZATION}")
    teams.deliver_outbox()
    kims = [e for e in teams.personal(KIM) if '"title": "Done"' in json.dumps(e["attachments"])]
    click(KIM, kims[-1]["id"], "Done")
    for upn, words in ((KIM, "todo"), (CAROL, "I get a 403 when inviting"), (CAROL, "what is a swallow?")):
        teams.say(upn, words, channel=False)
    for words in ("progress", "progress csv", "check-billing", "complete"):
        word, _, rest = words.partition(" ")
        teams.say(DANA, f"{word} {ORGANIZATION} {rest}".strip())
    move_billing(teams)
    teams.say(DANA, f"complete {ORGANIZATION} confirm")  # the closing message, and the last word to each
    teams.deliver_outbox()
    teams.say(ANN, "todo", channel=False)  # a closed list
    teams.deliver_outbox()
    closed = [e for e in teams.personal(ANN) if "accounts is closed" in texts(e)]
    assert len(closed) == 1, [texts(e) for e in teams.personal(ANN)]

    activities = teams.activities()
    cards = [a["content"] for entry in activities for a in entry["attachments"]] + [
        answer["value"] for answer in answers if isinstance(answer, dict) and "value" in answer
    ]
    assert len(cards) > 40, len(cards)
    problems = [problem for card in cards for problem in misread(card)]
    assert not problems, "\n".join(problems)
    # one message per activity, so each has its id; the notification reads the summary
    assert [entry for entry in activities if entry["text"] or not entry["summary"]] == []


def test_a_clicks_one_line_answer_beside_a_channel_card_is_plain_text(teams: Teams) -> None:
    """Teams shows a message answer to a click as a line beside the card, not as Markdown."""
    before = len(teams.activities())
    teams.say(CAROL, "I get a 403 when inviting")
    (answer,) = [e for e in teams.activities()[before:] if "Not helpful" in json.dumps(e["attachments"])]
    assert answer["conversation"]["conversationType"] == "channel"
    clicked = teams.click(CAROL, answer["id"], "Not helpful").json()
    assert clicked["body"] == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Thanks for telling me. I keep your question for the admins to review: they can point me to"
        " a better answer the next time they look.",
    }
