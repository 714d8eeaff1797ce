"""What a process imports before it does its work: each `aadbot` command only its own libraries.

Every `aadbot serve` restart, every sandbox and every sending process pays its imports in CPU before it
serves anything (seconds for the database, Slack's and the Teams SDK's libraries together); the checks run
in new processes, as the test process has imported everything already.
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import REGISTERED_BY, build_parser
from tests.conftest import IMPORTED_AT_COLLECTION

ROOT = Path(__file__).resolve().parents[1]


def _choices(parser: argparse.ArgumentParser) -> set[str]:
    (commands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return set(commands.choices)


def _imported_after(code: str, watched: set[str]) -> set[str]:
    """Which of the `watched` packages are imported once `code` has run in a new interpreter."""
    found = f"[name for name in {sorted(watched)!r} if name in sys.modules]"
    check = f"{code}\nimport json, sys\nprint(json.dumps({found}))"
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout))


def test_every_command_is_registered_by_the_module_named_for_it() -> None:
    assert _choices(build_parser()) == set(REGISTERED_BY)
    for command, module in REGISTERED_BY.items():
        alone = _choices(build_parser(command))
        assert command in alone
        assert {REGISTERED_BY[other] for other in alone} == {module}, command


def test_a_command_imports_neither_the_database_nor_slack_before_it_runs() -> None:
    heavy = {"sqlalchemy", "storage", "slack_bolt", "aiohttp", "msal", "faq", "microsoft_teams", "jwt"}
    assert _imported_after("import bot.cli; bot.cli.build_parser('sandbox')", heavy) == set()
    assert _imported_after("import bot.cli; bot.cli.build_parser('serve')", heavy | {"uvicorn"}) == set()


def test_sending_and_serving_slack_import_no_token_checking_and_no_emulator() -> None:
    """The Teams SDK's token validator (with PyJWT and cryptography) is for serving Teams' endpoint, the
    sandbox for `AADBOT_SANDBOX`; the benchmark's sending processes and Slack's `serve` need neither."""
    code = "import bot.teams.surface, bot.slack.serve, bot.serve, bot.runtime"
    unused = {"microsoft_teams.apps", "jwt", "cryptography", "sandbox", "bot.doctor"}
    assert _imported_after(code, unused) == set()
    validator = "import bot.teams.auth; bot.teams.auth.load_validator()"
    assert _imported_after(validator, {"microsoft_teams.apps", "jwt"}) == {"microsoft_teams.apps", "jwt"}


def test_the_slack_app_is_made_without_reading_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """bolt names an unnamed app after its caller's file by reading the source of every frame."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.app import create_app

    def refused() -> None:
        raise AssertionError("inspect.stack() was called")

    monkeypatch.setattr(inspect, "stack", refused)
    app = create_app(conversation=object(), client=AsyncWebClient(token="xoxb-test"), signing_secret="s")  # type: ignore[arg-type]
    assert app.name == "aadbot"


def test_collecting_the_tests_imports_no_teams_sdk(pytestconfig: pytest.Config) -> None:
    """Every test process collects every test file, so a test module that imports the Teams SDK at the top
    costs every one of them its import (0.3 s of CPU for the cards, 2 s for the whole SDK): Teams tests
    import it inside the tests that use it."""
    imported = pytestconfig.stash[IMPORTED_AT_COLLECTION]
    assert sorted(name for name in imported if name.split(".")[0] == "microsoft_teams") == []
