"""Entra sign-in codes that a topic's answer explains without a phrasing naming them (walk25, finding 12):
asked with no asker they were turned away as out of scope, with no topic to look at."""

from __future__ import annotations

import pytest

from faq import AskerContext, FaqAnswerer
from faq._reading import ERROR_CODE

# A member the plan matched, asking in direct messages once the to-do lists are out.
MEMBER = AskerContext(
    outcome="auto", stage="users_notified", organization="fabrikam", case="first", migration="fabrikam"
)
# As people paste them: the code, then Microsoft's message.
PASTED = [
    "AADSTS50057: The user account is disabled.",
    "Sign-in fails with AADSTS90072: User account 'erin@outlook.com' from identity provider 'live.com' does"
    " not exist in tenant 'Fabrikam' and cannot access the application.",
]


@pytest.mark.parametrize("question", PASTED)
def test_outside_a_migration_the_code_is_declined_with_the_topic_that_explains_it(
    answerer: FaqAnswerer, question: str
) -> None:
    answer = answerer.answer(question)
    assert answer.topic is None and answer.alternatives == ["email-not-found"], answer
    (code,) = ERROR_CODE.findall(question)
    assert answer.answer.startswith(f"Sorry, I can't tell which application gave you {code}")
    assert code in answerer.explain("email-not-found").answer  # what the offered topic says of it


@pytest.mark.parametrize("question", PASTED)
def test_inside_a_migration_the_code_is_answered_by_the_topic_that_explains_it(
    answerer: FaqAnswerer, question: str
) -> None:
    answer = answerer.answer(question, MEMBER)
    assert answer.topic == "email-not-found", answer
    assert ERROR_CODE.findall(question)[0] in answer.answer


def test_the_disabled_account_code_says_who_enables_the_account(answerer: FaqAnswerer) -> None:
    answer = answerer.answer(PASTED[0], MEMBER).answer
    line = next(line for line in answer.splitlines() if "AADSTS50057" in line)
    assert "disabled" in line and "enable it" in line
