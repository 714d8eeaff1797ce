"""`aadbot serve` with TEAMS_APP_ID: the real command, talked to the way Teams does, beside Slack."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import tests.fakes.serve_process as serve_process_module
from bot.settings import SettingsError
from bot.teams.settings import TeamsSettings
from sandbox import Sandbox
from storage import Database
from tests.fakes.serve_process import (
    SERVES_OWN_STOP,
    ServedSlack,
    outbox_of,
    queue_dms,
    serve_database,
    serve_process,
    serve_until_it_exits,
)
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, texts
from tests.fakes.socket_harness import APP_TOKEN
from tests.fakes.socket_mode import FakeSocketMode
from tests.teams.conftest import APP_ID
from tests.teams.serving import OWN_PREFIXES, ServedTeams, teams_serve, teams_through

if TYPE_CHECKING:
    from tests.fakes.cli import Aadbot

WAIT = 30.0
SCENARIO = Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json"
TENANT = "7b1e3c44-2a5d-4f0e-9c61-0d8e5a3f2b19"


def test_teams_settings_name_the_variable_and_the_fix() -> None:
    assert TeamsSettings.from_environment({}) is None
    with pytest.raises(SettingsError, match="TEAMS_APP_ID"):
        TeamsSettings.from_environment({"TEAMS_APP_ID": "my-bot"})
    with pytest.raises(SettingsError, match="TEAMS_APP_PASSWORD") as both:
        TeamsSettings.from_environment({"TEAMS_APP_ID": APP_ID})
    assert [problem.split(" ")[0] for problem in both.value.problems] == [
        "TEAMS_APP_PASSWORD",
        "TEAMS_TENANT_ID",
    ]
    with pytest.raises(SettingsError, match="TEAMS_TENANT_ID"):
        TeamsSettings.from_environment({"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": "s"})
    registration = {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": "s", "TEAMS_TENANT_ID": TENANT}
    for domain in ("fabrikam.onmicrosoft.com", "t", f"{{{TENANT}}}"):  # Teams names tenants by their id
        with pytest.raises(SettingsError) as refused:
            TeamsSettings.from_environment({**registration, "TEAMS_TENANT_ID": domain})
        assert str(refused.value) == (
            f"TEAMS_TENANT_ID={domain!r} is not a tenant id: copy the Directory (tenant) ID, a GUID, from"
            " the Overview page of Microsoft Entra ID in the Entra admin center (a domain such as"
            " contoso.onmicrosoft.com will not do: Teams names the tenant of every message by its id)."
        )
    with pytest.raises(SettingsError, match="AADBOT_TEAMS_TENANT_RATE='fast' is not a number"):
        TeamsSettings.from_environment({**registration, "AADBOT_TEAMS_TENANT_RATE": "fast"})
    settings = TeamsSettings.from_environment({**registration, "AADBOT_TEAMS_TENANT_RATE": "20"})
    assert settings is not None and settings.tenant_rate == 20.0


def test_every_unusable_teams_setting_is_named_in_one_message_when_serve_starts(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """Before, Teams' settings stopped `serve` at the first: each fix revealed the next, as Slack's and
    Azure's once did. A wrong Slack setting beside them is named in the same message."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(OWN_PREFIXES)}
    env |= {
        "AADBOT_SANDBOX": str(SCENARIO),
        "AADBOT_DATABASE_URL": serve_database(tmp_path, sqlite_template),
        "TEAMS_APP_ID": "my-bot",
        "TEAMS_TENANT_ID": "fabrikam.onmicrosoft.com",  # a domain: Teams names a message's tenant by its id
        "AADBOT_TEAMS_TENANT_RATE": "fast",
        "AADBOT_PUBLIC_URL": "aadbot.example.com",
        "SLACK_BOT_TOKEN": "xoxp-user",
        "SLACK_SIGNING_SECRET": "secret",
    }
    finished = serve_until_it_exits(env, tmp_path, "--port", "0")
    assert finished.returncode == 2, finished.stderr
    said = finished.stderr[finished.stderr.index("aadbot: ") :]
    named = [line.removeprefix("- ").split(":")[0].split(" ")[0] for line in said.splitlines()[1:]]
    assert said.startswith("aadbot: 6 settings to fix:\n- "), said
    assert named == [
        "TEAMS_APP_ID='my-bot'",
        "TEAMS_APP_PASSWORD",
        "TEAMS_TENANT_ID='fabrikam.onmicrosoft.com'",
        "AADBOT_TEAMS_TENANT_RATE='fast'",
        "AADBOT_PUBLIC_URL='aadbot.example.com'",
        "SLACK_BOT_TOKEN",
    ], said
    assert "listening" not in finished.stdout and "Traceback" not in finished.stderr


