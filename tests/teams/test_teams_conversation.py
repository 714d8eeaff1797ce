"""Teams reads people as Slack and the console do: typos get a suggestion that runs, questions get answers."""

from __future__ import annotations

from faq import default_answerer
from tests.faq.test_faq_review_chat import TWO_QUESTIONS, kept_for_review
from tests.teams.conftest import (
    ORGANIZATION,
    Teams,
    actions_of,
    approval_requested,
    connect,
    latest_card,
    texts,
)

DANA = "dana@fabrikam.com"


def test_a_typo_in_a_mention_gets_a_private_suggestion_whose_button_runs_it(teams: Teams) -> None:
    before = len(teams.activities())
    assert teams.say(DANA, "hepl all", channel=True)["status"] == 200

    new = teams.activities()[before:]
    suggestions = [entry for entry in new if "Did you mean **help all**?" in texts(entry)]
    assert len(suggestions) == 1, [texts(entry) for entry in new]
    (suggestion,) = suggestions
    # in the thread, as Slack's ephemeral reply: its words name nobody, its button is Dana's alone
    assert suggestion["conversation"]["conversationType"] == "channel"
    assert not any("Did you mean" in texts(entry) for entry in new if entry is not suggestion)

    clicked = len(teams.activities())
    response = teams.click(DANA, suggestion["id"], "help all")
    assert response.status_code == 200
    answered = "\n".join([str(response.json()), *(texts(entry) for entry in teams.activities()[clicked:])])
    assert "**start ORG TENANT**" in answered and "**stale-users [ORG] [DAYS]**" in answered  # every word


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
    told = [
        (texts(e), e["conversation"]["conversationType"])
        for e in teams.activities()[before:]
        if "is now connected" in texts(e)
    ]
    # once in the channel; each admin's personal copy (sent side by side) names whom to map
    assert sorted(where for _, where in told) == ["channel", "personal", "personal"], told
    again = teams.said(DANA, f"check-connection {ORGANIZATION}")  # nothing new to post: the reply says when
    assert (
        "🎉" not in again
        and f"{ORGANIZATION} is connected to Fabrikam: I saw it connected already on" in again
    )


def test_check_connection_asked_under_the_approval_prompt_is_answered_there(teams: Teams) -> None:
    """Asked in the thread of the migration's approval prompt, the answer went only to the channel's top,
    as a post of its own: whoever asked in the thread saw nothing there."""
    prompt = approval_requested(teams, DANA)
    assert teams.click("lee@fabrikam.com", prompt["id"], "Approve").status_code == 200
    teams.deliver_outbox()
    connect(teams)
    before = len(teams.activities())
    teams.say(DANA, f"check-connection {ORGANIZATION}", thread=prompt["id"])
    teams.deliver_outbox()
    told = [
        (entry.get("thread"), entry["conversation"]["conversationType"])
        for entry in teams.activities()[before:]
        if "is now connected to Fabrikam" in texts(entry)
    ]
    in_channel = [place for place in told if place[1] == "channel"]
    assert len(in_channel) == 2 and set(in_channel) == {
        (prompt["id"], "channel"),
        (None, "channel"),
    }  # thread, top


def test_a_screenshot_without_words_is_told_the_bot_reads_text_only(teams: Teams) -> None:
    """Teams sends a pasted image as an `<img>` in the text and as attachments; a file as an attachment."""
    from bot.teams.endpoint import TEXT_ONLY

    image = [
        {"contentType": "image/*", "contentUrl": "https://smba.trafficmanager.net/amer/v3/attachments/x"},
        {
            "contentType": "text/html",
            "content": '<div><img alt="image" src="https://example.invalid/x"></div>',
        },
    ]
    pasted = '<p><img alt="image" src="https://example.invalid/x" itemscope="png"></p>'
    file = [{"contentType": "application/vnd.microsoft.teams.file.download.info", "name": "error.png"}]
    for text, attachments, channel in ((pasted, image, False), ("", file, True)):
        before = len(teams.activities())
        assert teams.say("kim@fabrikam.com", text, channel=channel, attachments=attachments)["status"] == 200
        [told] = teams.activities()[before:]
        assert texts(told).strip().splitlines()[-1] == TEXT_ONLY  # not the home card, nor help


def test_html_entities_are_words_before_the_faq_reads_them(teams: Teams) -> None:
    """Teams sends `&` as `&amp;`: the question is the one typed, and gets its answer ("builds keep
    running"), as the same words with "and" do."""
    asked = teams.said("kim@fabrikam.com", "Do my pipelines &amp; builds keep working?", channel=False)
    plain = teams.said("kim@fabrikam.com", "Do my pipelines and builds keep working?", channel=False)
    assert (
        "No downtime: the organization keeps working while it is connected, and builds keep running." in asked
    )
    assert asked == plain.replace("pipelines and builds", "pipelines & builds") and "&amp;" not in asked


def test_the_second_question_an_answer_offers_below_is_a_button_on_its_card(teams: Teams) -> None:
    """walk31 finding 5, on Teams: the action "Pick it below" points at, and what it answers."""
    kim = "kim@fabrikam.com"
    before = len(teams.activities())
    teams.say(kim, TWO_QUESTIONS, channel=False)
    (answer,) = [entry for entry in teams.activities()[before:] if "Pick it below" in texts(entry)]
    assert [action["title"] for action in actions_of(latest_card(teams.activities(), answer["id"]))][:3] == [
        "ssh keys",
        "Helpful",
        "Not helpful",
    ]
    clicked = len(teams.activities())
    response = teams.click(kim, answer["id"], "ssh keys")
    assert response.status_code == 200
    picked = "\n".join([str(response.json()), *(texts(entry) for entry in teams.activities()[clicked:])])
    assert "SSH keys after the switch" in picked and "You also asked" not in picked


def test_faq_review_says_how_many_wait_and_its_next_action_shows_the_rest(teams: Teams) -> None:
    """walk31 finding 6, on Teams: 14 waiting, the three rated Not helpful first, the rest one click away."""
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    kept_for_review(teams.runtime.database, ORGANIZATION, declined=11, not_helpful=3)
    before = len(teams.activities())
    teams.say(DANA, "faq review", channel=False)
    (listed,) = [entry for entry in teams.activities()[before:] if "questions waiting" in texts(entry)]
    shown = texts(listed)
    assert f"14 questions waiting for review for {ORGANIZATION}" in shown and "Here 1 to 10" in shown
    assert "unhelped question 0" in shown and "Hunter2" not in shown
    clicked = len(teams.activities())
    assert teams.click(DANA, listed["id"], "Next 4").status_code == 200
    following = "\n".join(texts(entry) for entry in teams.activities()[clicked:])
    assert "Here 11 to 14" in following and "declined question 10" in following
