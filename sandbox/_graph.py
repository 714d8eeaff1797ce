"""The emulated Microsoft Graph: users, memberOf, invitations, organization, authorizationPolicy, `$batch`."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from secrets import token_urlsafe
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sandbox._common import GRAPH_HOST, LOGIN_HOST, Call, Reply, bearer, graph_error, page_offset, page_token
from sandbox._graph_schema import USER_PROPERTIES
from sandbox._odata import FilterError, address_values, parse_filter
from sandbox._permissions import GRAPH_PERMISSIONS
from sandbox._state import State, Token

_GRAPH_DEFAULT_FIELDS = (
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
)
_GRAPH_MAX_TOP = 999
_ROLE_TEMPLATES = {
    "global administrator": "62e90394-69f5-4237-9190-012177145e10",
    "user administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "guest inviter": "95e79109-95c0-4d8e-aee3-d01accf2d47b",
}
"""Built-in directory roles' template ids, as Microsoft publishes them."""
_PRINCIPAL_FILTER = re.compile(r"principalId eq '(?P<id>[^']+)'")
_INVITER_ROLES = frozenset(("guest inviter", "user administrator", "global administrator"))


def graph(state: State, call: Call) -> Reply:
    token = bearer(state, call, "graph")
    if isinstance(token, Reply):
        return token
    return _graph_route(state, call, token)


def _graph_route(state: State, call: Call, token: Token) -> Reply:
    path = call.path.rstrip("/")
    if not path.startswith("/v1.0/"):
        return graph_error(400, "BadRequest", "Invalid version: use /v1.0.")
    parts = path.split("/")[2:]
    if (call.method, parts) == ("POST", ["$batch"]):
        return _graph_batch(state, call, token)
    template = _template(parts)
    refused = _refusal(state, token, call.method, template)
    if refused is not None:
        return refused
    route = (call.method, template)
    if route == ("GET", "users"):
        return _graph_list_users(state, call)
    if route == ("GET", "users/{id}"):
        user = state.find_directory_user(parts[1])
        if user is None:
            return graph_error(404, "Request_ResourceNotFound", f"Resource '{parts[1]}' does not exist.")
        return _selected(user, call.query.get("$select"), lambda row: Reply(200, row))
    if route == ("GET", "users/{id}/memberOf"):
        return _graph_member_of(state, call, parts)
    if route == ("POST", "invitations"):
        return _graph_invite(state, call, token)
    if route == ("GET", "organization"):
        return Reply(
            200,
            {
                "@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#organization",
                "value": [_organization(state)],
            },
        )
    if route == ("GET", "organization/{id}"):
        if parts[1].casefold() != str(state.tenant["id"]).casefold():
            return graph_error(404, "Request_ResourceNotFound", f"Resource '{parts[1]}' does not exist.")
        entity = {
            "@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#organization/$entity",
            **_organization(state),
        }
        return Reply(200, entity)
    if route == ("GET", "policies/authorizationPolicy"):
        policy = {
            "@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#policies/authorizationPolicy/$entity",
            "id": "authorizationPolicy",
            "displayName": "Authorization Policy",
            **state.tenant["authorizationPolicy"],
        }
        return Reply(200, policy)
    if route == ("GET", "roleManagement/directory/roleAssignments"):
        return _role_assignments(state, call)
    return graph_error(400, "BadRequest", f"Resource not found for the segment '{'/'.join(parts)}'.")


def _template(parts: list[str]) -> str:
    """The route with its key segments generalized: `users/ann@x/memberOf/...` -> `users/{id}/memberOf`."""
    if parts[:1] == ["users"] and len(parts) >= 2:
        return "users/{id}" + ("/" + parts[2] if len(parts) >= 3 else "")
    if parts[:1] == ["organization"] and len(parts) == 2:
        return "organization/{id}"
    return "/".join(parts)


