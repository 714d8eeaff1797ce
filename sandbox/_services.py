"""The emulated Microsoft endpoints: Azure DevOps, Microsoft Graph, Azure Resource Manager, identity platform.

Each handler takes a `Call` and returns a `Reply`, so the Graph `$batch` endpoint can run the same
handlers for its inner requests. Shapes and error bodies follow `reference/microsoft-apis.md`.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from secrets import choice, token_urlsafe
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sandbox._odata import FilterError, parse_filter
from sandbox._scenario import descriptor_for
from sandbox._state import DeviceCode, RefreshToken, State, Token

GRAPH_HOST = "graph.microsoft.com"
LOGIN_HOST = "login.microsoftonline.com"
ARM_HOST = "management.azure.com"
VSAEX_HOST = "vsaex.dev.azure.com"
VSSPS_HOST = "vssps.dev.azure.com"
COMMERCE_HOST = "azdevopscommerce.dev.azure.com"
AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
_RESOURCES = {
    "https://graph.microsoft.com": "graph",
    "https://management.azure.com": "arm",
    AZURE_DEVOPS_RESOURCE: "devops",
    "https://app.vssps.visualstudio.com": "devops",
}
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
_TOKEN_LIFETIME = 3599
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_CODE_LIFETIME = 900
_DEVICE_LOGIN = "https://microsoft.com/devicelogin"
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_OIDC_SCOPES = frozenset(("openid", "profile", "offline_access", "email"))
_INVITER_ROLES = frozenset(("guest inviter", "user administrator", "global administrator"))


@dataclass
class Call:
    method: str
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def dispatch(state: State, call: Call) -> Reply:
    handler = _HOSTS.get(call.host)
    if handler is None:
        return Reply(404, {"message": f"the sandbox does not emulate {call.host}"})
    with state.lock:
        return handler(state, call)


# --- errors in each service's own shape -----------------------------------------------------------


def _graph_error(status: int, code: str, message: str) -> Reply:
    inner = {"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4())}
    return Reply(status, {"error": {"code": code, "message": message, "innerError": inner}})


def _devops_error(status: int, message: str, type_key: str) -> Reply:
    body = {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": f"Microsoft.VisualStudio.Services.{type_key}, Microsoft.VisualStudio.Services.WebApi",
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": 3000,
    }
    return Reply(status, body)


def _arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers or {})


def _login_error(status: int, error: str, description: str) -> Reply:
    return Reply(status, {"error": error, "error_description": description, "error_codes": []})


def fault_reply(host: str, status: int, retry_after: float) -> Reply:
    """A throttling or server error as the given host would send it."""
    headers = {"Retry-After": _seconds(retry_after)} if status in (429, 503) else {}
    if host in (VSAEX_HOST, VSSPS_HOST, COMMERCE_HOST):
        if status == 429:
            headers.update({"X-RateLimit-Resource": "ATCPU", "X-RateLimit-Delay": _seconds(retry_after)})
            return Reply(
                status,
                _devops_error(status, "TF400733: The request has been blocked.", "RequestBlocked").body,
                headers,
            )
        return Reply(status, _devops_error(status, "VS402371: internal error", "ServerError").body, headers)
    if host == LOGIN_HOST:
        return Reply(
            status, {"error": "temporarily_unavailable", "error_description": "AADSTS50196"}, headers
        )
    code = "TooManyRequests" if status == 429 else "UnknownError"
    body = _graph_error(status, code, "Simulated failure.").body
    return Reply(status, body, headers)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- paging ---------------------------------------------------------------------------------------


def _offset(token: str | None) -> int | None:
    if not token:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return value if value >= 0 else None


def _token_for(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


# --- identity platform ----------------------------------------------------------------------------


def _login(state: State, call: Call) -> Reply:
    parts = call.path.strip("/").split("/")
    tenant = parts[0] if parts else ""
    if not state.tenant_matches(tenant):
        return _login_error(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")
    rest = "/".join(parts[1:])
    if call.method == "GET" and rest == "v2.0/.well-known/openid-configuration":
        root = f"https://{LOGIN_HOST}/{tenant}"
        return Reply(
            200,
            {
                "issuer": f"https://{LOGIN_HOST}/{state.tenant['id']}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                "jwks_uri": f"https://{LOGIN_HOST}/{tenant}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            },
        )
    if call.method == "POST" and rest in ("oauth2/v2.0/token", "oauth2/v2.0/devicecode"):
        form = dict(parse_qsl(call.body.decode("utf-8", "replace")))
        if not form.get("client_id"):
            return _login_error(
                400, "invalid_request", "AADSTS900144: The request body must contain client_id."
            )
        if rest.endswith("devicecode"):
            return _device_authorization(state, form)
        return _issue_token(state, form, tenant)
    return _login_error(404, "not_found", f"AADSTS90000: no endpoint {call.path}")


def _issue_token(state: State, form: dict[str, str], tenant: str) -> Reply:
    grant = form.get("grant_type", "")
    if grant == DEVICE_CODE_GRANT:
        return _device_code_grant(state, form)
    if grant == "refresh_token":
        return _refresh_grant(state, form)
    if grant != "client_credentials":
        return _login_error(
            400,
            "unsupported_grant_type",
            f"AADSTS70003: The app requested an unsupported grant type '{grant}'.",
        )
    client_id = form["client_id"]
    if "client_assertion" in form:
        endpoint = f"https://{LOGIN_HOST}/{tenant}/oauth2/v2.0/token"
        problem = _assertion_problem(form, client_id, endpoint)
        if problem:
            return _login_error(
                401, "invalid_client", f"AADSTS50027: JWT token is invalid or malformed: {problem}"
            )
    elif not form.get("client_secret"):
        return _login_error(
            401, "invalid_client", "AADSTS7000216: client_assertion or client_secret is required."
        )
    scope = form.get("scope", "").split()
    defaults = [item for item in scope if item.endswith("/.default")]
    audience = _RESOURCES.get(defaults[0].removesuffix("/.default")) if len(defaults) == 1 else None
    if audience is None:
        return _login_error(
            400,
            "invalid_scope",
            f"AADSTS1002012: The provided value for scope {' '.join(scope)} is not valid.",
        )
    return Reply(200, _access_token(state, audience, client_id, None))


def _access_token(state: State, audience: str, client_id: str, user: str | None) -> dict[str, Any]:
    access_token = "sandbox." + token_urlsafe(24)
    state.tokens[access_token] = Token(
        audience=audience,
        tenant_id=str(state.tenant["id"]),
        principal=user or client_id,
        expires_at=state.clock() + _TOKEN_LIFETIME,
        user=user,
    )
    return {
        "token_type": "Bearer",
        "expires_in": _TOKEN_LIFETIME,
        "ext_expires_in": _TOKEN_LIFETIME,
        "access_token": access_token,
    }


def _delegated_audience(scope: str) -> str | None:
    """The one resource a user's scopes name (a bare scope such as `User.Read` is Graph's)."""
    resources = {
        item.rsplit("/", 1)[0] if "/" in item else "https://graph.microsoft.com"
        for item in scope.split()
        if item not in _OIDC_SCOPES
    }
    return _RESOURCES.get(resources.pop()) if len(resources) == 1 else None


def _invalid_scope(scope: str) -> Reply:
    return _login_error(
        400,
        "invalid_scope",
        f"AADSTS70011: The provided value for the input parameter 'scope' is not valid: {scope!r} "
        "must name exactly one resource.",
    )


def _device_authorization(state: State, form: dict[str, str]) -> Reply:
    """`POST /{tenant}/oauth2/v2.0/devicecode`: a code the person enters at the device login page."""
    scope = form.get("scope", "")
    if _delegated_audience(scope) is None:
        return _invalid_scope(scope)
    user_code = "".join(choice(_USER_CODE_ALPHABET) for _ in range(9))
    device_code = token_urlsafe(32)
    state.device_codes[device_code] = DeviceCode(
        user_code=user_code,
        client_id=form["client_id"],
        scope=scope,
        expires_at=state.clock() + DEVICE_CODE_LIFETIME,
    )
    return Reply(
        200,
        {
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": _DEVICE_LOGIN,
            "expires_in": DEVICE_CODE_LIFETIME,
            "interval": state.device_interval,
            "message": f"To sign in, use a web browser to open the page {_DEVICE_LOGIN} "
            f"and enter the code {user_code} to authenticate.",
        },
    )


def _device_code_grant(state: State, form: dict[str, str]) -> Reply:
    code = state.device_codes.get(form.get("device_code", ""))
    if code is None or code.client_id != form["client_id"]:
        return _login_error(
            400,
            "invalid_grant",
            "AADSTS70000: The provided value for the input parameter 'device_code' is not valid.",
        )
    if code.expires_at <= state.clock():
        return _login_error(
            400,
            "expired_token",
            "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. "
            "This device code has expired.",
        )
    if code.user is None:
        return _login_error(
            400,
            "authorization_pending",
            "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.",
        )
    del state.device_codes[form["device_code"]]  # a device code is redeemed once
    return _user_tokens(state, code.client_id, code.user, code.scope)


def _refresh_grant(state: State, form: dict[str, str]) -> Reply:
    grant = state.refresh_tokens.get(form.get("refresh_token", ""))
    if grant is None or grant.client_id != form["client_id"]:
        return _login_error(
            400,
            "invalid_grant",
            "AADSTS9002313: Invalid request. The refresh token is malformed or not valid.",
        )
    user = state.find_directory_user(grant.user)
    if user is None or not user.get("accountEnabled", True):
        return _login_error(400, "invalid_grant", "AADSTS50057: The user account is disabled or deleted.")
    return _user_tokens(state, grant.client_id, grant.user, form.get("scope", ""))


def _user_tokens(state: State, client_id: str, upn: str, scope: str) -> Reply:
    """A delegated access token with the refresh token, ID token and client info msal caches."""
    audience = _delegated_audience(scope)
    if audience is None:
        return _invalid_scope(scope)
    user = state.find_directory_user(upn) or {"id": upn, "displayName": upn}
    tenant_id = str(state.tenant["id"])
    now = int(state.clock())
    claims = {
        "aud": client_id,
        "iss": f"https://{LOGIN_HOST}/{tenant_id}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + _TOKEN_LIFETIME,
        "name": user.get("displayName") or upn,
        "oid": user["id"],
        "preferred_username": upn,
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{client_id}:{user['id']}")),
        "tid": tenant_id,
        "ver": "2.0",
    }
    refresh_token = "sandbox-refresh." + token_urlsafe(32)
    state.refresh_tokens[refresh_token] = RefreshToken(client_id=client_id, user=upn)
    granted = " ".join(item for item in scope.split() if item not in _OIDC_SCOPES)
    return Reply(
        200,
        {
            **_access_token(state, audience, client_id, upn),
            "scope": granted,
            "refresh_token": refresh_token,
            "id_token": f"{_b64({'typ': 'JWT', 'alg': 'RS256', 'kid': 'sandbox'})}.{_b64(claims)}.c2FuZGJveA",
            "client_info": _b64({"uid": user["id"], "utid": tenant_id}),
        },
    )


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _assertion_problem(form: dict[str, str], client_id: str, endpoint: str) -> str:
    """Why a client assertion is not a usable JWT.

    The signature is not checked: a scenario holds no certificates.
    """
    if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
        return "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    segments = form["client_assertion"].split(".")
    if len(segments) != 3:
        return "expected three dot-separated segments"
    try:
        header, claims = (
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in segments[:2]
        )
    except (binascii.Error, ValueError):
        return "header or payload is not base64url JSON"
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return "header and payload must be JSON objects"
    if not str(header.get("alg", "")).startswith(("RS", "PS")) or not ({"x5t", "x5t#S256"} & header.keys()):
        return "header needs an RS/PS algorithm and a certificate thumbprint"
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return "iss and sub must be the client id"
    if str(claims.get("aud", "")).casefold() != endpoint.casefold():
        return f"aud must be {endpoint}"
    if float(claims.get("exp", 0)) < time.time():  # the client's clock made it, not the sandbox's
        return "the assertion has expired"
    return ""


def _bearer(state: State, call: Call, audience: str) -> Token | Reply:
    header = call.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        return _graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
    token = state.tokens.get(value.strip())
    if token is None or token.expires_at < state.clock():
        return _graph_error(
            401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience or expired."
        )
    if token.audience != audience:
        return _graph_error(
            401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
        )
    return token


# --- Microsoft Graph ------------------------------------------------------------------------------


def _graph(state: State, call: Call) -> Reply:
    token = _bearer(state, call, "graph")
    if isinstance(token, Reply):
        return token
    return _graph_route(state, call, token)


def _graph_route(state: State, call: Call, token: Token) -> Reply:
    path = call.path.rstrip("/")
    if not path.startswith("/v1.0/"):
        return _graph_error(400, "BadRequest", "Invalid version: use /v1.0.")
    parts = path.split("/")[2:]
    route = (call.method, parts[0] if parts else "")
    if route == ("POST", "$batch"):
        return _graph_batch(state, call, token)
    if route == ("GET", "users") and len(parts) == 1:
        return _graph_list_users(state, call)
    if route == ("GET", "users") and len(parts) == 2:
        user = state.find_directory_user(parts[1])
        if user is None:
            return _graph_error(404, "Request_ResourceNotFound", f"Resource '{parts[1]}' does not exist.")
        return Reply(200, _select(user, call.query.get("$select")))
    if route == ("GET", "users") and len(parts) >= 3 and parts[2] == "memberOf":
        return _graph_member_of(state, parts)
    if route == ("POST", "invitations") and len(parts) == 1:
        return _graph_invite(state, call, token)
    if route == ("GET", "organization") and len(parts) == 1:
        tenant = state.tenant
        domains = [
            {"capabilities": "Email, OfficeCommunicationsOnline", "type": "Managed", **domain}
            for domain in tenant["verifiedDomains"]
        ]
        entry = {"id": tenant["id"], "displayName": tenant["displayName"], "verifiedDomains": domains}
        return Reply(
            200, {"@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#organization", "value": [entry]}
        )
    if route == ("GET", "policies") and parts[1:] == ["authorizationPolicy"]:
        policy = {
            "@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#policies/authorizationPolicy/$entity",
            "id": "authorizationPolicy",
            "displayName": "Authorization Policy",
            **state.tenant["authorizationPolicy"],
        }
        return Reply(200, policy)
    return _graph_error(400, "BadRequest", f"Resource not found for the segment '{'/'.join(parts)}'.")


def _select(user: dict[str, Any], select: str | None) -> dict[str, Any]:
    fields = [name.strip() for name in select.split(",")] if select else list(_GRAPH_DEFAULT_FIELDS)
    return {name: user.get(name) for name in ["id", *fields]}


def _graph_list_users(state: State, call: Call) -> Reply:
    query = call.query
    try:
        top = int(query.get("$top", "100"))
    except ValueError:
        return _graph_error(
            400, "Request_BadRequest", f"Invalid value '{query['$top']}' for query parameter $top."
        )
    if not 1 <= top <= _GRAPH_MAX_TOP:
        return _graph_error(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
        )
    if "$skip" in query:
        return _graph_error(400, "Request_BadRequest", "'$skip' is not supported by the service.")
    users = state.directory_users
    if "$filter" in query:
        try:
            predicate = parse_filter(query["$filter"])
        except FilterError as error:
            return _graph_error(
                400, "Request_UnsupportedQuery", f"Unsupported or invalid query filter: {error}"
            )
        users = [user for user in users if predicate(user)]
    offset = _offset(query.get("$skiptoken"))
    if offset is None:
        return _graph_error(400, "Request_BadRequest", "The $skiptoken is invalid.")
    select = query.get("$select")
    page = [_select(user, select) for user in users[offset : offset + top]]
    body: dict[str, Any] = {"@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#users", "value": page}
    if offset + top < len(users):
        rest = {key: value for key, value in query.items() if key != "$skiptoken"}
        rest["$skiptoken"] = _token_for(offset + top)
        body["@odata.nextLink"] = f"https://{GRAPH_HOST}/v1.0/users?{urlencode(rest)}"
    return Reply(200, body)


def _graph_member_of(state: State, parts: list[str]) -> Reply:
    user = state.find_directory_user(parts[1])
    if user is None:
        return _graph_error(404, "Request_ResourceNotFound", f"Resource '{parts[1]}' does not exist.")
    if parts[3:] not in ([], ["microsoft.graph.directoryRole"]):
        return _graph_error(400, "BadRequest", "Unsupported memberOf cast.")
    roles = [
        {
            "@odata.type": "#microsoft.graph.directoryRole",
            "id": str(uuid.uuid5(uuid.NAMESPACE_OID, name)),
            "displayName": name,
        }
        for name in state.roles_of(user)
    ]
    return Reply(
        200, {"@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#directoryObjects", "value": roles}
    )


def _graph_invite(state: State, call: Call, token: Token) -> Reply:
    try:
        body = call.json()
    except ValueError:
        return _graph_error(400, "BadRequest", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return _graph_error(400, "BadRequest", "The request body must be a JSON object.")
    email = str(body.get("invitedUserEmailAddress") or "").strip()
    redirect = str(body.get("inviteRedirectUrl") or "")
    if "@" not in email or not redirect:
        return _graph_error(400, "BadRequest", "invitedUserEmailAddress and inviteRedirectUrl are required.")
    if not _may_invite(state, token):
        return _graph_error(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )
    wanted = email.casefold()
    existing = next((user for user in state.directory_users if wanted in _addresses(user)), None)
    if existing is None:
        existing = _new_guest(state, email, str(body.get("invitedUserDisplayName") or email))
        state.directory_users.append(existing)
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
    state.tenant.setdefault("invitations", []).append(invitation)
    return Reply(
        201, {"@odata.context": f"https://{GRAPH_HOST}/v1.0/$metadata#invitations/$entity", **invitation}
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
        return _graph_error(400, "BadRequest", "Invalid batch payload.")
    if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
        return _graph_error(400, "BadRequest", "A batch holds between 1 and 20 requests.")
    ids = [str(item.get("id")) for item in requests if isinstance(item, dict)]
    if len(set(ids)) != len(requests):
        return _graph_error(400, "BadRequest", "Each batch request needs a unique id.")
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


# --- Azure Resource Manager -----------------------------------------------------------------------


def _arm(state: State, call: Call) -> Reply:
    token = _bearer(state, call, "arm")
    if isinstance(token, Reply):
        return _arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
    parts = call.path.strip("/").split("/")
    if call.method != "GET" or len(parts) != 2 or parts[0] != "subscriptions":
        return _arm_error(404, "NotFound", f"No route for {call.method} {call.path}.")
    if "api-version" not in call.query:
        return _arm_error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
    subscription = next(
        (
            s
            for s in state.data["subscriptions"]
            if str(s["subscriptionId"]).casefold() == parts[1].casefold()
        ),
        None,
    )
    if subscription is None:
        return _arm_error(404, "SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found.")
    if str(subscription["tenantId"]).casefold() != token.tenant_id.casefold():
        # Real ARM names the subscription's own tenant in the challenge; clients use it to find the tenant.
        challenge = (
            f'Bearer authorization_uri="https://login.windows.net/{subscription["tenantId"]}", '
            'error="invalid_token", error_description="The access token is from the wrong issuer."'
        )
        return _arm_error(
            401,
            "InvalidAuthenticationTokenTenant",
            f"The access token is from the wrong issuer. It must match the tenant "
            f"'https://sts.windows.net/{subscription['tenantId']}/' associated with this subscription.",
            {"WWW-Authenticate": challenge},
        )
    body = {
        "id": f"/subscriptions/{subscription['subscriptionId']}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionPolicies": {"quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
        **subscription,
    }
    return Reply(200, body)


# --- Azure DevOps ---------------------------------------------------------------------------------


def _devops_auth(state: State, call: Call) -> Reply | None:
    scheme, _, value = call.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            _, _, secret = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            secret = ""
        if secret:
            return None
    elif scheme.lower() == "bearer" and not isinstance(_bearer(state, call, "devops"), Reply):
        return None
    return _devops_error(
        401, "TF400813: The user is not authorized to access this resource.", "UnauthorizedRequestException"
    )


def _devops_common(state: State, call: Call) -> tuple[list[str], Reply | None]:
    parts = call.path.strip("/").split("/")
    if not parts[0] or not state.is_organization(parts[0]):
        return parts, _devops_error(
            404, f"VS800075: The organization '{parts[0]}' was not found.", "AccountNotFoundException"
        )
    if len(parts) > 1 and "api-version" not in call.query:
        message = f'No api-version was supplied for the "{call.method}" request, for example api-version=7.1.'
        return parts, _devops_error(400, message, "VssVersionNotSpecifiedException")
    return parts, (_devops_auth(state, call) if len(parts) > 1 else None)


def _vsaex(state: State, call: Call) -> Reply:
    parts, problem = _devops_common(state, call)
    if problem is not None:
        return problem
    if parts[1:3] != ["_apis", "userentitlements"]:
        return _devops_error(404, f"No route for {call.path}.", "RouteNotFound")
    if call.method == "GET" and len(parts) == 3:
        offset = _offset(call.query.get("continuationToken"))
        if offset is None:
            return _devops_error(400, "The continuation token is invalid.", "InvalidContinuationToken")
        items = state.entitlements
        page = items[offset : offset + state.page_size]
        more = offset + state.page_size < len(items)
        return Reply(
            200,
            {
                "items": page,
                "continuationToken": _token_for(offset + state.page_size) if more else None,
                "totalCount": len(items),
            },
        )
    if len(parts) == 4 and call.method in ("GET", "DELETE"):
        index = next(
            (
                i
                for i, item in enumerate(state.entitlements)
                if str(item["id"]).casefold() == parts[3].casefold()
            ),
            None,
        )
        if index is None:
            return _devops_error(
                404, f"VS403283: Could not find user with id {parts[3]}.", "UserNotFoundException"
            )
        if call.method == "GET":
            return Reply(200, state.entitlements[index])
        del state.entitlements[index]
        return Reply(204)
    return _devops_error(405, f"{call.method} is not supported here.", "MethodNotAllowed")


def _admin_tree(state: State) -> dict[str, list[str]]:
    """Group descriptor -> member descriptors, starting at Project Collection Administrators."""
    by_principal = {
        str(e["user"]["principalName"]).casefold(): e["user"]["descriptor"] for e in state.entitlements
    }
    tree: dict[str, list[str]] = {}

    def walk(name: str, members: list[Any]) -> str:
        descriptor = descriptor_for("vssgp", f"[{state.organization['name']}]\\{name}")
        tree[descriptor] = []
        for member in members:
            if isinstance(member, str):
                tree[descriptor].append(
                    by_principal.get(member.strip().casefold()) or descriptor_for("msa", member)
                )
            else:
                tree[descriptor].append(walk(member["displayName"], member["members"]))
        return descriptor

    walk("Project Collection Administrators", state.organization["project_collection_administrators"])
    return tree


def _group_names(state: State) -> dict[str, str]:
    names = {
        descriptor_for(
            "vssgp", f"[{state.organization['name']}]\\Project Collection Administrators"
        ): "Project Collection Administrators"
    }

    def walk(members: list[Any]) -> None:
        for member in members:
            if isinstance(member, dict):
                names[descriptor_for("vssgp", f"[{state.organization['name']}]\\{member['displayName']}")] = (
                    member["displayName"]
                )
                walk(member["members"])

    walk(state.organization["project_collection_administrators"])
    valid_users = "Project Collection Valid Users"
    names[descriptor_for("vssgp", f"[{state.organization['name']}]\\{valid_users}")] = valid_users
    return names


def _group(state: State, descriptor: str, name: str) -> dict[str, Any]:
    org = state.organization
    return {
        "subjectKind": "group",
        "description": f"Members of this group are {name}.",
        "domain": f"vstfs:///Framework/IdentityDomain/{org['id']}",
        "principalName": f"[{org['name']}]\\{name}",
        "mailAddress": None,
        "origin": "vsts",
        "originId": str(uuid.uuid5(uuid.NAMESPACE_URL, descriptor)),
        "displayName": name,
        "descriptor": descriptor,
    }


def _owner_id(state: State) -> str | None:
    owner = state.organization["owner"]
    if not owner:
        return None
    match = next(
        (e for e in state.entitlements if str(e["user"]["principalName"]).casefold() == owner.casefold()),
        None,
    )
    return str(match["id"]) if match else str(uuid.uuid5(uuid.NAMESPACE_URL, f"owner:{owner.casefold()}"))


def _vssps(state: State, call: Call) -> Reply:
    parts, problem = _devops_common(state, call)
    if problem is not None:
        if len(parts) == 1 and problem.status == 404:
            return Reply(404, None)
        return problem
    org = state.organization
    if len(parts) == 1:
        # The unauthenticated probe Git Credential Manager and Microsoft's MCP server use.
        return Reply(404, None, {"X-VSS-ResourceTenant": str(org["connected_tenant_id"])})
    route = "/".join(parts[1:4]).casefold()
    if call.method == "GET" and route == "_apis/organization/organizations" and parts[4:] == ["Me"]:
        owner_id = _owner_id(state)
        collection = {"id": org["id"], "name": org["name"], "owner": owner_id, "status": "enabled"}
        body = {
            "id": org["id"],
            "name": org["name"],
            "tenantId": org["connected_tenant_id"],
            "type": "organization",
            "status": "enabled",
            "primaryCollection": collection,
        }
        return Reply(200, body)
    if call.method == "GET" and "/".join(parts[1:3]).casefold() == "_apis/identities":
        return _identities(state, call)
    if call.method == "GET" and route == "_apis/graph/groups":
        names = _group_names(state)
        groups = [_group(state, descriptor, name) for descriptor, name in names.items()]
        return _vssps_page(state, call, groups)
    if call.method == "GET" and route == "_apis/graph/memberships" and len(parts) == 5:
        if call.query.get("direction", "").casefold() != "down":
            return _devops_error(400, "Only direction=down is emulated.", "InvalidArgument")
        members = _admin_tree(state).get(parts[4])
        if members is None:
            if parts[4] in _group_names(state):
                members = []
            else:
                return _devops_error(404, f"Subject {parts[4]} not found.", "GraphSubjectNotFoundException")
        value = [{"containerDescriptor": parts[4], "memberDescriptor": member} for member in members]
        return Reply(200, {"count": len(value), "value": value})
    if call.method == "POST" and route == "_apis/graph/subjectlookup":
        return _subject_lookup(state, call)
    return _devops_error(404, f"No route for {call.method} {call.path}.", "RouteNotFound")


def _vssps_page(state: State, call: Call, items: list[dict[str, Any]]) -> Reply:
    offset = _offset(call.query.get("continuationToken"))
    if offset is None:
        return _devops_error(400, "The continuation token is invalid.", "InvalidContinuationToken")
    page = items[offset : offset + state.page_size]
    headers = {}
    if offset + state.page_size < len(items):
        headers["X-MS-ContinuationToken"] = _token_for(offset + state.page_size)
    return Reply(200, {"count": len(page), "value": page}, headers)


def _identities(state: State, call: Call) -> Reply:
    wanted = {
        item.strip().casefold() for item in call.query.get("identityIds", "").split(",") if item.strip()
    }
    owner = state.organization["owner"]
    value = []
    if owner and (owner_id := _owner_id(state)) and owner_id.casefold() in wanted:
        account = {"$type": "System.String", "$value": owner}
        value.append(
            {
                "id": owner_id,
                "providerDisplayName": owner,
                "isActive": True,
                "properties": {"Account": account, "Mail": account},
            }
        )
    return Reply(200, {"count": len(value), "value": value})


def _subject_lookup(state: State, call: Call) -> Reply:
    try:
        keys = [str(key["descriptor"]) for key in call.json()["lookupKeys"]]
    except (ValueError, KeyError, TypeError):
        return _devops_error(400, "lookupKeys with descriptors are required.", "InvalidArgument")
    known: dict[str, dict[str, Any]] = {e["user"]["descriptor"]: e["user"] for e in state.entitlements}
    names = _group_names(state)

    def principals(members: list[Any]) -> None:
        for member in members:
            if isinstance(member, str):
                descriptor = descriptor_for("msa", member)
                known.setdefault(
                    descriptor,
                    {
                        "subjectKind": "user",
                        "principalName": member,
                        "mailAddress": member,
                        "displayName": member,
                        "origin": "msa",
                        "descriptor": descriptor,
                    },
                )
            else:
                principals(member["members"])

    principals(state.organization["project_collection_administrators"])
    value = {}
    for key in keys:
        if key in known:
            value[key] = known[key]
        elif key in names:
            value[key] = _group(state, key, names[key])
    return Reply(200, {"count": len(value), "value": value})


def _commerce(state: State, call: Call) -> Reply:
    parts = call.path.strip("/").split("/")
    org = state.organization
    if (
        len(parts) != 4
        or parts[0].casefold() != str(org["id"]).casefold()
        or parts[1:] != ["_apis", "AzComm", "BillingSetup"]
    ):
        return _devops_error(404, f"No route for {call.path}.", "RouteNotFound")
    problem = _devops_auth(state, call)
    if problem is not None:
        return problem
    subscription = org["billing_subscription_id"]
    return Reply(
        200, {"subscriptionId": subscription, "subscriptionStatus": "active" if subscription else "unknown"}
    )


_HOSTS: dict[str, Callable[[State, Call], Reply]] = {
    LOGIN_HOST: _login,
    GRAPH_HOST: _graph,
    ARM_HOST: _arm,
    VSAEX_HOST: _vsaex,
    VSSPS_HOST: _vssps,
    COMMERCE_HOST: _commerce,
}
