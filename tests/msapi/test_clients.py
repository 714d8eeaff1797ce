"""Every client against the sandbox over real HTTP, through `MicrosoftClients`."""

from __future__ import annotations

import base64
import contextvars
import datetime
import json
import logging
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import msal
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from msapi import (
    AppCredential,
    HttpSession,
    MicrosoftClients,
    MicrosoftError,
    MsalHttpClient,
    Router,
    from_environment,
)
from sandbox import Sandbox, parse_scenario
from tests.fakes.keys import spare_rsa_key
from tests.fakes.server import ServerThread
from workflows.directory import InvitePermissionDenied, Unanswered

ORG = "fabrikam-fiber"
PAT = "pat-0123456789-do-not-log"
SECRET = "client-secret-do-not-log"


@pytest.fixture
def make_clients() -> Iterator[Any]:
    opened: list[MicrosoftClients] = []

    def make(
        box: Sandbox, *, app: AppCredential | None = None, cache: Path | None = None
    ) -> MicrosoftClients:
        session = HttpSession(Router(box.url), sleep=lambda seconds: None)
        clients = MicrosoftClients(
            session, pat=PAT, app=app or AppCredential("app-id", client_secret=SECRET), token_cache=cache
        )
        opened.append(clients)
        return clients

    yield make
    for clients in opened:
        clients.close()


def test_snapshot_reads_everything_with_the_fewest_requests(box: Sandbox, make_clients: Any) -> None:
    clients = make_clients(box)
    snapshot = clients.snapshot(ORG, "fabrikam.com", "lee@fabrikam.com")
    org = snapshot.organization
    assert org.owner == "dana@fabrikam.com"
    assert org.administrators == ("dana@fabrikam.com", "lee@fabrikam.com")
    assert org.billing_subscription_id == "c0ffee00-1234-4abc-8def-0123456789ab"
    assert len(snapshot.users) == 11 and len(snapshot.directory_users) == 11
    assert (
        snapshot.tenant.id == box.state()["tenant"]["id"] and snapshot.tenant.default_domain == "fabrikam.com"
    )
    assert snapshot.allow_invites_from == "adminsGuestInvitersAndAllMembers"
    assert snapshot.billing_subscription is not None
    assert snapshot.billing_subscription.tenant_id == box.state()["subscriptions"][0]["tenantId"]
    ivan = next(user for user in snapshot.users if user.principal_name == "ivan@fabrikam.com")
    assert ivan.is_visual_studio_subscriber and ivan.last_accessed is not None
    assert box.request_counts() == {
        "vssps.dev.azure.com": 3,  # organization record, groups, memberships
        "vsaex.dev.azure.com": 1,
        "azdevopscommerce.dev.azure.com": 1,
        "login.microsoftonline.com": 2,  # Graph token, ARM token (Entra's OIDC document costs nothing)
        "graph.microsoft.com": 1,  # one $batch: tenant, policy and the first users page
        "management.azure.com": 1,
    }
    # An app invites for itself: the connector's roles decide nothing, so they are not read.
    again = clients.snapshot(ORG, "fabrikam.com", "dana@fabrikam.com")
    assert again.connector_roles == () and again.invites_as_app
    assert box.request_counts()["login.microsoftonline.com"] == 2  # tokens come from msal's cache


def test_paging_follows_every_page(fabrikam: dict[str, Any], make_clients: Any) -> None:
    extra = [
        {"id": f"id-{i}", "userPrincipalName": f"u{i}@fabrikam.com", "mail": f"u{i}@fabrikam.com"}
        for i in range(2000)
    ]
    fabrikam["tenant"]["users"] += extra
    with Sandbox(parse_scenario(fabrikam), page_size=3) as box:
        clients = make_clients(box)
        snapshot = clients.snapshot(ORG, "fabrikam.com", "lee@fabrikam.com")
        assert len(snapshot.users) == 11 and len({u.id for u in snapshot.users}) == 11
        assert len({u.id for u in snapshot.directory_users}) == 2011
        counts = box.request_counts(reset=True)
        assert counts["vsaex.dev.azure.com"] == 4 and counts["graph.microsoft.com"] == 3
        assert len(clients.directory_users(snapshot.tenant.id)) == 2011
        assert box.request_counts()["graph.microsoft.com"] == 3