def _refusal(state: State, token: Token, method: str, template: str) -> Reply | None:
    """403 `Authorization_RequestDenied` when the token holds none of the permissions Microsoft lists."""
    needed = GRAPH_PERMISSIONS.get((method, template))
    if needed is None:
        return None
    application, delegated = needed
    held = token.roles if token.user is None else token.scopes
    if held & (application if token.user is None else delegated):
        return None
    if template == "invitations":
        # The invitation service's own wording for a missing permission (microsoft-graph-docs-contrib#4228).
        return graph_error(
            403,
            "Unauthorized",
            "Insufficient privileges to perform requested operation by the application "
            "'00000003-0000-0000-c000-000000000000'. ControllerName=MSGraphInviteAPI, "
            f"ActionName=CreateInvite, URL absolute path=/api/{state.tenant['id']}/invites",
        )
    return graph_error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def _organization(state: State) -> dict[str, Any]:
    tenant = state.tenant
    domains = [
        {"capabilities": "Email, OfficeCommunicationsOnline", "type": "Managed", **domain}
        for domain in tenant["verifiedDomains"]
    ]
    return {"id": tenant["id"], "displayName": tenant["displayName"], "verifiedDomains": domains}


def _selected(user: dict[str, Any], select: str | None, then: Callable[[dict[str, Any]], Reply]) -> Reply:
    fields = [name.strip() for name in select.split(",")] if select else list(_GRAPH_DEFAULT_FIELDS)
    unknown = next((name for name in fields if name not in USER_PROPERTIES), None)
    if unknown is not None:
        return _unknown_property(unknown)
    return then({name: user.get(name) for name in ["id", *fields]})


def _unknown_property(name: str) -> Reply:
    return graph_error(
        400, "Request_BadRequest", f"Could not find a property named '{name}' on type 'microsoft.graph.user'."
    )


def _needs_eventual(call: Call) -> Reply | None:
    """Advanced queries (`$count`, `$search`, `$filter` with `$orderby`) need `ConsistencyLevel: eventual`."""
    query = call.query
    advanced = (
        query.get("$count", "").casefold() == "true"
        or "$search" in query
        or ("$filter" in query and "$orderby" in query)
    )
    if advanced and call.headers.get("consistencylevel", "").casefold() != "eventual":
        if "$count" in query:
            return graph_error(400, "Request_BadRequest", "$count is not currently supported.")
        return graph_error(
            400, "Request_UnsupportedQuery", "This query needs the ConsistencyLevel header set to eventual."
        )
    return None


def _graph_list_users(state: State, call: Call) -> Reply:
    query = call.query
    try:
        top = int(query.get("$top", "100"))
    except ValueError:
        return graph_error(
            400, "Request_BadRequest", f"Invalid value '{query['$top']}' for query parameter $top."
        )
    if not 1 <= top <= _GRAPH_MAX_TOP:
        return graph_error(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
        )
    if "$skip" in query:
        return graph_error(400, "Request_BadRequest", "'$skip' is not supported by the service.")
    advanced = _needs_eventual(call)
    if advanced is not None:
        return advanced
    select = query.get("$select")
    unknown = next(
        (
            name.strip()
            for name in (select or "").split(",")
            if select and name.strip() not in USER_PROPERTIES
        ),
        None,
    )
    if unknown is not None:
        return _unknown_property(unknown)
    users = state.directory_users
    if "$filter" in query:
        try:
            predicate = parse_filter(query["$filter"])
        except FilterError as error:
            return graph_error(
                400, "Request_UnsupportedQuery", f"Unsupported or invalid query filter: {error}"
            )
        addresses = address_values(query["$filter"])
        users = [
            user for user in (users if addresses is None else state.holding(addresses)) if predicate(user)
        ]
    now = state.clock()
    users = [user for user in users if state.faults.listed(user["id"], now)]
    offset = page_offset(query.get("$skiptoken"))
    if offset is None:
        return graph_error(400, "Request_BadRequest", "The $skiptoken is invalid.")
    fields = [name.strip() for name in select.split(",")] if select else list(_GRAPH_DEFAULT_FIELDS)
    page = [{name: user.get(name) for name in ["id", *fields]} for user in users[offset : offset + top]]
    body: dict[str, Any] = {"@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#users"}
    if query.get("$count", "").casefold() == "true" and offset == 0:
        body["@odata.count"] = len(users)
    body["value"] = page
    if offset + top < len(users):
        rest = {key: value for key, value in query.items() if key != "$skiptoken"}
        rest["$skiptoken"] = page_token(offset + top)
        body["@odata.nextLink"] = f"https://{GRAPH_HOST}/v1.0/users?{urlencode(rest)}"
    return Reply(200, body)