@pytest.mark.parametrize(
    "bad",
    [
        {  # a certificate (which nothing reads) instead of a password, a tenant's domain, a URL's host
            "TEAMS_APP_CERTIFICATE_PATH": "/etc/bot.pem",
            "TEAMS_TENANT_ID": "not a tenant!",
            "AADBOT_PUBLIC_URL": "aadbot.example.com",
        },
        {
            "TEAMS_APP_PASSWORD": "s",
            "AADBOT_PUBLIC_URL": "aadbot.example.com",
            "AADBOT_TEAMS_TENANT_RATE": "fast",
        },
    ],
)
def test_doctor_and_serve_refuse_the_same_teams_settings_in_the_same_words(
    bad: dict[str, str], tmp_path: Path, sqlite_template: Path, aadbot: Aadbot
) -> None:
    """`doctor` once kept its own Teams checks: it passed settings `serve` refused and failed ones it took.
    `serve` is the real process (refusing to start is its point); `doctor` runs in this process, its
    settings read the same way (tests/fakes/cli.py), without an interpreter's start and imports."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(OWN_PREFIXES)}
    settings = {"AADBOT_SANDBOX": str(SCENARIO), "TEAMS_APP_ID": APP_ID, "TEAMS_TENANT_ID": TENANT, **bad}
    served = serve_until_it_exits(
        env | settings | {"AADBOT_DATABASE_URL": serve_database(tmp_path, sqlite_template)},
        tmp_path,
        "--port",
        "0",
    )
    assert served.returncode == 2, served.stderr
    refused = [line.removeprefix("- ") for line in served.stderr.splitlines() if line.startswith("- ")]
    doctor = aadbot(
        "doctor", "--org", "fabrikam-fiber", "--tenant", "fabrikam.com", "--json", environment=settings
    )
    assert doctor.returncode == 1, doctor.stderr
    [teams] = [check for check in json.loads(doctor.stdout)["checks"] if check["code"] == "teams-settings"]
    assert teams["status"] == "fail" and teams["message"] == " ".join(refused), (teams, served.stderr)
    assert len(refused) >= 2


def test_aadbot_serve_speaks_teams_and_slack_in_one_process(teams_beside_slack: ServedTeams) -> None:
    served = teams_beside_slack
    assert httpx.get(f"{served.url}/healthz", timeout=10).status_code == 200
    assert httpx.post(f"{served.url}/slack/events", data={"command": "/aad"}, timeout=10).status_code == 401
    assert httpx.post(f"{served.url}/api/messages", json={"type": "message"}, timeout=10).status_code == 401
    before = len(served.activities())
    served.say("dana@fabrikam.com", "help all")  # all: another test may have started a migration
    assert any("start ORG TENANT" in str(entry["attachments"]) for entry in served.activities()[before:])


def test_slack_in_socket_mode_and_teams_serve_from_one_process_and_stop_cleanly(
    tmp_path: Path, box: Sandbox, sqlite_template: Path
) -> None:
    """The link to Slack is opened inside the running loop even beside Teams' HTTP server (issue #9).

    A list queued once it runs, with nothing to wake its outbox worker (as `notify` queues one from another
    process), is sent at the worker's next idle look: the one test of `run_forever(OUTBOX_IDLE_SECONDS)`
    in `serve` (up to 2 s, spent after the turns below, which wake the worker). Stopped (SIGTERM) while
    Slack holds the answer to that DM, it closes the link and stops listening, lets that send finish and
    records it, and exits 0 with a clean log, as Slack alone does
    (tests/slack/test_slack_serve_stopping.py)."""
    # the test's own sandbox (not one inside serve), so that the test can play Teams through it
    teams = {**teams_through(box), "AADBOT_SANDBOX": "", **SERVES_OWN_STOP}  # a send is let finish
    fake = FakeSlack(users={"UDANA": ("dana@fabrikam.com", "Dana Owner")})
    with (
        ServerThread(fake.asgi()) as server,
        FakeSocketMode() as socket,
    ):
        fake.url = server.url
        with serve_process(
            "socket", fake, tmp_path, socket=socket, environment=teams, migrated=sqlite_template
        ) as served:
            assert served.url is not None
            ack = served.drive.command("help all", user="UDANA")
            assert ack.status_code == 200
            fake.wait_for(lambda slack: len(slack.responses) > 0, WAIT)
            assert "`start ORG TENANT`" in texts(fake.responses[0])

            registration = {"endpoint": f"{served.url}/api/messages", "appId": APP_ID}
            httpx.post(f"{box.url}/_sandbox/teams/bot", json=registration, timeout=10).raise_for_status()
            sent = httpx.post(
                f"{box.url}/_sandbox/teams/message",
                json={"from": "dana@fabrikam.com", "text": "help all", "channel": True},
                timeout=60,
            ).json()
            assert sent["status"] == 200
            log = httpx.get(f"{box.url}/_sandbox/teams/activities", timeout=10).json()
            assert any("start ORG TENANT" in str(entry["attachments"]) for entry in log), log
            said = [line for line in served.log_text().splitlines() if line.startswith("INFO aadbot.serve: ")]
            assert said[1:3] == [
                "INFO aadbot.serve: Slack: Socket Mode (SLACK_APP_TOKEN)",
                f"INFO aadbot.serve: Teams: on, app {APP_ID}, at POST /api/messages",
            ]
            assert (
                "WARNING aadbot.serve: AADBOT_PUBLIC_URL is not set: Teams download links (CSV files)"
                f" point at {served.url}, where serve listens;"
            ) in served.log_text()

            answer = fake.held = threading.Event()  # Slack holds its answer to Dana's list
            queue_dms(served.database_url, ["dana@fabrikam.com"])
            fake.wait_for(lambda slack: len(slack.posts_to("DUDANA")) == 1, WAIT)
            served.process.send_signal(signal.SIGTERM)
            ServedSlack(served, fake, socket, []).taking_no_new_work()  # the link and Teams' endpoint
            answer.set()
            assert served.ended() == 0
            assert served.unclean() == [], served.log_text()
            assert served.log_text().count("INFO aadbot.serve: stopped (SIGTERM)") == 1
            (message,) = outbox_of(served.database_url)
            assert (message.status, message.in_flight) == ("sent", False)
            assert len(fake.posts_to("DUDANA")) == 1


def test_a_refused_app_token_stops_serve_beside_teams_as_it_does_alone(
    tmp_path: Path, box: Sandbox, sqlite_template: Path
) -> None:
    """The Socket Mode link runs beside Teams' server as a background task: its refusal must end `serve`
    with the same one line and exit code as Slack alone, not leave it waiting with nothing logged."""
    fake = FakeSlack()  # no Socket Mode links: apps.connections.open says invalid_auth
    with ServerThread(fake.asgi()) as server:
        env = {key: value for key, value in os.environ.items() if not key.startswith(OWN_PREFIXES)}
        env |= teams_through(box) | {
            "AADBOT_SANDBOX": "",
            "AADBOT_DATABASE_URL": serve_database(tmp_path, sqlite_template),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": f"{server.url}/api/",
        }
        finished = serve_until_it_exits(env, tmp_path, "--port", "0")
    assert finished.returncode == 2, finished.stderr
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith("aadbot: Slack refused SLACK_APP_TOKEN (invalid_auth)"), finished.stderr
    assert "Traceback" not in finished.stderr
    assert APP_TOKEN not in finished.stderr + finished.stdout


def test_a_wrong_bot_secret_stops_serve_at_start_naming_the_setting(
    tmp_path: Path, box: Sandbox, sqlite_template: Path
) -> None:
    """Entra refuses the bot's token (AADSTS7000215): serve stops with exit 2 and what to change, never the
    secret, as it does for a Slack token Slack refuses; left running it answered nobody (walk38)."""
    wrong = "wrong-secret-Value~0123456789abcdef"
    # the bot registered in this Teams, as `sandbox-secret`: so Entra refuses any other
    registration = {"endpoint": "http://127.0.0.1:9/api/messages", "appId": APP_ID}
    httpx.post(f"{box.url}/_sandbox/teams/bot", json=registration, timeout=10).raise_for_status()
    env = {key: value for key, value in os.environ.items() if not key.startswith(OWN_PREFIXES)}
    env |= teams_through(box) | {
        "AADBOT_SANDBOX": "",
        "AADBOT_DATABASE_URL": serve_database(tmp_path, sqlite_template),
        "TEAMS_APP_PASSWORD": wrong,
    }
    finished = serve_until_it_exits(env, tmp_path, "--port", "0")
    tenant = str(box.state()["tenant"]["id"])
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.strip().splitlines()[-1] == (
        "aadbot: Microsoft Entra ID refused the Teams bot's sign-in (AADSTS7000215): TEAMS_APP_PASSWORD is"
        f" not a current client secret of app {APP_ID} in tenant {tenant}, so the bot can send nothing. In"
        " the Entra admin center, App registrations > that app > Certificates & secrets, create a client"
        " secret, set TEAMS_APP_PASSWORD to its Value (not its Secret ID) and restart."
    )
    assert "ERROR " not in finished.stderr  # said once, as the reason it stopped
    assert wrong not in finished.stderr + finished.stdout and "Traceback" not in finished.stderr


def _entra(error: dict[str, str], *statuses: int) -> Starlette:
    """Entra's token endpoint answering each request with the next of `statuses` (the last repeats): a
    token for 200, else `error`."""
    left = list(statuses)

    async def token(_: Request) -> JSONResponse:
        status = left.pop(0) if len(left) > 1 else left[0]
        if status == 200:
            return JSONResponse({"access_token": "token", "expires_in": 3600})
        return JSONResponse(error, status)

    return Starlette(routes=[Route("/{path:path}", token, methods=["POST"])])


REFUSED_SECRET = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret ..."}


@pytest.mark.parametrize(
    ("status", "error", "said"),
    [
        (
            401,
            REFUSED_SECRET,
            "Microsoft Entra ID refused the Teams bot's sign-in (AADSTS7000215): TEAMS_APP_PASSWORD is not a"
            f" current client secret of app app-id in tenant {TENANT}, so the bot can send nothing.",
        ),
        (
            400,
            {"error": "unauthorized_client", "error_description": "AADSTS700016: Application ... not found"},
            "Microsoft Entra ID refused the Teams bot's sign-in (AADSTS700016): TEAMS_APP_ID app-id is not an"
            f" enabled app registration in tenant {TENANT} (TEAMS_TENANT_ID), so the bot can send nothing.",
        ),
        (
            400,
            {"error": "invalid_request", "error_description": "AADSTS90002: Tenant ... not found."},
            "Microsoft Entra ID refused the Teams bot's sign-in (AADSTS90002): check TEAMS_APP_ID (app-id)"
            f" and TEAMS_TENANT_ID ({TENANT}): the bot can send nothing until Entra accepts them.",
        ),
    ],
)
def test_credentials_entra_refuses_at_start_stop_serve_naming_the_setting(
    sqlite_database: Database, status: int, error: dict[str, str], said: str
) -> None:
    """Entra's own refusal (an OAuth error code) is a verdict on the settings: at the first attempt, no
    migration under way, `teams_identity` raises SettingsError, which stops serve with exit 2 (bot.cli),
    naming what to change."""
    from bot import operator_log
    from bot.teams.connector import TeamsApi

    with ServerThread(_entra(error, status)) as entra:
        api = TeamsApi(TeamsSettings("app-id", "secret", TENANT, sandbox_url=entra.url), sqlite_database)

        async def sign_in() -> None:
            try:
                await operator_log.teams_identity(api, lambda: 0, sleep=_no_wait)
            finally:
                await api.aclose()

        with pytest.raises(SettingsError) as stopped:
            asyncio.run(sign_in())
    assert str(stopped.value).startswith(said)


async def _no_wait(_: float) -> None:
    """Waits nothing: the test's retries run at once."""


