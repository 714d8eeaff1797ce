"""A guest's way to a human in Teams: help with an item, their own question, each reaching the admins in
their personal chats with an address they can write to (not the guest's `#EXT#` name); the channel, which
others read, hears only that someone did (walk39 b)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import select

from storage import Approval
from tests.bot.replays import replayed
from tests.teams.conftest import APP_ID, ORGANIZATION, Teams, approval_requested, connect, texts

DANA, LEE, BOB, CAROL = (
    "dana@fabrikam.com",
    "lee@fabrikam.com",
    "bob.builder@outlook.com",
    "carol@fabrikam.com",
)
SERVICE_URL = "https://smba.trafficmanager.net/amer/"


def _notified(teams: Teams) -> str:
    """The migration connected and everyone's list sent; Bob's Teams sign-in name (his guest `#EXT#`).
    Replayed once per test process, restored after (tests/bot/replays.py)."""
    return replayed(teams, ("teams notified",), lambda: _notify(teams))


def _notify(teams: Teams) -> str:
    prompt = approval_requested(teams, DANA)
    assert teams.click(LEE, prompt["id"], "Approve").status_code == 200
    teams.deliver_outbox()
    connect(teams)
    teams.watch()
    teams.say(DANA, f"notify {ORGANIZATION}")
    teams.deliver_outbox()
    users = teams.runtime.sandbox.state()["tenant"]["users"]  # type: ignore[union-attr]
    return next(str(user["userPrincipalName"]) for user in users if user.get("mail") == BOB)


def _channel_since(teams: Teams, before: int) -> list[str]:
    """What the channel's new cards say."""
    return [
        " ".join(texts({"attachments": [e["attachments"][0]["content"]]}).split())
        for e in teams.activities()[before:]
        if e["conversation"]["conversationType"] == "channel"
    ]


def _to_dana_since(teams: Teams, before: int) -> list[str]:
    """What Dana's personal chat's new cards say."""
    hers = teams.personal(DANA)
    return [
        " ".join(texts({"attachments": [e["attachments"][0]["content"]]}).split())
        for e in teams.activities()[before:]
        if e in hers
    ]


def _answered_below(teams: Teams, upn: str, card_id: str, title: str) -> dict[str, Any]:
    """`upn` clicks `title` on that card of their personal chat: the card stays as it was (Slack's
    replace_original=False) and the answer comes as a message of its own below it; that message's card."""
    seen = teams.view(upn, card_id)
    before = len(teams.activities())
    clicked = teams.click(upn, card_id, title)
    assert clicked.status_code == 200, clicked.text
    assert clicked.json()["body"] == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "My answer is below.",
    }
    assert teams.view(upn, card_id) == seen  # its list and buttons still there
    [answer] = [e for e in teams.activities()[before:] if e["conversation"]["user"] == upn]
    assert answer["op"] == "send"
    return dict(answer["attachments"][0]["content"])


def test_help_with_an_item_names_the_guest_s_own_address_to_the_admins(teams: Teams) -> None:
    bob = _notified(teams)
    assert "#EXT#" in bob
    (todo,) = [e for e in teams.personal(bob) if "to-do list" in texts(e).lower()]
    before = len(teams.activities())
    card = _answered_below(teams, bob, todo["id"], "I need help")
    helped = " ".join(texts({"attachments": [card]}).split())
    assert helped.startswith("Help with: Sign in with your guest account ")
    assert helped.endswith(
        "I have also told the migration admins (dana@fabrikam.com, lee@fabrikam.com) that you need a hand;"
        " one of them will reach out."
    )
    teams.deliver_outbox()
    assert _channel_since(teams, before) == [
        "Someone needs help with: Sign in with your guest account. Each migration admin gets who, and where"
        " to write to them, in a direct message."
    ]
    assert _to_dana_since(teams, before) == [
        "Bob Builder (bob.builder@outlook.com) needs help with: Sign in with your guest account. Write to"
        " them at bob.builder@outlook.com."
    ]


