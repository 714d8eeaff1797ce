"""What phones, Word and chat surfaces put into a question (`can’t`, non-breaking and zero-width spaces,
fullwidth forms, Slack's link tokens) is read as the plain text it stands for: the same answer, word for
word, as the question typed plainly (`faq._plain`; docs/faq-eval.md, round 27)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.slack.blocks import typed as delivered_by_slack
from bot.teams.endpoint import words_of
from faq import AskerContext, FaqAnswerer
from faq._plain import plain
from faq.evaluate import load_real
from tests.faq.test_blocked_first_item import CONNECTED, ERIN, GUS

MAPPED = replace(CONNECTED, outcome="map")


def curly(text: str) -> str:
    """As iOS, macOS and Word type it: `can’t`, “quoted”."""
    opened = False
    typed = []
    for char in text.replace("'", "\u2019"):
        if char == '"':
            typed.append("\u201d" if opened else "\u201c")
            opened = not opened
        else:
            typed.append(char)
    return "".join(typed)


def non_breaking(text: str) -> str:
    """Every other space non-breaking, as a paste from a web page or Teams brings them."""
    words = text.split(" ")
    return "".join(word + ("\u00a0" if i % 2 else " ") for i, word in enumerate(words[:-1])) + words[-1]


def zero_width(text: str) -> str:
    """A zero-width space before each capital and a byte-order mark at the end, as a pasted page leaves."""
    return "".join(f"\u200b{char}" if char.isupper() else char for char in text) + "\ufeff"


def fullwidth(text: str) -> str:
    """Fullwidth letters, digits and punctuation, as an East Asian input method types them."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


def real_question(start: str) -> str:
    return next(question.text for question in load_real() if question.text.startswith(start))


# Real questions (tuning material) and how each reached the FAQ: main declined every one of these variants,
# or answered another topic, where it answers the plain text right.
REAL = (
    ("I am trying to switch from existing AAD to a new one", zero_width, "guest-vs-member"),
    (
        'Our organization has recently switched from using "personal" MS accounts',
        non_breaking,
        "git-credential-cache",
    ),
    (
        'Our organization has recently switched from using "personal" MS accounts',
        zero_width,
        "git-credential-cache",
    ),
    ("The most worrying aspect for any organisation is migrating", fullwidth, "what-is-kept"),
    ("So we are planning an AAD-Change of our Azure DevOps.", fullwidth, "service-connections"),
)


@pytest.mark.parametrize(("start", "delivered", "topic"), REAL)
def test_a_real_question_as_a_phone_or_a_pasted_page_delivers_it_gets_the_plain_texts_answer(
    answerer: FaqAnswerer, start: str, delivered: Callable[[str], str], topic: str
) -> None:
    question = real_question(start)
    as_typed, as_delivered = answerer.answer(question), answerer.answer(delivered(curly(question)))
    assert as_typed.topic == topic, as_typed
    assert (as_delivered.topic, as_delivered.score, as_delivered.answer) == (
        as_typed.topic,
        as_typed.score,
        as_typed.answer,
    )


# Said in the migration with a curly apostrophe: main declined or answered another topic for each.
ASKED = (
    ("I can't sign in anymore", MAPPED, "owner-locked-out"),
    ("it won't let me log in", MAPPED, "owner-locked-out"),
    ("I can't see the organization", GUS, "owner-locked-out"),
    ("I can't accept the invitation, it won't let me sign in", ERIN, "email-not-found"),
    ("I haven't received the invite", MAPPED, "email-not-found"),
    ("I didn't get the invitation email", AskerContext(), "email-not-found"),
)


@pytest.mark.parametrize(("question", "asker", "topic"), ASKED)
def test_a_curly_apostrophe_reads_as_the_straight_one(
    answerer: FaqAnswerer, question: str, asker: AskerContext, topic: str
) -> None:
    straight, typed = answerer.answer(question, asker), answerer.answer(curly(question), asker)
    assert straight.topic == topic, straight
    assert (typed.topic, typed.answer) == (straight.topic, straight.answer)


def test_slacks_link_tokens_read_as_what_was_typed(answerer: FaqAnswerer) -> None:
    question = "403 when I invite user@gmail.com to the tenant, see https://learn.microsoft.com/x & retry"
    tokens = delivered_by_slack(
        "403 when I invite <mailto:user@gmail.com|user@gmail.com> to the tenant,"
        " see <https://learn.microsoft.com/x> &amp; retry"
    )
    plainly, in_slack = answerer.answer(question), answerer.answer(tokens)
    assert plainly.topic == "invite-403", plainly
    assert (in_slack.topic, in_slack.score, in_slack.answer) == (plainly.topic, plainly.score, plainly.answer)


def test_teams_markup_and_entities_are_undone_by_teams_once_and_the_apostrophe_by_the_faq(
    answerer: FaqAnswerer,
) -> None:
    delivered = words_of({"text": "<at>aadbot</at> I can&rsquo;t sign in anymore"})
    assert delivered == "I can\u2019t sign in anymore"
    assert (
        answerer.answer(delivered, MAPPED).answer == answerer.answer("I can't sign in anymore", MAPPED).answer
    )


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("can\u2019t \u201cconnect\u201d \u2014 again\u2026", 'can\'t "connect" - again...'),
        ("\uff34\uff26\uff14\uff10\uff10\uff18\uff11\uff13", "TF400813"),
        ("sign\u00a0in\u2028TF400\u200b813\u00ad", "sign in\nTF400813"),
        (
            "see <https://x.example/a|the page> or <https://x.example/b>",
            "see the page or https://x.example/b",
        ),
        ("<@U123> mail <mailto:a@b.example|a@b.example> <!here>", "  mail a@b.example  "),
        # What people type between angle brackets stays: a code, a placeholder, an address without a scheme.
        (
            "<TF400813> for <your-org> from <name@domain.com>",
            "<TF400813> for <your-org> from <name@domain.com>",
        ),
        ("a &amp; b", "a &amp; b"),  # decoded once where it came in (Slack, Teams): here, what was typed
    ],
)
def test_what_is_folded(typed: str, read: str) -> None:
    assert plain(typed) == read
