"""The HTTP layer: routing, retries, throttling, timeouts and redaction, against the sandbox over loopback."""

from __future__ import annotations

import inspect
import logging
import socket
from typing import Any

import httpx
import pytest

from msapi import (
    CookielessAsyncClient,
    HttpSession,
    MicrosoftError,
    Redactor,
    Router,
    error_code,
    error_message,
    odata_string,
)
from msapi._cookieless import CookielessClient
from msapi._http import rejected_token
from sandbox import Sandbox
from workflows.directory import Unanswered

HEAD = "https://vssps.dev.azure.com/fabrikam-fiber"


def _closed_port() -> int:
    """A port nothing listens on: the OS just handed it out, and it is closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _session(box: Sandbox, sleeps: list[float], opened: list[HttpSession], **options: float) -> HttpSession:
    session = HttpSession(Router(box.url), sleep=sleeps.append, **options)  # type: ignore[arg-type]
    opened.append(session)
    return session


def test_router_rewrites_real_hosts_only_for_a_sandbox() -> None:
    router = Router("http://127.0.0.1:9/")
    assert router.resolve("https://graph.microsoft.com/v1.0/users?$top=999") == (
        "http://127.0.0.1:9/graph.microsoft.com/v1.0/users?$top=999"
    )
    assert (
        router.resolve("http://127.0.0.1:9/graph.microsoft.com/v1.0/x")
        == "http://127.0.0.1:9/graph.microsoft.com/v1.0/x"
    )
    assert (
        Router().resolve("https://graph.microsoft.com/v1.0/users") == "https://graph.microsoft.com/v1.0/users"
    )
    with pytest.raises(ValueError, match="not a Microsoft service URL"):
        router.resolve("ftp://example.com/x")


def test_odata_string_doubles_quotes() -> None:
    assert odata_string("O'Brien@x.com") == "'O''Brien@x.com'"
    assert odata_string("''") == "''''''"


def test_redactor_hides_registered_secrets_and_credential_shapes() -> None:
    redact = Redactor()
    redact.add("pat-1234-secret")
    text = redact(
        "failed with pat-1234-secret; Authorization: Bearer eyJ0eXAi.abc.def; client_secret=hunter22&x=1"
    )
    assert "pat-1234-secret" not in text and "eyJ0eXAi" not in text and "hunter22" not in text
    assert "x=1" in text


def test_429_waits_for_retry_after_then_succeeds(box: Sandbox, sessions: list[HttpSession]) -> None:
    box.set_faults(sequence=[429, 429], retry_after=2.5)
    sleeps: list[float] = []
    response = _session(box, sleeps, sessions).request("HEAD", HEAD, service="Azure DevOps")
    assert response.headers["X-VSS-ResourceTenant"] == "00000000-0000-0000-0000-000000000000"
    assert sleeps == [2.5, 2.5]
    assert box.request_counts()["vssps.dev.azure.com"] == 3


def test_retries_are_bounded(box: Sandbox, sessions: list[HttpSession]) -> None:
    box.set_faults(rate_429=1.0, retry_after=1)
    sleeps: list[float] = []
    with pytest.raises(
        MicrosoftError, match=r"answered HTTP 429 to HEAD vssps\.dev\.azure\.com/fabrikam-fiber 3 times"
    ):
        _session(box, sleeps, sessions, max_attempts=3).request("HEAD", HEAD, service="Azure DevOps")
    assert sleeps == [1.0, 1.0]
    assert box.request_counts()["vssps.dev.azure.com"] == 3


def test_retry_after_longer_than_the_limit_is_not_waited(box: Sandbox, sessions: list[HttpSession]) -> None:
    box.set_faults(sequence=[429], retry_after=600)
    sleeps: list[float] = []
    with pytest.raises(MicrosoftError, match="asks to wait 600 s"):
        _session(box, sleeps, sessions, max_wait=60).request("HEAD", HEAD, service="Azure DevOps")
    assert sleeps == []


def test_server_errors_are_retried_with_backoff_only_when_safe(
    box: Sandbox, sessions: list[HttpSession]
) -> None:
    box.set_faults(sequence=[500, 500])
    sleeps: list[float] = []
    session = _session(box, sleeps, sessions, backoff=0.25)
    assert session.request("HEAD", HEAD, service="Azure DevOps").status_code == 404
    assert sleeps == [0.25, 0.5]
    box.set_faults(sequence=[504])
    with pytest.raises(Unanswered) as unanswered:  # not a refusal: the invitation may have been sent
        session.request("POST", "https://graph.microsoft.com/v1.0/invitations", service="Graph", json={})
    assert str(unanswered.value) == "Graph answered HTTP 504 to POST graph.microsoft.com/v1.0/invitations"
    assert sleeps == [0.25, 0.5]  # and not repeated


def test_a_slow_answer_times_out_and_is_retried() -> None:
    attempts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        if len(attempts) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(404, headers={"X-VSS-ResourceTenant": "t"})

    sleeps: list[float] = []
    with HttpSession(sleep=sleeps.append, transport=httpx.MockTransport(answer)) as session:
        response = session.request("HEAD", HEAD, service="Azure DevOps")
        assert response.status_code == 404 and len(sleeps) == 1 and attempts == ["HEAD", "HEAD"]
        attempts.clear()
        with pytest.raises(Unanswered, match=r"did not answer POST graph\.microsoft\.com/v1\.0/invitations"):
            session.request("POST", "https://graph.microsoft.com/v1.0/invitations", service="Graph", json={})
        assert attempts == ["POST"]  # the invitation may have gone out: not sent twice, and said so


def test_unreachable_service_is_a_clear_error() -> None:
    sleeps: list[float] = []
    session = HttpSession(Router(f"http://127.0.0.1:{_closed_port()}"), sleep=sleeps.append, max_attempts=2)
    with (
        session,
        pytest.raises(
            MicrosoftError, match=r"Azure DevOps did not answer HEAD vssps\.dev\.azure\.com/fabrikam-fiber"
        ),
    ):
        session.request("HEAD", HEAD, service="Azure DevOps")
    assert len(sleeps) == 1


def test_a_post_that_never_reached_the_service_is_no_lost_answer() -> None:
    """Refused connections are tried again even for a POST; when they run out, nothing was done."""

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        HttpSession(
            sleep=lambda seconds: None, transport=httpx.MockTransport(refused), max_attempts=2
        ) as session,
        pytest.raises(MicrosoftError, match="did not answer POST") as failed,
    ):
        session.request("POST", "https://graph.microsoft.com/v1.0/invitations", service="Graph", json={})
    assert not isinstance(failed.value, Unanswered)


def test_within_giving_up_after_an_attempt_times_out_and_waits_only_within_the_time_left() -> None:
    """The watch's early looks (`workflows.service.MigrationService.look_early`): a slow answer is cut at
    the time left, and a `Retry-After` or back-off that would use it all up is not waited."""
    now = [1000.0]
    sleeps: list[float] = []
    timeouts: list[dict[str, float]] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    def answer(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        now[0] += 1
        return httpx.Response(429, headers={"Retry-After": "4"})

    session = HttpSession(sleep=sleep, clock=lambda: now[0], transport=httpx.MockTransport(answer))
    with session.giving_up_after(12), session.giving_up_after(60):  # the earlier moment holds
        with pytest.raises(
            MicrosoftError,
            match=r"^Azure DevOps answered HTTP 429 to HEAD vssps\.dev\.azure\.com/fabrikam-fiber;"
            r" waiting 4 s more would take longer than this call may$",
        ):
            session.request("HEAD", HEAD, service="Azure DevOps")
        assert sleeps == [4.0, 4.0]  # at 1001 and 1006; at 1011, 4 s more would end past 1012
        assert [timeout["read"] for timeout in timeouts] == [12.0, 7.0, 2.0]
        timeouts.clear()
    with session, pytest.raises(MicrosoftError, match=r"answered HTTP 429 to .* 5 times; giving up$"):
        session.request("HEAD", HEAD, service="Azure DevOps")  # outside it: the session's own timeout
    assert [timeout["read"] for timeout in timeouts] == [30.0] * 5


def test_a_retry_given_up_for_want_of_time_is_logged_as_given_up_not_as_retrying(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """rev47 finding 4: the log said "retrying in 5.0 s" just before the call gave up without retrying."""
    now = [1000.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    throttled = httpx.MockTransport(lambda request: httpx.Response(429, headers={"Retry-After": "4"}))
    session = HttpSession(sleep=sleep, clock=lambda: now[0], transport=throttled)
    caplog.set_level(logging.WARNING, logger="msapi")
    with session, session.giving_up_after(10), pytest.raises(MicrosoftError):
        # waits at 1000 and 1004; at 1008, 4 s more would end past 1010
        session.request("HEAD", HEAD, service="Azure DevOps")
    retrying = "Azure DevOps: HTTP 429 for HEAD vssps.dev.azure.com/fabrikam-fiber, retrying in 4.0 s"
    assert caplog.messages == [
        retrying,
        retrying,
        "Azure DevOps answered HTTP 429 to HEAD vssps.dev.azure.com/fabrikam-fiber; waiting 4 s more would"
        " take longer than this call may; giving up",
    ]


def test_azure_devops_rate_limit_headers_pace_the_next_request() -> None:
    now = [1000.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"X-RateLimit-Delay": "1.5", "X-RateLimit-Resource": "ATCPU"})

    session = HttpSession(sleep=sleep, clock=lambda: now[0], transport=httpx.MockTransport(answer))
    with session:
        session.request("GET", "https://vsaex.dev.azure.com/o/_apis/userentitlements", service="Azure DevOps")
        session.request("GET", "https://vsaex.dev.azure.com/o/_apis/userentitlements", service="Azure DevOps")
    assert sleeps == [1.5]

    def exhausted(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1710000030"})

    paced = HttpSession(
        sleep=sleep,
        clock=lambda: now[0],
        wall_clock=lambda: 1710000000.0,
        transport=httpx.MockTransport(exhausted),
    )
    with paced:
        paced.request("GET", "https://vsaex.dev.azure.com/o/x", service="Azure DevOps")
        paced.request("GET", "https://vsaex.dev.azure.com/o/x", service="Azure DevOps")
    assert sleeps == [1.5, 30.0]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            b'{"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}',
            "InvalidAuthenticationToken",
        ),
        (b'{"error": "invalid_client", "error_description": "AADSTS7000215"}', "invalid_client"),  # OAuth
        (b'{"error": {"message": "no code"}}', ""),
        (b'["error"]', ""),
        (b"<html>Bad gateway</html>", ""),
        (b"", ""),
    ],
)
def test_the_code_of_a_microsoft_error_body_in_each_shape(body: bytes, code: str) -> None:
    assert error_code(httpx.Response(400, content=body)) == code


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"error": {"code": "ServiceError", "message": "Failure due to: AclCheckFailed."}}',
            "Failure due to: AclCheckFailed.",
        ),
        (b'{"error": "invalid_client", "error_description": "AADSTS7000215"}', ""),  # OAuth: no message
        (b'{"error": {"code": "Forbidden"}}', ""),
        (b"<html>Forbidden</html>", ""),
    ],
)
def test_the_message_of_a_microsoft_error_body_in_each_shape(body: bytes, message: str) -> None:
    assert error_message(httpx.Response(403, content=body)) == message


def test_only_a_401_naming_the_token_asks_for_a_fresh_one() -> None:
    rejected = b'{"error": {"code": "InvalidAuthenticationToken"}}'
    assert rejected_token(httpx.Response(401, content=rejected))
    assert not rejected_token(httpx.Response(403, content=rejected))  # the token is fine, the rights are not
    assert not rejected_token(
        httpx.Response(401, content=b'{"error": {"code": "InvalidAuthenticationTokenTenant"}}')
    )
    assert not rejected_token(httpx.Response(401, content=b"Unauthorized"))


_PARAMS: list[dict[str, Any] | None] = [
    None,
    {"scope": ["openid", "profile"], "prompt": None, "validate": True, "n": 3},  # msal's params, untyped
    {"api-version": "7.1-preview.1", "top": "100"},
    {"$filter": "userPrincipalName eq 'ann o''neil@fabrikam.com' and startswith(mail, 'a+b')"},
    {"$select": "id,mail", "q": "é & ü / ? # = %20 ;"},
    {},
]


@pytest.mark.parametrize("params", _PARAMS)
@pytest.mark.parametrize(
    "url",
    [
        "https://graph.microsoft.com/v1.0/users",
        "https://vsaex.dev.azure.com/fabrikam-fiber/_apis/userentitlements/a%2Fb",
        "https://graph.microsoft.com/v1.0/users?$top=999",  # a query of its own: params replace it
    ],
)
def test_parameters_reach_the_service_as_httpx_itself_encodes_them(
    url: str, params: dict[str, Any] | None
) -> None:
    """The session puts the parameters into the URL itself and parses it (once, kept for the next request
    alike, not twice a request): what the service gets is byte for byte what httpx sends given the same URL
    and parameters."""
    sent: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        return httpx.Response(200, json={})

    with HttpSession(transport=httpx.MockTransport(answer)) as session:
        for _ in range(2):  # the second time, the URL parsed before
            session.request("GET", url, service="Graph", params=params)
    expected = httpx.Request("GET", url, params=params).url
    assert [str(url) for url in sent] == [str(expected)] * 2
    assert [url.raw_path for url in sent] == [expected.raw_path] * 2


def test_a_cookie_a_service_sets_is_never_sent_back() -> None:
    """Each request carries its own credentials, and one session serves several people: what a service
    set for one request does not ride along on the next."""
    cookies: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        cookies.append(request.headers.get("Cookie"))
        return httpx.Response(200, headers={"Set-Cookie": "VstsSession=someone; Path=/"}, json={})

    with HttpSession(transport=httpx.MockTransport(answer)) as session:
        for _ in range(2):
            session.request("GET", f"{HEAD}/_apis/connectionData", service="Azure DevOps")
    assert cookies == [None, None]


@pytest.mark.parametrize(
    ("cookieless", "client"),
    [(CookielessClient, httpx.Client), (CookielessAsyncClient, httpx.AsyncClient)],
)
def test_the_cookieless_clients_take_httpxs_arguments_as_mypy_sees_them(
    cookieless: type[httpx.Client | httpx.AsyncClient], client: type[httpx.Client | httpx.AsyncClient]
) -> None:
    """mypy checks a call against the first `__init__` of the class's bases: one taking `**options` let
    `CookielessAsyncClient(timout=10.0)` pass it, though httpx refuses it when run."""
    assert inspect.signature(cookieless) == inspect.signature(client)
    with pytest.raises(TypeError, match="timout"):
        cookieless(timout=10.0)  # type: ignore[call-arg]
    assert len(cookieless().cookies) == 0