@pytest.mark.parametrize(
    ("status", "error", "shown"),
    [(503, {}, "503"), (429, {}, "429"), (403, {}, "403")],  # a 403 with no OAuth code: a proxy's page
)
def test_entra_giving_no_verdict_at_start_warns_and_signs_in_again_until_it_does(
    sqlite_database: Database,
    caplog: pytest.LogCaptureFixture,
    status: int,
    error: dict[str, str],
    shown: str,
) -> None:
    """No verdict on the credentials: one warning, serving goes on, and the sign-in is tried again (Entra
    answers on the third try here) until it is signed in, or refused
    (tests/teams/test_teams_refused_sign_in.py)."""
    from bot import operator_log
    from bot.teams.connector import TeamsApi

    waited: list[float] = []

    async def wait(seconds: float) -> None:
        waited.append(seconds)

    with (
        ServerThread(_entra(error, status, status, 200)) as served,
        caplog.at_level(logging.INFO, logger="aadbot.serve"),
    ):
        api = TeamsApi(TeamsSettings("app-id", "secret", TENANT, sandbox_url=served.url), sqlite_database)

        async def sign_in() -> None:
            try:
                await operator_log.teams_identity(api, lambda: 0, sleep=wait, again_after=(30.0, 60.0))
            finally:
                await api.aclose()

        asyncio.run(sign_in())
    assert waited == [30.0, 60.0]
    assert [f"{record.levelname} {record.getMessage()}" for record in caplog.records] == [
        f"WARNING Microsoft Entra ID did not answer the Teams bot's sign-in ({shown}): serving goes on, and"
        " the sign-in is tried again in 30 s, then every few minutes; if it lasts, check that"
        " login.microsoftonline.com is reachable from here (HTTPS_PROXY)",
        "INFO Teams: app app-id signed in to Microsoft Entra ID",
    ]


