"""`from_environment`: live credentials, a running sandbox, or a sandbox started in-process."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from msapi._auth import AppCredential
from msapi._clients import MicrosoftClients, Progress
from msapi._http import HttpSession
from msapi._routing import Router
from workflows.directory import MicrosoftError

# The sandbox accepts any non-empty credentials; these stand in when none are configured.
_SANDBOX_PAT = "sandbox-pat"
_SANDBOX_CLIENT_ID = "aadbot-sandbox"
_SANDBOX_SECRET = "sandbox-secret"


def from_environment(environ: Mapping[str, str], *, progress: Progress | None = None) -> MicrosoftClients:
    """Clients configured from the environment.

    `AADBOT_SANDBOX` (a scenario file: the emulator starts in-process) or `AADBOT_SANDBOX_URL`
    (a running emulator); otherwise live: `AZURE_DEVOPS_PAT`, `AZURE_CLIENT_ID`, and
    `AZURE_CLIENT_SECRET` or `AZURE_CLIENT_CERTIFICATE_PATH` (+ `AZURE_CLIENT_CERTIFICATE_PASSWORD`);
    optional `AZURE_TENANT_ID`, `AADBOT_TOKEN_CACHE` (default `~/.cache/aadbot/msal-token-cache.json`).
    """
    scenario = environ.get("AADBOT_SANDBOX", "").strip()
    url = environ.get("AADBOT_SANDBOX_URL", "").strip()
    if scenario:
        from sandbox import Sandbox, ScenarioError

        try:
            box = Sandbox(scenario).start()
        except ScenarioError as error:
            raise MicrosoftError(f"AADBOT_SANDBOX={scenario}: invalid scenario: {error}") from None
        tenant = str(box.state()["tenant"]["id"])
        return _sandbox_clients(environ, box.url, tenant, progress, box.stop)
    if url:
        if not url.startswith(("http://", "https://")):
            raise MicrosoftError(f"AADBOT_SANDBOX_URL={url!r} is not an http(s) URL")
        return _sandbox_clients(environ, url, environ.get("AZURE_TENANT_ID") or None, progress, None)
    return _live_clients(environ, progress)


def _sandbox_clients(
    environ: Mapping[str, str],
    url: str,
    tenant: str | None,
    progress: Progress | None,
    on_close: Callable[[], None] | None,
) -> MicrosoftClients:
    app = AppCredential(
        client_id=environ.get("AZURE_CLIENT_ID") or _SANDBOX_CLIENT_ID,
        client_secret=environ.get("AZURE_CLIENT_SECRET") or _SANDBOX_SECRET,
    )
    return MicrosoftClients(
        HttpSession(Router(url)),
        pat=environ.get("AZURE_DEVOPS_PAT") or _SANDBOX_PAT,
        app=app,
        default_tenant=tenant,
        progress=progress,
        on_close=on_close,
    )


def _live_clients(environ: Mapping[str, str], progress: Progress | None) -> MicrosoftClients:
    missing = [name for name in ("AZURE_DEVOPS_PAT", "AZURE_CLIENT_ID") if not environ.get(name)]
    secret = environ.get("AZURE_CLIENT_SECRET") or None
    certificate_path = environ.get("AZURE_CLIENT_CERTIFICATE_PATH") or None
    if not secret and not certificate_path:
        missing.append("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH")
    if missing:
        raise MicrosoftError(
            "missing environment variables: "
            + ", ".join(missing)
            + " (or set AADBOT_SANDBOX to a scenario file to use the emulator)"
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
    cache = Path(
        environ.get("AADBOT_TOKEN_CACHE") or Path.home() / ".cache" / "aadbot" / "msal-token-cache.json"
    )
    return MicrosoftClients(
        HttpSession(),
        pat=environ["AZURE_DEVOPS_PAT"],
        app=app,
        token_cache=cache,
        default_tenant=environ.get("AZURE_TENANT_ID") or None,
        progress=progress,
    )
