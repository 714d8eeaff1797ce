"""A question in another script is answered in English: the bot reads English only, what its codes or
numbers point at, and how to reach a person (rev75: Russian got no hint; walk38: Japanese and Chinese were
"random characters or binary data"). Its codes' topics are listed apart from those its other words rank, and
a code one topic alone documents is answered (rev79)."""

from __future__ import annotations

import pytest

from faq import HOW_TO_REACH_A_PERSON, AskerContext, FaqAnswerer, InMemoryUnansweredLog
from faq._reading import read

ENGLISH_ONLY = (
    "Sorry, I only understand questions in English, and yours seems to be in another language. Ask me again"
    " in English, or ask a person (below)."
)
BY_CODES = "Topics matching the error codes in your message:"
CLOSE = "Topics that may be close:"
RUSSIAN_403 = "Здравствуйте! При приглашении пользователя получаю ошибку 403, что делать?"
JAPANESE_403 = "ディレクトリに接続すると、エラー403が出ます。どうすればいいですか？"
JAPANESE_AADSTS50020 = "サインインするとAADSTS50020エラーが出ます。どうすればいいですか？"
CHINESE_TF400813 = "组织连接到目录后，我无法登录，出现TF400813错误。怎么办？"
RUSSIAN_VS30063 = "Ошибка VS30063 при входе"
INSIDE = AskerContext(migration="fabrikam", organization="fabrikam", admins=("dana@fabrikam.com",))
STARTERS = ["what-is-this-migration", "after-switch-checklist", "downtime"]


def listed(answerer: FaqAnswerer, heading: str, topics: list[str]) -> list[str]:
    return [heading, *(f"- {answerer.topics[topic].title}" for topic in topics)]


@pytest.mark.parametrize(
    ("question", "by_codes", "close"),
    [
        # a number is no error code: the topics it ranks are only close (rev79: "matching the codes")
        (RUSSIAN_403, [], ["invite-403", "owner-locked-out", "git-credential-cache"]),
        (JAPANESE_403, [], ["invite-403", "owner-locked-out", "git-credential-cache"]),
        # two topics document VS30063: neither is certain
        (RUSSIAN_VS30063, ["git-credential-cache", "owner-locked-out"], ["vs-subscription"]),
        # an Entra code outside a migration, in a message not naming Azure DevOps: any application's
        (JAPANESE_AADSTS50020, ["email-not-found"], ["service-connections"]),
    ],
)
def test_a_question_in_another_script_lists_its_codes_topics_apart_from_those_its_words_rank(
    question: str, by_codes: list[str], close: list[str]
) -> None:
    log = InMemoryUnansweredLog()
    answerer = FaqAnswerer(unanswered=log)
    answer = answerer.answer(question)
    assert answer.topic is None and answer.alternatives == by_codes + close
    expected = [
        ENGLISH_ONLY,
        *(listed(answerer, BY_CODES, by_codes) if by_codes else []),
        *listed(answerer, CLOSE, close),
        HOW_TO_REACH_A_PERSON,
    ]
    assert answer.answer.split("\n") == expected
    assert [entry.closest for entry in log.entries()] == [(*by_codes, *close)]  # an admin may read it


@pytest.mark.parametrize(
    ("question", "context", "topic", "code"),
    [
        (CHINESE_TF400813, None, "owner-locked-out", "TF400813"),  # the code inside a word of Chinese
        ("TF400813 для Алексея", None, "owner-locked-out", "TF400813"),
        (JAPANESE_AADSTS50020, INSIDE, "email-not-found", "AADSTS50020"),  # pasted inside a migration
    ],
)
def test_a_code_one_topic_alone_documents_is_answered_in_english_with_a_note(
    question: str, context: AskerContext | None, topic: str, code: str
) -> None:
    log = InMemoryUnansweredLog()
    answerer = FaqAnswerer(unanswered=log)
    answer = answerer.answer(question, context)
    assert (answer.topic, answer.score, answer.framed) == (topic, 1.0, False)
    lines = answer.answer.split("\n")
    assert lines[:2] == [
        answerer.topics[topic].title,
        f"I only understand English, so I answered from the error code in your message ({code}). If you"
        " asked something else, ask me again in English, or ask a person.",
    ]
    assert log.entries() == []


def test_with_nothing_the_topics_can_read_it_offers_where_to_start_and_the_admins() -> None:
    answerer = FaqAnswerer()
    answer = answerer.answer("你好", INSIDE)
    assert answer.topic is None and answer.alternatives == STARTERS
    assert answer.answer.split("\n") == [
        ENGLISH_ONLY,
        *listed(answerer, "Topics I can help with:", STARTERS),
        "To reach a person, press *Ask an admin* and I pass your question to the admins of the fabrikam"
        " migration, or write to them: dana@fabrikam.com.",
    ]


@pytest.mark.parametrize("question", [JAPANESE_403, CHINESE_TF400813])
def test_words_of_a_script_written_without_spaces_are_not_random_characters(question: str) -> None:
    assert not read(question).unreadable


def test_an_english_question_naming_someone_in_another_script_is_answered_in_english(
    answerer: FaqAnswerer,
) -> None:
    answer = answerer.answer("Will Иван Петров keep his work item history after we connect the directory?")
    assert ENGLISH_ONLY not in answer.answer and answer.topic is not None


@pytest.mark.parametrize(
    "quoted",
    [
        "'Пользователь не найден в каталоге'",
        "«Пользователь не найден в каталоге»",
        "“ユーザーが見つかりません”",
    ],
)
def test_an_english_question_quoting_a_localized_error_is_read_in_english(
    answerer: FaqAnswerer, quoted: str
) -> None:
    # rev79: the quote's letters outnumbered the English ones, and the question was declined as Russian
    answer = answerer.answer(f"Sign-in fails with {quoted}")
    assert ENGLISH_ONLY not in answer.answer and "git-credential-cache" in [
        answer.topic,
        *answer.alternatives,
    ]
    # its code pasted inside a migration decides the topic, as without the quote
    answer = answerer.answer(f"Sign-in fails with AADSTS50020 {quoted}", INSIDE)
    assert (answer.topic, answer.framed) == ("email-not-found", False)
    assert answer.answer.startswith(answerer.topics["email-not-found"].title + "\n")


def test_a_message_that_is_only_a_quote_in_another_script_is_read_by_its_quote(answerer: FaqAnswerer) -> None:
    assert answerer.answer("«Пользователь не найден в каталоге»").answer.startswith(ENGLISH_ONLY)
