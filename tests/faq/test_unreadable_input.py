"""Binary data and random characters get a short polite "I could not read that", never a confident answer."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

import pytest

from faq import HOW_TO_REACH_A_PERSON, FaqAnswerer, InMemoryUnansweredLog
from faq._reading import read

SEEDS = range(30)


def _random_bytes(seed: int) -> str:
    rng = random.Random(seed)
    return bytes(rng.randrange(1, 256) for _ in range(rng.choice((40, 300, 2000)))).decode("latin1")


def _random_unicode(seed: int) -> str:
    rng = random.Random(seed)
    points = (rng.randrange(32, 0x110000) for _ in range(rng.choice((40, 300, 2000))))
    return "".join(chr(point) for point in points if not 0xD800 <= point < 0xE000)


def _random_printable(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.printable) for _ in range(rng.choice((40, 300, 2000))))


@pytest.fixture(scope="module")
def answerer() -> FaqAnswerer:
    return FaqAnswerer(unanswered=InMemoryUnansweredLog())


@pytest.mark.parametrize("make", [_random_bytes, _random_unicode])
def test_random_input_is_declined_politely_and_not_kept_for_review(
    make: Callable[[int], str], answerer: FaqAnswerer
) -> None:
    for seed in SEEDS:
        answer = answerer.answer(make(seed))
        assert answer.topic is None, (make.__name__, seed, answer.topic, answer.score)
        assert answer.answer.startswith("Sorry, I could not read a question in that"), (make.__name__, seed)
        assert answer.answer.endswith(f"\n{HOW_TO_REACH_A_PERSON}") and answer.alternatives
    assert isinstance(answerer.unanswered, InMemoryUnansweredLog) and answerer.unanswered.entries() == []


def test_random_printable_characters_are_declined(answerer: FaqAnswerer) -> None:
    """Keyboard soup can split into short word-like pieces, so it may get the ordinary "I don't know"."""
    for seed in SEEDS:
        assert answerer.answer(_random_printable(seed)).topic is None, seed


@pytest.mark.parametrize(
    "question",
    [
        "TF400813",
        "AADSTS50020 when I open dev.azure.com after we connected, what now?",
        "403 when I invite user@gmail.com to the tenant",
        "git push -> fatal: Authentication failed for https://dev.azure.com/fabrikam/_git/web",
        "Wie verbinde ich unsere Organisation mit Entra ID?",
        "組織をEntra IDに接続するにはどうすればよいですか？",
        "23:28:35.566 trace: [CreatePat] HTTP POST 401 -- do I need a new token after the switch?",
    ],
)
def test_questions_with_codes_numbers_paths_or_other_alphabets_are_read(question: str) -> None:
    assert not read(question).unreadable


@pytest.mark.parametrize("question", ["🙂", "👍🏽", "😀😀😀", "🤷\u200d♀️", "🙂 🙂"])
def test_emoji_alone_are_said_by_a_person_not_binary_data(answerer: FaqAnswerer, question: str) -> None:
    assert not read(question).unreadable
    answer = answerer.answer(question)
    assert answer.topic is None and answer.answer.startswith("I'm aadbot"), answer.answer
