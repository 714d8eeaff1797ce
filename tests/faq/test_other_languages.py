"""A question in another script is answered in English: the bot reads English only, what its codes or
numbers point at, and how to reach a person (rev75: Russian got no hint; walk38: Japanese and Chinese were
"random characters or binary data")."""

from __future__ import annotations

import pytest

from faq import HOW_TO_REACH_A_PERSON, AskerContext, FaqAnswerer, InMemoryUnansweredLog
from faq._reading import read

ENGLISH_ONLY = "Sorry, I only understand questions in English, and yours seems to be in another language."
RUSSIAN_403 = "Здравствуйте! При приглашении пользователя получаю ошибку 403, что делать?"
JAPANESE_403 = "ディレクトリに接続すると、エラー403が出ます。どうすればいいですか？"
CHINESE_TF400813 = "组织连接到目录后，我无法登录，出现TF400813错误。怎么办？"


@pytest.mark.parametrize(
    ("question", "first"),
    [(RUSSIAN_403, "invite-403"), (JAPANESE_403, "invite-403"), (CHINESE_TF400813, "owner-locked-out")],
)
def test_a_question_in_another_script_is_told_in_english_what_its_codes_point_at(
    question: str, first: str
) -> None:
    log = InMemoryUnansweredLog()
    answer = FaqAnswerer(unanswered=log).answer(question)
    assert answer.topic is None and answer.alternatives[0] == first, answer
    lines = answer.answer.split("\n")
    assert lines[0].startswith(ENGLISH_ONLY) and "ask a person" in lines[0]
    assert lines[1] == "Topics matching the codes or numbers in your message:"
    assert lines[-1] == HOW_TO_REACH_A_PERSON
    assert [entry.closest[0] for entry in log.entries()] == [first]  # kept: an admin may read the language


def test_with_nothing_the_topics_can_read_it_offers_where_to_start_and_the_admins() -> None:
    inside = AskerContext(migration="fabrikam", organization="fabrikam", admins=("dana@fabrikam.com",))
    answer = FaqAnswerer().answer("你好", inside)
    assert answer.topic is None
    assert answer.alternatives == ["what-is-this-migration", "after-switch-checklist", "downtime"]
    assert answer.answer.startswith(ENGLISH_ONLY) and "\nTopics I can help with:\n" in answer.answer
    assert answer.answer.endswith("write to them: dana@fabrikam.com.")


@pytest.mark.parametrize("question", [JAPANESE_403, CHINESE_TF400813])
def test_words_of_a_script_written_without_spaces_are_not_random_characters(question: str) -> None:
    assert not read(question).unreadable


def test_an_english_question_naming_someone_in_another_script_is_answered_in_english(
    answerer: FaqAnswerer,
) -> None:
    answer = answerer.answer("Will Иван Петров keep his work item history after we connect the directory?")
    assert ENGLISH_ONLY not in answer.answer and answer.topic is not None
