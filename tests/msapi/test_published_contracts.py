"""The clients and the sandbox against Microsoft's published descriptions (tests/msapi/published/).

Three promises: each client reads the published example of every endpoint it calls; each sandbox
answer has the published shape; every field the code reads exists in the published schema.
"""

from __future__ import annotations

import ast
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from msapi import HttpSession
from msapi._arm import ResourceManager
from msapi._devops import AzureDevOps
from msapi._graph import ORGANIZATION_FIELDS, USER_FIELDS, Graph
from sandbox import Sandbox

PUBLISHED = Path(__file__).parent / "published"
MSAPI = Path(__file__).resolve().parents[2] / "msapi"
_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
ORG = "fabrikam-fiber"


def published(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((PUBLISHED / name).read_text(encoding="utf-8"))
    return body


def example_body(name: str) -> Any:
    """The 200 response body of an httpExamples/ARM example, or a Graph docs example as it stands."""
    document = published(name)
    if "responses" in document:
        return document["responses"]["200"]["body"]
    return {key: value for key, value in document.items() if key != "_source"}


def csdl_properties(entity: str) -> set[str]:
    """Structural and navigation properties of a Graph entity type, inherited ones included."""
    types = {
        element.get("Name"): element
        for element in ET.parse(PUBLISHED / "graph" / "csdl-v1.0-excerpt.xml").getroot().iter()
        if element.tag in (f"{_EDM}EntityType", f"{_EDM}ComplexType")
    }
    element = types[entity]
    names = {
        p.get("Name") or "" for p in element if p.tag in (f"{_EDM}Property", f"{_EDM}NavigationProperty")
    }
    base = element.get("BaseType")
    return names | (csdl_properties(base.split(".")[-1]) if base else set())


def swagger_properties(definition: str) -> set[str]:
    definitions = published("devops/definitions.json")["definitions"]
    found: dict[str, Any] = definitions[definition]
    names = set(found.get("properties", {}))
    for part in found.get("allOf", []):
        if "$ref" in part:
            names |= swagger_properties(part["$ref"].split("/")[-1])
        names |= set(part.get("properties", {}))
    return names


def _session(routes: dict[str, Any]) -> HttpSession:
    """An HttpSession whose transport answers each path ending with a published body."""

    def answer(request: httpx.Request) -> httpx.Response:
        for suffix, body in routes.items():
            if request.url.path.casefold().endswith(suffix.casefold()):
                return httpx.Response(200, json=body)
        return httpx.Response(404, json={"message": f"no published example for {request.url.path}"})

    return HttpSession(transport=httpx.MockTransport(answer), sleep=lambda _: None)


# --- each client reads the published example ---------------------------------------------------


def test_azure_devops_client_reads_the_published_examples() -> None:
    entitlement = example_body("devops/userentitlement-by-id.json")
    groups = example_body("devops/graph-groups.json")
    lookup = example_body("devops/graph-subjectlookup.json")
    identities = example_body("devops/identities-by-ids.json")
    pca = next(g for g in groups["value"] if g["principalName"].endswith("Project Collection Administrators"))
    member = next(key for key in lookup["value"] if not key.startswith(("vssgp.", "aadgp.")))
    memberships = {
        "count": 1,
        "value": [{"containerDescriptor": pca["descriptor"], "memberDescriptor": member}],
    }
    routes = {
        f"/userentitlements/{entitlement['id']}": entitlement,
        "/_apis/graph/groups": groups,
        f"/Memberships/{pca['descriptor']}": memberships,
        "/_apis/graph/subjectlookup": lookup,
        "/_apis/identities": identities,
    }
    with _session(routes) as session:
        devops = AzureDevOps(session, {"Authorization": "Basic x"})
        user = devops.entitlement("Fabrikam", entitlement["id"])
        assert user is not None and user.principal_name == entitlement["user"]["principalName"]
        assert (
            user.origin == "aad"
            and user.license_display_name == entitlement["accessLevel"]["licenseDisplayName"]
        )
        # The published group is named for "Fabrikam"; its member is looked up by descriptor.
        assert devops.administrators("Fabrikam", {}) == (lookup["value"][member]["principalName"],)
        account = identities["value"][0]["properties"]["Account"]["$value"]
        assert devops.account_of("Fabrikam", identities["value"][0]["id"]) == account


def test_graph_client_reads_the_published_examples() -> None:
    organization = example_body("graph/organization-list.json")
    routes = {
        f"/organization/{organization['value'][0]['id']}": organization["value"][0],
        "/organization": organization,
        "/policies/authorizationPolicy": example_body("graph/authorizationpolicy-get.json"),
        "/invitations": example_body("graph/invitation-post.json"),
        "/users": example_body("graph/user-list.json"),
    }
    with _session(routes) as session:
        graph = Graph(session, lambda fresh: "opaque-token")  # not a JWT: the tenant comes from /organization
        tenant = graph.tenant()
        assert (
            tenant.id == organization["value"][0]["id"] and tenant.default_domain == "Contoso.onmicrosoft.com"
        )
        assert graph.allow_invites_from() == "everyone"
        users = graph.users()
        assert [u.user_principal_name for u in users] == ["Adams@contoso.com", "admin@contoso.com"]
        assert users[0].mail == "Adams@contoso.com" and users[1].mail is None
        invitation = graph.invite(
            email="admin@fabrikam.com", display_name="", message="", redirect_url="https://x"
        )
        assert invitation.status == "PendingAcceptance"
        assert invitation.invited_user_id == "cbb896f9-8306-49d0-b56b-b8e39cd28825"


def test_resource_manager_client_reads_the_published_examples() -> None:
    subscription = example_body("arm/GetSubscription.json")
    accounts = example_body("arm/VisualStudioAccounts_List.json")
    routes = {"/resources": accounts, f"/subscriptions/{subscription['subscriptionId']}": subscription}
    with _session(routes) as session:
        arm = ResourceManager(session, lambda fresh: "token")
        found = arm.subscription(subscription["subscriptionId"])
        assert found is not None and found.tenant_id == subscription["tenantId"] and found.state == "Enabled"
        # The published account is "Example" (the id's last segment), in resource group VS-Example-Group.
        assert arm.holds_organization(subscription["subscriptionId"], "Example")
        assert not arm.holds_organization(subscription["subscriptionId"], "VS-Example-Group-not")


# --- every sandbox answer has the published shape -----------------------------------------------


def _keys_match(ours: dict[str, Any], theirs: dict[str, Any], schema: set[str], where: str) -> None:
    """Every key the sandbox sends is in Microsoft's published example or schema."""
    unknown = set(ours) - set(theirs) - schema - {"@odata.context", "@odata.nextLink", "@odata.count"}
    assert not unknown, f"{where}: the sandbox sends keys Microsoft does not publish: {sorted(unknown)}"


@pytest.fixture(scope="module")
def box() -> Any:
    scenario = json.loads(
        (Path(__file__).resolve().parents[2] / "sandbox/scenarios/fabrikam.json").read_text()
    )
    with Sandbox(scenario_from(scenario)) as running:
        yield running


def scenario_from(data: dict[str, Any]) -> Any:
    from sandbox._scenario import parse_scenario

    return parse_scenario(data)


def _token(box: Sandbox, scope: str) -> str:
    answer = httpx.post(
        f"{box.url}/login.microsoftonline.com/fabrikam.com/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "s", "scope": scope},
    )
    return str(answer.json()["access_token"])


def test_sandbox_graph_answers_have_the_published_shape(box: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {_token(box, 'https://graph.microsoft.com/.default')}"}
    graph = f"{box.url}/graph.microsoft.com/v1.0"

    def get(path: str, **params: str) -> dict[str, Any]:
        answer = httpx.get(f"{graph}{path}", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    user_props = csdl_properties("user")
    users = get("/users")  # the default property set
    theirs = example_body("graph/user-list.json")
    assert set(users["value"][0]) == set(theirs["value"][0])
    for user in get("/users", **{"$select": USER_FIELDS})["value"]:
        _keys_match(user, {}, user_props, "GET /users?$select")
    organization = get("/organization")
    published_org = example_body("graph/organization-list.json")["value"][0]
    ours = organization["value"][0]
    _keys_match(ours, published_org, csdl_properties("organization"), "GET /organization")
    assert set(ours["verifiedDomains"][0]) == set(published_org["verifiedDomains"][0])
    policy = get("/policies/authorizationPolicy")
    _keys_match(
        policy,
        example_body("graph/authorizationpolicy-get.json"),
        csdl_properties("authorizationPolicy"),
        "policy",
    )
    invited = httpx.post(
        f"{graph}/invitations",
        json={"invitedUserEmailAddress": "new@gmail.com", "inviteRedirectUrl": "https://dev.azure.com/x"},
        headers=headers,
    )
    assert invited.status_code == 201
    published_invitation = example_body("graph/invitation-post.json")
    _keys_match(invited.json(), published_invitation, csdl_properties("invitation"), "POST /invitations")
    assert set(published_invitation) - set(invited.json()) <= {"resetRedemption"}
    dana = get("/users/dana@fabrikam.com", **{"$select": "id"})["id"]
    roles = get("/roleManagement/directory/roleAssignments", **{"$filter": f"principalId eq '{dana}'"})
    for assignment in roles["value"]:
        _keys_match(
            assignment,
            example_body("graph/roleassignments-list.json")["value"][0],
            csdl_properties("unifiedRoleAssignment"),
            "roleAssignments",
        )


def test_sandbox_azure_devops_answers_have_the_published_shape(box: Sandbox) -> None:
    headers = {"Authorization": "Basic OnBhdA=="}
    listing = httpx.get(
        f"{box.url}/vsaex.dev.azure.com/{ORG}/_apis/userentitlements",
        params={"api-version": "7.1"},
        headers=headers,
    ).json()
    assert set(listing) <= swagger_properties("PagedUserEntitlementsList")
    published_entitlement = example_body("devops/userentitlement-by-id.json")
    entitlement_schema = swagger_properties("UserEntitlement")
    user_schema = swagger_properties("GraphUser")
    access_schema = swagger_properties("AccessLevel")
    for item in listing["items"]:
        _keys_match(item, published_entitlement, entitlement_schema, "UserEntitlement")
        _keys_match(item["user"], published_entitlement["user"], user_schema, "UserEntitlement.user")
        _keys_match(item["accessLevel"], published_entitlement["accessLevel"], access_schema, "accessLevel")
    groups = httpx.get(
        f"{box.url}/vssps.dev.azure.com/{ORG}/_apis/graph/groups",
        params={"api-version": "7.1-preview.1"},
        headers=headers,
    ).json()
    assert set(groups) == set(example_body("devops/graph-groups.json"))
    for group in groups["value"]:
        _keys_match(
            group,
            example_body("devops/graph-groups.json")["value"][0],
            swagger_properties("GraphGroup"),
            "GraphGroup",
        )
    pca = next(g for g in groups["value"] if g["principalName"].endswith("Project Collection Administrators"))
    memberships = httpx.get(
        f"{box.url}/vssps.dev.azure.com/{ORG}/_apis/graph/Memberships/{pca['descriptor']}",
        params={"api-version": "7.1-preview.1", "direction": "down"},
        headers=headers,
    ).json()
    published_memberships = example_body("devops/graph-memberships-down.json")
    assert set(memberships) == set(published_memberships)
    assert set(memberships["value"][0]) <= swagger_properties("GraphMembership")
    lookup = httpx.post(
        f"{box.url}/vssps.dev.azure.com/{ORG}/_apis/graph/subjectlookup",
        params={"api-version": "7.1-preview.1"},
        json={"lookupKeys": [{"descriptor": memberships["value"][0]["memberDescriptor"]}]},
        headers=headers,
    ).json()
    assert set(lookup) == set(example_body("devops/graph-subjectlookup.json")) and isinstance(
        lookup["value"], dict
    )
    owner = httpx.get(
        f"{box.url}/vssps.dev.azure.com/{ORG}/_apis/Organization/Organizations/Me",
        params={"api-version": "7.1-preview.1"},
        headers=headers,
    ).json()["primaryCollection"]["owner"]
    identities = httpx.get(
        f"{box.url}/vssps.dev.azure.com/{ORG}/_apis/identities",
        params={"api-version": "7.1", "identityIds": owner},
        headers=headers,
    ).json()
    published_identities = example_body("devops/identities-by-ids.json")
    assert set(identities) == set(published_identities) and identities["value"]
    for identity in identities["value"]:
        _keys_match(identity, published_identities["value"][0], swagger_properties("Identity"), "Identity")


def test_sandbox_resource_manager_answers_have_the_published_shape(box: Sandbox) -> None:
    state = box.state()
    subscription = state["subscriptions"][0]["subscriptionId"]
    headers = {"Authorization": f"Bearer {_token(box, 'https://management.azure.com/.default')}"}
    answer = httpx.get(
        f"{box.url}/management.azure.com/subscriptions/{subscription}",
        params={"api-version": "2022-12-01"},
        headers=headers,
    )
    body = answer.json()
    if answer.status_code == 401:  # fabrikam's billing subscription lives in another tenant
        assert body["error"]["code"] == "InvalidAuthenticationTokenTenant"
        return
    assert set(body) <= set(example_body("arm/GetSubscription.json")) | {"tags"}


# --- every field the code reads exists in the published schema ----------------------------------


def _read_keys(module: Path) -> set[str]:
    """String keys the module reads from answers: `x.get("key")` and `x["key"]`."""
    keys: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            keys.add(node.args[0].value)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
            and not _own_table(node.value)
        ):
            keys.add(node.slice.value)
    return keys


def _own_table(value: ast.expr) -> bool:
    """A subscript of the module's own tables (`_WHAT[...]`) or request list, not of an answer."""
    return isinstance(value, ast.Name) and (value.id.lstrip("_").isupper() or value.id == "requests")


_ENVELOPES = {
    # Error bodies, paging and batch envelopes: documented in the services' concept pages, not per entity.
    "error",
    "code",
    "message",
    "error_description",
    "value",
    "items",
    "continuationToken",
    "totalCount",
    "@odata.nextLink",
    "@odata.count",  # OData's $count=true answer (Graph: advanced queries, ConsistencyLevel: eventual)
    "responses",
    "status",
    "body",
    "X-VSS-ResourceTenant",
    "X-MS-ContinuationToken",
    "WWW-Authenticate",
    "Retry-After",
    "X-RateLimit-Delay",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "$value",
    "Account",
    "properties",  # identities' property bag (ims Identity.properties)
    "tid",
    "roles",
    "scp",  # access token claims (Microsoft identity platform)
}
_UNDOCUMENTED = {"primaryCollection", "owner", "tenantId", "subscriptionId", "name"}
"""Fields of Organizations/Me and BillingSetup: undocumented endpoints, nothing published to check."""


@pytest.mark.parametrize(
    ("module", "schema"),
    [
        (
            "_graph.py",
            lambda: (
                csdl_properties("user")
                | csdl_properties("organization")
                | csdl_properties("invitation")
                | csdl_properties("authorizationPolicy")
                | csdl_properties("unifiedRoleAssignment")
                | csdl_properties("verifiedDomain")
                | csdl_properties("unifiedRoleDefinition")
                | {"invitedUser"}
            ),
        ),
        (
            "_devops.py",
            lambda: (
                swagger_properties("UserEntitlement")
                | swagger_properties("GraphUser")
                | swagger_properties("AccessLevel")
                | swagger_properties("GraphGroup")
                | swagger_properties("GraphMembership")
                | swagger_properties("Identity")
            ),
        ),
        (
            "_arm.py",
            lambda: (
                set(example_body("arm/GetSubscription.json"))
                | set(example_body("arm/VisualStudioAccounts_List.json")["value"][0])
            ),
        ),
    ],
)
def test_every_field_the_clients_read_is_published(module: str, schema: Callable[[], set[str]]) -> None:
    unknown = _read_keys(MSAPI / module) - schema() - _ENVELOPES - _UNDOCUMENTED
    assert not unknown, f"msapi/{module} reads fields no published schema has: {sorted(unknown)}"


def test_the_fields_the_clients_select_are_published() -> None:
    assert set(USER_FIELDS.split(",")) <= csdl_properties("user")
    assert set(ORGANIZATION_FIELDS.split(",")) <= csdl_properties("organization")


def test_the_sandbox_knows_exactly_the_published_user_properties() -> None:
    from sandbox._graph_schema import USER_PROPERTIES

    structural = {
        p.get("Name")
        for element in ET.parse(PUBLISHED / "graph" / "csdl-v1.0-excerpt.xml")
        .getroot()
        .iter(f"{_EDM}EntityType")
        if element.get("Name") in ("user", "directoryObject", "entity")
        for p in element.findall(f"{_EDM}Property")
    }
    assert structural == USER_PROPERTIES
