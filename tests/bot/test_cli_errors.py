"""What `aadbot` says when it cannot do what it was asked: one line naming the problem and the fix, the
contract's exit code (2 for arguments or input it cannot use), never an exception's class name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.cli import Aadbot, Finished

SCENARIO = Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json"
CLASS_NAMES = ("Error:", "Exception", "Traceback")
NOT_A_REHEARSAL = {"AADBOT_SANDBOX_URL": "http://127.0.0.1:9"}
"""A chat that uses AADBOT_DATABASE_URL: a rehearsal on the in-process sandbox keeps a database of its own.
Nothing listens there, and the database is refused before anything asks."""


def refused(finished: Finished, *reasons: str) -> str:
    """The one line `aadbot` wrote, once it is known to be a clean refusal with exit code 2."""
    lines = finished.stderr.strip().splitlines()
    assert finished.returncode == 2, finished
    assert len(lines) == 1, finished.stderr
    assert not any(name in lines[0] for name in CLASS_NAMES), lines[0]
    assert all(reason in lines[0] for reason in reasons), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("content", "reason"),
    [(bytes(range(256)), "not a text file"), (b"[" * 100_000 + b"]" * 100_000, "nested far deeper")],
    ids=["binary", "deeply-nested"],
)
def test_a_scenario_that_is_not_one_is_refused_naming_why(
    aadbot: Aadbot, tmp_path: Path, content: bytes, reason: str
) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_bytes(content)
    refused(aadbot("plan", "--scenario", str(scenario), "--connector", "dana@fabrikam.com"), reason)
    refused(aadbot("chat", "--as", "dana@fabrikam.com", "--scenario", str(scenario)), reason)


def test_a_scenario_file_that_is_not_there_is_refused(aadbot: Aadbot, tmp_path: Path) -> None:
    missing = str(tmp_path / "nonexistent.json")
    for command in (("chat", "--as", "dana@fabrikam.com"), ("plan", "--connector", "dana@fabrikam.com")):
        line = refused(
            aadbot(*command, "--scenario", missing), missing, "cannot read", "aadbot snapshot --out"
        )
        assert line.count(missing) == 1, line


def test_missing_microsoft_credentials_are_refused_naming_them(aadbot: Aadbot) -> None:
    """As missing Slack variables are: the fix is in the environment, not in aadbot."""
    finished = aadbot("chat", "--as", "dana@fabrikam.com", environment={"AZURE_TENANT_ID": "contoso.com"})
    refused(finished, "AZURE_DEVOPS_PAT", "AADBOT_SANDBOX")


@pytest.mark.parametrize("url", ["mysql://bot:hunter2@db.example/aadbot", "oracle+cx_oracle://db/aadbot"])
def test_a_database_aadbot_does_not_support_is_refused_naming_those_it_does(aadbot: Aadbot, url: str) -> None:
    environment = {"AADBOT_DATABASE_URL": url, **NOT_A_REHEARSAL}
    finished = aadbot("chat", "--as", "dana@fabrikam.com", environment=environment)
    line = refused(finished, "SQLite and PostgreSQL", "sqlite:///", "postgresql+psycopg://")
    assert "hunter2" not in line and "No module" not in line


def test_a_missing_database_driver_is_named_with_the_url_form_that_works(aadbot: Aadbot) -> None:
    environment = {"AADBOT_DATABASE_URL": "postgresql+psycopg2://bot@db.example/aadbot", **NOT_A_REHEARSAL}
    refused(aadbot("chat", "--as", "dana@fabrikam.com", environment=environment), "postgresql+psycopg://")


def test_output_piped_into_a_reader_that_leaves_ends_quietly() -> None:
    """`aadbot plan --json | head`: the reader is gone before aadbot writes; nothing more to say."""
    command = [sys.executable, "-m", "bot.cli", "plan", "--scenario", str(SCENARIO)]
    command += ["--connector", "dana@fabrikam.com", "--json"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        errors = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0, errors
    assert errors == ""


def test_the_plan_still_reaches_a_reader_that_stays(aadbot: Aadbot) -> None:
    finished = aadbot("plan", "--scenario", str(SCENARIO), "--connector", "dana@fabrikam.com", "--json")
    assert finished.returncode == 0
    assert json.loads(finished.stdout)["organization"]


def test_chat_as_something_that_is_no_email_address_is_refused_like_the_consoles_as(aadbot: Aadbot) -> None:
    finished = aadbot("chat", "--as", "notanemail")
    assert finished.returncode == 2 and finished.stdout == "", finished
    assert "argument --as: takes an email address, not `notanemail`: --as ann@fabrikam.com" in finished.stderr
