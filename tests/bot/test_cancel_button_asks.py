"""The *Cancel migration* button among a migration's next steps asks before it cancels, on every surface:
one click ended a running migration, telling everyone it is off (Slack: the button's confirm dialog;
Teams: a card with the question and the real action inside; the console: the question beside the words,
which act at once when typed). Console surface, real sandbox and database."""

from __future__ import annotations

from bot.console.render import render as console_render
from bot.conversation.messages import Message
from bot.slack.blocks import render as slack_render
from bot.teams import cards
from tests.bot.conftest import DANA, ORG, Chat, started

QUESTION = f"Cancel the migration of {ORG}? Everyone told about it hears that it is off."


def _status(chat: Chat) -> Message:
    started(chat)
    (reply,) = chat.say(DANA, f"status {ORG}", in_dm=True)
    assert "Cancel migration" in [button.label for button in reply.message.buttons]
    return reply.message


def test_slack_asks_in_a_dialog_before_the_next_step_cancel_button_acts(chat: Chat) -> None:
    (cancel,) = [
        element
        for block in slack_render(_status(chat))
        for element in block.get("elements", ())
        if element.get("action_id") == "cancel"
    ]
    assert (cancel["value"], cancel["style"]) == (ORG, "danger")
    assert cancel["confirm"]["text"]["text"] == QUESTION and cancel["confirm"]["style"] == "danger"


def test_teams_opens_the_question_with_the_cancel_inside_before_it_acts(chat: Chat) -> None:
    (shown,) = [
        action
        for element in cards.card(_status(chat))["body"]
        if element["type"] == "ActionSet"
        for action in element["actions"]
        if action["title"] == "Cancel migration"
    ]
    assert shown["type"] == "Action.ShowCard"
    question, actions = shown["card"]["body"]
    assert question["text"] == QUESTION
    assert actions["actions"] == [
        {
            "type": "Action.Execute",
            "title": "Yes, cancel migration",
            "style": "destructive",
            "verb": "cancel",
            "data": {"value": ORG},
        }
    ]


def test_the_console_shows_the_question_beside_the_words_that_cancel(chat: Chat) -> None:
    shown = " ".join(console_render(_status(chat)).split())
    assert f"[Cancel migration: `cancel {ORG}` if yes to “{QUESTION}”]" in shown