def _graph_member_of(state: State, call: Call, parts: list[str]) -> Reply:
    user = state.find_directory_user(parts[1])
    if user is None:
        return graph_error(404, "Request_ResourceNotFound", f"Resource '{parts[1]}' does not exist.")
    if parts[3:] not in ([], ["microsoft.graph.directoryRole"]):
        return graph_error(400, "BadRequest", "Unsupported memberOf cast.")
    if parts[3:] and call.headers.get("consistencylevel", "").casefold() != "eventual":
        # user-list-memberof.md: an OData cast needs ConsistencyLevel: eventual and $count.
        return graph_error(400, "Request_UnsupportedQuery", "An OData cast needs ConsistencyLevel: eventual.")
    roles = [
        {
            "@odata.type": "#microsoft.graph.directoryRole",
            "id": str(uuid.uuid5(uuid.NAMESPACE_OID, name)),
            "displayName": name,
            "roleTemplateId": _role_template(name),
        }
        for name in state.roles_of(user)
    ]
    return Reply(
        200, {"@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#directoryObjects", "value": roles}
    )


def _role_template(name: str) -> str:
    return _ROLE_TEMPLATES.get(name.casefold()) or str(uuid.uuid5(uuid.NAMESPACE_OID, name.casefold()))


def _role_assignments(state: State, call: Call) -> Reply:
    """`GET /roleManagement/directory/roleAssignments?$filter=principalId eq '{id}'` (+ `$expand`)."""
    match = _PRINCIPAL_FILTER.fullmatch(call.query.get("$filter", "").strip())
    if match is None:
        return graph_error(400, "BadRequest", "Filter on principalId eq '{id}' is the only one emulated.")
    user = state.find_directory_user(match["id"])
    names = state.roles_of(user) if user is not None else []
    expand = call.query.get("$expand", "").split("(")[0].strip()
    value = []
    for name in names:
        template = _role_template(name)
        assignment: dict[str, Any] = {
            "id": f"{template}-{match['id']}",
            "principalId": match["id"],
            "roleDefinitionId": template,
            "directoryScopeId": "/",
        }
        if expand == "roleDefinition":
            assignment["roleDefinition"] = {
                "id": template,
                "displayName": name,
                "isBuiltIn": template in _ROLE_TEMPLATES.values(),
                "templateId": template,
            }
        value.append(assignment)
    context = f"https://{GRAPH_HOST}/v1.0/$metadata#roleManagement/directory/roleAssignments"
    return Reply(200, {"@odata.context": context, "value": value})


