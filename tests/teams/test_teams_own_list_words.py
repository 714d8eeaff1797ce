"""In Teams as on Slack: plain words about one's own to-do list get the list (in the channel, in the personal
chat with a pointer in the thread), and words no command starts with are a question (walk 31, findings 1
and 10)."""

from __future__ import annotations

from typing import Any

from tests.teams.conftest import ORGANIZATION, Teams, connect, lists_sent, texts

DANA, CAROL = "dana@fabrikam.com", "carol@fabrikam.com"
POINTER = "I answered you in our personal chat."


def _listed(teams: Teams) -> None:
    """The organization found connected, the missing people invited, everyone's list sent."""
    connect(teams)
    lists_sent(teams, DANA)


def _where(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(entry["conversation"]["conversationType"], " ".join(texts(entry).split())) for entry in entries]


def test_whats_left_in_the_channel_comes_to_the_personal_chat_and_the_thread_gets_a_pointer(
    teams: Teams,
) -> None:
    _listed(teams)
    before = len(teams.activities())
    asked = teams.say(CAROL, "what's left for me?")  # an @mention in the channel
    new = teams.activities()[before:]
    channel = [entry for entry in new if entry["conversation"]["conversationType"] == "channel"]
    assert [(entry["thread"], texts(entry).strip()) for entry in channel] == [
        (asked["activityId"], f"{POINTER}\n{POINTER}")
    ]
    [(kind, listed)] = [where for where in _where(new) if where[0] != "channel"]
    assert kind == "personal" and f"Your to-do list for {ORGANIZATION}: 3 of 3 open" in listed, listed
    assert "Removing users who left" not in listed

    in_chat = " ".join(teams.said(CAROL, "what’s left", channel=False).split())
    assert f"Your to-do list for {ORGANIZATION}: 3 of 3 open" in in_chat, in_chat


def test_remind_me_later_in_the_personal_chat_offers_the_snooze_and_its_button_snoozes(teams: Teams) -> None:
    _listed(teams)
    before = len(teams.activities())
    teams.say(CAROL, "remind me later", channel=False)
    [offer] = teams.activities()[before:]
    assert texts(offer).strip().startswith("Your next reminder comes on "), texts(offer)
    clicked = teams.click(CAROL, offer["id"], "Snooze 1 week")
    assert clicked.status_code == 200, clicked.text
    answered = " ".join([str(clicked.json()), *(texts(e) for e in teams.activities()[before + 1 :])])
    assert "😴 Snoozed: your next reminder comes on" in answered, answered


def test_enter_feedback_here_in_the_channel_is_answered_in_its_thread_as_a_question(teams: Teams) -> None:
    """It was "I don't know **[enter**" in the personal chat and a pointer in the channel."""
    before = len(teams.activities())
    asked = teams.say(CAROL, "[Enter feedback here]")
    new = teams.activities()[before:]
    assert [(entry["conversation"]["conversationType"], entry["thread"]) for entry in new] == [
        ("channel", asked["activityId"])
    ]
    said = " ".join(texts(new[0]).split())
    assert "Sorry, I don't know the answer to that one." in said, said
    assert "I don't know **" not in said and POINTER not in said
