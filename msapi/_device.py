"""Delegated sign-in through the device-code flow (msal `PublicClientApplication`), tokens from its cache."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msapi._auth import (
    AUTHORITY_HOST,
    GRAPH_SCOPE,
    MsalHttpClient,
    first_line,
    tenant_error,
    unknown_tenant,
)
from msapi._cache import PersistedTokenCache
from msapi._http import HttpSession
from workflows.directory import MicrosoftError

_SECRET_FIELDS = ("access_token", "refresh_token", "id_token")
_PENDING = ("authorization_pending", "slow_down")
_SIGN_IN_AGAIN = "run `aadbot signin` to sign in"


@dataclass(frozen=True)
class DeviceCode:
    """What the person signing in must do; `message` is Microsoft's own wording of it."""

    user_code: str
    verification_uri: str
    message: str
    expires_in: int
    interval: int
    flow: dict[str, Any] = field(repr=False, compare=False)
    deadline: float = field(repr=False, compare=False)
    """When the code expires, by the sign-in's clock."""


@dataclass(frozen=True)
class SignedIn:
    """Who signed in (their user principal name) and the tenant that issued the token."""

    username: str
    tenant_id: str


class DeviceSignIn:
    """A person's sign-in, kept in a persisted msal cache; `token()` serves Graph and ARM from it.

    `wait` polls at the interval Entra asks for through the injected `sleep`, and gives up at the
    code's expiry by the injected `clock`, so tests never really wait.
    """

    def __init__(
        self,
        client_id: str,
        tenant: str,
        session: HttpSession,
        cache_path: Path | None = None,
        *,
        username: str | None = None,
        scopes: tuple[str, ...] = (GRAPH_SCOPE,),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tenant = tenant
        self.session = session
        self.cache_path = cache_path
        self._client_id = client_id
        self._cache = PersistedTokenCache(cache_path)
        self._username = username
        self._scopes = list(scopes)
        self._sleep = sleep
        self._clock = clock
        self._apps: dict[str, Any] = {}

    def start(self) -> DeviceCode:
        """Ask Entra for a code the person enters at `verification_uri`."""
        try:
            flow = self._app(self.tenant).initiate_device_flow(scopes=self._scopes)
        except ValueError:  # msal decodes the answer itself; a non-JSON body is an outage upstream
            raise MicrosoftError("the Microsoft identity platform sent no usable device code") from None
        if "user_code" not in flow:
            if unknown_tenant(flow):
                raise tenant_error(self.session, self.tenant)
            raise self._failure("could not start a device sign-in", flow)
        self.session.redact.add(str(flow.get("device_code") or ""))
        # msal's own loop never ends on an interval of 0; Entra asks for 5 seconds.
        flow["interval"] = max(1, int(flow.get("interval") or 5))
        return DeviceCode(
            user_code=str(flow["user_code"]),
            verification_uri=str(flow.get("verification_uri") or ""),
            message=str(flow.get("message") or ""),
            expires_in=int(flow["expires_in"]),
            interval=flow["interval"],
            flow=flow,
            deadline=self._clock() + int(flow["expires_in"]),
        )

    def wait(self, code: DeviceCode) -> SignedIn:
        """Poll until the person signs in; `MicrosoftError` when the code expires or is declined."""
        flow = code.flow
        app = self._app(self.tenant)
        while True:
            with warnings.catch_warnings():
                # Our pause goes through the injected sleep; msal measures it against its own clock.
                warnings.filterwarnings("ignore", message="Attempted too soon", category=UserWarning)
                result = app.acquire_token_by_device_flow(flow, exit_condition=lambda _: True)
            self._redact(result)
            if "access_token" in result:
                self._cache.save()
                claims = result.get("id_token_claims") or {}
                return SignedIn(
                    username=str(claims.get("preferred_username") or ""),
                    tenant_id=str(claims.get("tid") or ""),
                )
            error = result.get("error")
            if error == "expired_token":
                raise _expired()
            if error in ("authorization_declined", "access_denied"):
                raise MicrosoftError("the sign-in was declined; " + _SIGN_IN_AGAIN + " again")
            if error not in _PENDING:
                raise self._failure("the device sign-in failed", result)
            if error == "slow_down":
                flow["interval"] += 5  # RFC 8628 §3.5
            if self._clock() + flow["interval"] >= code.deadline:
                raise _expired()
            self._sleep(flow["interval"])

    def username(self) -> str | None:
        """The signed-in account this sign-in uses, or None before anyone signed in."""
        account = self._account(self._app(self.tenant))
        return str(account["username"]) if account else None

    def token(self, tenant: str, scope: str, *, fresh: bool = False) -> str:
        """A delegated token for `scope` from the cache, refreshed with the refresh token when needed."""
        self._cache.refresh()
        app = self._app(tenant)
        account = self._account(app)
        if account is None:
            who = f" as {self._username}" if self._username else ""
            where = f" (token cache {self.cache_path})" if self.cache_path else ""
            raise MicrosoftError(f"nobody has signed in{who} yet{where}: {_SIGN_IN_AGAIN}")
        result = app.acquire_token_silent([scope], account=account, force_refresh=fresh)
        if not result or "access_token" not in result:
            if result and unknown_tenant(result):
                raise tenant_error(self.session, tenant)
            reason = first_line(result.get("error_description")) if result else "nothing usable is cached"
            raise self.session.error(
                f"the sign-in of {account['username']} no longer gives a token for {scope} in tenant "
                f"{tenant} ({reason}); {_SIGN_IN_AGAIN} again"
            )
        self._redact(result)
        self._cache.save()
        return str(result["access_token"])

    def _app(self, tenant: str) -> Any:
        app = self._apps.get(tenant.casefold())
        if app is None:
            import msal  # at the first token: PersistedTokenCache says why

            try:
                app = msal.PublicClientApplication(
                    self._client_id,
                    authority=f"{AUTHORITY_HOST}/{tenant}",
                    token_cache=self._cache.cache,
                    http_client=MsalHttpClient(self.session),
                    instance_discovery=False,
                )
            except ValueError:
                raise tenant_error(self.session, tenant) from None
            self._apps[tenant.casefold()] = app
        return app

    def _account(self, app: Any) -> Mapping[str, Any] | None:
        accounts: list[Mapping[str, Any]] = app.get_accounts(username=self._username)
        if len(accounts) > 1:
            names = ", ".join(sorted(str(account["username"]) for account in accounts))
            raise MicrosoftError(
                f"the token cache holds several accounts ({names}): set AZURE_USERNAME to the one to use"
            )
        return accounts[0] if accounts else None

    def _redact(self, result: Mapping[str, Any]) -> None:
        for name in _SECRET_FIELDS:
            self.session.redact.add(str(result.get(name) or ""))

    def _failure(self, what: str, result: Mapping[str, Any]) -> MicrosoftError:
        return self.session.error(
            f"{what}: {result.get('error')}: {first_line(result.get('error_description'))}"
        )


def _expired() -> MicrosoftError:
    return MicrosoftError("the sign-in code expired before it was used; " + _SIGN_IN_AGAIN + " again")
