"""The emulator over real HTTP, spoken to directly (the clients' own tests are in tests/msapi)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from sandbox import Sandbox, parse_scenario

ORG = "fabrikam-fiber"
ZERO = "00000000-0000-0000-0000-000000000000"
PAT = {"Authorization": "Basic " + base64.b64encode(b":pat").decode()}


def _token(
    box: Sandbox, scope: str = "https://graph.microsoft.com/.default", tenant: str = "fabrikam.com"
) -> str:
    response = httpx.post(
        f"{box.url}/login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": "app", "client_secret": "s", "scope": scope},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _graph(box: Sandbox, path: str, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {_token(box)}"}
    return httpx.get(f"{box.url}/graph.microsoft.com/v1.0/{path}", params=params, headers=headers)


def test_head_reports_the_tenant_and_connect_changes_it(box: Sandbox) -> None:
    probe = httpx.head(f"{box.url}/vssps.dev.azure.com/{ORG}")
    assert probe.status_code == 404 and probe.headers["X-VSS-ResourceTenant"] == ZERO
    assert "X-VSS-ResourceTenant" not in httpx.head(f"{box.url}/vssps.dev.azure.com/nobody").headers
    tenant = box.state()["tenant"]["id"]
    answer = httpx.post(f"{box.url}/_sandbox/connect", json={"organization": ORG, "tenantId": tenant})
    assert answer.status_code == 200
    assert httpx.head(f"{box.url}/vssps.dev.azure.com/{ORG}").headers["X-VSS-ResourceTenant"] == tenant
    users = {e["user"]["principalName"]: e["user"] for e in box.state()["user_entitlements"]}
    assert users["ann@fabrikam.com"]["origin"] == "aad"  # a member's UPN: mapped by the connection
    assert users["bob.builder@outlook.com"]["origin"] == "msa"  # no member UPN: left disconnected
    httpx.post(f"{box.url}/_sandbox/connect", json={"organization": ORG, "tenantId": ZERO})
    assert httpx.head(f"{box.url}/vssps.dev.azure.com/{ORG}").headers["X-VSS-ResourceTenant"] == ZERO
    assert (
        httpx.post(f"{box.url}/_sandbox/connect", json={"organization": "x", "tenantId": ZERO}).status_code
        == 404
    )


def test_entitlements_page_with_continuation_token_and_delete(fabrikam: dict[str, Any]) -> None:
    with Sandbox(parse_scenario(fabrikam), page_size=4) as box:
        url = f"{box.url}/vsaex.dev.azure.com/{ORG}/_apis/userentitlements"
        assert httpx.get(url, params={"api-version": "7.1"}).status_code == 401
        assert httpx.get(url, headers=PAT).status_code == 400  # api-version is required
        seen: list[str] = []
        params = {"api-version": "7.1"}
        while True:
            body = httpx.get(url, params=params, headers=PAT).json()
            assert body["totalCount"] == 11
            seen += [item["id"] for item in body["items"]]
            if not body["continuationToken"]:
                break
            params["continuationToken"] = body["continuationToken"]
        assert len(seen) == len(set(seen)) == 11
        assert (
            httpx.delete(f"{url}/{seen[3]}", params={"api-version": "7.1"}, headers=PAT).status_code == 200
        )  # the 7.1 spec's answer
        assert httpx.delete(f"{url}/{seen[3]}", params={"api-version": "7.1"}, headers=PAT).status_code == 404
        assert seen[3] not in [e["id"] for e in box.state()["user_entitlements"]]


def test_graph_users_select_top_filter_and_next_link(box: Sandbox) -> None:
    assert _graph(box, "users", **{"$top": "1000"}).status_code == 400
    assert _graph(box, "users", **{"$skip": "2"}).json()["error"]["code"] == "Request_BadRequest"
    first = _graph(box, "users", **{"$select": "id,userType", "$top": "6"}).json()
    assert set(first["value"][0]) == {"id", "userType"}
    link = first["@odata.nextLink"]
    assert link.startswith("https://graph.microsoft.com/v1.0/users?") and "%24skiptoken=" in link
    rest = httpx.get(
        box.url + "/graph.microsoft.com" + link.split("graph.microsoft.com", 1)[1],
        headers={"Authorization": f"Bearer {_token(box)}"},
    ).json()
    assert len(first["value"]) + len(rest["value"]) == 6 + 5 and "@odata.nextLink" not in rest
    found = _graph(
        box, "users", **{"$filter": "proxyAddresses/any(x:x eq 'smtp:KIM@fabrikam-old.com')"}
    ).json()
    assert [u["userPrincipalName"] for u in found["value"]] == ["kim@fabrikam.com"]
    both = _graph(
        box, "users", **{"$filter": "mail eq 'hana@contoso.com' or otherMails/any(m:m eq 'hana@contoso.com')"}
    )
    assert len(both.json()["value"]) == 2
    assert (
        _graph(box, "users", **{"$filter": "mail ne 'x'"}).json()["error"]["code"]
        == "Request_UnsupportedQuery"
    )


def test_graph_needs_a_graph_token(box: Sandbox) -> None:
    assert httpx.get(f"{box.url}/graph.microsoft.com/v1.0/users").status_code == 401
    arm = _token(box, "https://management.azure.com/.default")
    wrong = httpx.get(f"{box.url}/graph.microsoft.com/v1.0/users", headers={"Authorization": f"Bearer {arm}"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_token_endpoint_refuses_bad_requests(box: Sandbox) -> None:
    url = f"{box.url}/login.microsoftonline.com/fabrikam.com/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": "app",
        "scope": "https://graph.microsoft.com/.default",
    }
    assert httpx.post(url, data=form).json()["error"] == "invalid_client"
    malformed = {
        **form,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": "b'eyJhbGciOiJSUzI1NiJ9.e30.sig'",
    }
    assert "AADSTS50027" in httpx.post(url, data=malformed).json()["error_description"]
    assert (
        httpx.post(url, data={**form, "client_secret": "s", "scope": "openid"}).json()["error"]
        == "invalid_scope"
    )
    unknown = httpx.post(f"{box.url}/login.microsoftonline.com/contoso.com/oauth2/v2.0/token", data=form)
    assert unknown.status_code == 400 and "AADSTS90002" in unknown.json()["error_description"]
    # Entra's token endpoint says `invalid_request` for a tenant it does not know; its discovery document
    # says `invalid_tenant`; both give the code by itself too
    assert (unknown.json()["error"], unknown.json()["error_codes"]) == ("invalid_request", [90002])
    said = httpx.get(
        f"{box.url}/login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration"
    ).json()
    assert (said["error"], said["error_codes"]) == ("invalid_tenant", [90002])
    discovery = httpx.get(
        f"{box.url}/login.microsoftonline.com/fabrikam.com/v2.0/.well-known/openid-configuration"
    )
    assert (
        discovery.json()["token_endpoint"]
        == "https://login.microsoftonline.com/fabrikam.com/oauth2/v2.0/token"
    )


def test_invitation_creates_the_guest_once(box: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {_token(box)}"}
    body = {
        "invitedUserEmailAddress": "Erin.Eng@gmail.com",
        "inviteRedirectUrl": "https://dev.azure.com/x",
        "sendInvitationMessage": True,
        "invitedUserMessageInfo": {"customizedMessageBody": "join fabrikam-fiber"},
    }
    url = f"{box.url}/graph.microsoft.com/v1.0/invitations"
    first = httpx.post(url, json=body, headers=headers)
    assert first.status_code == 201 and first.json()["status"] == "PendingAcceptance"
    again = httpx.post(url, json=body, headers=headers)
    assert again.json()["invitedUser"]["id"] == first.json()["invitedUser"]["id"]
    guests = [u for u in box.state()["tenant"]["users"] if u["mail"] == "Erin.Eng@gmail.com"]
    assert len(guests) == 1 and guests[0]["userType"] == "Guest"
    assert guests[0]["userPrincipalName"].endswith("#EXT#@fabrikam.onmicrosoft.com")
    assert (
        box.state()["tenant"]["invitations"][0]["invitedUserMessageInfo"]["customizedMessageBody"]
        == "join fabrikam-fiber"
    )
    assert httpx.post(url, json={"invitedUserEmailAddress": "nope"}, headers=headers).status_code == 400


@pytest.mark.parametrize(
    ("policy", "status"), [("adminsAndGuestInviters", 403), ("none", 403), ("everyone", 201)]
)
def test_invitation_obeys_allow_invites_from(fabrikam: dict[str, Any], policy: str, status: int) -> None:
    fabrikam["tenant"]["authorizationPolicy"]["allowInvitesFrom"] = policy
    with Sandbox(parse_scenario(fabrikam)) as box:
        answer = httpx.post(
            f"{box.url}/graph.microsoft.com/v1.0/invitations",
            json={"invitedUserEmailAddress": "zed@gmail.com", "inviteRedirectUrl": "https://dev.azure.com/x"},
            headers={"Authorization": f"Bearer {_token(box)}"},
        )
    assert answer.status_code == status
    if status == 403:
        # A policy refusal, not missing consent: Graph's own wording (MicrosoftDocs/azure-docs#78054).
        assert answer.json()["error"]["message"].startswith("Guest invitations not allowed for your company")


def test_batch_runs_inner_requests(box: Sandbox) -> None:
    requests = [
        {"id": "1", "method": "GET", "url": "/organization"},
        {
            "id": "2",
            "method": "GET",
            "url": "/users/dana@fabrikam.com/memberOf/microsoft.graph.directoryRole",
            "headers": {"ConsistencyLevel": "eventual"},  # an OData cast needs it (user-list-memberof.md)
        },
        {"id": "3", "method": "GET", "url": "/users/nobody@fabrikam.com"},
    ]
    answer = httpx.post(
        f"{box.url}/graph.microsoft.com/v1.0/$batch",
        json={"requests": requests},
        headers={"Authorization": f"Bearer {_token(box)}"},
    ).json()
    by_id = {item["id"]: item for item in answer["responses"]}
    assert by_id["1"]["body"]["value"][0]["displayName"] == "Fabrikam"
    assert [r["displayName"] for r in by_id["2"]["body"]["value"]] == ["Global Administrator"]
    assert by_id["3"]["status"] == 404
    too_many = [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(21)]
    assert (
        httpx.post(
            f"{box.url}/graph.microsoft.com/v1.0/$batch",
            json={"requests": too_many},
            headers={"Authorization": f"Bearer {_token(box)}"},
        ).status_code
        == 400
    )


def test_subscription_in_another_tenant_names_its_tenant(box: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {_token(box, 'https://management.azure.com/.default')}"}
    sub = box.state()["organization"]["billing_subscription_id"]
    url = f"{box.url}/management.azure.com/subscriptions/{sub}"
    answer = httpx.get(url, params={"api-version": "2022-12-01"}, headers=headers)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "InvalidAuthenticationTokenTenant"
    other = box.state()["subscriptions"][0]["tenantId"]
    assert f'authorization_uri="https://login.windows.net/{other}"' in answer.headers["WWW-Authenticate"]
    missing = httpx.get(
        url.replace(sub, "11111111-1111-1111-1111-111111111111"), params={"api-version": "1"}, headers=headers
    )
    assert missing.status_code == 404


def test_moving_the_subscription_to_the_tenant(box: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {_token(box, 'https://management.azure.com/.default')}"}
    sub = box.state()["organization"]["billing_subscription_id"]
    tenant = box.state()["tenant"]["id"]
    moved = httpx.post(f"{box.url}/_sandbox/subscription", json={"subscriptionId": sub, "tenantId": tenant})
    assert moved.status_code == 200
    url = f"{box.url}/management.azure.com/subscriptions/{sub}"
    answer = httpx.get(url, params={"api-version": "2022-12-01"}, headers=headers)
    assert answer.status_code == 200 and answer.json()["tenantId"] == tenant
    unknown = httpx.post(
        f"{box.url}/_sandbox/subscription", json={"subscriptionId": "nope", "tenantId": tenant}
    )
    assert unknown.status_code == 404


def test_administrators_through_groups_and_nested_memberships(fabrikam: dict[str, Any]) -> None:
    fabrikam["organization"]["project_collection_administrators"] = [
        "dana@fabrikam.com",
        {
            "displayName": "Org Admins",
            "members": ["lee@fabrikam.com", {"displayName": "Inner", "members": ["x@y.z"]}],
        },
    ]
    with Sandbox(parse_scenario(fabrikam)) as box:
        root = f"{box.url}/vssps.dev.azure.com/{ORG}/_apis/graph"
        groups = httpx.get(f"{root}/groups", params={"api-version": "7.1-preview.1"}, headers=PAT).json()[
            "value"
        ]
        pca = next(g for g in groups if g["principalName"] == f"[{ORG}]\\Project Collection Administrators")
        members = httpx.get(
            f"{root}/Memberships/{pca['descriptor']}",
            headers=PAT,
            params={"direction": "down", "api-version": "7.1-preview.1"},
        ).json()["value"]
        descriptors = [m["memberDescriptor"] for m in members]
        assert len(descriptors) == 2 and descriptors[1].startswith("vssgp.")
        lookup = httpx.post(
            f"{root}/subjectlookup",
            params={"api-version": "7.1-preview.1"},
            headers=PAT,
            json={"lookupKeys": [{"descriptor": d} for d in descriptors]},
        ).json()["value"]
        assert lookup[descriptors[0]]["principalName"] == "dana@fabrikam.com"
        assert lookup[descriptors[1]]["displayName"] == "Org Admins"


def test_faults_are_deterministic_and_counted(box: Sandbox) -> None:
    url = f"{box.url}/vssps.dev.azure.com/{ORG}"
    client = httpx.Client()

    def run() -> list[int]:
        client.post(
            f"{box.url}/_sandbox/faults", json={"seed": 3, "rate_429": 0.3, "rate_500": 0.2, "retry_after": 2}
        )
        return [client.head(url).status_code for _ in range(30)]

    first = run()
    assert first == run()
    assert {429, 500, 404} <= set(first)
    throttled = client.post(f"{box.url}/_sandbox/faults", json={"sequence": [429]})
    assert throttled.status_code == 200
    answer = client.get(f"{box.url}/vsaex.dev.azure.com/{ORG}/_apis/userentitlements")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"
    assert answer.json()["message"].startswith("TF400733")
    assert client.post(f"{box.url}/_sandbox/faults", json={"rate_429": 2}).status_code == 400
    counts = client.get(f"{box.url}/_sandbox/requests").json()
    assert counts["byHost"]["vssps.dev.azure.com"] == 60 and counts["total"] == 61
    assert json.loads(client.get(f"{box.url}/_sandbox/state").text)["organization"]["name"] == ORG
    client.close()
