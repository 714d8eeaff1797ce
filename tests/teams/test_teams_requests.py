"""`POST /api/messages` refuses what the Bot Connector did not sign for this bot; redeliveries act once."""

from __future__ import annotations

import base64
import logging
import time
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
