"""Is this activity really from the Bot Connector? The Bot Framework's rules, checked on every request.

The token must be an RS256 JWT signed by a key listed in the Bot Framework's OpenID metadata (its
`jwks_uri`, read from the metadata document rather than guessed), issued by `https://api.botframework.com`,
for this bot (`aud` = the app id), unexpired (5 minutes of clock skew), and carrying the `serviceurl` the
activity names, so that nobody can point the bot's replies (and its token) at their own server; and the
signing key must be endorsed for the activity's channel: the keys document gives each key the channels
it may sign for (`endorsements`), and a key endorsed for another channel (Web Chat, say) must not vouch
for a Teams activity (MicrosoftDocs/bot-docs, "Authentication with the Bot Connector API", step 3; the
rule is vendored in `tests/teams/data/`). This bot serves Teams only, so `channelId` must be `msteams`.

The token is checked from the Authorization header alone, before the body is read (a stranger's body
costs nothing), with the key's endorsement for `msteams`; `check_activity` then holds the activity to it.
The checking itself is the Teams SDK's `TokenValidator`, vendored (`bot/teams/_token_validator.py`: from
the SDK it would import the whole SDK, 0.9 s of CPU, for this one class). It fetches signing keys with
blocking I/O from inside its coroutine, so it runs on a worker thread with an event loop of its own: the
server's event loop never waits on a key download. Importing it imports PyJWT and its cryptography, which
a process that only sends never needs; whoever serves the endpoint calls `load_validator` before it
listens.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from msapi import Router, tls_context

if TYPE_CHECKING:
    from bot.teams._token_validator import TokenValidator

logger = logging.getLogger(__name__)
_VALIDATOR_LOGGER = "bot.teams._token_validator"


class _RefusalsLoggedOnce(logging.Filter):
    """Drops the validator's ERROR line about a token it refused: every refusal raises `Unauthorized`, which
    the endpoint logs once as a WARNING. A stranger's request is no error of ours, and at ERROR anyone
    could fill the log at that level with made-up tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.ERROR and record.funcName == "validate_token")


logging.getLogger(_VALIDATOR_LOGGER).addFilter(_RefusalsLoggedOnce())

OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
ISSUER = "https://api.botframework.com"
CHANNEL_ID = "msteams"
METADATA_SECONDS = 24 * 3600.0
"""The Bot Framework asks for the metadata to be read again at least daily (keys roll over)."""
METADATA_TIMEOUT_SECONDS = 10.0


def load_validator() -> None:
    """Imports the token validator (PyJWT with it) now: a broken install stops the start instead of
    the first activity, and that activity does not wait for the import."""
    import bot.teams._token_validator  # noqa: F401


class Unauthorized(Exception):
    """The request is not from the Bot Connector for this bot; the message says why (for the log)."""


class ActivityAuthenticator:
    def __init__(
        self,
        app_id: str,
        *,
        sandbox_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app_id = app_id
        self._router = Router(sandbox_url)
        self._clock = clock
        self._lock = threading.Lock()
        self._validator: tuple[float, TokenValidator] | None = None
        self._endorsements: dict[str, frozenset[str]] = {}

    async def verify_token(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims, checked before the body is read; `Unauthorized` when the request must be
        refused with 401. `check_activity` then holds the activity to them."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.casefold() != "bearer" or not token.strip():
            raise Unauthorized("no bearer token")
        return await asyncio.to_thread(self._verify, token.strip())

    def _verify(self, token: str) -> dict[str, Any]:
        import jwt

        validator, jwks_uri = self._current_validator()
        try:
            claims = asyncio.run(validator.validate_token(token))
            key_id = str(jwt.get_unverified_header(token).get("kid") or "")
        except jwt.PyJWTError as error:  # bad token, unknown key, or keys that could not be read
            raise Unauthorized(f"{type(error).__name__}: {error}") from None
        if CHANNEL_ID not in self._endorsements_of(key_id, jwks_uri):
            raise Unauthorized(f"the signing key {key_id!r} is not endorsed for the channel {CHANNEL_ID!r}")
        return claims

    def _endorsements_of(self, key_id: str, jwks_uri: str) -> frozenset[str]:
        """The channels the key may sign for; the keys document is read again for a key not seen before
        (keys roll over), under the lock, so concurrent requests read it once."""
        with self._lock:
            if key_id not in self._endorsements:
                self._endorsements = _endorsements(jwks_uri)
            return self._endorsements.get(key_id, frozenset())

    def _current_validator(self) -> tuple[TokenValidator, str]:
        from bot.teams._token_validator import JwtValidationOptions, TokenValidator

        with self._lock:
            if self._validator is not None and self._clock() < self._validator[0]:
                return self._validator[1], self._validator[1].options.jwks_uri
            jwks_uri = self._router.resolve(self._jwks_uri())
            options = JwtValidationOptions(
                valid_issuers=[ISSUER], valid_audiences=[self._app_id], jwks_uri=jwks_uri
            )
            validator = TokenValidator(options)
            self._validator = (self._clock() + METADATA_SECONDS, validator)
            self._endorsements = {}
            return validator, jwks_uri

    def _jwks_uri(self) -> str:
        uri = _read(self._router.resolve(OPENID_METADATA_URL), "jwks_uri", "OpenID metadata")
        if not isinstance(uri, str) or not uri.startswith("https://"):
            raise Unauthorized(f"the OpenID metadata names no usable jwks_uri: {uri!r}")
        return uri


def check_activity(claims: dict[str, Any], activity: dict[str, Any]) -> None:
    """The activity is one the token vouches for: Teams' channel, and the `serviceurl` the token names
    (trailing slashes aside, as the SDK compares them); `Unauthorized` otherwise."""
    channel = activity.get("channelId")
    if channel != CHANNEL_ID:
        raise Unauthorized(f"the activity is for the channel {channel!r}; this bot serves {CHANNEL_ID}")
    service_url = activity.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url:
        raise Unauthorized("the activity names no serviceUrl")
    if str(claims.get("serviceurl") or "").rstrip("/") != service_url.rstrip("/"):
        raise Unauthorized("the token was issued for another serviceUrl than the activity names")


def _endorsements(jwks_uri: str) -> dict[str, frozenset[str]]:
    """Each signing key's endorsements, by key id, as the keys document lists them."""
    keys = _read(jwks_uri, "keys", "signing keys")
    found: dict[str, frozenset[str]] = {}
    for key in keys if isinstance(keys, list) else []:
        if isinstance(key, dict) and isinstance(key.get("endorsements"), list):
            found[str(key.get("kid"))] = frozenset(str(item) for item in key["endorsements"])
    return found


def _read(url: str, field: str, what: str) -> Any:
    """One field of a Bot Framework JSON document; `Unauthorized` when it cannot be read."""
    try:
        response = httpx.get(url, timeout=METADATA_TIMEOUT_SECONDS, verify=tls_context())
        response.raise_for_status()
        return response.json()[field]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
        raise Unauthorized(f"the Bot Framework's {what} could not be read: {error}") from None