def test_a_question_the_faq_cannot_answer_reaches_the_admins_with_ask_an_admin(teams: Teams) -> None:
    bob = _notified(teams)
    question = "who approves my expense claim for the new laptop?"
    teams.say(bob, question, channel=False)
    declined = [e for e in teams.personal(bob) if "don't know" in texts(e)][-1]
    shown = " ".join(texts(declined).split())
    assert (
        "To reach a person, press *Ask an admin* and I pass your question to the admins of the"
        " fabrikam-fiber migration, or write to them: dana@fabrikam.com, lee@fabrikam.com."
    ).replace("*", "**") in shown
    before = len(teams.activities())
    passed = " ".join(
        texts({"attachments": [_answered_below(teams, bob, declined["id"], "Ask an admin")]}).split()
    )
    assert passed == (
        "I passed your question to the admins of the fabrikam-fiber migration (dana@fabrikam.com,"
        " lee@fabrikam.com); one of them will answer you."
    )
    teams.deliver_outbox()
    assert _channel_since(teams, before) == [
        "Someone asked the migration admins a question. Each migration admin gets who, and where to write to"
        " them, in a direct message."
    ]
    assert _to_dana_since(teams, before) == [
        f"Bob Builder (bob.builder@outlook.com) asks the migration admins: “{question}”. Answer them at"
        " bob.builder@outlook.com."
    ]
    teams.say(bob, question, channel=False)  # asked again, and passed on again the same day
    declined_again = [e for e in teams.personal(bob) if "don't know" in texts(e)][-1]
    assert declined_again["id"] != declined["id"]
    before = len(teams.activities())
    again = _answered_below(teams, bob, declined_again["id"], "Ask an admin")
    assert "already have this question from you today" in texts({"attachments": [again]})
    teams.deliver_outbox()
    assert _channel_since(teams, before) == _to_dana_since(teams, before) == []  # nobody pinged twice


def test_in_the_personal_chat_only_a_card_s_new_version_takes_its_place(teams: Teams) -> None:
    """Done gives the list as it now stands in the list's place; Helpful, and an Approve on a prompt already
    decided, answer in a message of their own and leave the card (its fix steps, its buttons) as it was."""
    bob, todo = _bobs_todo(teams)
    ticked = teams.click(bob, todo["id"], "Done")
    assert ticked.status_code == 200
    assert ticked.json()["body"]["type"] == "application/vnd.microsoft.card.adaptive"
    assert teams.view(bob, todo["id"]) == ticked.json()["body"]["value"]
    assert "✅ **Sign in with your guest account" in texts({"attachments": [teams.view(bob, todo["id"])]})

    teams.say(bob, "I get a 403 when inviting", channel=False)
    answered = [e for e in teams.personal(bob) if "Helpful" in texts(e)][-1]
    thanks = _answered_below(teams, bob, answered["id"], "Helpful")
    assert texts({"attachments": [thanks]}).strip() == "Thanks, glad it helped."

    (lee_copy,) = [e for e in teams.personal(LEE) if str(e.get("summary")).startswith("Approval #")]
    with teams.runtime.database.session() as session:
        (approval,) = session.exec(select(Approval)).all()
    stale = {"type": "Action.Execute", "verb": "approve", "data": {"value": str(approval.id)}}
    seen = teams.view(LEE, lee_copy["id"])
    before = len(teams.activities())
    again = _signed_click(teams, LEE, lee_copy, stale)
    assert again.json()["value"] == "My answer is below."
    assert teams.view(LEE, lee_copy["id"]) == seen  # still "✅ Approved by Lee..." with its next steps
    [told] = [e for e in teams.activities()[before:] if e["conversation"]["user"] == LEE]
    assert "nothing to decide" in texts(told)


