"""The sandbox refuses what Microsoft refuses, with Microsoft's status codes and error bodies."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from sandbox import Sandbox, parse_scenario

ORG = "fabrikam-fiber"
PAT = {"Authorization": "Basic " + base64.b64encode(b":pat").decode()}


def _token(box: Sandbox, scope: str = "https://graph.microsoft.com/.default") -> str:
    answer = httpx.post(
        f"{box.url}/login.microsoftonline.com/fabrikam.com/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": "app", "client_secret": "s", "scope": scope},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def _restricted(fabrikam: dict[str, Any], **credentials: Any) -> Sandbox:
    fabrikam["credentials"] = credentials
    return Sandbox(parse_scenario(fabrikam))


def test_app_tokens_carry_the_granted_roles_and_graph_refuses_the_rest(fabrikam: dict[str, Any]) -> None:
    with _restricted(fabrikam, graph_app_roles=["User.Read.All"]) as box:
        token = _token(box)
        assert _claims(token)["roles"] == ["User.Read.All"] and "scp" not in _claims(token)
        headers = {"Authorization": f"Bearer {token}"}
        graph = f"{box.url}/graph.microsoft.com/v1.0"
        assert httpx.get(f"{graph}/users", headers=headers).status_code == 200
        refused = httpx.get(f"{graph}/policies/authorizationPolicy", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "Authorization_RequestDenied"
        assert refused.json()["error"]["message"] == "Insufficient privileges to complete the operation."
        invite = httpx.post(
            f"{graph}/invitations",
            json={"invitedUserEmailAddress": "x@gmail.com", "inviteRedirectUrl": "https://x"},
            headers=headers,
        )
        # Missing consent, in the invitation service's words: not the policy refusal.
        assert invite.status_code == 403
        assert invite.json()["error"]["message"].startswith(
            "Insufficient privileges to perform requested operation"
        )
        # The organization by id needs Organization.Read.All; the collection Directory.Read.All.
        tenant = box.state()["tenant"]["id"]
        assert httpx.get(f"{graph}/organization/{tenant}", headers=headers).status_code == 403
    with _restricted(fabrikam, graph_app_roles=["Organization.Read.All"]) as box:
        headers = {"Authorization": f"Bearer {_token(box)}"}
        tenant = box.state()["tenant"]["id"]
        assert (
            httpx.get(
                f"{box.url}/graph.microsoft.com/v1.0/organization/{tenant}", headers=headers
            ).status_code
            == 200
        )
        assert (
            httpx.get(f"{box.url}/graph.microsoft.com/v1.0/organization", headers=headers).status_code == 403
        )


def test_a_pat_without_the_scope_gets_401(fabrikam: dict[str, Any]) -> None:
    with _restricted(fabrikam, devops_pat_scopes=["vso.memberentitlementmanagement"]) as box:
        entitlements = f"{box.url}/vsaex.dev.azure.com/{ORG}/_apis/userentitlements"
        listing = httpx.get(entitlements, params={"api-version": "7.1"}, headers=PAT)
        assert listing.status_code == 200
        some = listing.json()["items"][0]["id"]
        removal = httpx.delete(f"{entitlements}/{some}", params={"api-version": "7.1"}, headers=PAT)
        assert removal.status_code == 401 and removal.json()["typeKey"] == "UnauthorizedRequestException"
        groups = httpx.get(
            f"{box.url}/vssps.dev.azure.com/{ORG}/_apis/graph/groups",
            params={"api-version": "7.1-preview.1"},
            headers=PAT,
        )
        assert groups.status_code == 401
        assert len(box.state()["user_entitlements"]) == len(listing.json()["items"])  # nothing removed


def test_azure_rbac_refuses_a_subscription_without_a_role(fabrikam: dict[str, Any]) -> None:
    subscription = fabrikam["subscriptions"][0]
    subscription["tenantId"] = fabrikam["tenant"]["id"]
    with _restricted(fabrikam, arm_roles={}) as box:
        headers = {"Authorization": f"Bearer {_token(box, 'https://management.azure.com/.default')}"}
        answer = httpx.get(
            f"{box.url}/management.azure.com/subscriptions/{subscription['subscriptionId']}",
            params={"api-version": "2022-12-01"},
            headers=headers,
        )
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "AuthorizationFailed"
        assert "Microsoft.Resources/subscriptions/read" in answer.json()["error"]["message"]


def test_unknown_select_is_400_and_advanced_queries_need_consistency_level(box: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {_token(box)}"}
    users = f"{box.url}/graph.microsoft.com/v1.0/users"
    unknown = httpx.get(users, params={"$select": "id,favouriteColour"}, headers=headers)
    assert unknown.status_code == 400
    assert "favouriteColour" in unknown.json()["error"]["message"]
    one = httpx.get(f"{users}/dana@fabrikam.com", params={"$select": "nope"}, headers=headers)
    assert one.status_code == 400
    counted = {"$count": "true", "$filter": "mail eq 'dana@fabrikam.com'"}
    assert httpx.get(users, params=counted, headers=headers).status_code == 400
    eventual = httpx.get(users, params=counted, headers={**headers, "ConsistencyLevel": "eventual"})
    assert eventual.status_code == 200 and eventual.json()["@odata.count"] == 1


def test_continuation_tokens_look_like_microsofts_and_survive_a_round_trip(fabrikam: dict[str, Any]) -> None:
    with Sandbox(parse_scenario(fabrikam), page_size=2) as box:
        url = f"{box.url}/vsaex.dev.azure.com/{ORG}/_apis/userentitlements"
        params = {"api-version": "7.1"}
        seen: list[str] = []
        tokens: list[str] = []
        while True:
            body = httpx.get(url, params=params, headers=PAT).json()
            seen += [item["id"] for item in body["items"]]
            if not body["continuationToken"]:
                break
            tokens.append(body["continuationToken"])
            params["continuationToken"] = body["continuationToken"]
        assert len(seen) == len(set(seen)) == len(fabrikam["user_entitlements"])
        assert all(all(mark in token for mark in "+/=#") for token in tokens)
        # Sent unencoded (a client that forgets to encode), `+` turns into a space and `#` ends the URL.
        raw = httpx.get(f"{url}?api-version=7.1&continuationToken={tokens[0]}", headers=PAT)
        assert raw.status_code == 400


def test_a_revoked_token_is_refused_with_invalid_authentication_token(box: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {_token(box)}"}
    assert httpx.get(f"{box.url}/graph.microsoft.com/v1.0/users", headers=headers).status_code == 200
    box.revoke_tokens()
    answer = httpx.get(f"{box.url}/graph.microsoft.com/v1.0/users", headers=headers)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "InvalidAuthenticationToken"


@pytest.mark.parametrize(
    "credentials", [{"graph_app_roles": "User.Read.All"}, {"arm_roles": {"x": "Reader"}}]
)
def test_malformed_credentials_are_refused_with_their_path(
    fabrikam: dict[str, Any], credentials: Any
) -> None:
    from sandbox import ScenarioError

    fabrikam["credentials"] = credentials
    with pytest.raises(ScenarioError, match=r"credentials\."):
        parse_scenario(fabrikam)
