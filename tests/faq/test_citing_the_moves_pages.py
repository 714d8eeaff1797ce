"""Citing Microsoft's pages about the move. A line quoted from the best topic's own page says which
section of the move's documentation the asker is at: answered (framed when unsure) whatever the confidence,
as a pasted code the topic documents is. A link to one of the move's pages says the message is about the
move, as asking inside a migration does, and so does naming Azure DevOps with a switch of directory.

For quotes the answerer is one whose confidence never reaches its threshold: what answers is the quote alone.
"""

from __future__ import annotations

import pytest

from faq._about import AboutModel
from faq._calibration import Calibration
from faq._compose import AskerContext
from faq.answerer import FaqAnswerer

# The SSH section of the switch page, as people paste it into a docs comment; the wording around it is ours.
_QUOTED = """Our team lead pointed us at the page and we are unsure what it means for us.

> Request that SSH keys get manually cleared by Support before you switch directories.

Why is a person at Microsoft involved at all, and how long does that usually take?"""

_INSIDE = AskerContext(stage="users_notified", organization="fabrikam", case="first", migration="fabrikam")


@pytest.fixture(scope="module")
def doubtful() -> FaqAnswerer:
    """Bundled topics and pages; a confidence of about 0.007 against a threshold of 0.99."""
    return FaqAnswerer(calibration=Calibration(0.0, 0.0, -5.0, threshold=0.99))


@pytest.mark.parametrize("context", [None, _INSIDE], ids=["outside", "inside"])
def test_a_quoted_line_of_the_first_topics_page_is_answered_framed(
    doubtful: FaqAnswerer, context: AskerContext | None
) -> None:
    answer = doubtful.answer(_QUOTED, context)
    assert (answer.topic, answer.framed) == ("ssh-keys", True)


def test_the_same_words_not_quoted_are_judged_by_the_confidence(doubtful: FaqAnswerer) -> None:
    """Without the `>` the line is the asker's own sentence: nothing says a page is quoted."""
    assert doubtful.answer(_QUOTED.replace("> ", ""), None).topic is None


def test_a_quote_of_another_topics_page_does_not_answer(doubtful: FaqAnswerer) -> None:
    """The quote must be of the page section of the topic ranked first: quoting the SSH section on the way
    to a question the billing topic ranks first says nothing about that question."""
    question = (
        "Unrelated to that page:\n\n> Request that SSH keys get manually cleared by Support.\n\n"
        "We changed billing to another Azure subscription after connecting the organization, and Change"
        " billing does not list the subscription. Which role on the subscription do I need?"
    )
    assert doubtful.rank(question).topics[0].topic_id == "billing-subscription"
    assert doubtful.answer(question).topic is None


def test_a_quote_of_some_other_page_stays_declined(doubtful: FaqAnswerer) -> None:
    question = (
        "The pipelines page says:\n\n> Agent pools are shared across an organization.\n\n"
        "How do I restart the offline self-hosted agent in our pool?"
    )
    assert doubtful.answer(question).topic is None


@pytest.fixture(scope="module")
def doubting() -> FaqAnswerer:
    """A learned model that doubts every message (log-odds -1) and a confidence that is its doubt alone: about
    0.007 as asked anywhere, 0.5 (the threshold) when read as asked inside a migration, which lifts the doubt
    to the migration's floor (+2 here)."""
    calibration = Calibration(0.0, 0.0, 0.0, threshold=0.5, slope_about=5.0)
    return FaqAnswerer(calibration=calibration, about=AboutModel({}, -1.0, in_migration=2.0))


_FAILING = "Git keeps failing to authenticate; see {}"
_MOVE_PAGES = "https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/"


@pytest.mark.parametrize(
    "link",
    [
        f"{_MOVE_PAGES}change-azure-ad-connection?view=azure-devops",
        f"({_MOVE_PAGES}connect-organization-to-azure-ad).",
        "https://github.com/MicrosoftDocs/azure-devops-docs/blob/main/docs/organizations/accounts/faq-azure-access.md",
    ],
)
def test_a_link_to_a_page_of_the_move_reads_the_message_as_asked_inside(
    doubting: FaqAnswerer, link: str
) -> None:
    assert doubting.answer(_FAILING.format(link)).topic == "git-credential-cache"


@pytest.mark.parametrize(
    "link",
    [
        "https://learn.microsoft.com/en-us/azure/devops/pipelines/agents/agents?view=azure-devops",
        # About signing in, but not about the move.
        "https://learn.microsoft.com/en-us/azure/devops/user-guide/troubleshoot-connection",
        # Not an address `urllib` would parse: read, never an error.
        "http://[Organization]@dev.azure.com/",
    ],
)
def test_other_links_leave_the_doubt(doubting: FaqAnswerer, link: str) -> None:
    assert doubting.answer(_FAILING.format(link)).topic is None


def test_a_docs_footer_is_not_the_askers_link(doubting: FaqAnswerer) -> None:
    """GitHub's docs-feedback footer links the page every comment is on, whatever the comment asks."""
    question = (
        "Git keeps failing to authenticate.\n\n---\n#### Document Details\n"
        f"* Content: [Connect]({_MOVE_PAGES}connect-organization-to-azure-ad)"
    )
    assert doubting.answer(question).topic is None


def test_naming_azure_devops_and_a_switch_reads_the_message_as_asked_inside(doubting: FaqAnswerer) -> None:
    question = "Git keeps failing to authenticate against Azure DevOps; the token still names the old tenant."
    assert doubting.answer(question).topic == "git-credential-cache"


@pytest.mark.parametrize(
    "question",
    [
        "Git keeps failing to authenticate against Bitbucket; the token still names the old tenant.",
        "Git keeps failing to authenticate against Azure DevOps; the token names our tenant.",
    ],
    ids=["a switch elsewhere", "azure devops without a switch"],
)
def test_a_switch_or_azure_devops_alone_leaves_the_doubt(doubting: FaqAnswerer, question: str) -> None:
    assert doubting.answer(question).topic is None
