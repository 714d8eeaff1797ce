"""Who to turn to ("who do I call when I'm stuck?", "who is our help desk?") is the organization's own: the
admins' answer where they wrote one (`faq review answer N TEXT`), whatever the wording, else who the admins
are and how to reach them, the question kept for their review. Before, both were declined as about no topic.
Wordings written for the test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from faq import AskerContext, FaqAnswerer
from faq.feedback import InMemoryFeedbackStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
IN_THE_MIGRATION = AskerContext(
    outcome="map", organization="fabrikam", migration="fabrikam", admins=("dana@fabrikam.com",)
)
WHO_TO_TURN_TO = [
    "who do I call when I'm stuck",
    "who is our help desk",
    "Who do I contact?",
    "who should we contact about the migration",
    "how do I reach a human?",
]


@pytest.mark.parametrize("question", WHO_TO_TURN_TO)
def test_who_to_turn_to_names_the_admins_and_reaches_their_review(question: str) -> None:
    store = InMemoryFeedbackStore()
    answer = FaqAnswerer(feedback=store, clock=lambda: NOW).answer(question, IN_THE_MIGRATION)
    assert answer.topic is None and not answer.answer.startswith("Sorry"), answer.answer
    assert answer.answer.startswith(
        "I don't know where your help desk is: your admins have not added it yet."
    )
    assert "write to them: dana@fabrikam.com" in answer.answer and answer.alternatives == []
    assert [(item.kind, item.question) for item in store.pending("fabrikam", 10)] == [("declined", question)]


def test_outside_a_migration_it_names_who_the_admins_are(answerer: FaqAnswerer) -> None:
    answer = answerer.answer("who is our help desk")
    assert answer.topic is None and "owner or Project Collection Administrators" in answer.answer


def test_the_admins_answer_is_given_however_it_is_asked() -> None:
    store = InMemoryFeedbackStore()
    answerer = FaqAnswerer(feedback=store, clock=lambda: NOW)
    first = answerer.answer("Where is the IT help desk for the migration weekend?", IN_THE_MIGRATION)
    assert first.ask_id is not None
    store.resolve(first.ask_id, topic=None, text="Call extension 4242, or #it-help.", by="dana", at=NOW)
    for question in WHO_TO_TURN_TO:
        answer = answerer.answer(question, IN_THE_MIGRATION)
        assert answer.topic == f"local-{first.ask_id}" and "extension 4242" in answer.answer, question
    elsewhere = answerer.answer("who is our help desk", AskerContext(organization="contoso"))
    assert elsewhere.topic is None and "4242" not in elsewhere.answer


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("can't find my email in AAD, who do i talk to", "email-not-found"),
        ("I get 403 when inviting, who do I talk to?", "invite-403"),
        ("how do I contact Microsoft support", "support-request"),
    ],
)
def test_a_topics_question_that_asks_who_to_talk_to_keeps_its_topic(
    answerer: FaqAnswerer, question: str, topic: str
) -> None:
    assert answerer.answer(question).topic == topic
