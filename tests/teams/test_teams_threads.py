"""Teams channels are threads: the bot answers in the thread it was addressed in, and a click never takes
away the card people in the channel rely on (the sandbox keeps each person's view as Teams does)."""

from __future__ import annotations

from typing import Any

from tests.teams.conftest import ORGANIZATION, Teams, latest_card, texts

DANA, ANN = "dana@fabrikam.com", "ann@fabrikam.com"
POINTER = "I answered you in our personal chat."
SENT_PRIVATELY = "I sent you the answer in our personal chat."


def _channel(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry["conversation"]["conversationType"] == "channel"]


def test_a_question_in_the_channel_is_answered_in_its_thread(teams: Teams) -> None:
    before = len(teams.activities())
    asked = teams.say(DANA, "after the switch, do I have to recreate my personal access tokens?")
    answers = _channel(teams.activities()[before:])
    assert [(entry["op"], entry["thread"]) for entry in answers] == [("send", asked["activityId"])]

    before = len(teams.activities())
    teams.say(ANN, "and my SSH keys?", thread=asked["activityId"])  # a reply in the same thread
    answers = _channel(teams.activities()[before:])
    assert [entry["thread"] for entry in answers] == [asked["activityId"]]


def test_an_answer_sent_to_personal_chat_leaves_a_pointer_in_the_thread(teams: Teams) -> None:
    before = len(teams.activities())
    asked = teams.say(ANN, "todo")  # her own list (none yet): her case, not the channel's
    new = teams.activities()[before:]
    assert [entry["conversation"]["user"] for entry in new if entry not in _channel(new)] == [ANN]
    assert [(entry["thread"], texts(entry).strip()) for entry in _channel(new)] == [
        (asked["activityId"], f"{POINTER}\n{POINTER}")  # the notification text, and the card's
    ]


def _started(teams: Teams) -> dict[str, Any]:
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    before = len(teams.activities())
    assert teams.deliver_outbox() == 1  # the summary, recorded with the check's result
    (summary,) = _channel(teams.activities()[before:])
    return summary


def test_a_click_answered_in_personal_chat_keeps_the_card_for_the_clicker(teams: Teams) -> None:
    summary = _started(teams)
    card = latest_card(teams.activities(), summary["id"])
    before = len(teams.activities())

    clicked = teams.click(ANN, summary["id"], "Yes, cancel migration")  # Ann is no admin

    assert clicked.json()["body"] == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": SENT_PRIVATELY,
    }
    assert teams.view(ANN, summary["id"]) == card  # Teams leaves a card alone on a message answer
    (refusal,) = teams.activities()[before:]
    assert refusal["conversation"]["user"] == ANN and "is for the organization's admins" in texts(refusal)


def test_an_admin_s_click_keeps_the_summary_and_the_result_reaches_them(teams: Teams) -> None:
    summary = _started(teams)
    card = latest_card(teams.activities(), summary["id"])
    before = len(teams.activities())

    clicked = teams.click(DANA, summary["id"], "Invite missing users")

    assert clicked.json()["body"]["value"] == SENT_PRIVATELY
    assert teams.view(DANA, summary["id"]) == card
    new = teams.activities()[before:]
    invitations = [entry for entry in new if f"Invitations for {ORGANIZATION}" in texts(entry)]
    # the channel reads how many; the answer, with who was invited and each result, reaches her alone
    assert [
        (entry["conversation"]["conversationType"], entry["conversation"]["user"]) for entry in invitations
    ] == [
        ("channel", None),
        ("personal", DANA),
    ]


def test_a_click_answered_in_a_line_shows_the_line_to_the_clicker_alone(teams: Teams) -> None:
    summary = _started(teams)
    teams.say(DANA, f"invite {ORGANIZATION}")  # else approval is refused until they are invited
    teams.say(DANA, f"announce {ORGANIZATION}")  # else the answer adds that nobody was told, and a button
    card = latest_card(teams.activities(), summary["id"])
    before = len(teams.activities())

    clicked = teams.click(DANA, summary["id"], "Request approval")

    body = clicked.json()["body"]
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"].startswith("Approval requested (#") and body["value"].endswith(
        "and I say here if it cannot reach one."
    )
    assert teams.view(DANA, summary["id"]) == card  # not replaced by the approval prompt
    assert not any("Approval requested" in texts(entry) for entry in teams.activities()[before:])
