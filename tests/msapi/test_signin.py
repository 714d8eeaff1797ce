"""Device-code sign-in through msal against the sandbox over real HTTP: polling, expiry, cache, CLI."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from msapi import DeviceSignIn, HttpSession, MicrosoftClients, MicrosoftError, Router, from_environment
from msapi._auth import ARM_SCOPE, GRAPH_SCOPE
from sandbox import Sandbox, parse_scenario
from tests.fakes.cli import Aadbot
from workflows.directory import InvitePermissionDenied

ROOT = Path(__file__).parents[2]
ORG = "fabrikam-fiber"
LOGIN = "login.microsoftonline.com"


class Clock:
    """A settable clock for the sandbox (epoch seconds) and for the client (monotonic seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox_clock() -> Clock:
    import time

    return Clock(time.time())


@pytest.fixture
def timed_box(fabrikam: dict[str, Any], sandbox_clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(parse_scenario(fabrikam), clock=sandbox_clock) as running:
        yield running


def _signin(
    box: Sandbox, cache: Path, opened: list[HttpSession], *, sleep: Any = None, clock: Any = None
) -> DeviceSignIn:
    session = HttpSession(Router(box.url), sleep=lambda seconds: None)
    opened.append(session)
    options: dict[str, Any] = {}
    if sleep is not None:
        options["sleep"] = sleep
    if clock is not None:
        options["clock"] = clock
    return DeviceSignIn("public-app", "fabrikam.com", session, cache, **options)


def _approve(box: Sandbox, user_code: str, user: str) -> httpx.Response:
    return httpx.post(f"{box.url}/_sandbox/device/approve", json={"user_code": user_code, "user": user})


def _cached_secrets(cache: Path) -> list[str]:
    data = json.loads(cache.read_text())
    return [
        str(item["secret"])
        for section in ("AccessToken", "RefreshToken", "IdToken")
        for item in data.get(section, {}).values()
    ]


def test_pending_then_approved_gives_a_token_and_a_private_cache(
    timed_box: Sandbox, tmp_path: Path, sessions: list[HttpSession], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cache = tmp_path / "cache" / "tokens.json"
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the person signs in while the bot waits for the second time
            assert _approve(timed_box, code.user_code, "lee@fabrikam.com").status_code == 200

    signin = _signin(timed_box, cache, sessions, sleep=sleep)
    code = signin.start()
    assert code.message.startswith("To sign in, use a web browser to open")
    assert code.user_code in code.message and code.verification_uri in code.message
    signed_in = signin.wait(code)
    assert waits == [5, 5]  # two pending answers, each followed by Entra's interval
    assert signed_in.username == "lee@fabrikam.com"
    assert signed_in.tenant_id == timed_box.state()["tenant"]["id"]
    assert signin.username() == "lee@fabrikam.com"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    secrets = _cached_secrets(cache)
    assert len(secrets) == 3  # access, refresh and ID token
    assert not any(secret in caplog.text for secret in secrets)
    assert code.flow["device_code"] not in caplog.text


def test_the_signed_in_person_reads_the_directory_and_the_cache_serves_later_runs(
    timed_box: Sandbox, tmp_path: Path, sessions: list[HttpSession]
) -> None:
    cache = tmp_path / "tokens.json"
    signin = _signin(timed_box, cache, sessions)
    code = signin.start()
    _approve(timed_box, code.user_code, "dana@fabrikam.com")
    signin.wait(code)
    timed_box.request_counts(reset=True)

    later = _signin(timed_box, cache, sessions)  # a new process: only the file is shared
    clients = MicrosoftClients(later.session, pat="pat", signin=later)
    snapshot = clients.snapshot(ORG, "fabrikam.com", "dana@fabrikam.com")
    assert (
        len(snapshot.directory_users) == 11 and snapshot.connector_roles == ()
    )  # read only when invites are limited to role holders
    assert snapshot.billing_subscription is not None
    # Graph's token came from the cache; Resource Manager's from the refresh token, once.
    assert timed_box.request_counts()[LOGIN] == 1
    later.token("fabrikam.com", ARM_SCOPE)
    later.token("fabrikam.com", GRAPH_SCOPE)
    assert timed_box.request_counts()[LOGIN] == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_a_code_nobody_uses_expires(
    timed_box: Sandbox, sandbox_clock: Clock, tmp_path: Path, sessions: list[HttpSession]
) -> None:
    def sleep(seconds: float) -> None:
        sandbox_clock.now += 901  # past Entra's 15 minutes, by the emulator's clock

    signin = _signin(timed_box, tmp_path / "c.json", sessions, sleep=sleep)
    code = signin.start()
    with pytest.raises(MicrosoftError, match="expired before it was used"):
        signin.wait(code)
    assert _approve(timed_box, code.user_code, "lee@fabrikam.com").status_code == 400
    assert not (tmp_path / "c.json").exists()


def test_the_client_stops_polling_at_the_expiry_by_its_own_clock(
    timed_box: Sandbox, tmp_path: Path, sessions: list[HttpSession]
) -> None:
    client_clock = Clock(1000.0)
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        client_clock.now += seconds

    signin = _signin(timed_box, tmp_path / "c.json", sessions, sleep=sleep, clock=client_clock)
    code = signin.start()
    timed_box.request_counts(reset=True)
    with pytest.raises(MicrosoftError, match="expired"):
        signin.wait(code)
    assert len(polls) == code.expires_in // code.interval - 1
    assert timed_box.request_counts()[LOGIN] == len(polls) + 1


def test_no_sign_in_yet_and_a_refused_sign_in(
    box: Sandbox, tmp_path: Path, sessions: list[HttpSession]
) -> None:
    signin = _signin(box, tmp_path / "none.json", sessions)
    assert signin.username() is None
    with pytest.raises(MicrosoftError, match=r"nobody has signed in.*aadbot signin"):
        signin.token("fabrikam.com", GRAPH_SCOPE)
    code = signin.start()
    assert _approve(box, code.user_code, "gus@fabrikam.com").status_code == 400  # disabled
    assert _approve(box, "NOPE", "lee@fabrikam.com").status_code == 404
    wrong_tenant = DeviceSignIn("public-app", "contoso.com", signin.session, None)
    with pytest.raises(MicrosoftError, match=r"does not know tenant 'contoso\.com'"):
        wrong_tenant.start()


def test_a_signed_in_person_invites_with_their_own_rights(
    fabrikam: dict[str, Any], served_box: Sandbox, tmp_path: Path, sessions: list[HttpSession]
) -> None:
    fabrikam["tenant"]["authorizationPolicy"]["allowInvitesFrom"] = "adminsAndGuestInviters"
    options = {"display_name": "Erin", "message": "Join", "redirect_url": "https://dev.azure.com/x"}
    box = served_box
    box.reset(parse_scenario(fabrikam))
    tenant = box.state()["tenant"]["id"]
    for user, allowed in (("lee@fabrikam.com", False), ("dana@fabrikam.com", True)):
        signin = _signin(box, tmp_path / f"{user}.json", sessions)
        code = signin.start()
        _approve(box, code.user_code, user)
        signin.wait(code)
        clients = MicrosoftClients(signin.session, pat="pat", signin=signin)
        if allowed:
            invitation = clients.invite_guest(tenant, email="erin@gmail.com", inviter=user, **options)
            assert invitation.invited_user_id
        else:
            with pytest.raises(InvitePermissionDenied):
                clients.invite_guest(tenant, email="erin@gmail.com", inviter=user, **options)


def test_from_environment_uses_the_signed_in_account(
    timed_box: Sandbox, tmp_path: Path, sessions: list[HttpSession]
) -> None:
    cache = tmp_path / "tokens.json"
    environ = {
        "AADBOT_SANDBOX_URL": timed_box.url,
        "AZURE_TENANT_ID": "fabrikam.com",
        "AZURE_AUTH": "device",
        "AZURE_CLIENT_ID": "public-app",
        "AADBOT_TOKEN_CACHE": str(cache),
    }
    with from_environment(environ) as clients, pytest.raises(MicrosoftError, match="nobody has signed in"):
        clients.tenant("fabrikam.com")
    signin = _signin(timed_box, cache, sessions)
    code = signin.start()
    _approve(timed_box, code.user_code, "lee@fabrikam.com")
    signin.wait(code)
    timed_box.request_counts(reset=True)
    with from_environment(environ) as clients:
        assert clients.tenant("fabrikam.com").display_name == "Fabrikam"
    assert LOGIN not in timed_box.request_counts()  # the cached delegated token, no app secret
    with pytest.raises(MicrosoftError, match="AZURE_AUTH='robot' is not one of app, device"):
        from_environment({**environ, "AZURE_AUTH": "robot"})
    with pytest.raises(MicrosoftError) as missing:
        from_environment({"AZURE_AUTH": "device", "AZURE_CLIENT_ID": "c"})
    assert "AZURE_DEVOPS_PAT" in str(missing.value) and "AZURE_CLIENT_SECRET" not in str(missing.value)


def test_signin_command_prints_microsofts_message_and_waits(
    fabrikam: dict[str, Any], tmp_path: Path, aadbot: Aadbot
) -> None:
    cache = tmp_path / "tokens.json"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AADBOT_"))},
        "AADBOT_TOKEN_CACHE": str(cache),
    }
    with Sandbox(parse_scenario(fabrikam), device_interval=1) as box:
        env["AADBOT_SANDBOX_URL"] = box.url
        command = [sys.executable, "-m", "bot.cli", "signin", "--tenant", "fabrikam.com"]
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        message = process.stdout.readline()
        assert message.startswith("To sign in, use a web browser to open")
        user_code = message.split("enter the code ")[1].split()[0]
        assert _approve(box, user_code, "lee@fabrikam.com").status_code == 200
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Signed in as lee@fabrikam.com" in out and str(cache) in out
    assert "/_sandbox/device/approve" in err
    printed = message + out + err
    assert not any(secret in printed for secret in _cached_secrets(cache))
    usage = aadbot("signin", environment={"AADBOT_TOKEN_CACHE": str(cache)})
    assert usage.returncode == 2 and "--tenant" in usage.stderr and "Traceback" not in usage.stderr


@pytest.mark.parametrize(
    "granted", [None, ["User.Read.All", "Organization.Read.All", "Policy.Read.All", "User.Invite.All"]]
)
def test_doctor_with_a_device_sign_in_checks_delegated_scopes_and_roles(
    fabrikam: dict[str, Any], sandbox_clock: Clock, tmp_path: Path, sessions: list[HttpSession], granted: Any
) -> None:
    if granted is not None:
        fabrikam["credentials"] = {"graph_delegated_scopes": granted}
    with Sandbox(parse_scenario(fabrikam), clock=sandbox_clock) as box:
        signin = _signin(box, tmp_path / "tokens.json", sessions)
        code = signin.start()
        _approve(box, code.user_code, "dana@fabrikam.com")
        signin.wait(code)
        checks = {
            c.code: c
            for c in MicrosoftClients(signin.session, pat="pat", signin=signin).doctor(ORG, "fabrikam.com")
        }
    assert checks["graph-invite"].status == "pass"
    if granted is None:
        assert checks["graph-roles"].status == "pass"
    else:  # without RoleManagement.Read.Directory the delegated role read is refused and named
        assert checks["graph-roles"].status == "fail"
        assert "RoleManagement.Read.Directory" in checks["graph-roles"].message
        assert "Delegated permissions" in checks["graph-roles"].fix
