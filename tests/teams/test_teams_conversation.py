"""Teams reads people as Slack and the console do: typos get a suggestion that runs, questions get answers."""

from __future__ import annotations

from faq import default_answerer
from tests.teams.conftest import ORGANIZATION, Teams, approval_requested, connect, texts

DANA = "dana@fabrikam.com"


def test_a_typo_in_a_mention_gets_a_private_suggestion_whose_button_runs_it(teams: Teams) -> None:
    before = len(teams.activities())
    assert teams.say(DANA, "hepl all", channel=True)["status"] == 200

    new = teams.activities()[before:]
    suggestions = [entry for entry in new if "Did you mean `help all`?" in texts(entry)]
    assert len(suggestions) == 1, [texts(entry) for entry in new]
    (suggestion,) = suggestions
    assert (suggestion["conversation"]["conversationType"], suggestion["conversation"]["user"]) == (
        "personal",
        DANA,
    )  # a mistake is told to the person who made it, not to the channel
    assert not any("Did you mean" in texts(entry) for entry in new if entry is not suggestion)

    clicked = len(teams.activities())
    response = teams.click(DANA, suggestion["id"], "help all")
    assert response.status_code == 200
    answered = "\n".join([str(response.json()), *(texts(entry) for entry in teams.activities()[clicked:])])
    assert "`start ORG TENANT`" in answered and "`stale-users [ORG] [DAYS]`" in answered  # every word


def test_a_question_in_a_mention_is_answered_as_ask_answers_it(teams: Teams) -> None:
    question = "after the switch, do I have to recreate my personal access tokens?"
    expected = default_answerer().answer(question)
    assert expected.topic == "regenerate-pat" and expected.link

    said = teams.said(DANA, question, channel=True)

    assert expected.link in said
    assert "I don't know" not in said


def test_check_connection_says_connected_once(teams: Teams) -> None:
    """The reply in the command's thread and the notice the outbox posts in the channel were the same
    message twice, each with its button."""
    prompt = approval_requested(teams, DANA)
    assert teams.click("lee@fabrikam.com", prompt["id"], "Approve").status_code == 200
    teams.deliver_outbox()
    connect(teams)
    before = len(teams.activities())
    teams.say(DANA, f"check-connection {ORGANIZATION}")
    teams.deliver_outbox()
    told = [texts(e) for e in teams.activities()[before:] if "is now connected" in texts(e)]
    assert len(told) == 1, told
    again = teams.said(DANA, f"check-connection {ORGANIZATION}")  # nothing new to post: the reply says it
    assert f"🎉 {ORGANIZATION} is now connected to Fabrikam." in again
