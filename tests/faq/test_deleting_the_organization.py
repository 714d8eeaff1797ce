"""How to delete the Azure DevOps organization itself is no step of the move and no topic's: declined, with
the closest topics offered. The ranker read its "delete" as the stale users' and answered "how do I delete my
organization?" with how to remove people who left. Only asked how: a worry that the move deletes it, or
whether the old one must go after moving, is the move's question and keeps its answer (review rev83, which
reverted a wider rule). Wordings written for the test."""

from __future__ import annotations

import pytest

from faq import AskerContext, FaqAnswerer
from faq._deleting import asks_how_to_delete_the_organization
from faq._reading import read

ORG = "fabrikam-fiber"
IN_THE_MIGRATION = AskerContext(
    outcome="map", stage="users_notified", organization=ORG, migration=ORG, case="switch"
)
HOW_TO = [
    "how do I delete my organization?",
    "How do I delete my organisation",
    "delete my org",
    "how to delete an Azure DevOps organization",
    "is there a way to delete my organization?",
    "We'd like to delete the test organization. What are the steps?",
]


@pytest.mark.parametrize("question", HOW_TO)
def test_how_to_delete_the_organization_is_declined_with_the_closest_topics(
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
        ("Will connecting to Entra ID delete my organization?", "historic-user"),
        ("Do we have to delete the old organization after moving?", "disconnect-first"),
        ("should we delete former employees first", "stale-users"),
        ("How do I delete users from my organization before connecting?", "stale-users"),
        ("can we delete the old tenant after moving the organization", "disconnect-first"),
    ],
)
def test_a_worry_about_the_move_or_deleting_people_keeps_its_topic(
    answerer: FaqAnswerer, question: str, topic: str
) -> None:
    assert answerer.answer(question).topic == topic


@pytest.mark.parametrize(
    "question",
    [
        "does this delete my org",
        "Will the switch delete our organization or its projects?",
        "If I disconnect, does it delete the org?",
        "We moved everything to a new org. Can I delete the old organization now?",
        "how do I delete the organization's old directory?",
        "delete the org connection to Azure AD",
        "how do I delete the organization from Azure AD",
        "we deleted the organization by accident, can it be restored?",
    ],
)
def test_a_worry_or_something_of_the_organization_is_not_asking_how(question: str) -> None:
    assert not asks_how_to_delete_the_organization(read(question)), question


def test_a_worry_about_deleting_it_is_answered(answerer: FaqAnswerer) -> None:
    for asker in (AskerContext(), IN_THE_MIGRATION):
        assert answerer.answer("does this delete my org", asker).topic is not None
