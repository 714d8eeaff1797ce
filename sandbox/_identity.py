"""The emulated identity platform (login.microsoftonline.com): discovery, client credentials, device code."""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from secrets import choice, token_urlsafe
from typing import Any
from urllib.parse import parse_qsl

from sandbox._common import AZURE_DEVOPS_RESOURCE, LOGIN_HOST, Call, Reply, login_error
from sandbox._sign_in_refusals import refused
from sandbox._state import DeviceCode, RefreshToken, State, Token

_RESOURCES = {
    "https://graph.microsoft.com": "graph",
    "https://management.azure.com": "arm",
    AZURE_DEVOPS_RESOURCE: "devops",
    "https://app.vssps.visualstudio.com": "devops",
    "https://api.botframework.com": "botframework",
}
_AUDIENCE_URIS = {
    "graph": "https://graph.microsoft.com",
    "arm": "https://management.azure.com",
    "devops": AZURE_DEVOPS_RESOURCE,
    "botframework": "https://api.botframework.com",
}
_TOKEN_LIFETIME = 3599
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_CODE_LIFETIME = 900
_DEVICE_LOGIN = "https://microsoft.com/devicelogin"
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_OIDC_SCOPES = frozenset(("openid", "profile", "offline_access", "email"))
_TENANT_NOT_FOUND = (
    "AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are"
    " signing into the correct cloud. Check with your subscription administrator, this may happen if there"
    " are no active subscriptions for the tenant."
)


def login(state: State, call: Call) -> Reply:
    parts = call.path.strip("/").split("/")
    tenant = parts[0] if parts else ""
    rest = "/".join(parts[1:])
    if not state.tenant_matches(tenant):
        # as Entra words it: `invalid_tenant` from the discovery document, `invalid_request` from the rest
        error = "invalid_tenant" if rest.endswith("openid-configuration") else "invalid_request"
        return login_error(400, error, _TENANT_NOT_FOUND.format(tenant=tenant), 90002)
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
            return login_error(
                400, "invalid_request", "AADSTS900144: The request body must contain client_id."
            )
        if rest.endswith("devicecode"):
            return _device_authorization(state, form)
        return _issue_token(state, form, tenant)
    return login_error(404, "not_found", f"AADSTS90000: no endpoint {call.path}")


def _issue_token(state: State, form: dict[str, str], tenant: str) -> Reply:
    grant = form.get("grant_type", "")
    if grant == DEVICE_CODE_GRANT:
        return _device_code_grant(state, form)
    if grant == "refresh_token":
        return _refresh_grant(state, form)
    if grant != "client_credentials":
        return login_error(
            400,
            "unsupported_grant_type",
            f"AADSTS70003: The app requested an unsupported grant type '{grant}'.",
        )
    client_id = form["client_id"]
    if "client_assertion" in form:
        endpoint = f"https://{LOGIN_HOST}/{tenant}/oauth2/v2.0/token"
        problem = _assertion_problem(form, client_id, endpoint)
        if problem:
            return login_error(
                401, "invalid_client", f"AADSTS50027: JWT token is invalid or malformed: {problem}"
            )
    elif not form.get("client_secret"):
        return login_error(
            401, "invalid_client", "AADSTS7000216: client_assertion or client_secret is required."
        )
    elif form["client_secret"] != state.client_secrets.get(client_id, form["client_secret"]):
        # Entra's words (OfficeDev/microsoft-365-agents-toolkit#8621, a bot's token request), less its ids
        return login_error(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is"
            f" the client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
            7000215,
        )
    scope = form.get("scope", "").split()
    defaults = [item for item in scope if item.endswith("/.default")]
    audience = _RESOURCES.get(defaults[0].removesuffix("/.default")) if len(defaults) == 1 else None
    if audience is None:
        return login_error(
            400,
            "invalid_scope",
            f"AADSTS1002012: The provided value for scope {' '.join(scope)} is not valid.",
        )
    refusal = refused(state, form, defaults[0].removesuffix("/.default"))
    if refusal is not None:
        return refusal
    return Reply(200, _access_token(state, audience, client_id, None))


def _access_token(
    state: State, audience: str, client_id: str, user: str | None, requested: str = ""
) -> dict[str, Any]:
    """A JWT-shaped access token: app-only ones carry `roles`, delegated ones `scp`, as Entra's do."""
    credentials = state.credentials
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    if audience == "devops":
        scopes = credentials.pat_scopes() if user else frozenset()
    elif user is None:
        roles = frozenset(credentials.app_roles()) if audience == "graph" else frozenset()
    else:
        asked = [
            item.rsplit("/", 1)[-1] if "/" in item and not item.endswith("/.default") else item
            for item in requested.split()
            if item not in _OIDC_SCOPES
        ]
        scopes = frozenset(credentials.delegated_scopes(asked)) if audience == "graph" else frozenset()
    tenant_id = str(state.tenant["id"])
    now = int(state.clock())
    claims: dict[str, Any] = {
        "aud": _AUDIENCE_URIS[audience],
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": now,
        "nbf": now,
        "exp": now + _TOKEN_LIFETIME,
        "appid": client_id,
        "tid": tenant_id,
        "ver": "1.0",
    }
    if user is None:
        claims["roles"] = sorted(roles)
    else:
        claims["upn"] = user
        claims["scp"] = " ".join(sorted(scopes))
    header = {"typ": "JWT", "alg": "RS256", "kid": "sandbox"}
    access_token = f"{_b64(header)}.{_b64(claims)}.{token_urlsafe(24)}"
    state.tokens[access_token] = Token(
        audience=audience,
        tenant_id=tenant_id,
        principal=user or client_id,
        expires_at=state.clock() + _TOKEN_LIFETIME,
        user=user,
        roles=roles,
        scopes=scopes,
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
    return login_error(
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
        return login_error(
            400,
            "invalid_grant",
            "AADSTS70000: The provided value for the input parameter 'device_code' is not valid.",
        )
    if code.expires_at <= state.clock():
        return login_error(
            400,
            "expired_token",
            "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. "
            "This device code has expired.",
        )
    if code.user is None:
        return login_error(
            400,
            "authorization_pending",
            "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.",
        )
    del state.device_codes[form["device_code"]]  # a device code is redeemed once
    return _user_tokens(state, code.client_id, code.user, code.scope)


def _refresh_grant(state: State, form: dict[str, str]) -> Reply:
    grant = state.refresh_tokens.get(form.get("refresh_token", ""))
    if grant is None or grant.client_id != form["client_id"]:
        return login_error(
            400,
            "invalid_grant",
            "AADSTS9002313: Invalid request. The refresh token is malformed or not valid.",
        )
    user = state.find_directory_user(grant.user)
    if user is None or not user.get("accountEnabled", True):
        return login_error(400, "invalid_grant", "AADSTS50057: The user account is disabled or deleted.")
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
            **_access_token(state, audience, client_id, upn, scope),
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
