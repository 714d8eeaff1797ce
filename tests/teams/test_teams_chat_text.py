"""`aadbot chat --surface teams`: the console prints each message as the Teams card it would be."""

from __future__ import annotations

import io

import pytest

from bot.conversation.messages import Actions, Attachment, Button, Facts, Heading, Message, Table, Text
from tests.fakes.cli import Aadbot


def test_a_card_reads_as_text() -> None:
    from bot.teams.text import message_text  # the Teams SDK's cards: not at collection (tests/conftest.py)

    message = Message(
        "Plan",
        (
            Heading("Plan for contoso"),
            Text("*Keep access* (2): a, b\nsecond line"),
            Facts((("users", "2"), ("invite", "1"))),
            Table(("user", "outcome"), (("a@x", "auto"),)),
            Attachment("contoso-plan.csv", "a\n", "Per-user plan"),
            Actions((Button("Approve", "approve", "1"), Button("Remove", "remove", "1", confirm="Sure?"))),
        ),
    )
    lines = message_text(message).splitlines()
    assert lines[:3] == ["  Plan for contoso", "  **Keep access** (2): a, b", "  second line"]
    assert "  users   2" in lines and "  invite  1" in lines
    assert "  a@x  outcome: auto" in lines  # a table reads as facts, one per row
    assert any("contoso-plan.csv" in line and "AADBOT_PUBLIC_URL" in line for line in lines)
    # what to type instead of clicking; the removal asks first, as its Teams card does
    assert lines[-1] == "  [Approve: `approve 1`]  [Remove…: `remove 1`]"


def test_aadbot_chat_prints_teams_cards(aadbot: Aadbot, monkeypatch: pytest.MonkeyPatch) -> None:
    typed = "start fabrikam-fiber fabrikam.com\nplan fabrikam-fiber\n:quit\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    done = aadbot("chat", "--as", "dana@fabrikam.com", "--surface", "teams")
    assert done.returncode == 0, done.stderr
    assert "**The plan**" in done.stdout  # the card's CommonMark, not Slack's *bold*
    assert (
        "[Request approval: `request-approval fabrikam-fiber`]" in done.stdout
        and "fabrikam-fiber-plan.csv" in done.stdout
    )
    assert "Traceback" not in done.stderr