def test_a_secret_refused_while_serving_is_logged_once_and_every_send_fails(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A secret that expires or is removed after start: serve goes on (Slack beside it may serve), each
    call fails, and the operator is told what to change once, not at every send."""
    from bot.teams.connector import SignInRefused, TeamsApi

    with ServerThread(_entra(REFUSED_SECRET, 401)) as entra, caplog.at_level(logging.ERROR):
        api = TeamsApi(
            TeamsSettings("app-id", "secret", TENANT, sandbox_url=entra.url), sqlite_database, paced=False
        )

        async def two_look_ups() -> None:
            try:
                for _ in range(2):
                    with pytest.raises(SignInRefused):
                        await api.person("dana@fabrikam.com")
            finally:
                await api.aclose()

        asyncio.run(two_look_ups())
    (told,) = caplog.records
    assert told.getMessage().startswith("Microsoft Entra ID refused the Teams bot's sign-in (AADSTS7000215)")


def test_each_look_of_the_watch_forgets_what_is_past_remembering() -> None:
    """Teams' kept click answers are pruned on the watch's timer, not only when an activity comes."""
    from bot.serve import _watch_forever

    class Quiet:
        def watch(self) -> list[object]:
            return []

    forgotten = threading.Event()

    async def one_look() -> bool:
        watching = asyncio.ensure_future(_watch_forever(Quiet(), {}, 3600.0, forgotten.set))
        try:
            return await asyncio.to_thread(forgotten.wait, WAIT)
        finally:
            watching.cancel()

    assert asyncio.run(one_look())


def test_a_serve_that_never_says_it_listens_fails_the_test_in_the_bound_instead_of_holding_the_suite(
    tmp_path: Path, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its database's address takes the connection and never answers, for longer than the first line is
    waited for: `teams_serve` read that line with no bound, and held the whole run (rev41)."""
    monkeypatch.setattr(serve_process_module, "START_SECONDS", 1.0)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes each connection; nobody ever accepts or answers one
        port = silent.getsockname()[1]
        stuck = {
            "AADBOT_DATABASE_URL": f"postgresql+psycopg://aadbot@127.0.0.1:{port}/aadbot?connect_timeout=60"
        }
        with pytest.raises(AssertionError) as failure, teams_serve(box, tmp_path, environment=stuck):
            pass
    assert str(failure.value).startswith("`aadbot serve` said nothing in 1 s;"), failure.value
