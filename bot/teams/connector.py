"""The Microsoft calls of the Teams surface: the Bot Connector, Graph's app installations and users.

Every call has a timeout and no retry of its own: a failure comes back as `TeamsApiError` with the
status and `Retry-After`, so the caller (a chat turn, or the outbox worker) decides whether and when to
try again. Tokens come from the bot's own app registration (client credentials), one per resource.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.teams.budget import SharedRate
from bot.teams.pacing import GRAPH_INSTALLS_PER_SECOND, PER_CONVERSATION, Pacer
from bot.teams.settings import TeamsSettings
from msapi import CookielessAsyncClient, Router, error_code, error_message, tls_context
from storage import Database

logger = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH = "https://graph.microsoft.com/v1.0"
TIMEOUT_SECONDS = 10.0
TOKEN_MARGIN_SECONDS = 300.0
RETRY_AFTER_AT_MOST = 900.0
SIGN_IN_AGAIN_SECONDS = 300.0
"""How long a refusal of the bot's sign-in stands before Entra is asked again: the messages go within
minutes of the secret working again, and meanwhile no send, look-up or click asks Entra once more (one
token request per queued message would flood the sign-in logs and meet Entra's throttling)."""
THROTTLED_SAID_EVERY = 60.0
"""Seconds between two log lines saying Teams rate limits the bot: under a wave of 429s, one a minute tells
the operator why sending is slow (walk39: 95 notices in 150 s, and nothing said) without a line per send."""


class TeamsApiError(Exception):
    """A Microsoft endpoint answered with an error (or did not answer: `status` 0)."""

    def __init__(
        self, status: int, code: str, what: str, retry_after: float | None = None, message: str = ""
    ) -> None:
        super().__init__(f"{what}: {status or 'no answer'} {code}".strip())
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.message = message
        """Microsoft's own words (`error.message`): which refusal a code that covers several is."""


class SignInRefused(TeamsApiError):
    """Entra refused the bot's own credentials (an OAuth error code in a 400 or 401): no retry helps until
    a setting changes; `advice` tells the operator which one, and how."""

    TOLD = (
        "I can't send messages: Microsoft refused the bot's secret, so I cannot sign in. Please tell whoever"
        " runs the bot; my log says what to change."
    )
    """What someone pressing a button is told in its answer, which needs no token."""

    def __init__(self, status: int, code: str, advice: str) -> None:
        super().__init__(status, code, "the bot's token")
        self.advice = advice


@dataclass(frozen=True)
class Refusal:
    """Entra refusing the bot's sign-in, as it stands (`TeamsApi.refusal`)."""

    advice: str
    since: datetime
    """When the first refusal of this run of them came (UTC): no sign-in has worked since."""
    left: float
    """Seconds until Entra is asked again (0: the next call asks)."""
    lasted: float
    """Seconds since the first refusal of this run."""


@dataclass(frozen=True)
class _Refused:
    error: SignInRefused
    at: float
    """The latest refusal (the connector's clock)."""
    first: float
    since: datetime


@dataclass(frozen=True)
class DirectoryPerson:
    id: str
    """The directory object id (Teams' `aadObjectId`)."""
    principal_name: str
    name: str
    account_enabled: bool = True
    external_user_state: str | None = None
    """Graph's `externalUserState`: `PendingAcceptance` for a guest who has not redeemed the invitation."""


class TeamsApi:
    def __init__(
        self,
        settings: TeamsSettings,
        database: Database,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        paced: bool = True,
    ) -> None:
        """`paced`: keep Teams' documented limits on this side (off only to measure the service's own);
        the per-tenant ones are shared through `database` with every process of this bot. `wall`: the
        time of day a refusal began, for the operator."""
        self._settings = settings
        self._router = Router(settings.sandbox_url)
        self._client = client or CookielessAsyncClient(timeout=TIMEOUT_SECONDS, verify=tls_context())
        self._clock = clock
        self._wall = wall
        self._refused: _Refused | None = None
        self._tokens: dict[str, tuple[float, str]] = {}
        self._token_lock = asyncio.Lock()
        self._paced = paced
        self._catalog_id: str | None = None
        self._refused_said = False
        self._throttled: tuple[float, int] | None = None  # when last said, and the 429s since
        tenant = settings.tenant_id
        self._per_tenant = SharedRate(database, f"connector:{tenant}", settings.tenant_rate)
        self._per_conversation = Pacer(PER_CONVERSATION)
        self._installs = SharedRate(database, f"graph-installs:{tenant}", GRAPH_INSTALLS_PER_SECOND)

    @property
    def app_id(self) -> str:
        return self._settings.app_id

    def route(self, url: str) -> str:
        """Where a Microsoft URL really goes (the service, or the sandbox)."""
        return self._router.resolve(url)

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------ the Bot Connector

    async def create_personal_conversation(self, service_url: str, user_id: str) -> str:
        """The 1:1 chat with a user by their directory object id (Teams returns the existing one)."""
        tenant = self._settings.tenant_id
        body = {
            "bot": {"id": f"28:{self.app_id}"},
            "members": [{"id": user_id}],
            "isGroup": False,
            "tenantId": tenant,
            "channelData": {"tenant": {"id": tenant}},
        }
        answer = await self._connector("POST", _join(service_url, "v3/conversations"), body, None)
        conversation_id = str(answer["id"])
        self._per_conversation.note(conversation_id)  # Teams counts the creation in the conversation made
        return conversation_id

    async def send(
        self,
        service_url: str,
        conversation_id: str,
        activity: dict[str, Any],
        *,
        before: Callable[[], Awaitable[None]] | None = None,
    ) -> str:
        """Post a message; `before` runs once its turn under the limits has come, right before the request."""
        url = _join(service_url, f"v3/conversations/{quote(conversation_id, safe=':@;=')}/activities")
        answer = await self._connector("POST", url, activity, conversation_id, before)
        return str(answer.get("id") or "")

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        path = f"v3/conversations/{quote(conversation_id, safe=':@;=')}/activities/{quote(activity_id)}"
        await self._connector(
            "PUT", _join(service_url, path), {**activity, "id": activity_id}, conversation_id
        )

    # ------------------------------------------------------------ Graph

    async def catalog_id(self) -> str:
        """The app's id in the organization's catalog, found by its manifest id (this bot's app id)."""
        if self._catalog_id is None:
            url = f"{GRAPH}/appCatalogs/teamsApps?$filter=externalId eq '{self.app_id}'"
            found = (await self._call("GET", url, GRAPH_SCOPE, None)).get("value") or []
            if not found:
                raise TeamsApiError(
                    404, "AppNotInCatalog", "the app is not in the organization's app catalog"
                )
            self._catalog_id = str(found[0]["id"])
        return self._catalog_id

    async def install_for(self, user_id: str) -> bool:
        """Install the app in a user's personal scope; False when it was there already (409)."""
        bind = f"{GRAPH}/appCatalogs/teamsApps/{await self.catalog_id()}"
        url = f"{GRAPH}/users/{quote(user_id)}/teamwork/installedApps"
        try:
            async with self._installs.slot() if self._paced else contextlib.nullcontext():
                await self._call("POST", url, GRAPH_SCOPE, {"teamsApp@odata.bind": bind})
        except TeamsApiError as error:
            if error.status == 409:
                return False
            if error.status == 429 and self._paced:
                await self._installs.hold_off(error.retry_after or 1.0)
            raise
        return True

    async def person(self, key: str) -> DirectoryPerson | None:
        """A directory user by object id or user principal name; None when there is none. Whether they can
        use Teams here comes with it: `accountEnabled` and `externalUserState` are only returned when
        selected, and `User.Read.All` reads them."""
        fields = "id,userPrincipalName,displayName,accountEnabled,externalUserState"
        url = f"{GRAPH}/users/{quote(key)}?$select={fields}"
        try:
            answer = await self._call("GET", url, GRAPH_SCOPE, None)
        except TeamsApiError as error:
            if error.status == 404:
                return None
            raise
        principal = str(answer.get("userPrincipalName") or "")
        return DirectoryPerson(
            str(answer["id"]),
            principal,
            str(answer.get("displayName") or principal),
            account_enabled=answer.get("accountEnabled") is not False,
            external_user_state=answer.get("externalUserState") or None,
        )

    async def sign_in(self) -> None:
        """The bot's token for the Bot Connector, as the first send would get it: at start, so that a
        refusal (`SignInRefused`) stops `serve` rather than fail every send; it is not logged here, as
        whoever signs in at start says it, nor again by the sends after it."""
        try:
            await self._token(BOT_FRAMEWORK_SCOPE)
        except SignInRefused:
            self._refused_said = True
            raise

    def refusal(self) -> Refusal | None:
        """Entra's refusal of the bot's sign-in while no sign-in has worked since, or None."""
        refused = self._refused
        if refused is None:
            return None
        now = self._clock()
        left = max(SIGN_IN_AGAIN_SECONDS - (now - refused.at), 0.0)
        return Refusal(refused.error.advice, refused.since, left, now - refused.first)

    # ------------------------------------------------------------ plumbing

    async def _connector(
        self,
        method: str,
        url: str,
        body: dict[str, Any],
        conversation: str | None,
        before: Callable[[], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """A Bot Connector call inside Teams' limits: per conversation (when known) and per tenant."""
        async with contextlib.AsyncExitStack() as paced:
            if self._paced and conversation is not None:
                await paced.enter_async_context(self._per_conversation.slot(conversation))
            if self._paced:
                await paced.enter_async_context(self._per_tenant.slot())
            if before is not None:
                await before()
            try:
                return await self._call(method, url, BOT_FRAMEWORK_SCOPE, body)
            except TeamsApiError as error:
                if error.status == 429:
                    self._say_throttled(error.retry_after)
                if error.status == 429 and self._paced:  # every process waits, not only this one
                    await self._per_tenant.hold_off(error.retry_after or 1.0)
                raise

    async def _call(self, method: str, url: str, scope: str, body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            token = await self._token(scope)
        except SignInRefused as refused:  # the secret expired or was removed while serving
            self._say_refused_once(refused.advice)
            raise
        what = f"{method} {url.split('?')[0]}"
        try:
            response = await self._client.request(
                method, self.route(url), json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TimeoutException:
            raise TeamsApiError(0, "timeout", what) from None
        except httpx.TransportError as error:
            raise TeamsApiError(0, type(error).__name__, what) from None
        if response.status_code >= 400:
            raise TeamsApiError(
                response.status_code,
                error_code(response),
                what,
                _retry_after(response.headers.get("retry-after")),
                error_message(response),
            )
        if not response.content:
            return {}
        answer = response.json()
        return answer if isinstance(answer, dict) else {}

    async def _token(self, scope: str) -> str:
        async with self._token_lock:
            cached = self._tokens.get(scope)
            if cached is not None and self._clock() < cached[0]:
                return cached[1]
            refused = self._refused
            if refused is not None and self._clock() - refused.at < SIGN_IN_AGAIN_SECONDS:
                # the sends and look-ups waiting on the lock behind the one refused: the same verdict
                raise refused.error
            url = f"https://login.microsoftonline.com/{self._settings.tenant_id}/oauth2/v2.0/token"
            form = {
                "grant_type": "client_credentials",
                "client_id": self.app_id,
                "client_secret": self._settings.password,
                "scope": scope,
            }
            try:
                response = await self._client.post(self.route(url), data=form)
            except httpx.HTTPError as error:
                raise TeamsApiError(0, type(error).__name__, "the bot's token") from None
            if response.status_code != 200:
                code = error_code(response)
                if response.status_code in (400, 401) and code:  # Entra's own verdict, not a proxy's page
                    refusal = SignInRefused(response.status_code, code, self._refusal(code, response))
                    raise self._note_refused(refusal)
                raise TeamsApiError(response.status_code, code, "the bot's token")
            self._refused_said = False
            self._refused = None
            answer = response.json()
            lifetime = float(answer.get("expires_in") or 3599)
            self._tokens[scope] = (
                self._clock() + lifetime - TOKEN_MARGIN_SECONDS,
                str(answer["access_token"]),
            )
            return str(answer["access_token"])

    def _note_refused(self, refused: SignInRefused) -> SignInRefused:
        """Remember the refusal (`refusal`), keeping when the first of a run of them came."""
        now, before = self._clock(), self._refused
        first, since = (before.first, before.since) if before else (now, self._wall())
        self._refused = _Refused(refused, now, first, since)
        return refused

    def _say_refused_once(self, advice: str) -> None:
        """The bot can send nothing to anyone: the operator is told what to change, once until a sign-in
        works again."""
        if self._refused_said:
            return
        self._refused_said = True
        logger.error("%s", advice)

    def _say_throttled(self, retry_after: float | None) -> None:
        """Teams answered 429: said at most once a minute, with how many since, as the sends only slow down
        (the outbox tries each again after `Retry-After`) and nothing else would show why."""
        now = self._clock()
        said, since = self._throttled or (-math.inf, 0)
        if now - said < THROTTLED_SAID_EVERY:
            self._throttled = (said, since + 1)
            return
        self._throttled = (now, 0)
        wait = f"Retry-After {retry_after:g} s" if retry_after is not None else "no Retry-After"
        more = f"; {since + 1} refused since the last such line" if since else ""
        logger.warning(
            "Teams is rate limiting the bot (429, %s): sends are held back and go out as Teams allows%s",
            wait,
            more,
        )

    def _refusal(self, code: str, response: httpx.Response) -> str:
        """What Entra's refusal of the bot's credentials means, naming the setting to change."""
        app, tenant = self.app_id, self._settings.tenant_id
        said = f"Microsoft Entra ID refused the Teams bot's sign-in ({_entra_code(response) or code}):"
        if code == "invalid_client":  # AADSTS7000215 a wrong secret, AADSTS7000222 an expired one
            return (
                f"{said} TEAMS_APP_PASSWORD is not a current client secret of app {app} in tenant {tenant},"
                " so the bot can send nothing. In the Entra admin center, App registrations > that app >"
                " Certificates & secrets, create a client secret, set TEAMS_APP_PASSWORD to its Value (not"
                " its Secret ID) and restart."
            )
        if code == "unauthorized_client":  # AADSTS700016: no such app in the tenant, or it is disabled
            return (
                f"{said} TEAMS_APP_ID {app} is not an enabled app registration in tenant {tenant}"
                " (TEAMS_TENANT_ID), so the bot can send nothing. Set TEAMS_APP_ID to the bot's Microsoft"
                " App ID (Azure Bot > Configuration) and TEAMS_TENANT_ID to the tenant it is registered in,"
                " and restart."
            )
        return (
            f"{said} check TEAMS_APP_ID ({app}) and TEAMS_TENANT_ID ({tenant}): the bot can send nothing"
            " until Entra accepts them. Restart once they are right."
        )


def _entra_code(response: httpx.Response) -> str:
    """The AADSTS code an Entra error names first (`AADSTS7000215: Invalid client secret provided...`)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    found = (
        re.match(r"AADSTS\d+", str(body.get("error_description") or "")) if isinstance(body, dict) else None
    )
    return found.group(0) if found else ""


def _join(service_url: str, path: str) -> str:
    return service_url.rstrip("/") + "/" + path


def _retry_after(header: str | None) -> float | None:
    if header is None:
        return None
    try:
        seconds = float(header)
    except ValueError:
        return 1.0
    if not math.isfinite(seconds):
        return RETRY_AFTER_AT_MOST
    return min(max(seconds, 0.0), RETRY_AFTER_AT_MOST)
