"""A question that gives a secret away is answered as if the secret were not in it: the token is no word of
the question, only a word the topics cannot know, which made the bot decline "my PAT is <token> stopped
working".
The secret itself reaches neither the answer, nor the review queue, nor the log of unanswered questions.
Tokens and passwords made up for the test."""

from __future__ import annotations

import pytest

from faq import AskerContext, FaqAnswerer, InMemoryUnansweredLog
from faq.feedback import InMemoryFeedbackStore

PAT = "abcd1234efgh5678ijkl9012mnop3456qrst7890uvwx"
BASE32_PAT = "zv2xq5yk7wpmfx3r5jq2d4t6l7k2abcdefghijkmnopqrstuvwxy"
FABRIKAM = AskerContext(organization="fabrikam")


@pytest.mark.parametrize(
    ("question", "secret", "topic"),
    [
        (f"my PAT is {PAT} stopped working", PAT, "regenerate-pat"),
        (f"my PAT is {BASE32_PAT} stopped working", BASE32_PAT, "regenerate-pat"),
        ("my password is Hunter2024 and git keeps asking", "Hunter2024", "git-credential-cache"),
        (
            "my password is purple monkey dishwasher and git keeps asking",
            "purple monkey",
            "git-credential-cache",
        ),
    ],
)
def test_a_question_with_a_secret_is_answered_without_it(question: str, secret: str, topic: str) -> None:
    store, log = InMemoryFeedbackStore(), InMemoryUnansweredLog()
    answerer = FaqAnswerer(feedback=store, unanswered=log)
    answer = answerer.answer(question, FABRIKAM)
    assert answer.topic == topic, (question, answer.topic, answer.alternatives)
    assert secret not in answer.answer
    assert answer.rating is not None and secret not in answer.rating  # what its buttons carry
    answerer.rate(answer.rating, helpful=False, organization="fabrikam")
    kept = store.pending("fabrikam", 10)
    assert kept and all(secret not in item.question and "[redacted]" in item.question for item in kept)
    assert log.entries() == []


def test_a_declined_question_with_a_secret_is_kept_without_it() -> None:
    store, log = InMemoryFeedbackStore(), InMemoryUnansweredLog()
    answerer = FaqAnswerer(feedback=store, unanswered=log)
    answer = answerer.answer(f"what is {PAT} for the printer", FABRIKAM)
    assert answer.topic is None and PAT not in answer.answer
    assert all(PAT not in item.question for item in store.pending("fabrikam", 10))
    assert all(PAT not in entry.question for entry in log.entries())