def test_snapshot_survives_throttling_and_errors(box: Sandbox, make_clients: Any) -> None:
    box.set_faults(seed=11, rate_429=0.2, rate_500=0.1, retry_after=1)
    snapshot = make_clients(box).snapshot(ORG, "fabrikam.com", "lee@fabrikam.com")
    assert len(snapshot.users) == 11 and snapshot.organization.owner == "dana@fabrikam.com"
    assert sum(box.request_counts().values()) > 9  # 9 without faults: some were retried


def test_nested_administrators_and_strangers(
    fabrikam: dict[str, Any], served_box: Sandbox, make_clients: Any
) -> None:
    fabrikam["organization"]["owner"] = "founder@outlook.com"
    fabrikam["organization"]["project_collection_administrators"] = [
        {
            "displayName": "Admins",
            "members": ["ANN@fabrikam.com", {"displayName": "Inner", "members": ["x@y.z"]}],
        },
        "founder@outlook.com",
    ]
    served_box.reset(parse_scenario(fabrikam))
    clients = make_clients(served_box)
    org = clients.snapshot(ORG, "fabrikam.com", "lee@fabrikam.com").organization
    assert org.owner == "founder@outlook.com"
    assert set(org.administrators) == {"ann@fabrikam.com", "x@y.z", "founder@outlook.com"}
    assert clients.organization(ORG) == org


def test_the_admin_list_is_the_organizations_owner_and_administrators_without_its_billing_read(
    box: Sandbox, make_clients: Any
) -> None:
    """Every admin check reads it: the undocumented billing setup, which `organization` reads too, is no
    part of who administers the organization."""
    clients = make_clients(box)
    found = clients.organization(ORG)
    box.request_counts(reset=True)
    assert clients.administrators(ORG) == (found.owner, *found.administrators)
    # the record (its owner), the owner's entitlement, the groups, their members, the members' names
    assert box.request_counts() == {"vssps.dev.azure.com": 4, "vsaex.dev.azure.com": 1}


def test_within_reads_once_a_get_answered_is_not_sent_again_unless_failed_or_another_sessions_or_contexts(
    box: Sandbox, make_clients: Any
) -> None:
    clients = make_clients(box)
    with clients.reads_once():
        found = clients.organization(ORG)
        box.request_counts(reset=True)
        assert clients.organization(ORG) == found
        assert box.request_counts(reset=True) == {"vssps.dev.azure.com": 1}  # the names' look-up: a POST
        assert clients.billing_subscription_id("no-such-org") is None
        assert clients.billing_subscription_id("no-such-org") is None
        assert box.request_counts(reset=True) == {"vssps.dev.azure.com": 2}  # its record's 404, twice
        contextvars.Context().run(clients.organization, ORG)  # another conversation's
        assert box.request_counts(reset=True)["azdevopscommerce.dev.azure.com"] == 1
        another_session = make_clients(box)  # in the same context, outside its own `reads_once`
        another_session.organization(ORG)
        another_session.organization(ORG)
        assert box.request_counts(reset=True)["azdevopscommerce.dev.azure.com"] == 2
    clients.organization(ORG)
    assert box.request_counts()["azdevopscommerce.dev.azure.com"] == 1


