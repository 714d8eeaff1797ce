"""What every emulated service shares: requests, replies, host names, error shapes, paging, tokens."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sandbox._state import State, Token

GRAPH_HOST = "graph.microsoft.com"
LOGIN_HOST = "login.microsoftonline.com"
ARM_HOST = "management.azure.com"
VSAEX_HOST = "vsaex.dev.azure.com"
VSSPS_HOST = "vssps.dev.azure.com"
COMMERCE_HOST = "azdevopscommerce.dev.azure.com"
AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"


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


def json_object(raw: bytes) -> dict[str, Any]:
    """A control endpoint's body as a JSON object: empty when it is missing, malformed or not an object."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


# --- errors in each service's own shape -----------------------------------------------------------


def graph_error(status: int, code: str, message: str) -> Reply:
    inner = {"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4())}
    return Reply(status, {"error": {"code": code, "message": message, "innerError": inner}})


def devops_error(status: int, message: str, type_key: str) -> Reply:
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


def arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers or {})


def login_error(status: int, error: str, description: str, *codes: int) -> Reply:
    return Reply(status, {"error": error, "error_description": description, "error_codes": list(codes)})


def seconds_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- paging ---------------------------------------------------------------------------------------


def page_offset(token: str | None) -> int | None:
    """The offset a continuation token stands for; None when the token was not one of ours."""
    if not token:
        return 0
    try:
        value = int(_token_payload(token).split("/", 1)[0])
    except ValueError:
        return None
    return value if value >= 0 else None


def page_token(offset: int) -> str:
    """A continuation token shaped like the services' own (Cosmos DB style): `+`, `/`, `=` and `#` in it,
    so a client that forgets to encode it breaks here as it would against Microsoft."""
    return _token(f"{offset}/~page")


def place_token(place: list[str]) -> str:
    """A continuation token (shaped as `page_token`'s) that resumes after `place`, the last item returned."""
    return _token(json.dumps(place))


def token_place(token: str) -> list[str] | None:
    """The place a `place_token` resumes after; None when the token was not one of ours."""
    try:
        place = json.loads(_token_payload(token))
    except ValueError:
        return None
    return place if isinstance(place, list) and all(isinstance(part, str) for part in place) else None


def _token(payload: str) -> str:
    encoded = base64.b64encode(payload.encode()).decode()
    return f"{_TOKEN_PREFIX}{encoded}#RT:1{_TOKEN_SUFFIX}"


def _token_payload(token: str) -> str:
    """What a token of ours holds; ValueError for one that is not ours (or was mangled on the way)."""
    if not token.startswith(_TOKEN_PREFIX) or not token.endswith(_TOKEN_SUFFIX):
        raise ValueError(f"not a continuation token of ours: {token!r}")
    encoded = token[len(_TOKEN_PREFIX) :].split("#", 1)[0]
    return base64.b64decode(encoded, validate=True).decode()  # its failures are ValueErrors


_TOKEN_PREFIX = "+RID:~"
_TOKEN_SUFFIX = "#FPC:AgEAAAAQAB+AAA/AAA=="


def bearer(state: State, call: Call, audience: str) -> Token | Reply:
    header = call.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
    token = state.tokens.get(value.strip())
    if token is None or token.expires_at < state.clock():
        return graph_error(
            401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience or expired."
        )
    if token.audience != audience:
        return graph_error(
            401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
        )
    return token
