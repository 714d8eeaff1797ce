"""`aadbot serve`, started as an operator starts it, tells the operator what is wrong and the fix: settings it
cannot serve with stop it at start (exit 2, one line), never a server that answers /healthz and fails every
request; a Slack it cannot reach costs a line per request, not a traceback and a 500."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.operator_log import slack_identity
from bot.slack.app import RATE_LIMIT_RETRIES, build_web_client
from tests.fakes.cli import Finished
from tests.fakes.serve_process import serve_database, serve_process, serve_until_it_exits
from tests.fakes.slack_api import Failure, FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.socket_harness import APP_TOKEN

SCENARIO = Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json"


@pytest.fixture
def fake(fake_slack: FakeSlack) -> FakeSlack:
    """The test process's fake Slack (tests/slack/conftest.py), as new."""
    return fake_slack


@pytest.fixture
def unreachable() -> Iterator[str]:
    """An API URL where nothing answers: a port bound, so nobody else takes it, but never listening."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}/api/"


def unconfigured() -> dict[str, str]:
    """The test process's environment without any of aadbot's settings."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "AADBOT_", "AZURE_", "TEAMS_"))
    }


def served_until_it_exits(folder: Path, fake: FakeSlack, **variables: str) -> Finished:
    """`serve` over HTTP on port 0 with the bundled scenario, the fake Slack and `variables` over them."""
    environment: Mapping[str, str] = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("SLACK_", "AADBOT_"))},
        "AADBOT_SANDBOX": str(SCENARIO),
        "AADBOT_DATABASE_URL": serve_database(folder, None),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": f"{fake.url}/api/",
        **variables,
    }
    return serve_until_it_exits(environment, folder, "--port", "0")


@pytest.mark.parametrize("code", ["invalid_auth", "token_revoked", "account_inactive", "not_authed"])
def test_a_bot_token_slack_refuses_stops_serve_with_the_fix(
    tmp_path: Path, fake: FakeSlack, code: str
) -> None:
    fake.fail("auth.test", Failure(error=code))
    finished = served_until_it_exits(tmp_path, fake)
    assert finished.returncode == 2, finished.stderr
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith(f"aadbot: Slack refused SLACK_BOT_TOKEN in auth.test ({code})"), finished.stderr
    assert "OAuth & Permissions" in last
    assert BOT_TOKEN not in finished.stderr + finished.stdout
    assert "Traceback" not in finished.stderr


def test_a_database_serve_cannot_write_stops_serve_with_its_path_and_the_fix(
    tmp_path: Path, fake: FakeSlack, sqlite_template: Path
) -> None:
    """It started and answered /healthz with ok, then failed every command with a traceback (walk27)."""
    url = f"sqlite:///file:{sqlite_template}?mode=ro&uri=true"
    finished = served_until_it_exits(tmp_path, fake, AADBOT_DATABASE_URL=url)
    assert finished.returncode == 2, finished.stderr
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith("aadbot: Cannot write to the database sqlite:///file"), finished.stderr
    assert str(sqlite_template) in last and "attempt to write a readonly database" in last
    assert "listening" not in finished.stdout
    assert "Traceback" not in finished.stderr


