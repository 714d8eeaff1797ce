"""Framing an answer for who asks and what the message says (walk38): the lock-out topic gives the owner's
way back in to the migration's admins only, and a code only one topic documents is answered as certain."""

from __future__ import annotations

import pytest

from faq import AskerContext, FaqAnswerer

MEMBER = AskerContext(outcome="auto", stage="connected", organization="fabrikam", migration="fabrikam")
ADMIN = AskerContext(stage="connected", organization="fabrikam", migration="fabrikam", is_admin=True)
TAKE_OVER = "can take over the organization (Organization settings > Overview > Change owner)"
SUPPORT = "open a support request (https://azure.microsoft.com/support/devops/)"
NOT_YOURS = "Taking the organization over or asking Microsoft support is for its owner and admins"


@pytest.mark.parametrize("question", ["TF400813", "I get TF400813 when I open the project"])
def test_someone_who_is_not_an_admin_is_not_told_the_owners_way_back_in(
    answerer: FaqAnswerer, question: str
) -> None:
    answer = answerer.answer(question, MEMBER)
    assert answer.topic == "owner-locked-out"
    assert TAKE_OVER not in answer.answer and SUPPORT not in answer.answer
    assert f"\n{NOT_YOURS}: if you are still refused, ask an admin.\n" in answer.answer


def test_an_admin_is_told_the_owners_way_back_in_and_nothing_addressed_to_others(
    answerer: FaqAnswerer,
) -> None:
    answer = answerer.answer("TF400813", ADMIN)
    assert TAKE_OVER in answer.answer and SUPPORT in answer.answer and NOT_YOURS not in answer.answer


@pytest.mark.parametrize(
    "context", [None, AskerContext(migration="fabrikam", organization="fabrikam", in_chat=False)]
)
def test_whose_role_the_bot_does_not_know_reads_both_after_their_labels(
    answerer: FaqAnswerer, context: AskerContext | None
) -> None:
    # no migration, or `aadbot ask --migration` (its operator may be an admin or not)
    answer = answerer.answer("TF400813", context).answer
    assert "\n- The organization's owner or an admin: If the owner's identity" in answer
    assert f"\n- Anyone else: {NOT_YOURS}" in answer


@pytest.mark.parametrize("context", [MEMBER, ADMIN])
def test_a_code_only_one_topic_documents_is_answered_without_doubt(
    answerer: FaqAnswerer, context: AskerContext
) -> None:
    answer = answerer.answer("AADSTS50020", context)
    assert answer.topic == "email-not-found" and not answer.framed
    assert answer.answer.startswith("My email is not found in the directory\n")
    assert "This sounds like" not in answer.answer and "Not what you meant?" not in answer.answer
