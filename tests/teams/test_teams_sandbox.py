"""The sandbox plays Teams: signed activities, the Bot Connector with its limits, blocked users, installs."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from bot.teams import cards
from sandbox import Sandbox, parse_scenario
from sandbox._teams_limits import MESSAGE_BYTES, PER_CONVERSATION, SlidingLimits, message_bytes
from tests.fakes.server import ServerThread
from tests.message_catalog import catalog

APP_ID = "11111111-2222-3333-4444-555555555555"
DATA = Path(__file__).parent / "data"


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limits_follow_teams_windows_and_say_how_long_to_wait() -> None:
    clock = _Clock()
    limits = SlidingLimits(PER_CONVERSATION, clock)
    assert [limits.wait("c") for _ in range(7)] == [0.0] * 7
    assert limits.wait("c") == pytest.approx(1.0)  # 7 per second
    assert limits.wait("other") == 0.0  # per conversation
    clock.now += 1.0
    assert limits.wait("c") == 0.0  # the 8th in two seconds
    assert limits.wait("c") == pytest.approx(1.0)  # 8 per 2 s: the first leaves the window at 1002
    clock.now += 1.0
    sent = 0
    while clock.now < 1030 and sent < 100:
        if limits.wait("c") == 0.0:
            sent += 1
        clock.now += 0.05
    assert sent + 8 <= 60  # 60 per 30 s


@pytest.fixture
def teams_box(fabrikam: dict[str, Any]) -> Iterator[Sandbox]:
    frozen = (
        time.time()
    )  # every request lands in the same instant: the limits are exact, however slow the host
    with _teams_sandbox(fabrikam, lambda: frozen) as running:
        yield running


@contextmanager
def _teams_sandbox(fabrikam: dict[str, Any], clock: Callable[[], float]) -> Iterator[Sandbox]:
    fabrikam["teams"] = {"installed": ["lee@fabrikam.com"], "blocked": ["ann@fabrikam.com"]}
    with Sandbox(parse_scenario(fabrikam), clock=clock) as running:
        httpx.post(
            f"{running.url}/_sandbox/teams/bot", json={"endpoint": "http://127.0.0.1:9/x", "appId": APP_ID}
        )
        yield running


def _token(box: Sandbox, scope: str) -> str:
    tenant = box.state()["tenant"]["id"]
    response = httpx.post(
        f"{box.url}/login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": APP_ID,
            "client_secret": "sandbox-secret",
            "scope": scope,
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _user(box: Sandbox, upn: str) -> dict[str, Any]:
    return next(u for u in box.state()["tenant"]["users"] if u["userPrincipalName"] == upn)


def test_connector_creates_sends_updates_and_refuses_as_teams_does(teams_box: Sandbox) -> None:
    base = f"{teams_box.url}/smba.trafficmanager.net/amer/v3/conversations"
    bot = {"Authorization": f"Bearer {_token(teams_box, 'https://api.botframework.com/.default')}"}
    lee, dana = _user(teams_box, "lee@fabrikam.com"), _user(teams_box, "dana@fabrikam.com")
    assert httpx.post(base, json={"members": [{"id": lee["id"]}]}).status_code == 401
    created = httpx.post(base, json={"members": [{"id": lee["id"]}], "tenantId": "t"}, headers=bot)
    assert created.status_code == 201
    conversation = created.json()["id"]
    assert httpx.post(base, json={"members": [{"id": lee["id"]}]}, headers=bot).json()["id"] == conversation
    not_installed = httpx.post(base, json={"members": [{"id": dana["id"]}]}, headers=bot)
    assert not_installed.status_code == 403

    sent = httpx.post(
        f"{base}/{conversation}/activities", json={"type": "message", "text": "hi"}, headers=bot
    )
    assert sent.status_code == 201
    activity_id = sent.json()["id"]
    updated = httpx.put(
        f"{base}/{conversation}/activities/{activity_id}",
        json={"type": "message", "text": "edited"},
        headers=bot,
    )
    assert updated.status_code == 200
    assert httpx.post(f"{base}/19:nope/activities", json={}, headers=bot).status_code == 404
    log = httpx.get(f"{teams_box.url}/_sandbox/teams/activities").json()
    assert [(entry["op"], entry["text"], entry["conversation"]["user"]) for entry in log] == [
        ("send", "hi", "lee@fabrikam.com"),
        ("update", "edited", "lee@fabrikam.com"),
    ]
    activities = f"{teams_box.url}/_sandbox/teams/activities"
    assert [entry["op"] for entry in httpx.get(activities, params={"since": 1}).json()] == ["update"]
    assert httpx.get(activities, params={"since": 2}).json() == []
    refused = httpx.get(activities, params={"since": "-1"})
    assert (refused.status_code, refused.json()) == (
        400,
        {"error": "since='-1' is not a count of activities"},
    )
    answers = [
        httpx.post(f"{base}/{conversation}/activities", json={"text": str(n)}, headers=bot) for n in range(8)
    ]
    throttled = [answer for answer in answers if answer.status_code == 429]
    # 7 operations a second per conversation: two creations, the send and the update above, then 3 of these
    assert [answer.status_code for answer in answers] == [201] * 3 + [429] * 5
    assert int(throttled[0].headers["Retry-After"]) == 1


def test_text_beside_a_card_is_split_into_two_messages_with_no_id(teams_box: Sandbox) -> None:
    """Microsoft's note (vendored): Teams splits an activity with text and an attachment in two and
    answers with no message id, so neither can be updated; a card alone gets its id."""
    note = (DATA / "conversation-messages.md").read_text()
    assert "you do not receive the message ID in response" in note
    base = f"{teams_box.url}/smba.trafficmanager.net/amer/v3/conversations"
    bot = {"Authorization": f"Bearer {_token(teams_box, 'https://api.botframework.com/.default')}"}
    lee = _user(teams_box, "lee@fabrikam.com")
    conversation = httpx.post(base, json={"members": [{"id": lee["id"]}]}, headers=bot).json()["id"]
    card = {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard"}}
    both = {"type": "message", "text": "Plan ready", "attachments": [card]}
    split = httpx.post(f"{base}/{conversation}/activities", json=both, headers=bot)
    assert (split.status_code, split.content) == (202, b"")
    alone = {"type": "message", "summary": "Plan ready", "attachments": [card]}
    sent = httpx.post(f"{base}/{conversation}/activities", json=alone, headers=bot)
    assert sent.status_code == 201
    log = httpx.get(f"{teams_box.url}/_sandbox/teams/activities").json()
    assert [(entry["text"], entry["summary"], entry["attachments"]) for entry in log] == [
        ("Plan ready", None, []),
        (None, None, [card]),
        (None, "Plan ready", [card]),
    ]
    assert log[-1]["id"] == sent.json()["id"]


def _lees_chat(box: Sandbox) -> tuple[str, dict[str, str]]:
    """The activities URL of Lee's personal chat with the bot, and the bot's authorization."""
    base = f"{box.url}/smba.trafficmanager.net/amer/v3/conversations"
    bot = {"Authorization": f"Bearer {_token(box, 'https://api.botframework.com/.default')}"}
    conversation = httpx.post(
        base, json={"members": [{"id": _user(box, "lee@fabrikam.com")["id"]}]}, headers=bot
    )
    return f"{base}/{conversation.json()['id']}/activities", bot


def test_a_message_over_teams_size_limit_is_refused_with_413_sent_or_updated(teams_box: Sandbox) -> None:
    """Counted as Teams counts it, the JSON in UTF-16: Japanese at the limit passes, though the request
    carrying it is larger (three bytes a character in UTF-8), and one character over is refused."""
    activities, bot = _lees_chat(teams_box)

    def of_size(size: int, letter: str) -> dict[str, Any]:
        message = {"type": "message", "text": ""}
        message["text"] = letter * ((size - message_bytes(message)) // 2)
        assert message_bytes(message) == size
        return message

    at_limit = httpx.post(activities, json=of_size(MESSAGE_BYTES, "渡"), headers=bot)
    assert at_limit.status_code == 201
    too_large = {"error": {"code": "MessageSizeTooBig", "message": "Message size too large."}}
    over = of_size(MESSAGE_BYTES + 2, "x")
    sent = httpx.post(activities, json=over, headers=bot)
    assert (sent.status_code, sent.json()) == (413, too_large)
    updated = httpx.put(f"{activities}/{at_limit.json()['id']}", json=over, headers=bot)
    assert (updated.status_code, updated.json()) == (413, too_large)
    log = httpx.get(f"{teams_box.url}/_sandbox/teams/activities").json()
    assert [(entry["op"], len(entry["text"])) for entry in log] == [
        ("send", len(of_size(MESSAGE_BYTES, "渡")["text"]))
    ]


def test_the_bots_largest_messages_for_20000_people_go_through_teams_whole(fabrikam: dict[str, Any]) -> None:
    """Every message of `tests/message_catalog`'s catalog (progress, the plan, the digest,
    the approval prompt, at 20,000 people with long names) as the bot sends it to Teams: none refused."""
    clock = _Clock()
    with _teams_sandbox(fabrikam, clock) as box:
        activities, bot = _lees_chat(box)
        refused = {}
        for name, message in catalog(20_000).items():
            clock.now += 1.0  # within Teams' rates: only the size can refuse
            answer = httpx.post(activities, json=cards.activity(message), headers=bot)
            if answer.status_code != 201:
                refused[name] = answer.status_code
        assert refused == {}
        assert len(httpx.get(f"{box.url}/_sandbox/teams/activities").json()) == len(catalog(20_000)) > 70


def test_blocked_user_gets_403_and_graph_installs_once(teams_box: Sandbox) -> None:
    graph = {"Authorization": f"Bearer {_token(teams_box, 'https://graph.microsoft.com/.default')}"}
    bot = {"Authorization": f"Bearer {_token(teams_box, 'https://api.botframework.com/.default')}"}
    ann = _user(teams_box, "ann@fabrikam.com")
    dana = _user(teams_box, "dana@fabrikam.com")
    url = f"{teams_box.url}/graph.microsoft.com/v1.0/users/{dana['id']}/teamwork/installedApps"
    catalog = httpx.get(
        f"{teams_box.url}/graph.microsoft.com/v1.0/appCatalogs/teamsApps",
        params={"$filter": f"externalId eq '{APP_ID}'"},
        headers=graph,
    ).json()["value"]
    assert catalog[0]["externalId"] == APP_ID and catalog[0]["id"] != APP_ID
    catalog_app = f"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{catalog[0]['id']}"
    bind = {"teamsApp@odata.bind": catalog_app}
    assert httpx.post(url, json=bind).status_code == 401
    assert httpx.post(url, json=bind, headers=graph).status_code == 201
    assert httpx.post(url, json=bind, headers=graph).status_code == 409
    base = f"{teams_box.url}/smba.trafficmanager.net/amer/v3/conversations"
    assert httpx.post(base, json={"members": [{"id": dana["id"]}]}, headers=bot).status_code == 201
    assert httpx.post(url.replace(dana["id"], ann["id"]), json=bind, headers=graph).status_code == 201
    conversation = httpx.post(base, json={"members": [{"id": ann["id"]}]}, headers=bot).json()["id"]
    blocked = httpx.post(f"{base}/{conversation}/activities", json={"text": "x"}, headers=bot)
    # Microsoft's "Status codes from bot conversational APIs" (MicrosoftDocs/msteams-docs,
    # msteams-platform/bots/build-conversational-capability.md at 35f23aa39401eb0fa20b347a5382484976da6de3)
    assert (blocked.status_code, blocked.json()["error"]) == (
        403,
        {"code": "ConversationBlockedByUser", "message": "User blocked the conversation with the bot."},
    )


def test_a_person_who_removes_the_app_or_blocks_the_bot_later_is_refused(teams_box: Sandbox) -> None:
    bot = {"Authorization": f"Bearer {_token(teams_box, 'https://api.botframework.com/.default')}"}
    lee = _user(teams_box, "lee@fabrikam.com")  # the scenario installed the app for Lee
    base = f"{teams_box.url}/smba.trafficmanager.net/amer/v3/conversations"
    conversation = httpx.post(base, json={"members": [{"id": lee["id"]}]}, headers=bot).json()["id"]
    assert httpx.post(f"{base}/{conversation}/activities", json={"text": "a"}, headers=bot).status_code == 201

    leave = f"{teams_box.url}/_sandbox/teams/leave"
    assert httpx.post(leave, json={"from": "lee@fabrikam.com", "how": "shrug"}).status_code == 400
    assert httpx.post(leave, json={"from": "lee@fabrikam.com", "how": "remove"}).status_code == 200
    gone = httpx.post(f"{base}/{conversation}/activities", json={"text": "b"}, headers=bot)
    assert (gone.status_code, gone.json()["error"]) == (
        403,
        {"code": "BotNotInConversationRoster", "message": "The bot is not part of the conversation roster."},
    )
    assert httpx.post(leave, json={"from": "lee@fabrikam.com", "how": "block"}).status_code == 200
    blocked = httpx.post(f"{base}/{conversation}/activities", json={"text": "c"}, headers=bot)
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (403, "ConversationBlockedByUser")


def test_activities_reach_the_bot_signed_with_published_keys(teams_box: Sandbox) -> None:
    received: list[tuple[dict[str, Any], str]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        received.append((json.loads(body), headers.get(b"authorization", b"").decode()))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with ServerThread(app) as bot:
        httpx.post(
            f"{teams_box.url}/_sandbox/teams/bot",
            json={"endpoint": f"{bot.url}/api/messages", "appId": APP_ID},
        )
        answer = httpx.post(
            f"{teams_box.url}/_sandbox/teams/message",
            json={"from": "dana@fabrikam.com", "text": "status", "channel": True},
        ).json()
    assert answer["status"] == 200
    activity, authorization = received[0]
    assert activity["text"] == "<at>aadbot</at> status" and activity["id"] == answer["activityId"]
    assert activity["from"]["aadObjectId"] == _user(teams_box, "dana@fabrikam.com")["id"]
    metadata = httpx.get(f"{teams_box.url}/login.botframework.com/v1/.well-known/openidconfiguration").json()
    assert metadata["jwks_uri"] == "https://login.botframework.com/v1/.well-known/keys"
    keys = httpx.get(f"{teams_box.url}/login.botframework.com/v1/.well-known/keys").json()["keys"]
    assert keys[0]["endorsements"] == ["msteams"]
    token = authorization.removeprefix("Bearer ")
    claims = jwt.decode(
        token,
        jwt.PyJWK(keys[0]).key,
        algorithms=["RS256"],
        audience=APP_ID,
        issuer="https://api.botframework.com",
    )
    assert claims["serviceurl"] == activity["serviceUrl"]


def test_a_hand_whose_bot_is_down_answers_502_naming_the_endpoint(teams_box: Sandbox) -> None:
    """Nothing listens at the registered endpoint: as a gateway answers, 502 and the address to check,
    not the sandbox's 500 with a traceback (walk38)."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: a connection is refused
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}/api/messages"
        registration = {"endpoint": endpoint, "appId": APP_ID}
        httpx.post(f"{teams_box.url}/_sandbox/teams/bot", json=registration).raise_for_status()
        answer = httpx.post(
            f"{teams_box.url}/_sandbox/teams/message",
            json={"from": "dana@fabrikam.com", "text": "status", "channel": True},
        )
    assert answer.status_code == 502
    assert answer.json() == {
        "error": f"the bot at {endpoint} could not be reached or did not answer (ConnectError): is `aadbot"
        " serve` running there, and is that its address?",
        "endpoint": endpoint,
    }


