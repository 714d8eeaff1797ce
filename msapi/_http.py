"""The one HTTP layer every Microsoft call goes through: routing, timeouts, retries, throttling, redaction."""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from msapi._cookieless import CookielessClient
from msapi._routing import Router
from msapi._tls import tls_context
from workflows.directory import MicrosoftError, Unanswered

log = logging.getLogger("msapi")

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_CONTINUATIONS = frozenset({"continuationtoken", "$skiptoken"})
"""Parameters naming a later page: Azure DevOps' `continuationToken`, the `$skiptoken` of Graph's and
Resource Manager's next links."""
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors before the request left: whatever else fails, the service may have had it."""
_THROTTLED = frozenset({429, 503})
_TRANSIENT = frozenset({500, 502, 504})
_ReadKey = tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]
_READ_ONCE: ContextVar[Mapping[HttpSession, dict[_ReadKey, httpx.Response]] | None] = ContextVar(
    "read_once", default=None
)
"""In this context, each session within its `reads_once` and the GETs it got 200 for so far (URL,
parameters, headers: the credentials say whose answer it is). Held by the session itself, not its `id`,
which a later session could be given."""
_GIVE_UP_AT: ContextVar[Mapping[HttpSession, float] | None] = ContextVar("give_up_at", default=None)
"""In this context, each session within its `giving_up_after` and the moment (on its own clock) its calls
fail rather than wait past."""
_CREDENTIAL_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(
        r"(?i)(access_token|refresh_token|client_secret|client_assertion|password)([\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
    ),
)


class Redactor:
    """Removes known secrets and credential-looking fragments from text meant for logs or people."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        text = _CREDENTIAL_PATTERNS[0].sub(lambda m: f"{m.group(1)} ***", text)
        return _CREDENTIAL_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class HttpSession:
    """Sends requests with bounded retries: returns what it won't retry, raises when retries run out.

    Retries: 429/503 always (the service did not process the request), waiting `Retry-After`; 500/502/504
    and network errors only for idempotent requests or those that change nothing (`read_only=True`: a POST
    for a token, a look-up or a batch of reads; a dry run). Azure DevOps'
    `X-RateLimit-Delay` and an exhausted `X-RateLimit-Remaining` pace the following requests.

    Any other request (an invitation) answered 500/502/504, or whose answer never came, raises `Unanswered`:
    not a refusal, as the service may have done it all the same (a gateway's 504 says only that the service
    behind it was slow to answer, https://learn.microsoft.com/graph/errors).
    """

    def __init__(
        self,
        router: Router | None = None,
        *,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.router = router or Router()
        self.redact = redactor or Redactor()
        self.request_count = 0
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._not_before = 0.0
        self._client = CookielessClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
            verify=tls_context(),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def reads_once(self) -> Iterator[None]:
        """Within it, a GET this session had sent alike and got 200 for is answered with that, not sent:
        `start` runs the doctor's checks and then the snapshot, which read the organization's record,
        administrators, first page of users, billing setup and subscription alike, moments apart.

        Only this session, in this context (a `ContextVar`: a thread or task that copies the context
        shares it), so another conversation's reads are never shared. Not kept: a failed read, so
        whoever reads next asks the service again; a later page, read once anyway, so a big directory
        is not held in memory. A request that may change something (not a GET, HEAD or OPTIONS, and not
        `read_only`) forgets every read kept so far: what follows it reads afresh."""
        remembered = _READ_ONCE.get() or {}
        if self in remembered:
            yield
            return
        scope = _READ_ONCE.set({**remembered, self: {}})
        try:
            yield
        finally:
            _READ_ONCE.reset(scope)

    def forget_reads(self) -> None:
        """Within `reads_once`, forget every read kept so far, as a change does: a reader that found an answer
        wrong (a list shorter than its own count) reads it afresh."""
        answered = (_READ_ONCE.get() or {}).get(self)
        if answered is not None:
            answered.clear()

    @contextmanager
    def giving_up_after(self, seconds: float) -> Iterator[None]:
        """Within it, a call of this session, in this context, fails rather than wait past `seconds` from now:
        a `Retry-After` or back-off that would end later is not waited, and each attempt's timeout is what is
        left. Nested, the earlier moment holds."""
        given = _GIVE_UP_AT.get() or {}
        at = min(self._clock() + seconds, given.get(self, math.inf))
        scope = _GIVE_UP_AT.set({**given, self: at})
        try:
            yield
        finally:
            _GIVE_UP_AT.reset(scope)

    def request(
        self,
        method: str,
        url: str,
        *,
        service: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        read_only: bool = False,
    ) -> httpx.Response:
        if method not in _SAFE and not read_only:
            self.forget_reads()
        answered = (_READ_ONCE.get() or {}).get(self)
        if answered is None or method != "GET" or _later_page(url, params):
            return self._send(method, url, service, headers, params, json, data, read_only)
        key = (url, tuple(sorted((params or {}).items())), tuple(sorted((headers or {}).items())))
        if key not in answered:
            response = self._send(method, url, service, headers, params, json, data, read_only)
            if response.status_code != 200:
                return response
            answered[key] = response
        return answered[key]

    def _send(
        self,
        method: str,
        url: str,
        service: str,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        read_only: bool,
    ) -> httpx.Response:
        target, params = _with_query(self.router.resolve(url), params)
        parts = urlsplit(url)
        where = f"{method} {parts.netloc}{parts.path}"
        may_repeat = read_only or method in _IDEMPOTENT
        give_up_at = (_GIVE_UP_AT.get() or {}).get(self, math.inf)
        for attempt in range(1, self._max_attempts + 1):
            self._pace(give_up_at, f"{service} asks to wait before {where}")
            started = self._clock()
            if started >= give_up_at:
                raise self.error(f"{service} was not asked {where}: no time was left for it")
            self.request_count += 1
            try:
                response = self._client.request(
                    method,
                    target,
                    headers=headers,
                    params=params,
                    json=json,
                    data=data,
                    timeout=self._timeout_until(give_up_at, started),
                )
            except httpx.TransportError as error:
                # A refused connection never reached the service, so even a POST may be sent again.
                if attempt == self._max_attempts or not (may_repeat or isinstance(error, httpx.ConnectError)):
                    said = self.redact(f"{service} did not answer {where} ({type(error).__name__})")
                    raise (MicrosoftError if isinstance(error, _NEVER_SENT) else Unanswered)(said) from None
                backoff = self._backoff * 2 ** (attempt - 1)
                retrying = f"{service}: {where} failed ({type(error).__name__}), retrying"
                self._wait(backoff, give_up_at, f"{service} did not answer {where}", retrying=retrying)
                continue
            log.debug(
                "%s %s -> %s in %.0f ms",
                service,
                where,
                response.status_code,
                1000 * (self._clock() - started),
            )
            self._note_rate_limit(response)
            status = response.status_code
            if status in _TRANSIENT and not may_repeat:
                raise Unanswered(self.redact(f"{service} answered HTTP {status} to {where}"))
            if status not in _THROTTLED and status not in _TRANSIENT:
                return response
            if attempt == self._max_attempts:
                raise self.error(f"{service} answered HTTP {status} to {where} {attempt} times; giving up")
            wait = _retry_after(response, self._wall_clock) or self._backoff * 2 ** (attempt - 1)
            if wait > self._max_wait:
                raise self.error(
                    f"{service} asks to wait {wait:.0f} s before retrying {where}; try again later"
                )
            retrying = f"{service}: HTTP {status} for {where}, retrying in {wait:.1f} s"
            self._wait(wait, give_up_at, f"{service} answered HTTP {status} to {where}", retrying=retrying)
        raise AssertionError("unreachable: the loop returns or raises")

    def error(self, message: str) -> MicrosoftError:
        return MicrosoftError(self.redact(message))

    def _pace(self, give_up_at: float, why: str) -> None:
        delay = self._not_before - self._clock()
        if delay > 0:
            self._wait(min(delay, self._max_wait), give_up_at, why)

    def _wait(self, seconds: float, give_up_at: float, why: str, *, retrying: str = "") -> None:
        """Sleep `seconds`, or fail at once if that would leave no time before `give_up_at` for what follows
        (`giving_up_after`). Logged: the give-up, or `retrying` (a retry's own line) when it does wait."""
        if self._clock() + seconds >= give_up_at:
            error = self.error(f"{why}; waiting {seconds:.0f} s more would take longer than this call may")
            log.warning("%s; giving up", error)
            raise error
        if retrying:
            log.warning("%s", retrying)
        self._sleep(seconds)

    def _timeout_until(self, give_up_at: float, now: float) -> httpx.Timeout | httpx._client.UseClientDefault:
        """The attempt's timeout: what is left before `give_up_at`, when less than the session's own."""
        left = give_up_at - now
        own = self._client.timeout
        if all(limit is not None and limit <= left for limit in (own.connect, own.read, own.write, own.pool)):
            return httpx.USE_CLIENT_DEFAULT
        return httpx.Timeout(left)

    def _note_rate_limit(self, response: httpx.Response) -> None:
        headers = response.headers
        delay = _float(headers.get("X-RateLimit-Delay"))
        if delay is not None and response.status_code not in _THROTTLED:
            self._not_before = max(self._not_before, self._clock() + delay)
        remaining, reset = (
            _float(headers.get("X-RateLimit-Remaining")),
            _float(headers.get("X-RateLimit-Reset")),
        )
        if remaining is not None and remaining <= 0 and reset is not None:
            self._not_before = max(self._not_before, self._clock() + max(0.0, reset - self._wall_clock()))


def _with_query(
    url: str, params: Mapping[str, str] | None
) -> tuple[httpx.URL | str, Mapping[str, str] | None]:
    """`url` parsed, with `params` as its query, encoded as httpx encodes them, and no params left to
    pass. Given a URL string and `params`, httpx parses the URL, then again with their query in it, each
    parse about a tenth of a request's client CPU; given a parsed URL and none, it parses nothing. A URL
    that has a query or a fragment already, and params too, is left to httpx (whose params replace that
    query)."""
    if params is None:
        return _parsed(url), None
    if "?" in url or "#" in url:
        return url, params
    return _parsed(f"{url}?{httpx.QueryParams(params)}" if params else url), None


@lru_cache(maxsize=512)
def _parsed(url: str) -> httpx.URL:
    """The same URL is asked for again and again (a migration's organization, its directory, the reads a
    look repeats); an `httpx.URL` is immutable."""
    return httpx.URL(url)


def _later_page(url: str, params: Mapping[str, str] | None) -> bool:
    names = [*(params or {}), *(name for name, _ in parse_qsl(urlsplit(url).query))]
    return any(name.casefold() in _CONTINUATIONS for name in names)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(response: httpx.Response, wall_clock: Callable[[], float]) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    seconds = _float(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - wall_clock())
    except (TypeError, ValueError):
        return None


def service_error(session: HttpSession, response: httpx.Response, what: str, service: str) -> MicrosoftError:
    """A `MicrosoftError` naming the service's own error code and message (redacted)."""
    detail = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            detail = f"{error.get('code', '')}: {error.get('message', '')}"
        elif isinstance(error, str):
            description = str(body.get("error_description") or "").splitlines()
            detail = f"{error}: {description[0] if description else ''}"
        elif "message" in body:
            detail = str(body["message"])
    return session.error(f"{service} refused {what}: HTTP {response.status_code} {detail}".rstrip(": "))


def error_code(response: httpx.Response) -> str:
    """The code of a Microsoft error body: `{"error": {"code": ...}}` (Graph, Resource Manager, Bot
    Framework) or the OAuth token endpoint's `{"error": "invalid_client"}`; empty when there is none."""
    error = _error(response)
    if isinstance(error, dict):
        return str(error.get("code") or "")
    return str(error or "")


def error_message(response: httpx.Response) -> str:
    """The message of a Microsoft error body, `{"error": {"message": ...}}`: where one code covers
    several refusals (a Teams 403), it says which; empty when there is none."""
    error = _error(response)
    return str(error.get("message") or "") if isinstance(error, dict) else ""


def _error(response: httpx.Response) -> object:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def rejected_token(response: httpx.Response) -> bool:
    """Graph and Resource Manager refusing the bearer token itself (expired, revoked): ask for a fresh one."""
    return response.status_code == 401 and error_code(response) == "InvalidAuthenticationToken"


def segment(value: str, *, safe: str = "") -> str:
    """`value` as one URL path segment: percent-encoded, and never `.` or `..`, which would climb the path."""
    if value.strip() in ("", ".", ".."):
        raise MicrosoftError(f"{value!r} cannot name anything in a Microsoft URL")
    return quote(value, safe=safe)
