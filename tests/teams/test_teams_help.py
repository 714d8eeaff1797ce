"""A guest's way to a human in Teams: help with an item, their own question, each reaching the admins with an
address they can write to (not the guest's `#EXT#` name)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.teams.conftest import ORGANIZATION, Teams, approval_requested, connect, texts

DANA, LEE, BOB = "dana@fabrikam.com", "lee@fabrikam.com", "bob.builder@outlook.com"


def _notified(teams: Teams) -> str:
    """The migration connected and everyone's list sent; Bob's Teams sign-in name (his guest `#EXT#`)."""
    prompt = approval_requested(teams, DANA)
    assert teams.click(LEE, prompt["id"], "Approve").status_code == 200
    teams.deliver_outbox()
    connect(teams)
    teams.watch()
    teams.say(DANA, f"notify {ORGANIZATION}")
    teams.deliver_outbox()
    users = teams.runtime.sandbox.state()["tenant"]["users"]  # type: ignore[union-attr]
    return next(str(user["userPrincipalName"]) for user in users if user.get("mail") == BOB)


def _channel_since(teams: Teams, before: int) -> list[str]:
    """What the channel's new cards say."""
    return [
        " ".join(texts({"attachments": [e["attachments"][0]["content"]]}).split())
        for e in teams.activities()[before:]
        if e["conversation"]["conversationType"] == "channel"
    ]


def _answer_card(clicked: httpx.Response) -> dict[str, Any]:
    assert clicked.status_code == 200, clicked.text
    return dict(clicked.json()["body"]["value"])


def test_help_with_an_item_names_the_guest_s_own_address_to_the_admins(teams: Teams) -> None:
    bob = _notified(teams)
    assert "#EXT#" in bob
    (todo,) = [e for e in teams.personal(bob) if "to-do list" in texts(e).lower()]
    before = len(teams.activities())
    card = _answer_card(teams.click(bob, todo["id"], "I need help"))
    helped = " ".join(texts({"attachments": [card]}).split())
    assert helped.startswith("Help with: Sign in with your guest account ")
    assert helped.endswith(
        "I have also told the migration admins (dana@fabrikam.com, lee@fabrikam.com) that you need a hand;"
        " one of them will reach out."
    )
    teams.deliver_outbox()
    assert _channel_since(teams, before) == [
        "Bob Builder (bob.builder@outlook.com) needs help with: Sign in with your guest account. Write to"
        " them at bob.builder@outlook.com."
    ]


def test_a_question_the_faq_cannot_answer_reaches_the_admins_with_ask_an_admin(teams: Teams) -> None:
    bob = _notified(teams)
    question = "who approves my expense claim for the new laptop?"
    teams.say(bob, question, channel=False)
    declined = [e for e in teams.personal(bob) if "don't know" in texts(e)][-1]
    shown = " ".join(texts(declined).split())
    assert (
        "To reach a person, press *Ask an admin* and I pass your question to the admins of the"
        " fabrikam-fiber migration, or write to them: dana@fabrikam.com, lee@fabrikam.com."
    ).replace("*", "**") in shown
    before = len(teams.activities())
    passed = " ".join(
        texts({"attachments": [_answer_card(teams.click(bob, declined["id"], "Ask an admin"))]}).split()
    )
    assert passed == (
        "I passed your question to the admins of the fabrikam-fiber migration (dana@fabrikam.com,"
        " lee@fabrikam.com); one of them will answer you."
    )
    teams.deliver_outbox()
    assert _channel_since(teams, before) == [
        f"Bob Builder (bob.builder@outlook.com) asks the migration admins: “{question}”. Answer them at"
        " bob.builder@outlook.com."
    ]
    teams.say(bob, question, channel=False)  # asked again, and passed on again the same day
    declined_again = [e for e in teams.personal(bob) if "don't know" in texts(e)][-1]
    assert declined_again["id"] != declined["id"]
    before = len(teams.activities())
    again = teams.click(bob, declined_again["id"], "Ask an admin")
    assert "already have this question from you today" in texts({"attachments": [_answer_card(again)]})
    teams.deliver_outbox()
    assert _channel_since(teams, before) == []  # nobody pinged twice