def test_within_reads_once_only_first_pages_are_kept(
    fabrikam: dict[str, Any], make_clients: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later page is read once anyway: kept, a big directory would be held in memory until `start` ends."""
    monkeypatch.setattr("msapi._graph.PAGE_SIZE", 2)  # Graph pages by `$top`, the sandbox's Azure DevOps by 2
    with Sandbox(parse_scenario(fabrikam), page_size=2) as box:
        clients = make_clients(box)
        tenant = clients.tenant("fabrikam.com").id
        with clients.reads_once():
            users, directory = clients.org_users(ORG), clients.directory_users(tenant)
            assert len(users) == 11 and len(directory) == 11  # six pages each
            box.request_counts(reset=True)
            assert clients.org_users(ORG) == users and clients.directory_users(tenant) == directory
        assert box.request_counts() == {"vsaex.dev.azure.com": 5, "graph.microsoft.com": 5}


def test_within_reads_once_a_change_makes_what_follows_read_afresh(box: Sandbox, make_clients: Any) -> None:
    clients = make_clients(box)
    with clients.reads_once():
        users = clients.org_users(ORG)
        clients.remove_org_user(ORG, users[-1].id)
        assert [user.id for user in clients.org_users(ORG)] == [user.id for user in users[:-1]]
        clients.doctor(ORG, "fabrikam.com")
        box.request_counts(reset=True)
        clients.doctor(ORG, "fabrikam.com")  # its dry-run DELETE removes nobody, its POSTs read: no GET again
        # the tenant's HEAD and the names' look-up, the dry run, the subscription's 401 (another directory)
        assert box.request_counts() == {
            "vssps.dev.azure.com": 2,
            "vsaex.dev.azure.com": 1,
            "management.azure.com": 1,
        }


class _RecordWithoutTenant(httpx.HTTPTransport):
    """Real HTTP to the sandbox, but the undocumented organization record comes back without `tenantId`."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not request.url.path.endswith("/Organization/Organizations/Me"):
            return response
        response.read()
        body = {key: value for key, value in response.json().items() if key != "tenantId"}
        return httpx.Response(response.status_code, json=body, request=request)


def test_organization_tenant_falls_back_to_the_head_probe(box: Sandbox) -> None:
    tenant = box.state()["tenant"]["id"]
    box.connect(ORG, tenant)
    with HttpSession(Router(box.url), transport=_RecordWithoutTenant()) as session:
        clients = MicrosoftClients(session, pat=PAT, app=AppCredential("app-id", client_secret=SECRET))
        assert clients.organization(ORG).connected_tenant_id == tenant


def test_lookups_and_roles(box: Sandbox, make_clients: Any) -> None:
    clients = make_clients(box)
    tenant = clients.tenant("fabrikam.com")
    found = clients.find_directory_user(tenant.id, " Kim@Fabrikam-Old.com ")
    assert found is not None and found.user_principal_name == "kim@fabrikam.com"
    guest = clients.find_directory_user(tenant.id, "bob.builder@outlook.com")
    assert guest is not None and guest.user_type == "Guest"
    assert clients.find_directory_user(tenant.id, "O'Brien@fabrikam.com") is None
    assert clients.directory_roles(tenant.id, "dana@fabrikam.com") == ["Global Administrator"]
    assert clients.directory_roles(tenant.id, "nobody@fabrikam.com") == []
    assert clients.allow_invites_from(tenant.id) == "adminsGuestInvitersAndAllMembers"


def test_quotes_in_addresses_are_escaped(
    fabrikam: dict[str, Any], served_box: Sandbox, make_clients: Any
) -> None:
    fabrikam["tenant"]["users"].append(
        {"id": "ob", "userPrincipalName": "o'brien@fabrikam.com", "mail": "o'brien@fabrikam.com"}
    )
    box = served_box
    box.reset(parse_scenario(fabrikam))
    found = make_clients(box).find_directory_user(box.state()["tenant"]["id"], "O'Brien@fabrikam.com")
    assert found is not None and found.id == "ob"


def test_a_guest_just_invited_is_found_by_id_while_the_search_by_address_lags(
    fabrikam: dict[str, Any], make_clients: Any
) -> None:
    now = [1_800_000_000.0]
    with Sandbox(parse_scenario(fabrikam), clock=lambda: now[0]) as box:
        clients = make_clients(box)
        tenant = box.state()["tenant"]["id"]
        box.set_faults(directory_lag=120)
        invitation = clients.invite_guest(
            tenant,
            email="erin.eng@gmail.com",
            inviter="lee@fabrikam.com",
            display_name="Erin",
            message="Join fabrikam-fiber",
            redirect_url="https://dev.azure.com/x",
        )
        assert invitation.invited_user_id
        now[0] += 119
        assert clients.find_directory_user(tenant, "erin.eng@gmail.com") is None  # not in the search yet
        assert "erin.eng@gmail.com" not in {user.mail for user in clients.directory_users(tenant)}
        guest = clients.directory_user(tenant, invitation.invited_user_id)
        assert guest is not None and (guest.mail, guest.user_type) == ("erin.eng@gmail.com", "Guest")
        assert clients.directory_user(tenant, "3f0c2f3e-0000-4000-8000-000000000000") is None  # a deleted one
        now[0] += 1  # the search catches up
        found = clients.find_directory_user(tenant, "erin.eng@gmail.com")
        assert found is not None and found.id == invitation.invited_user_id


def test_an_invitation_answered_504_after_it_was_made_is_unanswered_not_refused(
    box: Sandbox, make_clients: Any
) -> None:
    """A gateway's 504 to the invitation's POST: Microsoft may have invited the person and mailed them."""
    clients = make_clients(box)
    tenant = box.state()["tenant"]["id"]
    box.set_faults(invitation_faults=["504 after", "502"])
    options = {"inviter": "lee@fabrikam.com", "message": "Join", "redirect_url": "https://dev.azure.com/x"}
    for address in ("erin.eng@gmail.com", "frank.f@outlook.com"):
        with pytest.raises(Unanswered) as lost:
            clients.invite_guest(tenant, email=address, display_name=address, **options)
        status = 504 if address.startswith("erin") else 502
        assert str(lost.value) == (
            f"Microsoft Graph answered HTTP {status} to POST graph.microsoft.com/v1.0/invitations"
        )
    sent = box.state()["tenant"]["invitations"]
    assert [(s["invitedUserEmailAddress"], s["sendInvitationMessage"]) for s in sent] == [
        ("erin.eng@gmail.com", True)  # done despite the 504; the 502 came before anything was done
    ]
    found = clients.find_directory_user(tenant, "erin.eng@gmail.com")
    assert found is not None and found.invitation_pending
    assert clients.find_directory_user(tenant, "frank.f@outlook.com") is None


def test_invitations_and_their_refusal(
    fabrikam: dict[str, Any], served_box: Sandbox, make_clients: Any
) -> None:
    box = served_box
    box.reset(parse_scenario(fabrikam))
    clients = make_clients(box)
    tenant = box.state()["tenant"]["id"]
    options = {
        "display_name": "Erin",
        "message": "Join fabrikam-fiber",
        "redirect_url": "https://dev.azure.com/x",
    }
    invitation = clients.invite_guest(
        tenant, email="erin.eng@gmail.com", inviter="lee@fabrikam.com", **options
    )
    assert invitation.status == "PendingAcceptance" and invitation.invited_user_id
    sent = box.state()["tenant"]["invitations"][0]
    assert sent["sendInvitationMessage"] is True
    assert "fabrikam-fiber" in sent["invitedUserMessageInfo"]["customizedMessageBody"]
    found = clients.find_directory_user(tenant, "erin.eng@gmail.com")
    assert found is not None and found.id == invitation.invited_user_id
    # Again without the email (a link cut off by a crash): the same guest, a new link, nothing mailed.
    again = clients.invite_guest(
        tenant, email="erin.eng@gmail.com", inviter="lee@fabrikam.com", send_email=False, **options
    )
    assert again.invited_user_id == invitation.invited_user_id
    assert again.redeem_url and again.redeem_url != invitation.redeem_url
    quiet = box.state()["tenant"]["invitations"][1]
    assert quiet["sendInvitationMessage"] is False and quiet["invitedUserMessageInfo"] == {}
    fabrikam["tenant"]["authorizationPolicy"]["allowInvitesFrom"] = "none"
    box.reset(parse_scenario(fabrikam))
    with pytest.raises(InvitePermissionDenied, match=r"by policy .*Guest invite settings"):
        make_clients(box).invite_guest(tenant, email="x@gmail.com", inviter="lee@fabrikam.com", **options)


def test_remove_user_and_connection_watch(box: Sandbox, make_clients: Any) -> None:
    clients = make_clients(box)
    users = clients.org_users(ORG)
    clients.remove_org_user(ORG, users[6].id)
    clients.remove_org_user(ORG, users[6].id)  # already gone: still fine
    assert users[6].id not in {user.id for user in clients.org_users(ORG)}
    assert clients.organization_tenant_id(ORG) == "00000000-0000-0000-0000-000000000000"
    box.connect(ORG, box.state()["tenant"]["id"])
    assert clients.organization_tenant_id(ORG) == box.state()["tenant"]["id"]
    with pytest.raises(MicrosoftError, match="'nowhere' was not found"):
        clients.organization_tenant_id("nowhere")
    with pytest.raises(MicrosoftError, match="VS800075"):
        clients.org_users("nowhere")


def test_secrets_never_reach_logs_or_errors(
    box: Sandbox, make_clients: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    box.set_faults(sequence=[429, 500])
    clients = make_clients(box)
    clients.snapshot(ORG, "fabrikam.com", "lee@fabrikam.com")
    invitation = clients.invite_guest(  # its link to accept it is the invited person's own
        box.state()["tenant"]["id"],
        email="erin.eng@gmail.com",
        inviter="lee@fabrikam.com",
        display_name="Erin",
        message="Join fabrikam-fiber",
        redirect_url="https://dev.azure.com/x",
    )
    with pytest.raises(MicrosoftError) as error:
        clients.tenant("contoso.com")
    encoded = base64.b64encode(f":{PAT}".encode()).decode()
    texts = [str(error.value), caplog.text]
    assert "does not know tenant 'contoso.com'" in str(error.value)
    assert invitation.redeem_url and invitation.redeem_url.startswith("https://")
    for text in texts:
        assert PAT not in text and encoded not in text and SECRET not in text and "sandbox." not in text
        assert invitation.redeem_url not in text


def _certificate() -> bytes:
    key = spare_rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aadbot-test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem_key + certificate.public_bytes(serialization.Encoding.PEM)


class _RoutingOnly:
    """httpx as msal would use it raw: routed to the sandbox, but bytes form values left alone."""

    def __init__(self, client: httpx.Client, router: Router) -> None:
        self._client, self._router = client, router

    def post(
        self,
        url: str,
        params: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Any = None,
        **_: Any,
    ) -> httpx.Response:
        return self._client.post(self._router.resolve(url), params=params, data=data, headers=headers)

    def get(self, url: str, params: Any = None, headers: Any = None, **_: Any) -> httpx.Response:
        return self._client.get(self._router.resolve(url), params=params, headers=headers)


def test_certificate_credential_through_msal(box: Sandbox, make_clients: Any, tmp_path: Path) -> None:
    pem = _certificate()
    credential = AppCredential("app-id", certificate_pem=pem).for_msal()
    authority = "https://login.microsoftonline.com/fabrikam.com"
    with httpx.Client() as raw:
        broken = msal.ConfidentialClientApplication(
            "app-id",
            client_credential=credential,
            authority=authority,
            http_client=_RoutingOnly(raw, Router(box.url)),
            instance_discovery=False,
        ).acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert broken.get("error") == "invalid_client"  # the b'eyJ...' form the reference warns about
    with HttpSession(Router(box.url)) as session:
        fixed = msal.ConfidentialClientApplication(
            "app-id",
            client_credential=credential,
            authority=authority,
            http_client=MsalHttpClient(session),
            instance_discovery=False,
        ).acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in fixed, fixed.get("error_description")
    cache = tmp_path / "cache" / "tokens.json"
    clients = make_clients(box, app=AppCredential("app-id", certificate_pem=pem), cache=cache)
    assert clients.tenant("fabrikam.com").display_name == "Fabrikam"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600 and "access_token" not in _cache_sections(cache)
    logins = box.request_counts()["login.microsoftonline.com"]
    make_clients(box, app=AppCredential("app-id", certificate_pem=pem), cache=cache).tenant("fabrikam.com")
    assert box.request_counts()["login.microsoftonline.com"] == logins  # the token comes from the file


def _cache_sections(path: Path) -> str:
    """The cache file's top-level sections (msal keeps token values under `secret`, not `access_token`)."""
    return " ".join(json.loads(path.read_text()))


def test_from_environment_names_missing_variables(tmp_path: Path) -> None:
    with pytest.raises(MicrosoftError) as error:
        from_environment({"AZURE_CLIENT_ID": "x"})
    message = str(error.value)
    assert "AZURE_DEVOPS_PAT" in message and "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH" in message
    assert "AZURE_CLIENT_ID" not in message.split("(")[0].replace("AZURE_CLIENT_SECRET", "")
    with pytest.raises(MicrosoftError, match=r"AZURE_CLIENT_CERTIFICATE_PATH=.*cannot read"):
        from_environment(
            {
                "AZURE_DEVOPS_PAT": "p",
                "AZURE_CLIENT_ID": "c",
                "AZURE_CLIENT_CERTIFICATE_PATH": str(tmp_path / "none.pem"),
            }
        )
    with pytest.raises(MicrosoftError, match="invalid scenario"):
        bad = tmp_path / "bad.json"
        bad.write_text("{}")
        from_environment({"AADBOT_SANDBOX": str(bad)})


def test_from_environment_sandbox_modes(box: Sandbox) -> None:
    scenario = str(Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json")
    with from_environment({"AADBOT_SANDBOX": scenario}) as clients:
        assert clients.organization(ORG).owner == "dana@fabrikam.com"
        tenant = clients.tenant("fabrikam.com").id
        assert clients.subscription("c0ffee00-1234-4abc-8def-0123456789ab", tenant) is not None
    with from_environment({"AADBOT_SANDBOX_URL": box.url}) as clients:
        assert len(clients.org_users(ORG)) == 11
    with pytest.raises(MicrosoftError, match="not an http"):
        from_environment({"AADBOT_SANDBOX_URL": "localhost:1"})


def test_a_subscription_is_read_with_the_tenant_given_not_one_remembered(
    box: Sandbox, make_clients: Any
) -> None:
    tenant = box.state()["tenant"]["id"]
    subscription_id = box.state()["subscriptions"][0]["subscriptionId"]
    fresh = make_clients(box)  # nothing asked before: no tenant to remember
    found = fresh.subscription(subscription_id, tenant)
    assert found is not None and found.tenant_id == box.state()["subscriptions"][0]["tenantId"]
    assert fresh.billing_subscription_id(ORG) == subscription_id
    counts = box.request_counts()
    assert "vssps.dev.azure.com" in counts and counts.get("vssps.dev.azure.com") == 1  # no groups walk


def _garbage_service(answers: dict[str, Any]) -> Starlette:
    """Answers 200 to everything: the body for the first path segment (a Microsoft host) in `answers`."""

    async def answer(request: Request) -> Response:
        body = answers[request.path_params["host"]]
        if isinstance(body, str):
            return Response(body, media_type="text/html")
        return JSONResponse(body)

    return Starlette(routes=[Route("/{host}/{rest:path}", answer, methods=["GET", "HEAD", "POST"])])


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("<html>Service Unavailable</html>", "JSONDecodeError"),
        ({"items": [{"user": {"principalName": "ann@x.com"}}]}, "KeyError"),
        ({"items": ["ann@x.com"]}, "AttributeError"),
    ],
)
def test_an_unreadable_answer_is_a_microsoft_error(answer: Any, problem: str) -> None:
    with ServerThread(_garbage_service({"vsaex.dev.azure.com": answer})) as server:
        session = HttpSession(Router(server.url), sleep=lambda seconds: None)
        clients = MicrosoftClients(session, pat=PAT, app=AppCredential("app-id", client_secret=SECRET))
        with clients, pytest.raises(MicrosoftError, match=rf"fetching the org users \({problem}\)"):
            clients.org_users(ORG)