def _signed_click(teams: Teams, upn: str, card: dict[str, Any], action: dict[str, Any]) -> httpx.Response:
    """`upn` clicks `action` on `card` of their personal chat, as Teams would deliver it, whether or not it is
    on the card as they now see it (an old client's view; the sandbox's hands refuse what is not)."""
    users = teams.runtime.sandbox.state()["tenant"]["users"]  # type: ignore[union-attr]
    user = next(u for u in users if u["userPrincipalName"] == upn)
    tenant = teams.settings.tenant_id
    activity = {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": f"f:stale-{card['id']}",
        "serviceUrl": SERVICE_URL,
        "channelId": "msteams",
        "from": {"id": f"29:{user['id']}", "name": user["displayName"], "aadObjectId": user["id"]},
        "conversation": {
            "id": card["conversation"]["id"],
            "conversationType": "personal",
            "tenantId": tenant,
        },
        "recipient": {"id": f"28:{APP_ID}", "name": "aadbot"},
        "channelData": {"tenant": {"id": tenant}},
        "replyToId": card["id"],
        "value": {"action": action, "trigger": "manual"},
    }
    token = httpx.post(f"{teams.url}/_sandbox/teams/sign", json={}, timeout=10).json()["token"]
    return httpx.post(teams.bot_url, json=activity, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _bobs_todo(teams: Teams) -> tuple[str, dict[str, Any]]:
    """Bob, his list sent (`_notified`), and his to-do list's card in his personal chat."""
    bob = _notified(teams)
    (todo,) = [e for e in teams.personal(bob) if "to-do list" in texts(e).lower()]
    return bob, todo


def _failing(teams: Teams, host: str) -> int:
    """Every call to `host` fails with a 500 from now on; how many activities Teams has seen so far."""
    httpx.post(f"{teams.url}/_sandbox/faults", json={"hosts": [host], "rate_500": 1}).raise_for_status()
    return len(teams.activities())


def test_a_clicks_answer_that_could_not_be_posted_below_is_the_clicks_own_answer(teams: Teams) -> None:
    """rev39 finding 2: with Teams refusing the bot's posts, *Helpful* was answered "My answer is below."
    over nothing, and a redelivery repeated it. Now the click's answer is the answer's line itself."""
    teams.say(CAROL, "I get a 403 when inviting", channel=False)
    answered = [e for e in teams.personal(CAROL) if "Helpful" in texts(e)][-1]
    helpful = teams.action(answered["id"], "Helpful", card=teams.view(CAROL, answered["id"]))
    before = _failing(teams, "smba.trafficmanager.net")
    first = _signed_click(teams, CAROL, answered, helpful)
    assert first.json() == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Thanks, glad it helped.",
    }
    assert _signed_click(teams, CAROL, answered, helpful).json() == first.json()  # Teams redelivered it
    assert len(teams.activities()) == before


def test_a_clicks_longer_answer_that_could_not_be_posted_says_so_in_the_clicks_answer(teams: Teams) -> None:
    """More than a line cannot be shown beside the card: the click's answer says it did not arrive."""
    bob, todo = _bobs_todo(teams)
    need_help = teams.action(todo["id"], "I need help", card=teams.view(bob, todo["id"]))
    before = _failing(teams, "smba.trafficmanager.net")
    answer = _signed_click(teams, bob, todo, need_help).json()
    assert answer["value"] == (
        "I could not deliver “Help with Sign in with your guest account” (Teams said 500 ServiceError). Try"
        " again; if it persists, check my log."
    )
    assert len(teams.activities()) == before


def test_a_click_or_a_message_while_the_directory_cannot_be_read_says_try_again_once(teams: Teams) -> None:
    """Graph failing is no verdict on the person: Bob's Done is answered "try again" in the click's own
    answer, with no chat message beside it saying it a second way, and never "I can't find you in the
    directory" (walk38: both, contradicting each other). A message is answered the same, once."""
    bob, todo = _bobs_todo(teams)
    done = teams.action(todo["id"], "Done", card=teams.view(bob, todo["id"]))
    before = _failing(teams, "graph.microsoft.com")
    answer = _signed_click(teams, bob, todo, done).json()
    assert answer == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "I could not look you up in the directory just now. Try again in a minute.",
    }
    assert teams.activities()[before:] == []
    teams.say(bob, "todo", channel=False)
    (told,) = teams.activities()[before:]
    assert told["summary"] == "I could not look you up in the directory just now. Try again in a minute."
