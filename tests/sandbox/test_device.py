"""The emulated device-code flow over raw HTTP: code, pending, approval, tokens, refresh, expiry."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx

from sandbox import Sandbox, parse_scenario

LOGIN = "login.microsoftonline.com/fabrikam.com/oauth2/v2.0"
GRAPH = "https://graph.microsoft.com/.default"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _device_code(box: Sandbox, scope: str = f"{GRAPH} openid profile offline_access") -> httpx.Response:
    return httpx.post(f"{box.url}/{LOGIN}/devicecode", data={"client_id": "cli", "scope": scope})


def _poll(box: Sandbox, device_code: str, client_id: str = "cli") -> httpx.Response:
    form = {"grant_type": DEVICE_GRANT, "client_id": client_id, "device_code": device_code}
    return httpx.post(f"{box.url}/{LOGIN}/token", data=form)


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_device_code_pending_approved_then_refreshed_for_another_resource(fabrikam: dict[str, Any]) -> None:
    with Sandbox(parse_scenario(fabrikam)) as box:
        flow = _device_code(box).json()
        assert flow["verification_uri"] == "https://microsoft.com/devicelogin"
        assert flow["interval"] == 5 and flow["expires_in"] == 900
        assert f"enter the code {flow['user_code']} to authenticate" in flow["message"]
        pending = _poll(box, flow["device_code"])
        assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
        assert _poll(box, flow["device_code"], client_id="other").json()["error"] == "invalid_grant"
        approve = f"{box.url}/_sandbox/device/approve"
        assert httpx.post(approve, json={"user_code": flow["user_code"]}).status_code == 400
        assert httpx.post(approve, json={"user_code": "X", "user": "lee@fabrikam.com"}).status_code == 404
        stranger = {"user_code": flow["user_code"], "user": "nobody@fabrikam.com"}
        assert httpx.post(approve, json=stranger).status_code == 400
        answer = httpx.post(
            approve, json={"user_code": flow["user_code"].lower(), "user": "LEE@fabrikam.com"}
        )
        assert answer.status_code == 200
        tokens = _poll(box, flow["device_code"]).json()
        tenant = box.state()["tenant"]["id"]
        claims = _claims(tokens["id_token"])
        assert claims["preferred_username"] == "lee@fabrikam.com" and claims["tid"] == tenant
        assert claims["aud"] == "cli"
        client_info = json.loads(base64.urlsafe_b64decode(tokens["client_info"] + "=="))
        assert client_info == {"uid": claims["oid"], "utid": tenant}
        assert tokens["scope"] == GRAPH
        me = httpx.get(
            f"{box.url}/graph.microsoft.com/v1.0/organization",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert me.status_code == 200
        assert _poll(box, flow["device_code"]).json()["error"] == "invalid_grant"  # redeemed once

        refresh = {
            "grant_type": "refresh_token",
            "client_id": "cli",
            "refresh_token": tokens["refresh_token"],
            "scope": "https://management.azure.com/.default offline_access",
        }
        arm = httpx.post(f"{box.url}/{LOGIN}/token", data=refresh).json()
        subscription = httpx.get(
            f"{box.url}/management.azure.com/subscriptions/{fabrikam['subscriptions'][0]['subscriptionId']}",
            params={"api-version": "2022-12-01"},
            headers={"Authorization": f"Bearer {arm['access_token']}"},
        )
        # Accepted as an ARM token: the subscription lives in Dana's other directory, which ARM names.
        assert subscription.json()["error"]["code"] == "InvalidAuthenticationTokenTenant"
        wrong_client = httpx.post(f"{box.url}/{LOGIN}/token", data={**refresh, "client_id": "x"})
        assert wrong_client.json()["error"] == "invalid_grant"


def test_device_codes_and_tokens_expire_by_the_sandbox_clock(fabrikam: dict[str, Any]) -> None:
    clock = Clock()
    with Sandbox(parse_scenario(fabrikam), clock=clock) as box:
        flow = _device_code(box).json()
        clock.now += 901
        expired = _poll(box, flow["device_code"])
        assert expired.status_code == 400 and expired.json()["error"] == "expired_token"
        late = {"user_code": flow["user_code"], "user": "lee@fabrikam.com"}
        answer = httpx.post(f"{box.url}/_sandbox/device/approve", json=late)
        assert answer.status_code == 400 and "expired" in answer.json()["error"]

        token = httpx.post(
            f"{box.url}/{LOGIN}/token",
            data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "s", "scope": GRAPH},
        ).json()["access_token"]
        clock.now += 3600
        stale = httpx.get(
            f"{box.url}/graph.microsoft.com/v1.0/organization", headers={"Authorization": f"Bearer {token}"}
        )
        assert stale.status_code == 401


def test_device_code_scopes_name_one_resource(fabrikam: dict[str, Any]) -> None:
    with Sandbox(parse_scenario(fabrikam)) as box:
        mixed = _device_code(box, f"{GRAPH} https://management.azure.com/.default")
        assert mixed.status_code == 400 and mixed.json()["error"] == "invalid_scope"
        assert _device_code(box, "User.Read openid").status_code == 200  # a bare scope is Graph's
        assert (
            httpx.post(f"{box.url}/{LOGIN}/devicecode", data={"scope": GRAPH}).json()["error"]
            == "invalid_request"
        )
        unsupported = httpx.post(
            f"{box.url}/{LOGIN}/token", data={"grant_type": "password", "client_id": "c"}
        )
        assert unsupported.json()["error"] == "unsupported_grant_type"
