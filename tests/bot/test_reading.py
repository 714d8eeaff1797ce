"""How words typed after `/aad` are read, measured on people's real phrasing and on every one-edit typo.

The questions are the FAQ's frozen evaluation sets (tests/faq/eval_*.json: questions written the way
people type in chat, by several hands); typed after `/aad` or a mention they must reach the FAQ, not
run a command or be taken for a typo.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.conversation.commands import USAGES
from bot.conversation.understanding import distance, read

EVALUATION_SETS = sorted((Path(__file__).parents[1] / "faq").glob("eval_*.json"))
WORDS = [usage.word for usage in USAGES]


def questions() -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict) and "question" in node:
            found.append(str(node["question"]))
        elif isinstance(node, str):
            found.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    for path in EVALUATION_SETS:
        data = json.loads(path.read_text())
        walk(data["in_scope"])
        walk(data["out_of_scope"])
    return found


def one_edit_typos(word: str) -> set[str]:
    """A letter dropped, two neighbours swapped, a letter doubled."""
    typos = set()
    for at in range(len(word)):
        typos.add(word[:at] + word[at + 1 :])
        typos.add(word[:at] + word[at] + word[at:])
        if at + 1 < len(word):
            typos.add(word[:at] + word[at + 1] + word[at] + word[at + 2 :])
    return {typo for typo in typos if typo not in WORDS and len(typo) >= 3}


def test_peoples_questions_typed_after_the_command_reach_the_faq() -> None:
    asked = questions()
    assert len(asked) > 700 and len(EVALUATION_SETS) >= 4
    readings = [(question, read(f"/aad {question}")) for question in asked]
    answered = [(question, reading) for question, reading in readings if reading.kind == "question"]
    misread = [
        (question, reading.kind) for question, reading in readings if reading.kind in ("command", "typo")
    ]
    assert misread == []  # no question runs a command or is taken for a typo
    assert len(answered) / len(asked) >= 0.99
    for question, reading in answered:
        assert reading.command.text == question.strip()  # the FAQ gets it as typed


def test_every_one_edit_typo_of_a_command_word_suggests_that_word_first() -> None:
    typos = {(typo, word) for word in WORDS for typo in one_edit_typos(word)}
    assert len(typos) > 500
    missed = []
    for typo, word in sorted(typos):
        reading = read(f"/aad {typo} fabrikam-fiber")
        if reading.kind != "typo" or reading.meant[0].word != word:
            missed.append((typo, word, [s.command for s in reading.meant]))
    assert len(missed) <= len(typos) // 100, missed
    for typo, word, offered in missed:  # an ambiguous slip offers both words
        assert word in [suggestion.split()[0] for suggestion in offered], typo


def test_the_issues_examples_keep_their_arguments() -> None:
    for typed, meant in (
        ("progres fabrikam-fiber", "progress fabrikam-fiber"),
        ("stat", "status"),
        ("aprove 7", "approve 7"),
        ("invte", "invite"),
        ('cancle fabrikam-fiber "wrong tenant"', 'cancel fabrikam-fiber "wrong tenant"'),
    ):
        reading = read(f"/aad {typed}")
        assert (reading.kind, reading.meant[0].command) == ("typo", meant)


def test_a_direct_message_that_is_neither_command_nor_typo_is_a_question() -> None:
    assert read("pipelines", in_direct_message=True).kind == "question"
    assert read("/aad pipelines").kind == "unknown"
    assert read("stat", in_direct_message=True).kind == "typo"
    assert read("").command.word == "help"


def test_edit_distance_counts_a_swap_as_one_edit() -> None:
    assert distance("stauts", "status", 2) == 1
    assert distance("aprove", "approve", 2) == 1
    assert distance("kitten", "sitting", 3) == 3
    assert distance("kitten", "sitting", 2) == 3  # more than 2


def _whole_table_distance(first: str, second: str) -> int:
    """The edit distance as `distance` worked it out before it told words apart by their letters first."""
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, start=1):
        current = [i]
        for j, b in enumerate(second, start=1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


SPELLINGS = st.text(alphabet="abcs-", max_size=9)
"""Few letters: many pairs a few edits apart, swaps among them."""


@given(SPELLINGS, SPELLINGS, st.integers(min_value=0, max_value=4))
def test_edit_distance_up_to_a_bound_is_the_whole_tables(first: str, second: str, most: int) -> None:
    assert distance(first, second, most) == min(_whole_table_distance(first, second), most + 1)


def test_edit_distance_up_to_a_bound_is_the_whole_tables_for_every_command_word() -> None:
    words = sorted({*WORDS, "stauts", "aprove", "invtie", "notfiy", "reqest-approval", "statsu", "x"})
    for first in words:
        for second in words:
            for most in (1, 2):
                expected = min(_whole_table_distance(first, second), most + 1)
                assert distance(first, second, most) == expected, (first, second, most)
