"""Asking what Microsoft Entra ID is (walk25, finding 4): the move's own topic explains it and its former
name, where the ranker sent the directory's one word to disconnecting the organization."""

from __future__ import annotations

import pytest

from faq import AskerContext, FaqAnswerer
from faq._reading import asks_what_the_directory_is

INSIDE = AskerContext(
    outcome="auto", stage="users_notified", organization="fabrikam", case="first", migration="fabrikam"
)
WHAT_IT_IS = [
    "Whats Entra ID?",
    "what is azure active directory",
    "what is the difference between Entra ID and Azure AD",
    "Is AAD the same as Microsoft Entra?",
]


@pytest.mark.parametrize("question", WHAT_IT_IS)
@pytest.mark.parametrize("context", [None, INSIDE], ids=["no asker", "inside a migration"])
def test_asking_what_entra_id_is_explains_the_move_and_the_rename(
    answerer: FaqAnswerer, question: str, context: AskerContext | None
) -> None:
    answer = answerer.answer(question, context)
    assert answer.topic == "what-is-this-migration" and not answer.framed, answer
    assert "Microsoft Entra ID, formerly Azure Active Directory" in answer.answer
    assert "disconnect" not in answer.answer.casefold()


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("how do I disconnect the organization from Entra ID", "disconnect-directory"),
        ("what is Entra ID and do I need a new PAT", "regenerate-pat"),
    ],
)
def test_a_question_about_something_the_directory_does_is_still_ranked(
    answerer: FaqAnswerer, question: str, topic: str
) -> None:
    assert not asks_what_the_directory_is(question)
    assert answerer.answer(question).topic == topic
