"""Failing pipelines: after a directory change they are the service connections' topic (their service
principal is in the old tenant); with no move they are not this bot's subject (issue #13, docs/faq-eval.md
round 19). Model-written probes, worded for this file, not taken from the real questions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faq import AskerContext, FaqAnswerer

CONNECTED = AskerContext(stage="users_notified", organization="fabrikam", case="first", migration="fabrikam")
ASKERS = [
    AskerContext(),
    replace(CONNECTED, outcome="map"),
    replace(CONNECTED, outcome="auto", is_admin=True),
    replace(CONNECTED, outcome="invite", guest=True),
]


@pytest.mark.parametrize(
    "question",
    [
        "Our CI/CD broke right after the directory change: the Azure deploy step fails.",
        "the pipeline that deploys to our subscription has been failing since the tenant switch",
        "pipelines failing after we changed the Azure AD connection of the org",
    ],
)
@pytest.mark.parametrize("asker", ASKERS)
def test_a_pipeline_failing_after_a_directory_change_is_the_service_connections_topic(
    answerer: FaqAnswerer, question: str, asker: AskerContext
) -> None:
    # Answered or framed: either way the reply is about service connections, not SSH keys or the move itself.
    assert answerer.answer(question, asker).topic == "service-connections"


@pytest.mark.parametrize(
    "question",
    [
        "our release pipeline failed last night on the deploy stage",
        "the pipeline fails with exit code 1 on npm install",
        "why do my builds fail?",
        # Round 19's known miss inside a migration (answered `mapping-error`), declined since round 26.
        "my build pipeline keeps failing",
    ],
)
@pytest.mark.parametrize("asker", ASKERS)
def test_a_pipeline_failing_with_no_move_is_declined(
    answerer: FaqAnswerer, question: str, asker: AskerContext
) -> None:
    assert answerer.answer(question, asker).topic is None


@pytest.mark.xfail(
    strict=True, reason="issue #13: no change kept by round 14's rule (docs/faq-eval.md, round 19)"
)
@pytest.mark.parametrize(
    ("question", "asker"),
    [
        # The lead's two (issue #13): answered `ssh-keys` and `disconnect-first`.
        ("my pipeline fails after the move", ASKERS[0]),
        ("Our build pipelines fail after moving the organization to another directory", ASKERS[0]),
        (
            "Since we switched our organization to the new Entra tenant, every deployment in our release"
            " pipeline errors out. What do we need to fix?",
            ASKERS[1],
        ),  # framed `what-is-kept`
    ],
)
def test_known_misses_after_a_move(answerer: FaqAnswerer, question: str, asker: AskerContext) -> None:
    # Strict: when a change fixes them, this fails and the probes move to the test above.
    assert answerer.answer(question, asker).topic == "service-connections"
