"""`status` is for everyone, its buttons are not: someone who does not administer the migration reads where
it stands without *Invite*, *Request approval*, *Tell users what is coming* or *Cancel*, on every surface,
since pressing any of them would only be refused; an admin gets the buttons of the next steps."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import message_payload
from bot.teams.cards import card
from sandbox import Sandbox, parse_scenario
from tests.bot.conftest import DANA, Chat, started, text_of

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


def _plain(answer: Any) -> str:
    return " ".join(text_of(answer).split())


def test_someone_who_does_not_administer_it_reads_what_the_admins_do_not_what_to_do(chat: Chat) -> None:
    started(chat)
    planned = _plain(chat.say(ANN, "status"))
    assert "The plan is ready; the migration's admins prepare connecting." in planned
    assert (
        "2 users wait for an admin's decision (1 has only a disabled directory account, 1 has several"
        " matching directory accounts)."
    ) in planned
    assert "`plan`" not in planned and "request approval" not in planned
    chat.say(DANA, "invite")
    chat.say(DANA, "request-approval")
    waiting = _plain(chat.say(ANN, "status"))
    assert "Waiting for an admin to approve connecting." in waiting and "another admin" not in waiting
    assert "Waiting for another admin to approve connecting." in _plain(chat.say(DANA, "status"))


def test_someone_who_does_not_administer_a_blocked_migration_is_not_asked_to_fix_it(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    fabrikam["tenant"]["authorizationPolicy"]["allowInvitesFrom"] = "none"
    box.reset(parse_scenario(fabrikam))
    started(chat)
    blocked = _plain(chat.say(ANN, "status"))
    assert "A prerequisite fails; the migration's admins fix it before it moves on." in blocked
    assert "`recheck`" not in blocked
