"""`status` is for everyone, its buttons are not: someone who does not administer the migration reads where
it stands without *Invite*, *Request approval*, *Tell users what is coming* or *Cancel*, on every surface,
since pressing any of them would only be refused; an admin gets the buttons of the next steps."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import message_payload
from bot.teams.cards import card
from tests.bot.conftest import DANA, Chat, started

ANN = "ann@fabrikam.com"  # in the organization, not one of its admins


def buttons(answer: Any) -> list[str]:
    return [button.action for message in answer for button in message.message.buttons]


def slack_actions(answer: Any) -> list[dict[str, Any]]:
    return [
        block
        for message in answer
        for block in message_payload(message.message)["blocks"]
        if block["type"] == "actions"
    ]


def teams_actions(answer: Any) -> list[dict[str, Any]]:
    return [
        element
        for message in answer
        for element in card(message.message)["body"]
        if element["type"] == "ActionSet"
    ]


def test_someone_who_does_not_administer_it_reads_the_status_without_the_admins_buttons(chat: Chat) -> None:
    started(chat)
    answer = chat.say(ANN, "status")
    assert answer[0].message.summary == "fabrikam-fiber: planned"
    assert buttons(answer) == []
    assert slack_actions(answer) == [] and teams_actions(answer) == []


def test_an_admin_reads_the_status_with_the_buttons_of_the_next_steps(chat: Chat) -> None:
    started(chat)
    answer = chat.say(DANA, "status")
    assert {"announce", "invite", "request-approval", "cancel"} <= set(buttons(answer))
    assert slack_actions(answer) and teams_actions(answer)