def test_the_bot_s_token_needs_the_secret_its_registration_holds(teams_box: Sandbox) -> None:
    """As Entra answers a wrong client secret (401 invalid_client, AADSTS7000215, in the words of
    OfficeDev/microsoft-365-agents-toolkit#8621); a registration may name its own secret."""
    tenant = teams_box.state()["tenant"]["id"]
    url = f"{teams_box.url}/login.microsoftonline.com/{tenant}/oauth2/v2.0/token"

    def sign_in(client_id: str, secret: str) -> httpx.Response:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        return httpx.post(url, data={**form, "scope": "https://api.botframework.com/.default"})

    refused = sign_in(APP_ID, "not-the-secret")
    assert refused.status_code == 401
    assert refused.json() == {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in"
        " the request is the client secret value, not the client secret ID, for a secret added to app"
        f" '{APP_ID}'.",
        "error_codes": [7000215],
    }
    assert sign_in(APP_ID, "sandbox-secret").status_code == 200
    assert sign_in("another-app", "anything").status_code == 200  # no registration of its own here
    registration = {"endpoint": "http://127.0.0.1:9/x", "appId": APP_ID, "password": "rotated"}
    httpx.post(f"{teams_box.url}/_sandbox/teams/bot", json=registration).raise_for_status()
    assert sign_in(APP_ID, "sandbox-secret").status_code == 401
    assert sign_in(APP_ID, "rotated").status_code == 200