def test_a_database_address_that_never_answers_stops_serve_within_the_connect_timeout(
    tmp_path: Path, fake: FakeSlack
) -> None:
    """Something that takes the connection and says nothing (another service, a proxy whose server is gone):
    serve waited psycopg's default 130 s per address, silent, and a test's serve held the suite (rev41). The
    URL's own timeout here (psycopg's shortest, 2 s); the default's (`CONNECT_SECONDS`) is
    tests/storage/test_schema.py's."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes each connection; nobody ever accepts or answers one
        port = silent.getsockname()[1]
        url = f"postgresql+psycopg://aadbot:s3cret-pw@127.0.0.1:{port}/aadbot?connect_timeout=2"
        finished = served_until_it_exits(tmp_path, fake, AADBOT_DATABASE_URL=url)
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.strip().splitlines()[-1] == (
        f"aadbot: Cannot open the database postgresql+psycopg://aadbot:***@127.0.0.1:{port}/aadbot?"
        f"connect_timeout=2: no answer within 2 s. Check that 127.0.0.1:{port} is the PostgreSQL server and"
        " that it is up: an address that accepts connections but never answers is another service, or a"
        " proxy or firewall holding them. On a slow link allow longer with connect_timeout=SECONDS in"
        " AADBOT_DATABASE_URL."
    ), finished.stderr
    assert "s3cret-pw" not in finished.stderr + finished.stdout
    assert "listening" not in finished.stdout and "Traceback" not in finished.stderr


def test_in_socket_mode_a_slack_it_cannot_reach_stops_serve_naming_what_to_open(
    tmp_path: Path, fake: FakeSlack, sqlite_template: Path, unreachable: str
) -> None:
    finished = served_until_it_exits(
        tmp_path,
        fake,
        AADBOT_DATABASE_URL=serve_database(tmp_path, sqlite_template),
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=unreachable,
    )
    assert finished.returncode == 2, finished.stderr
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith("aadbot: Cannot reach Slack to open the Socket Mode link (ClientConnectorError")
    assert "outbound HTTPS to slack.com" in last and "wss-primary.slack.com" in last and "HTTPS_PROXY" in last
    assert "failed unexpectedly" not in finished.stderr and "Traceback" not in finished.stderr


def test_over_http_a_slack_it_cannot_reach_costs_a_line_per_request_and_slack_retries_events(
    tmp_path: Path, fake: FakeSlack, sqlite_template: Path, unreachable: str
) -> None:
    """A slash command is told so (Slack never sends one again); an event or a click gets a 503, so that
    Slack sends the event again once it is reachable (a 200 dropped it for good). The four requests go at
    once: each waits out the client's retries of the connection (about 2.5 s, `ERROR_RETRIES`)."""
    with serve_process(
        "http", fake, tmp_path, migrated=sqlite_template, environment={"SLACK_API_URL": unreachable}
    ) as served:
        log = len(served.log_text())
        dm = {"type": "message", "channel_type": "im", "channel": "D1", "user": "UADMIN", "text": "status"}
        with ThreadPoolExecutor(4) as requests:
            commands = [requests.submit(served.drive.command, "status") for _ in range(2)]
            event = requests.submit(served.drive.event, dm | {"ts": "1.000200"})
            click = requests.submit(served.drive.click, "status", "status")
            for command in commands:
                ack = command.result()
                assert ack.status_code == 200 and ack.payload is not None
                assert (
                    "I cannot reach Slack" in ack.payload["text"]
                    and ack.payload["response_type"] == "ephemeral"
                )
            assert event.result().status_code == 503
            assert click.result().status_code == 503
        said = served.log_text()[log:]
    assert not served.tracebacks(), served.tracebacks()
    errors = [line for line in said.splitlines() if line.startswith("ERROR")]
    told = [line for line in errors if "a slash command was told so and dropped" in line]
    retried = [line for line in errors if "answered 503 for Slack to send again" in line]
    assert len(told) == 2 and len(retried) == 2 and len(errors) == 4, said
    assert told[0].startswith("ERROR bot.slack.app: Slack did not answer (ClientConnectorError)"), told
    assert all("outbound HTTPS to slack.com" in line for line in errors), errors
    assert " 500 " not in said


