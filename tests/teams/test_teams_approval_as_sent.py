"""An approval decided in Teams as an outside checker drives it: reading only `GET /_sandbox/teams/activities`
and pressing, through `POST /_sandbox/teams/invoke`, the `Action.Execute` object as it stands on the card
as sent, never the view a refresh makes (the contract: "Approval prompts carry buttons whose visible text
contains `Approve` and `Reject`", in Teams "`Action.Execute` actions with the same titles")."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import select

from bot.teams import cards
from storage import Approval
from tests.teams.conftest import Teams, actions_of, approval_requested, latest_card, texts

DANA, LEE, ANN = (f"{name}@fabrikam.com" for name in ("dana", "lee", "ann"))


def _prompt_to(teams: Teams, upn: str) -> dict[str, Any]:
    """The approval prompt as sent to `upn`'s personal chat (not the card naming whom it affects)."""
    (prompt,) = [
        entry
        for entry in teams.personal(upn)
        if str(entry.get("summary")).startswith("Approval #") and actions_of(entry["attachments"])
    ]
    return prompt


def _as_sent(prompt: dict[str, Any], title: str) -> dict[str, Any]:
    """The action whose title contains `title`, from the card as the activity carries it."""
    found = [action for action in actions_of(prompt["attachments"]) if title in action.get("title", "")]
    assert found, f"no {title!r} on the card as sent: {prompt['attachments']}"
    return found[0]


def _press(teams: Teams, upn: str, prompt: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    answer = _invoke(teams, upn, prompt, action)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _invoke(teams: Teams, upn: str, card: dict[str, Any], action: dict[str, Any]) -> httpx.Response:
    body = {"from": upn, "replyToId": card["id"], "action": action}
    return teams.http.post(f"{teams.url}/_sandbox/teams/invoke", json=body, timeout=60)


def _status(teams: Teams) -> str:
    with teams.runtime.database.session() as session:
        (status,) = session.exec(select(Approval.status)).all()
        return status


def _settled_everywhere(teams: Teams, words: str) -> None:
    """Every copy of the prompt, the channel's and each approver's, says `words` with no button left."""
    log = teams.activities()
    copies = {e["id"] for e in log if str(e.get("summary")).startswith("Approval #") and e["op"] == "send"}
    assert len(copies) >= 2  # the channel's and Lee's
    for copy in copies:
        card = latest_card(log, copy)
        assert words in texts({"attachments": [card]}) and actions_of(card) == [] and "refresh" not in card


def test_the_approvers_prompt_as_sent_approves_when_pressed(teams: Teams) -> None:
    approval_requested(teams, DANA)
    prompt = _prompt_to(teams, LEE)
    approve = _as_sent(prompt, "Approve")
    assert {"Approve", "Reject"} <= {action["title"] for action in actions_of(prompt["attachments"])}

    pressed = _press(teams, LEE, prompt, approve)

    assert pressed["status"] == 200
    assert "Approved by Lee Admin" in texts({"attachments": [pressed["body"]["value"]]})
    teams.deliver_outbox()  # the decision on every copy
    assert _status(teams) == "approved"
    _settled_everywhere(teams, "Approved by Lee Admin")


def test_the_approvers_prompt_as_sent_rejects_when_pressed(teams: Teams) -> None:
    approval_requested(teams, DANA)
    prompt = _prompt_to(teams, LEE)

    pressed = _press(teams, LEE, prompt, _as_sent(prompt, "Reject"))

    assert pressed["status"] == 200
    teams.deliver_outbox()
    assert _status(teams) == "rejected"
    _settled_everywhere(teams, "Rejected by Lee Admin")


def test_the_requester_and_a_bystander_holding_the_buttons_as_sent_are_refused_as_on_slack(
    teams: Teams,
) -> None:
    """The buttons are on the approver's copy as sent. Whoever else holds the action object cannot press
    it in Lee's personal chat, which Teams shows nobody else (403), nor on the channel's copy, read-only
    for them (409: Teams never shows them the buttons); asking for the same decision where they are, the
    channel, reaches the bot's own check, which refuses them as on Slack."""
    channel_copy = approval_requested(teams, DANA)
    prompt = _prompt_to(teams, LEE)
    approve = _as_sent(prompt, "Approve")

    for upn, refusal in ((DANA, "another admin must approve"), (ANN, "is for the organization's admins")):
        in_lees_chat = _invoke(teams, upn, prompt, approve)
        assert in_lees_chat.status_code == 403, in_lees_chat.text
        assert "not in that conversation" in in_lees_chat.json()["error"]
        assert _invoke(teams, upn, channel_copy, approve).status_code == 409
        said = teams.said(upn, f"{approve['verb']} {approve['data']['value']}")
        assert refusal in said.lower(), said
    assert _status(teams) == "pending"


def test_the_sent_prompts_keep_within_teams_limits(teams: Teams) -> None:
    """Action.Execute needs card version 1.4 and Teams renders up to 1.5; a message over Teams' size is
    refused (413); `refresh.userIds` names at most 60 people. The channel's copy names who may decide in
    its refresh, and carries no button for the requester or anyone else in the channel."""
    channel = approval_requested(teams, DANA)
    sent = [channel, _prompt_to(teams, LEE)]
    for activity in sent:
        card = activity["attachments"][0]["content"]
        assert (1, 4) <= tuple(int(part) for part in card["version"].split(".")) <= (1, 5)
        assert cards._utf16_bytes(card) <= cards.MAX_CARD_BYTES
        assert len(card.get("refresh", {}).get("userIds", [])) <= cards.MAX_REFRESH_USERS
    channel_card, lee_card = (activity["attachments"][0]["content"] for activity in sent)
    assert actions_of(channel_card) == [] and len(channel_card["refresh"]["userIds"]) == 1
    assert "refresh" not in lee_card  # a chat of one: the card as sent is his view
    decisions = {("Approve", "approve"), ("Reject", "reject")}
    assert decisions <= {(action["title"], action["verb"]) for action in actions_of(lee_card)}
