"""Deleting the Azure DevOps organization itself is no step of the move and no topic's: declined, with the
closest topics offered, as any other question the topics do not answer. The ranker read its "delete" as the
stale users' ("should we delete former employees first") and answered "how do I delete my organization?"
with how to remove people who left. Wordings written for the test."""

from __future__ import annotations

import pytest

from faq import AskerContext, FaqAnswerer
from faq._deleting import asks_to_delete_the_organization
from faq._reading import read

ORG = "fabrikam-fiber"
IN_THE_MIGRATION = AskerContext(
    outcome="map", stage="users_notified", organization=ORG, migration=ORG, case="switch"
)


@pytest.mark.parametrize(
    "question",
    [
        "how do I delete my organization?",
        "How do I delete my organisation",
        "delete my org",
        "We moved everything to a new org. Can I delete the old organization now?",
    ],
)
def test_deleting_the_organization_is_declined_with_the_closest_topics(
    answerer: FaqAnswerer, question: str
) -> None:
    for asker in (AskerContext(), IN_THE_MIGRATION):
        answer = answerer.answer(question, asker)
        assert answer.topic is None, (question, asker)
        assert answer.answer.startswith("Sorry, I don't know the answer to that one."), (question, asker)
        assert len(answer.alternatives) == 3 and "The closest topics I know about" in answer.answer


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("should we delete former employees first", "stale-users"),
        ("How do I delete users from my organization before connecting?", "stale-users"),
        ("can we delete the old tenant after moving the organization", "disconnect-first"),
    ],
)
def test_deleting_people_or_the_old_directory_keeps_its_topic(
    answerer: FaqAnswerer, question: str, topic: str
) -> None:
    assert answerer.answer(question).topic == topic


@pytest.mark.parametrize(
    "question",
    [
        "how do I delete the organization's old directory?",
        "delete the org connection to Azure AD",
        "how do I delete users from the organization?",
        "we deleted the organization by accident, can it be restored?",
    ],
)
def test_something_of_the_organization_or_done_already_is_not_this_question(question: str) -> None:
    assert not asks_to_delete_the_organization(read(question)), question