def test_every_missing_or_unusable_setting_is_named_in_one_message(tmp_path: Path) -> None:
    """Before, one at a time: each fix revealed the next. No Slack variable at all also says that Teams
    alone needs none."""
    finished = serve_until_it_exits(
        {**unconfigured(), "AADBOT_POLL_SECONDS": "soon", "AADBOT_SANDBOX": str(tmp_path / "nope.json")},
        tmp_path,
        "--port",
        "0",
    )
    assert finished.returncode == 2, finished.stderr
    said = finished.stderr[finished.stderr.index("aadbot: ") :]
    assert said.startswith("aadbot: 4 settings to fix:\n- "), said
    for named in (
        "AADBOT_POLL_SECONDS='soon' is not a number",
        f"AADBOT_SANDBOX={tmp_path / 'nope.json'}: there is no such file. Set AADBOT_SANDBOX to a scenario",
        "SLACK_BOT_TOKEN is not set",
        "To serve Microsoft Teams alone, set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID instead",
        "SLACK_SIGNING_SECRET is not set",
    ):
        assert named in said, said
    assert "listening" not in finished.stdout and "Traceback" not in finished.stderr


def test_without_an_emulator_the_missing_microsoft_credentials_are_named_with_the_rest(
    tmp_path: Path,
) -> None:
    finished = serve_until_it_exits(
        {**unconfigured(), "SLACK_BOT_TOKEN": "xoxp-user"}, tmp_path, "--port", "0"
    )
    assert finished.returncode == 2, finished.stderr
    said = finished.stderr[finished.stderr.index("aadbot: ") :]
    assert said.startswith("aadbot: 3 settings to fix:\n- "), said
    assert "starting with xoxb-" in said and "SLACK_SIGNING_SECRET is not set" in said
    assert "missing environment variables: AZURE_DEVOPS_PAT, AZURE_CLIENT_ID" in said
    assert "Teams alone" not in said  # a Slack variable is set: Slack is meant


def test_the_microsoft_and_database_settings_are_named_with_the_rest(tmp_path: Path, fake: FakeSlack) -> None:
    """Before, AZURE_AUTH and AADBOT_DATABASE_URL were refused only once the others were fixed (walk32)."""
    finished = served_until_it_exits(
        tmp_path,
        fake,
        AADBOT_POLL_SECONDS="abc",
        AZURE_AUTH="foo",
        AADBOT_DATABASE_URL="nosuch://x",
        AADBOT_SANDBOX="",  # the live services: their credentials are named too
    )
    assert finished.returncode == 2, finished.stderr
    said = finished.stderr[finished.stderr.index("aadbot: ") :]
    assert said.startswith("aadbot: 4 settings to fix:\n- "), said
    for named in (
        "AADBOT_POLL_SECONDS='abc' is not a number",
        "Cannot use the database URL nosuch://x: aadbot supports SQLite and PostgreSQL only",
        "AZURE_AUTH='foo' is not one of app, device",
        "missing environment variables: AZURE_DEVOPS_PAT, AZURE_CLIENT_ID",
    ):
        assert named in said, said
    assert "listening" not in finished.stdout and "Traceback" not in finished.stderr


@pytest.mark.parametrize(
    ("failure", "warned"),
    [
        (Failure(status=429, retry_after=0), "Slack is rate limiting auth.test (429): serving goes on"),
        (Failure(status=503), "Slack did not answer auth.test (HTTP 503 from Slack or a proxy on the way)"),
        (
            Failure(status=502, page="<html><body>502 Bad Gateway</body></html>"),
            "Slack did not answer auth.test (HTTP 502 from Slack or a proxy on the way)",
        ),
    ],
)
def test_an_auth_test_slack_does_not_answer_for_now_warns_and_serving_goes_on(
    fake: FakeSlack, caplog: pytest.LogCaptureFixture, failure: Failure, warned: str
) -> None:
    """Only a token Slack refuses stops serve: a 5xx (an HTML page from a proxy too) was "Slack refused
    auth.test (unknown_error): check SLACK_BOT_TOKEN", and a 503 carrying invalid_auth stopped serve."""
    fake.fail("auth.test", *[failure] * (RATE_LIMIT_RETRIES + 1))  # more than the client retries

    async def asked() -> None:
        await slack_identity(build_web_client(BOT_TOKEN, base_url=f"{fake.url}/api/"))

    asyncio.run(asked())  # raising SettingsError is what stops serve
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(warned), warnings
    assert "SLACK_BOT_TOKEN" not in warnings[0]