def _graph_invite(state: State, call: Call, token: Token) -> Reply:
    try:
        body = call.json()
    except ValueError:
        return graph_error(400, "BadRequest", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return graph_error(400, "BadRequest", "The request body must be a JSON object.")
    email = str(body.get("invitedUserEmailAddress") or "").strip()
    redirect = str(body.get("inviteRedirectUrl") or "")
    if "@" not in email or not redirect:
        return graph_error(400, "BadRequest", "invitedUserEmailAddress and inviteRedirectUrl are required.")
    if not _may_invite(state, token):
        return _policy_refusal()
    fault = state.faults.invitation_faults.pop(0) if state.faults.invitation_faults else ""
    if fault == "403":
        return _policy_refusal()
    if fault == "400":
        return graph_error(400, "BadRequest", "Simulated refusal of the invited address.")
    status, _, when = fault.partition(" ")
    if status and not when:
        return graph_error(int(status), "UnknownError", "Simulated failure.")
    wanted = email.casefold()
    holding = state.holding(frozenset((wanted, f"smtp:{wanted}")))
    existing = next((user for user in holding if wanted in _addresses(user)), None)
    if existing is None:
        existing = _new_guest(state, email, str(body.get("invitedUserDisplayName") or email))
        state.directory_users.append(existing)
        if state.faults.directory_lag:
            state.faults.unlisted[existing["id"]] = state.clock() + state.faults.directory_lag
    invitation = {
        "id": str(uuid.uuid4()),
        "inviteRedeemUrl": f"https://{LOGIN_HOST}/redeem?rd={token_urlsafe(12)}",
        "invitedUserDisplayName": body.get("invitedUserDisplayName"),
        "invitedUserEmailAddress": email,
        "invitedUserType": "Guest",
        "inviteRedirectUrl": redirect,
        "sendInvitationMessage": bool(body.get("sendInvitationMessage", False)),
        "invitedUserMessageInfo": body.get("invitedUserMessageInfo") or {},
        "status": "PendingAcceptance"
        if existing.get("externalUserState") == "PendingAcceptance"
        else "Completed",
        "invitedUser": {"id": existing["id"]},
    }
    # Inviting a guest still to accept again makes a new link, and an email when asked: the admin center's
    # *Resend invitation* ("to send another email", https://learn.microsoft.com/entra/external-id/add-users-administrator)
    state.tenant.setdefault("invitations", []).append(invitation)
    if status:  # done, and its answer lost on the way back
        return graph_error(int(status), "UnknownError", "Simulated failure.")
    return Reply(
        201, {"@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#invitations/$entity", **invitation}
    )


def _policy_refusal() -> Reply:
    """A policy refusal, worded as Graph words it (MicrosoftDocs/azure-docs#78054)."""
    return graph_error(
        403,
        "Forbidden",
        "Guest invitations not allowed for your company. "
        "Contact your company administrator for more details.",
    )


def _may_invite(state: State, token: Token) -> bool:
    """`allowInvitesFrom` applied to the token's holder: a signed-in user by type and roles; an app
    (client credentials) invites where members may, and is refused where only admins and Guest
    Inviters (or nobody) may."""
    policy = str(state.tenant["authorizationPolicy"]["allowInvitesFrom"])
    if token.user is None:
        return policy in ("everyone", "adminsGuestInvitersAndAllMembers")
    user = state.find_directory_user(token.user)
    if user is None or not user.get("accountEnabled", True):
        return False
    holds_role = bool({role.casefold() for role in state.roles_of(user)} & _INVITER_ROLES)
    if policy == "everyone":
        return True
    if policy == "adminsGuestInvitersAndAllMembers":
        return holds_role or str(user.get("userType") or "Member") == "Member"
    return policy == "adminsAndGuestInviters" and holds_role


def _addresses(user: dict[str, Any]) -> set[str]:
    proxies = [
        str(p).split(":", 1)[1]
        for p in user.get("proxyAddresses") or ()
        if str(p).lower().startswith("smtp:")
    ]
    values = [user.get("userPrincipalName"), user.get("mail"), *(user.get("otherMails") or ()), *proxies]
    return {str(value).casefold() for value in values if value}


def _new_guest(state: State, email: str, display_name: str) -> dict[str, Any]:
    domains = state.tenant["verifiedDomains"]
    home = next((d["name"] for d in domains if d["isInitial"]), None) or next(
        (d["name"] for d in domains if d["isDefault"]), f"{state.tenant['id']}.onmicrosoft.com"
    )
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"guest:{state.tenant['id']}:{email.casefold()}")),
        "displayName": display_name,
        "userPrincipalName": f"{email.replace('@', '_')}#EXT#@{home}",
        "mail": email,
        "otherMails": [email],
        "proxyAddresses": [f"SMTP:{email}"],
        "userType": "Guest",
        "accountEnabled": True,
        "externalUserState": "PendingAcceptance",
    }


def _graph_batch(state: State, call: Call, token: Token) -> Reply:
    try:
        requests = call.json().get("requests")
    except (ValueError, AttributeError):
        return graph_error(400, "BadRequest", "Invalid batch payload.")
    if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
        return graph_error(400, "BadRequest", "A batch holds between 1 and 20 requests.")
    ids = [str(item.get("id")) for item in requests if isinstance(item, dict)]
    if len(set(ids)) != len(requests):
        return graph_error(400, "BadRequest", "Each batch request needs a unique id.")
    responses = []
    for item in requests:
        split = urlsplit(str(item.get("url", "")))
        inner = Call(
            method=str(item.get("method", "GET")).upper(),
            host=GRAPH_HOST,
            path="/v1.0/" + split.path.lstrip("/"),
            query=dict(parse_qsl(split.query)),
            headers={k.lower(): str(v) for k, v in (item.get("headers") or {}).items()},
            body=json.dumps(item["body"]).encode() if "body" in item else b"",
        )
        reply = _graph_route(state, inner, token)
        responses.append(
            {"id": str(item["id"]), "status": reply.status, "headers": reply.headers, "body": reply.body}
        )
    return Reply(200, {"responses": responses})
