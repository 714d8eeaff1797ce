"""`from_environment`: live credentials, a running sandbox, or a sandbox started in-process."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from msapi._auth import AppCredential
from msapi._clients import MicrosoftClients, Progress
from msapi._device import DeviceSignIn
from msapi._http import HttpSession
from msapi._routing import Router
from workflows.directory import MicrosoftError

# The sandbox accepts any non-empty credentials; these stand in when none are configured.
_SANDBOX_PAT = "sandbox-pat"
_SANDBOX_CLIENT_ID = "aadbot-sandbox"
_SANDBOX_SECRET = "sandbox-secret"
_CACHE_FOLDER = Path.home() / ".cache" / "aadbot"
_AUTH_MODES = ("app", "device")


def from_environment(environ: Mapping[str, str], *, progress: Progress | None = None) -> MicrosoftClients:
    """Clients configured from the environment.

    `AADBOT_SANDBOX` (a scenario file: the emulator starts in-process) or `AADBOT_SANDBOX_URL`
    (a running emulator); otherwise live: `AZURE_DEVOPS_PAT`, `AZURE_CLIENT_ID`, and
    `AZURE_CLIENT_SECRET` or `AZURE_CLIENT_CERTIFICATE_PATH` (+ `AZURE_CLIENT_CERTIFICATE_PASSWORD`);
    optional `AADBOT_TOKEN_CACHE` (default `~/.cache/aadbot/msal-token-cache.json`). The tenant comes with
    each call (`start`, `--tenant`); `AZURE_TENANT_ID` is where a device sign-in signs in, and where `serve`
    checks the app's sign-in at start (`bot.app_sign_in`).
    `AZURE_AUTH=device` uses the person `aadbot signin` signed in (`AZURE_USERNAME` picks one of
    several) for Graph and ARM instead of the app's secret or certificate.
    """
    device = _auth_mode(environ) == "device"
    url, tenant, on_close = _sandbox(environ)
    if url is None:
        return _live_clients(environ, progress, device=device)
    try:
        session = HttpSession(Router(url))
        signin = _signin(environ, session, tenant, sandbox=True) if device else None
        app = None
        if signin is None:
            app = AppCredential(
                client_id=environ.get("AZURE_CLIENT_ID") or _SANDBOX_CLIENT_ID,
                client_secret=environ.get("AZURE_CLIENT_SECRET") or _SANDBOX_SECRET,
            )
        return MicrosoftClients(
            session,
            pat=environ.get("AZURE_DEVOPS_PAT") or _SANDBOX_PAT,
            app=app,
            signin=signin,
            progress=progress,
            on_close=on_close,
        )
    except BaseException:
        if on_close is not None:
            on_close()
        raise


@contextlib.contextmanager
def signin_from_environment(
    environ: Mapping[str, str], *, tenant: str | None = None, client_id: str | None = None
) -> Iterator[DeviceSignIn]:
    """A device-code sign-in for `aadbot signin`, against the sandbox or the live identity platform.

    `tenant` and `client_id` default to `AZURE_TENANT_ID` and `AZURE_CLIENT_ID` (the sandbox's own
    tenant and a stand-in client id when it is in use).
    """
    url, sandbox_tenant, on_close = _sandbox(environ)
    try:
        tenant = tenant or environ.get("AZURE_TENANT_ID") or sandbox_tenant
        if not tenant:
            raise MicrosoftError("give --tenant (a tenant id or verified domain) or set AZURE_TENANT_ID")
        client_id = client_id or environ.get("AZURE_CLIENT_ID") or (_SANDBOX_CLIENT_ID if url else None)
        if not client_id:
            raise MicrosoftError(
                "give --client-id or set AZURE_CLIENT_ID: an app registration with "
                "'Allow public client flows' on"
            )
        with HttpSession(Router(url)) as session:
            yield DeviceSignIn(
                client_id,
                tenant,
                session,
                _cache_path(environ, sandbox=url is not None),
                username=environ.get("AZURE_USERNAME") or None,
            )
    finally:
        if on_close is not None:
            on_close()


def _sandbox(environ: Mapping[str, str]) -> tuple[str | None, str | None, Callable[[], None] | None]:
    """(sandbox URL, its tenant if known, how to stop it); all None for the live services."""
    scenario = environ.get("AADBOT_SANDBOX", "").strip()
    url = environ.get("AADBOT_SANDBOX_URL", "").strip()
    if scenario:
        from sandbox import Sandbox, ScenarioError

        try:
            box = Sandbox(scenario).start()
        except ScenarioError as error:
            raise MicrosoftError(f"AADBOT_SANDBOX={scenario}: invalid scenario: {error}") from None
        return box.url, str(box.state()["tenant"]["id"]), box.stop
    if (problem := _sandbox_url_problem(url)) is not None:
        raise MicrosoftError(problem)
    return (url or None), (environ.get("AZURE_TENANT_ID") or None), None


def _sandbox_url_problem(url: str) -> str | None:
    if url and not url.startswith(("http://", "https://")):
        return f"AADBOT_SANDBOX_URL={url!r} is not an http(s) URL"
    return None


def environment_problems(environ: Mapping[str, str]) -> list[str]:
    """Everything `from_environment` would refuse in `environ`, in its words, all at once: `serve` names
    them with its other settings rather than one per start."""
    found: list[str] = []
    try:
        _auth_mode(environ)
    except MicrosoftError as error:
        found.append(str(error))
    if (problem := _sandbox_url_problem(environ.get("AADBOT_SANDBOX_URL", "").strip())) is not None:
        found.append(problem)
    if (missing := missing_credentials(environ)) is not None:
        found.append(missing)
    return found


def _auth_mode(environ: Mapping[str, str]) -> str:
    mode = (environ.get("AZURE_AUTH") or "app").strip().casefold()
    if mode not in _AUTH_MODES:
        raise MicrosoftError(
            f"AZURE_AUTH={environ.get('AZURE_AUTH')!r} is not one of {', '.join(_AUTH_MODES)}: "
            "app uses the app registration's secret or certificate, device the account `aadbot signin` saved"
        )
    return mode


def _cache_path(environ: Mapping[str, str], *, sandbox: bool) -> Path:
    # The sandbox's sign-ins get a file of their own: msal would mix them with live accounts.
    default = "sandbox-msal-token-cache.json" if sandbox else "msal-token-cache.json"
    return Path(environ.get("AADBOT_TOKEN_CACHE") or _CACHE_FOLDER / default)


def _signin(
    environ: Mapping[str, str], session: HttpSession, tenant: str | None, *, sandbox: bool
) -> DeviceSignIn:
    client_id = environ.get("AZURE_CLIENT_ID") or (_SANDBOX_CLIENT_ID if sandbox else "")
    return DeviceSignIn(
        client_id,
        tenant or "organizations",
        session,
        _cache_path(environ, sandbox=sandbox),
        username=environ.get("AZURE_USERNAME") or None,
    )


def missing_credentials(environ: Mapping[str, str]) -> str | None:
    """What the live services lack among `environ`'s credentials, as `from_environment` would say it; None
    when nothing is missing, or when an emulator stands in for them."""
    if environ.get("AADBOT_SANDBOX", "").strip() or environ.get("AADBOT_SANDBOX_URL", "").strip():
        return None
    device = (environ.get("AZURE_AUTH") or "").strip().casefold() == "device"
    missing = [name for name in ("AZURE_DEVOPS_PAT", "AZURE_CLIENT_ID") if not environ.get(name)]
    if (
        not device
        and not environ.get("AZURE_CLIENT_SECRET")
        and not environ.get("AZURE_CLIENT_CERTIFICATE_PATH")
    ):
        missing.append("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH")
    if not missing:
        return None
    return (
        "missing environment variables: "
        + ", ".join(missing)
        + " (or set AADBOT_SANDBOX to a scenario file to use the emulator)"
    )


def _live_clients(environ: Mapping[str, str], progress: Progress | None, *, device: bool) -> MicrosoftClients:
    missing = missing_credentials(environ)
    if missing is not None:
        raise MicrosoftError(missing)
    secret = environ.get("AZURE_CLIENT_SECRET") or None
    certificate_path = environ.get("AZURE_CLIENT_CERTIFICATE_PATH") or None
    session = HttpSession()
    if device:
        return MicrosoftClients(
            session,
            pat=environ["AZURE_DEVOPS_PAT"],
            signin=_signin(environ, session, environ.get("AZURE_TENANT_ID"), sandbox=False),
            progress=progress,
        )
    certificate = None
    if certificate_path and not secret:
        try:
            certificate = Path(certificate_path).read_bytes()
        except OSError as error:
            raise MicrosoftError(
                f"AZURE_CLIENT_CERTIFICATE_PATH={certificate_path}: cannot read it ({error.strerror})"
            ) from None
    app = AppCredential(
        client_id=environ["AZURE_CLIENT_ID"],
        client_secret=secret,
        certificate_pem=certificate,
        certificate_password=environ.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None,
    )
    return MicrosoftClients(
        session,
        pat=environ["AZURE_DEVOPS_PAT"],
        app=app,
        token_cache=_cache_path(environ, sandbox=False),
        progress=progress,
    )
