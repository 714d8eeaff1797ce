"""`aadbot serve`, started as an operator starts it, refuses settings it cannot serve with at start: exit 2
and one line naming the problem and its fix, never a server that answers /healthz and fails every request."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.fakes.cli import Finished
from tests.fakes.serve_process import serve_database, serve_until_it_exits
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import Failure, FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, SIGNING_SECRET

SCENARIO = Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    with ServerThread(fake.asgi()) as server:
        fake.url = server.url
        yield fake


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
