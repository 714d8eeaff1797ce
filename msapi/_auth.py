"""Credentials: a PAT for Azure DevOps, msal client credentials (secret or certificate) for Graph and ARM."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msal
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from msapi._http import HttpSession
from workflows.directory import MicrosoftError

AUTHORITY_HOST = "https://login.microsoftonline.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ARM_SCOPE = "https://management.azure.com/.default"
_SERVICE = "Microsoft identity platform"


class MsalHttpClient:
    """The `http_client` msal calls: same routing, retries and redaction as every other request.

    msal hands a certificate's signed client assertion over as `bytes`, which httpx would form-encode
    as the literal `b'eyJ...'`; every bytes value is decoded to text first.
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
            "POST", url, service=_SERVICE, params=params, data=data, headers=headers, retry_unsafe=True
        )

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        return self._session.request("GET", url, service=_SERVICE, params=params, headers=headers)

    def close(self) -> None:
        """msal may close its client; the session outlives it."""


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
        self._cache_path = cache_path
        self._cache = msal.SerializableTokenCache()
        if cache_path is not None and cache_path.exists():
            self._cache.deserialize(cache_path.read_text(encoding="utf-8"))
        self._apps: dict[str, Any] = {}
        session.redact.add(credential.client_secret)
        session.redact.add(credential.certificate_password)

    def token(self, tenant: str, scope: str) -> str:
        app = self._apps.get(tenant.casefold())
        if app is None:
            try:
                app = msal.ConfidentialClientApplication(
                    self._credential.client_id,
                    client_credential=self._credential.for_msal(),
                    authority=f"{AUTHORITY_HOST}/{tenant}",
                    token_cache=self._cache,
                    http_client=MsalHttpClient(self._session),
                    instance_discovery=False,
                )
            except ValueError:
                # msal's own text here is about B2C authorities; the usual cause is a mistyped tenant.
                raise self._session.error(
                    f"the Microsoft identity platform does not know tenant {tenant!r}: "
                    "check the tenant id or verified domain"
                ) from None
            self._apps[tenant.casefold()] = app
        result = app.acquire_token_for_client([scope])
        if "access_token" not in result:
            description = " ".join(str(result.get("error_description") or "").splitlines()[0:1])
            raise self._session.error(
                f"sign-in to tenant {tenant} for {scope} failed: {result.get('error')}: {description}"
            )
        self._session.redact.add(result["access_token"])
        self._save_cache()
        return str(result["access_token"])

    def _save_cache(self) -> None:
        if self._cache_path is None or not self._cache.has_state_changed:
            return
        self._cache_path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only from the first byte: the cache holds access tokens.
        descriptor = os.open(self._cache_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(self._cache.serialize())


def pat_header(session: HttpSession, pat: str) -> dict[str, str]:
    """Azure DevOps personal access token as HTTP Basic with an empty user name."""
    encoded = base64.b64encode(f":{pat}".encode()).decode()
    session.redact.add(pat)
    session.redact.add(encoded)
    return {"Authorization": f"Basic {encoded}"}
