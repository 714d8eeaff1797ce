from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from faq import CONTRACT_TOPICS, KnowledgeError
from faq._knowledge import bundled_pages, bundled_topics, parse_pages, parse_topics
from faq.evaluate import load_questions
from workflows.invitation_email import SENDER


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "t",
        "title": "T",
        "phrasings": ["p"],
        "answer": ["a"],
        "link": "https://learn.microsoft.com/x",
    }
    return entry | overrides


def test_every_contract_topic_is_covered_with_a_learn_link() -> None:
    topics = {topic.id: topic for topic in bundled_topics()}
    assert set(CONTRACT_TOPICS) <= set(topics)
    for topic_id in CONTRACT_TOPICS:
        assert topics[topic_id].link.startswith("https://learn.microsoft.com/")
        assert len(topics[topic_id].phrasings) >= 5


def test_answers_are_plain_ascii_for_any_terminal() -> None:
    for topic in bundled_topics():
        told = topic.title + topic.answer + "".join(note.text for note in topic.notes)
        assert (told + "".join(case.when + case.text for case in topic.cases)).isascii(), topic.id


def test_the_invitation_email_is_named_as_microsoft_sends_it_since_december_2025() -> None:
    # workflows/invitation_email.py: no longer from invites@microsoft.com, and its subject changed
    for topic in bundled_topics():
        told = topic.answer + "".join(note.text for note in topic.notes)
        told += "".join(case.text for case in topic.cases)
        assert "invites@microsoft.com" not in told, topic.id
        assert "access applications within their organization" not in told, topic.id
    email_not_found = {topic.id: topic for topic in bundled_topics()}["email-not-found"]
    assert SENDER in email_not_found.answer


def test_the_tutorial_specifics_are_in_the_answers() -> None:
    text = {topic.id: topic.answer for topic in bundled_topics()}
    assert "git-credential-manager azure-repos clear-cache" in text["git-credential-cache"]
    assert "%LocalAppData%\\GitCredentialManager\\tenant.cache" in text["git-credential-cache"]
    assert "my.visualstudio.com" in text["vs-subscription"]
    assert "15 to 60 minutes" in text["invite-propagation"]
    assert "BEFORE you delete" in text["disconnect-first"]


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


def test_no_evaluation_question_was_copied_into_the_phrasings() -> None:
    phrasings = {_words(p) for topic in bundled_topics() for p in topic.phrasings}
    copied = [q.text for q in load_questions() if _words(q.text) in phrasings]
    assert copied == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "`topics` list"),
        ({"topics": [_entry(), _entry()]}, "duplicate topic ids"),
        ({"topics": [_entry(phrasings=[])]}, "`phrasings` must be a non-empty list"),
        ({"topics": [_entry(link="http://x")]}, "https URL"),
        ({"topics": [_entry(related=["nope"])]}, "unknown or own ids"),
        ({"topics": [_entry(**{"for": [{"outcome": ["maybe"], "text": "x"}]})]}, "unknown outcome ['maybe']"),
        ({"topics": [_entry(**{"for": [{"phase": ["later"], "text": "x"}]})]}, "unknown phase"),
        ({"topics": [_entry(**{"for": [{"admin": "yes", "text": "x"}]})]}, "`admin` must be true or false"),
        ({"topics": [_entry(cases=[{"when": "w", "text": "x"}])]}, "needs a line '{cases}'"),
        ({"topics": [_entry(answer=["{cases}"], cases=[{"when": "w"}])]}, "non-empty `when` and `text`"),
        (
            {"topics": [_entry(answer=["{cases}"], cases=[{"when": "w", "text": "x", "phase": ["before"]}])]},
            "not ['phase']",
        ),
        ({"topics": [_entry(**{"for": [{"tokens": "renew", "text": "x"}]})]}, "`tokens` note needs '{why}'"),
        ({"topics": [_entry(**{"for": [{"text": "x {why}"}]})]}, "`tokens` note needs '{why}'"),
        ({"topics": [_entry(**{"for": [{"tokens": "soon", "text": "{why}"}]})]}, "must be 'renew' or 'keep'"),
        ({"topics": [_entry(ranked="no")]}, "`ranked` must be true or false"),
        (
            {"topics": [_entry(answer=["{cases}"], cases=[{"when": "w", "text": "x", "guest": "yes"}])]},
            "`guest` must be true or false",
        ),
    ],
)
def test_a_malformed_knowledge_base_names_the_problem(document: dict[str, Any], message: str) -> None:
    with pytest.raises(KnowledgeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_topics(document)


def test_the_bundled_file_is_valid_json_with_off_topic_subjects() -> None:
    data = json.loads((Path(__file__).parents[2] / "faq" / "knowledge.json").read_text(encoding="utf-8"))
    assert data["off_topic"] and parse_topics(data)


def test_microsofts_page_sections_name_their_source_and_known_topics() -> None:
    """CC BY 4.0 asks for the source: every section names a page of the repository at a commit."""
    data = json.loads((Path(__file__).parents[2] / "faq" / "pages.json").read_text(encoding="utf-8"))
    assert data["repository"] == "https://github.com/MicrosoftDocs/azure-devops-docs"
    assert data["licence"] == "CC BY 4.0"
    for page in data["pages"].values():
        assert page["path"].startswith("docs/") and page["path"].endswith(".md")
        assert re.fullmatch(r"[0-9a-f]{40}", page["commit"])
    pages = bundled_pages()
    assert set(pages) <= {topic.id for topic in bundled_topics()}
    assert all(text.isascii() for texts in pages.values() for text in texts)


def test_a_page_section_does_not_repeat_its_topics_own_phrasings() -> None:
    """A section is evidence the phrasings lack: the FAQ's question before its answer is already a phrasing,
    nearly word for word, and would count a question worded like it twice (docs/faq-eval.md, round 14)."""
    topics = {topic.id: topic for topic in bundled_topics()}
    repeated = [
        (topic_id, sentence)
        for topic_id, sections in bundled_pages().items()
        for section in sections
        for sentence in re.split(r"(?<=[.?!])\s+", section)
        for phrasing in (topics[topic_id].title, *topics[topic_id].phrasings)
        if difflib.SequenceMatcher(None, sentence.casefold(), phrasing.casefold()).ratio() >= 0.8
    ]
    assert repeated == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"topics": {}}, "`pages` table"),
        ({"pages": {}, "topics": []}, "`topics` table"),
        ({"pages": {"p": {}}, "topics": {"nope": [{"page": "p", "text": "x"}]}}, "unknown topic 'nope'"),
        ({"pages": {"p": {}}, "topics": {"t": [{"page": "q", "text": "x"}]}}, "names one of the `pages`"),
        ({"pages": {"p": {}}, "topics": {"t": [{"page": "p", "text": ""}]}}, "non-empty `text`"),
        ({"pages": {"p": {}}, "topics": {"t": []}}, "non-empty list of sections"),
    ],
)
def test_a_malformed_pages_document_names_the_problem(document: dict[str, Any], message: str) -> None:
    with pytest.raises(KnowledgeError, match=re.escape(message)):
        parse_pages(document, frozenset({"t"}))
