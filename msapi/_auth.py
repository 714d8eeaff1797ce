"""Credentials: a PAT for Azure DevOps, msal client credentials (secret or certificate) for Graph and ARM."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from msapi._cache import PersistedTokenCache
from msapi._http import HttpSession
from msapi._refusals import sign_in_refusal
from workflows.directory import MicrosoftError, TenantNotFound

AUTHORITY_HOST = "https://login.microsoftonline.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ARM_SCOPE = "https://management.azure.com/.default"
SERVICE = "Microsoft identity platform"
# msal's debug log shows token request bodies, a pending device code among them: keep it above DEBUG.
logging.getLogger("msal").setLevel(logging.INFO)
_ENTRA_DISCOVERY = re.compile(
    re.escape(AUTHORITY_HOST) + r"/(?P<tenant>[A-Za-z0-9.-]+)/v2\.0/\.well-known/openid-configuration"
)


class Tokens(Protocol):
    """Where Graph and Resource Manager access tokens come from (the app itself, or a signed-in user)."""

    def token(self, tenant: str, scope: str, *, fresh: bool = False) -> str:
        """A token from the cache, or with `fresh` a new one (the service rejected the cached one)."""
        ...


class MsalHttpClient:
    """The `http_client` msal calls: same routing, retries and redaction as every other request.

    msal hands a certificate's signed client assertion over as `bytes`, which httpx would form-encode
    as the literal `b'eyJ...'`; every bytes value is decoded to text first.

    msal fetches a tenant's OpenID configuration in every application's constructor. For Entra's
    own authority host the endpoints follow a fixed, documented pattern (MSAL for .NET builds them
    without asking), so that document is answered here and costs no request; a tenant that does not
    exist is then reported by the token endpoint (AADSTS90002) instead.
    """

    def __init__(self, session: HttpSession) -> None:
        self._session = session

    def post(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        if data is not None:
            data = {key: value.decode() if isinstance(value, bytes) else value for key, value in data.items()}
        return self._session.request(
            "POST", url, service=SERVICE, params=params, data=data, headers=headers, read_only=True
        )

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        discovery = _ENTRA_DISCOVERY.fullmatch(url)
        if discovery is not None and not params:
            return _entra_configuration(url, discovery["tenant"])
        return self._session.request("GET", url, service=SERVICE, params=params, headers=headers)

    def close(self) -> None:
        """msal may close its client; the session outlives it."""


def _entra_configuration(url: str, tenant: str) -> httpx.Response:
    root = f"{AUTHORITY_HOST}/{tenant}/oauth2/v2.0"
    document = {
        "authorization_endpoint": f"{root}/authorize",
        "token_endpoint": f"{root}/token",
        "device_authorization_endpoint": f"{root}/devicecode",
    }
    return httpx.Response(200, json=document, request=httpx.Request("GET", url))


def unknown_tenant(result: Mapping[str, Any]) -> bool:
    """msal's result says the tenant does not exist (Entra's AADSTS90002)."""
    return result.get("error") == "invalid_tenant" or "AADSTS90002" in str(result.get("error_description"))


def first_line(text: object) -> str:
    """Entra's `error_description` runs on with trace and correlation ids; the first line is the reason."""
    return (str(text or "").splitlines() or [""])[0]


@dataclass(frozen=True)
class AppCredential:
    """An Entra app registration's client id and either a secret or a PEM certificate (key + certificate)."""

    client_id: str
    client_secret: str | None = None
    certificate_pem: bytes | None = None
    certificate_password: str | None = None

    def for_msal(self) -> str | dict[str, str]:
        if self.client_secret:
            return self.client_secret
        if not self.certificate_pem:
            raise MicrosoftError("the app credential has neither a client secret nor a certificate")
        # only a certificate needs cryptography's X.509 (a tenth of a second to import, in every process)
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        try:
            certificate = x509.load_pem_x509_certificate(self.certificate_pem)
        except ValueError:
            raise MicrosoftError(
                "the certificate file holds no PEM certificate (it needs the key and the certificate)"
            ) from None
        credential = {
            "private_key": self.certificate_pem.decode(),
            "thumbprint": certificate.fingerprint(hashes.SHA1()).hex(),
        }
        if self.certificate_password:
            credential["passphrase"] = self.certificate_password
        return credential


class AppTokens:
    """App-only tokens per tenant through msal, with a token cache persisted to `cache_path` if given."""

    def __init__(
        self, credential: AppCredential, session: HttpSession, cache_path: Path | None = None
    ) -> None:
        self._credential = credential
        self._session = session
        self._cache = PersistedTokenCache(cache_path)
        self._apps: dict[str, Any] = {}
        session.redact.add(credential.client_secret)
        session.redact.add(credential.certificate_password)

    def token(self, tenant: str, scope: str, *, fresh: bool = False) -> str:
        app = self._apps.get(tenant.casefold())
        if app is None:
            import msal  # at the first token: PersistedTokenCache says why

            try:
                app = msal.ConfidentialClientApplication(
                    self._credential.client_id,
                    client_credential=self._credential.for_msal(),
                    authority=f"{AUTHORITY_HOST}/{tenant}",
                    token_cache=self._cache.cache,
                    http_client=MsalHttpClient(self._session),
                    instance_discovery=False,
                )
            except ValueError:
                # msal's own text here is about B2C authorities; the usual cause is a mistyped tenant.
                raise tenant_error(self._session, tenant) from None
            self._apps[tenant.casefold()] = app
        self._cache.refresh()
        if fresh:
            app.remove_tokens_for_client()  # the service rejected the cached token: never hand it out again
        result = app.acquire_token_for_client([scope])
        if "access_token" not in result:
            if unknown_tenant(result):
                raise tenant_error(self._session, tenant)
            refused = sign_in_refusal(
                result, client_id=self._credential.client_id, tenant=tenant, scope=scope
            )
            if refused is not None:
                raise refused
            raise self._session.error(
                f"sign-in to tenant {tenant} for {scope} failed: {result.get('error')}: "
                f"{first_line(result.get('error_description'))}"
            )
        self._session.redact.add(result["access_token"])
        self._cache.save()
        return str(result["access_token"])


def tenant_error(session: HttpSession, tenant: str) -> MicrosoftError:
    """The tenant (an id or a verified domain) does not exist."""
    return TenantNotFound(
        session.redact(
            f"the Microsoft identity platform does not know tenant {tenant!r}: "
            "check the tenant id or verified domain"
        )
    )


def pat_header(session: HttpSession, pat: str) -> dict[str, str]:
    """Azure DevOps personal access token as HTTP Basic with an empty user name."""
    encoded = base64.b64encode(f":{pat}".encode()).decode()
    session.redact.add(pat)
    session.redact.add(encoded)
    return {"Authorization": f"Basic {encoded}"}


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT access token, read without verifying it (the service verifies it).

    Entra's access tokens say which tenant issued them (`tid`) and what they grant: `roles` for an
    app, `scp` for a signed-in user. Anything that is not a readable JWT has no claims.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def granted(claims: Mapping[str, Any]) -> frozenset[str]:
    """The permissions a token carries: an app's `roles`, or a user's space-separated `scp`."""
    roles = claims.get("roles")
    if isinstance(roles, list):
        return frozenset(str(role) for role in roles)
    return frozenset(str(claims.get("scp") or "").split())
