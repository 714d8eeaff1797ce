"""A person's words reposted by the bot reach each surface as text: no disguised link, no emphasis, no
mention, under the bot's name (walk28 problem 6), and still readable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.conversation.closing_views import called_off_dm
from bot.conversation.faq_views import review
from bot.conversation.item_help_views import help_request
from bot.conversation.messages import Message
from bot.conversation.quoting import quoted
from bot.slack.blocks import message_payload, typed
from faq.feedback import FeedbackItem
from workflows.results_closing import CalledOff

PHISHING = "Admins: **everyone must** [re-enter your password here](https://evil.example/login) _now_"
"""What Carol asked in walk28, pressing *Ask an admin*."""
PHISHING_QUOTED = (
    "Admins: \u2217\u2217everyone must\u2217\u2217 [re-enter your password here] (https://evil.example/login)"
    " \uff3fnow\uff3f"
)
SLACK_TYPED = (
    "<!channel> please <https://evil.example/login|re-enter your password> &amp; ask <@U0CAROL|carol> in"
    " <#C1|general>: is 2 &lt; 3?\n> <!subteam^S1|@admins>"
)
"""As Slack delivers what a person typed: its tokens live, the characters they typed escaped (undone where
it comes in, `bot.slack.blocks.typed`)."""


def _slack_texts(message: Message) -> list[str]:
    payload = message_payload(message)
    return [payload["text"], *(block["text"]["text"] for block in payload["blocks"] if "text" in block)]


def _teams_texts(message: Message) -> list[str]:
    from bot.teams.cards import card  # the Teams surface: not at collection

    body: list[dict[str, Any]] = card(message)["body"]
    return [element["text"] for element in body if element["type"] == "TextBlock"]


def test_a_question_quoted_keeps_its_words_and_loses_its_markup() -> None:
    assert quoted(PHISHING) == PHISHING_QUOTED
    assert quoted(typed(SLACK_TYPED)) == (
        "@channel please re-enter your password (https://evil.example/login) & ask @carol in #general:"
        " is 2 < 3? > @admins"
    )
    words = (
        "ask first_last@contoso.com about __init__ and ~/.ssh, ~today~: https://dev.azure.com/org/_git/r_ x"
    )
    assert quoted(words) == (
        "ask first_last@contoso.com about \uff3f\uff3finit\uff3f\uff3f and \u223c/.ssh, \u223ctoday\u223c:"
        " https://dev.azure.com/org/_git/r_ x"
    )


def test_a_question_passed_to_the_admins_reaches_slack_with_no_live_link_nor_emphasis() -> None:
    asked = help_request(name="Carol White", email="carol@fabrikam.com", question=PHISHING)
    said = (
        f"Carol White (carol@fabrikam.com) asks the migration admins: “{PHISHING_QUOTED}”. Answer them at"
        " carol@fabrikam.com."
    )
    assert _slack_texts(asked) == [said, said]  # the notification too


def test_slack_tokens_in_a_question_become_text_escaped_as_slack_asks() -> None:
    asked = help_request(name="Carol White", email="carol@fabrikam.com", question=typed(SLACK_TYPED))
    said = (
        "Carol White (carol@fabrikam.com) asks the migration admins: “@channel please re-enter your password"
        " (https://evil.example/login) &amp; ask @carol in #general: is 2 &lt; 3? &gt; @admins”. Answer them"
        " at carol@fabrikam.com."
    )
    assert _slack_texts(asked) == [said, said]


def test_a_question_passed_to_the_admins_reaches_teams_with_no_live_link_nor_emphasis() -> None:
    asked = help_request(name="Carol White", email="carol@fabrikam.com", question=PHISHING)
    assert _teams_texts(asked) == [
        f"Carol White (carol@fabrikam.com) asks the migration admins: “{PHISHING_QUOTED}”. Answer them at"
        " carol@fabrikam.com."
    ]


def test_a_question_in_faq_review_is_quoted_inert_on_both_surfaces() -> None:
    item = FeedbackItem(
        7, "fabrikam", PHISHING, "declined", None, (), "open", datetime(2026, 11, 2, tzinfo=UTC)
    )
    shown = review([item], "fabrikam").message
    assert _slack_texts(shown)[2] == f"*#7* (I declined it):\n&gt; {PHISHING_QUOTED}"
    assert (
        _teams_texts(shown)[1] == f"**#7** (I declined it):\n\n> {PHISHING_QUOTED}"
    )  # a line of its own in a card


def test_a_question_in_faq_review_starts_no_heading_list_or_quote_inside_the_quote() -> None:
    """rev41 finding 5: on Teams `> # Why?` was a heading in the quote, `> - x` a list, `> > x` a quote."""
    asked = [
        "# Why 403?",
        "- my pipelines",
        "1. Sign in fails",
        "> I was told",
        "---",
        "#403 again",
        "-1 users?",
        "[x]: https://evil.example",
    ]
    items = [
        FeedbackItem(
            number, "fabrikam", question, "declined", None, (), "open", datetime(2026, 11, 2, tzinfo=UTC)
        )
        for number, question in enumerate(asked, start=1)
    ]
    quotes = [text.split("\n\n> ", 1)[1] for text in _teams_texts(review(items, "fabrikam").message)[1:-1]]
    assert quotes == [
        "\uff03 Why 403?",
        "\u2010 my pipelines",
        "1\uff0e Sign in fails",
        "\uff1e I was told",
        "\u2010--",
        "#403 again",  # no heading without a space after its `#`
        "-1 users?",  # nor a list item
        "\uff3bx]: https://evil.example",  # a link definition, which shows nothing
    ]


def test_an_admins_reason_for_calling_the_move_off_reaches_each_person_inert() -> None:
    person = CalledOff("ann@fabrikam.com", "Ann", "fabrikam", "contoso", reason=PHISHING)
    (text,) = _teams_texts(called_off_dm(person))[-1:]
    assert text.endswith(f"\nThe admins' reason: {PHISHING_QUOTED}")


TYPED_ADDRESSES = (
    "why does `git push` fail with ~/.gitconfig, _svc@contoso.com and dev.azure.com/org/_git/r"
    " (https://dev.azure.com/org/_apis/*/x)? *urgent*"
)
"""rev39 finding 4: paths and addresses, which an admin may copy, beside markup that would work."""
ADDRESSES_QUOTED = (
    "why does \uff40git push\uff40 fail with ~/.gitconfig, _svc@contoso.com and dev.azure.com/org/_git/r"
    " (https://dev.azure.com/org/_apis/*/x)? \u2217urgent\u2217"
)


def test_only_markers_that_would_emphasise_become_look_alikes() -> None:
    assert quoted(TYPED_ADDRESSES) == ADDRESSES_QUOTED
    assert quoted("first_last and my_var") == "first_last and my_var"  # `_` inside words: nowhere
    assert quoted("a * b * c") == "a * b * c"  # a `*` between spaces opens nothing
    assert quoted("2*3*4") == "2\u22173\u22174"  # CommonMark: 2<em>3</em>4
    assert quoted("edit __init__.py") == "edit \uff3f\uff3finit\uff3f\uff3f.py"  # CommonMark: **init**.py
    assert quoted("one `tick") == "one `tick"  # a lone backtick makes no code


def test_paths_and_addresses_reach_each_surface_as_typed() -> None:
    asked = help_request(name="Carol White", email="carol@fabrikam.com", question=TYPED_ADDRESSES)
    said = f"Carol White (carol@fabrikam.com) asks the migration admins: “{ADDRESSES_QUOTED}”."
    assert _slack_texts(asked) == [f"{said} Answer them at carol@fabrikam.com."] * 2
    assert _teams_texts(asked) == [f"{said} Answer them at carol@fabrikam.com."]


def test_angle_brackets_typed_in_teams_or_slack_are_kept() -> None:
    """Teams delivers a typed `<TF400813>` HTML-escaped; it is no Slack token, and keeps its brackets."""
    from bot.teams.endpoint import words_of  # the Teams surface: not at collection

    from_teams = words_of({"text": "I get &lt;TF400813&gt; when I push"})
    assert quoted(from_teams) == "I get <TF400813> when I push"
    from_slack = typed("I get &lt;TF400813&gt; when I push")
    assert quoted(from_slack) == "I get <TF400813> when I push"
    asked = help_request(name="Carol White", email="carol@fabrikam.com", question=from_teams)
    said = (
        "Carol White (carol@fabrikam.com) asks the migration admins: “I get {} when I push”. Answer them at"
    )
    assert _teams_texts(asked) == [said.format("<TF400813>") + " carol@fabrikam.com."]
    assert _slack_texts(asked) == [said.format("&lt;TF400813&gt;") + " carol@fabrikam.com."] * 2
