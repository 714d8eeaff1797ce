"""`POST /api/messages` refuses what the Bot Connector did not sign for this bot; redeliveries act once."""

from __future__ import annotations

import base64
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from bot.teams.auth import ActivityAuthenticator
from tests.fakes.keys import spare_rsa_key
from tests.fakes.raw_http import post_and_leave, raw_post
from tests.fakes.server import ServerThread
from tests.teams.conftest import APP_ID, Teams

RULE = Path(__file__).parent / "data" / "bot-connector-endorsements.md"

SERVICE_URL = "https://smba.trafficmanager.net/amer/"
SIXTY_MB = 60 * 1024 * 1024
MESSAGES_PATH = "/api/messages"
"""The contract's path (bot.teams.endpoint imports the Teams SDK's cards: not at collection)."""


def _activity(teams: Teams, text: str = "help", activity_id: str = "f:1") -> dict[str, Any]:
    user = next(
        u
        for u in teams.runtime.sandbox.state()["tenant"]["users"]
        if u["userPrincipalName"] == "dana@fabrikam.com"
    )  # type: ignore[union-attr]
    tenant = teams.settings.tenant_id
    return {
        "type": "message",
        "id": activity_id,
        "serviceUrl": SERVICE_URL,
        "channelId": "msteams",
        "from": {"id": "29:1dana", "name": "Dana", "aadObjectId": user["id"]},
        "conversation": {
            "id": "19:aadbot-migration@thread.tacv2",
            "conversationType": "channel",
            "tenantId": tenant,
        },
        "recipient": {"id": f"28:{APP_ID}", "name": "aadbot"},
        "channelData": {"tenant": {"id": tenant}},
        "text": text,
    }


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": SERVICE_URL,
        "nbf": now - 5,
        "exp": now + 600,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _post(teams: Teams, activity: dict[str, Any], token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(teams.bot_url, json=activity, headers=headers, timeout=30)


@pytest.mark.parametrize(
    "case",
    [
        "no token",
        "not a JWT",
        "random bytes",
        "unsigned",
        "signed by someone else",
        "expired",
        "for another bot",
        "other issuer",
        "other serviceurl",
    ],
)
def test_requests_the_bot_connector_did_not_sign_are_refused(
    teams: Teams, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    foreign = spare_rsa_key()
    tokens: dict[str, str | None] = {
        "no token": None,
        "not a JWT": "abc.def",
        "random bytes": base64.b64encode(bytes(range(7, 250, 5))).decode(),
        "unsigned": jwt.encode(_claims(), key=None, algorithm="none"),
        "signed by someone else": jwt.encode(_claims(), foreign, algorithm="RS256", headers={"kid": "x"}),
        "expired": _sandbox_token(teams, exp=int(time.time()) - 3600),
        "for another bot": _sandbox_token(teams, aud="00000000-0000-0000-0000-000000000001"),
        "other issuer": _sandbox_token(teams, iss="https://evil.example"),
        "other serviceurl": _sandbox_token(teams, serviceurl="https://evil.example/"),
    }
    before = len(teams.activities())
    with caplog.at_level(logging.INFO):
        assert _post(teams, _activity(teams), tokens[case]).status_code == 401
    assert len(teams.activities()) == before  # nothing was acted on
    # one line of ours per refusal, at WARNING: a stranger's token is not an error of the bot
    loud = [(r.name, r.levelname) for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == [("bot.teams.endpoint", "WARNING")]


def test_a_properly_signed_activity_is_answered_and_a_redelivery_is_acted_on_once(teams: Teams) -> None:
    token = _sandbox_token(teams)
    activity = _activity(teams, "help", activity_id="f:redelivered")
    assert _post(teams, activity, token).status_code == 200
    after_first = len(teams.activities())
    assert after_first >= 1
    assert _post(teams, activity, token).status_code == 200
    assert len(teams.activities()) == after_first


def test_a_redelivered_message_through_the_sandbox_is_acted_on_once(teams: Teams) -> None:
    first = teams.say("dana@fabrikam.com", "help", channel=True)
    count = len(teams.activities())
    again = _post(teams, {**_activity(teams), "id": first["activityId"]}, _sandbox_token(teams))
    assert again.status_code == 200
    assert len(teams.activities()) == count


def test_the_signing_key_must_be_endorsed_for_the_activity_s_channel(teams: Teams) -> None:
    """Microsoft's rule (vendored): the activity's `channelId` must be among the signing key's
    `endorsements`. A real published key endorsed only for Web Chat does not vouch for Teams."""
    rule = RULE.read_text()
    assert "`endorsements`" in rule and "`channelId`" in rule and "signed with an endorsement" in rule
    keys = httpx.get(f"{teams.url}/login.botframework.com/v1/.well-known/keys", timeout=10).json()["keys"]
    by_endorsement = {tuple(key["endorsements"]): key["kid"] for key in keys}
    assert set(by_endorsement) == {("msteams",), ("webchat",)}  # the documented shape: a list per key

    before = len(teams.activities())
    webchat_key = _sandbox_token(teams, endorsed_for="webchat")
    assert _post(teams, _activity(teams, activity_id="f:webchat-key"), webchat_key).status_code == 401
    teams_key = _sandbox_token(teams)
    for channel in ("webchat", "", None):
        forged = {**_activity(teams, activity_id=f"f:channel-{channel}"), "channelId": channel}
        assert _post(teams, forged, teams_key).status_code == 401
    assert len(teams.activities()) == before  # nothing was acted on
    webchat_activity = {**_activity(teams, activity_id="f:webchat-both"), "channelId": "webchat"}
    assert _post(teams, webchat_activity, webchat_key).status_code == 401  # a Teams bot only
    assert _post(teams, _activity(teams, activity_id="f:endorsed"), teams_key).status_code == 200


def _sandbox_token(teams: Teams, *, endorsed_for: str = "msteams", **changes: Any) -> str:
    """A token signed with the sandbox's published key, as the Bot Connector signs, with `changes`."""
    answer = httpx.post(
        f"{teams.url}/_sandbox/teams/sign", params={"endorsedFor": endorsed_for}, json=changes, timeout=10
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


def test_a_bogus_token_is_refused_before_the_body_is_read(teams: Teams) -> None:
    """A stranger declaring 60 MB and sending a little is answered at once: nothing waits for the rest."""
    head = ["Authorization: Bearer abc.def", "Content-Type: application/json", f"Content-Length: {SIXTY_MB}"]
    assert raw_post(teams.bot_url, MESSAGES_PATH, head, b'{"type": "message", "text": "') == 401


def test_a_signed_body_over_the_cap_is_refused_with_413_unread(teams: Teams) -> None:
    head = [f"Authorization: Bearer {_sandbox_token(teams)}", f"Content-Length: {SIXTY_MB}"]
    assert raw_post(teams.bot_url, MESSAGES_PATH, head, b'{"type": "message", "text": "') == 413


def test_a_body_that_never_finishes_arriving_is_given_up_with_408(teams: Teams) -> None:
    from bot.teams.endpoint import TeamsEndpoint

    surface = teams.surface()
    endpoint = TeamsEndpoint(
        teams.runtime.conversation,
        authenticator=ActivityAuthenticator(APP_ID, sandbox_url=teams.url),
        delivery=surface.delivery,
        people=surface.people,
        store=surface.store,
        tenant_id=teams.settings.tenant_id,
        body_seconds=0.2,
    )
    app = Starlette(routes=[Route(MESSAGES_PATH, endpoint.handle, methods=["POST"])])
    head = [f"Authorization: Bearer {_sandbox_token(teams)}", "Content-Length: 1000"]
    with ServerThread(app) as server:
        assert raw_post(server.url, MESSAGES_PATH, head, b'{"type"') == 408


def test_a_client_that_leaves_halfway_costs_one_log_line(
    teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    head = [f"Authorization: Bearer {_sandbox_token(teams)}", "Content-Length: 1000"]
    with caplog.at_level(logging.WARNING):
        post_and_leave(teams.bot_url, MESSAGES_PATH, head, b'{"type"')
        deadline = time.monotonic() + 10
        while "a client left" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)  # the server notices the closed connection on its own thread
    assert f"a client left before sending the whole body of {MESSAGES_PATH}" in caplog.text
    assert "Traceback" not in caplog.text and "ClientDisconnect" not in caplog.text
    assert not any(record.exc_info for record in caplog.records)


def test_a_signed_body_nested_too_deep_is_refused_with_400(teams: Teams) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    headers = {"Authorization": f"Bearer {_sandbox_token(teams)}", "Content-Type": "application/json"}
    assert httpx.post(teams.bot_url, content=deep, headers=headers, timeout=30).status_code == 400


def _click(teams: Teams, action: Any, activity_id: str) -> dict[str, Any]:
    """A signed `adaptiveCard/action` invoke by Dana in the channel carrying `action` as its action."""
    return {
        **_activity(teams, activity_id=activity_id),
        "type": "invoke",
        "name": "adaptiveCard/action",
        "value": {"action": action, "trigger": "manual"},
    }


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("x", "it has no action (value.action)"),
        ({"action": "approve"}, "it has no action (value.action)"),
        ({"action": {"type": "Action.Execute", "verb": ["a"]}}, "its action has no verb"),
        ({"action": {"type": "Action.Execute", "verb": "approve", "data": "1"}}, "its action's data is not"),
        ({"action": {"verb": "approve", "data": {"value": {"n": 1}}}}, "its action's data is not"),
    ],
)
def test_a_malformed_card_click_gets_a_clean_400_and_one_log_line(
    teams: Teams, value: Any, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = _sandbox_token(teams)
    click = {**_click(teams, None, "f:malformed"), "value": value}
    before = len(teams.activities())
    with caplog.at_level(logging.INFO):
        answer = _post(teams, click, token)
    assert answer.status_code == 400
    body = answer.json()
    assert (body["statusCode"], body["type"], body["value"]["code"]) == (
        400,
        "application/vnd.microsoft.error",
        "BadRequest",
    )
    assert body["value"]["message"].startswith(f"This is not a card click I understand: {why}")
    assert len(teams.activities()) == before  # nothing was acted on
    [line] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.getMessage().startswith("refused a card click that is not one (activity 'f:malformed'): ")
    assert not line.exc_info and token not in caplog.text


def test_a_redelivered_click_gets_the_first_answer_again_and_acts_once(teams: Teams) -> None:
    token = _sandbox_token(teams)
    click = _click(teams, {"type": "Action.Execute", "verb": "help", "data": {"value": ""}}, "f:click-twice")
    first = _post(teams, click, token)
    assert first.status_code == 200 and first.json()["statusCode"] == 200
    after_first = len(teams.activities())
    again = _post(teams, click, token)
    assert (again.status_code, again.json()) == (200, first.json())
    assert len(teams.activities()) == after_first


def test_activities_from_another_tenant_are_refused_and_said_once_per_tenant(
    teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    token = _sandbox_token(teams)
    other = "0d5e9f3a-6b7c-4e21-8a90-1f2e3d4c5b6a"
    with caplog.at_level(logging.INFO):
        for number in range(3):
            activity = _activity(teams, activity_id=f"f:foreign-{number}")
            activity["channelData"] = {"tenant": {"id": other}}
            assert _post(teams, activity, token).status_code == 403
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert said == [
        f"refused activities from tenant {other}: this bot serves tenant {teams.settings.tenant_id}"
        " (TEAMS_TENANT_ID) only, so people there get no answer. If the app was added in that organization's"
        " Teams on purpose, nothing needs changing here (its admins can remove or block the app in their"
        f" Teams admin center). If the bot's own users are in {other}, set TEAMS_TENANT_ID to it and restart."
    ]
    assert token not in caplog.text


def test_a_click_redelivered_while_its_first_delivery_is_being_answered_is_told_so(teams: Teams) -> None:
    from bot.teams.endpoint import STILL_WORKING

    click = _click(teams, {"type": "Action.Execute", "verb": "help", "data": {"value": ""}}, "f:in-flight")
    teams.surface().store.claim_activity("19:aadbot-migration@thread.tacv2|f:in-flight")  # the first
    before = len(teams.activities())
    again = _post(teams, click, _sandbox_token(teams))
    assert again.status_code == 200
    assert again.json() == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": STILL_WORKING,
    }
    assert len(teams.activities()) == before


def test_a_click_whose_claimer_died_is_taken_over_by_its_redelivery(teams: Teams) -> None:
    """Claimed longer ago than Teams waits for a click's answer and still unanswered: nobody else will."""
    from bot.runtime import utc_now
    from bot.teams.store import CLICK_ANSWER_LIMIT, TeamsStore

    click = _click(teams, {"type": "Action.Execute", "verb": "help", "data": {"value": ""}}, "f:orphaned")
    key = "19:aadbot-migration@thread.tacv2|f:orphaned"
    then = utc_now() - CLICK_ANSWER_LIMIT - timedelta(seconds=1)
    assert TeamsStore(teams.runtime.database, clock=lambda: then).claim_activity(key)  # then it died
    before = len(teams.activities())
    again = _post(teams, click, _sandbox_token(teams))
    assert (again.status_code, again.json()["value"]) == (200, "I sent you the answer in our personal chat.")
    [helped] = teams.activities()[before:]  # acted on, once
    assert helped["summary"] == "What you can do now"
    assert teams.surface().store.answer(key) == again.json()
