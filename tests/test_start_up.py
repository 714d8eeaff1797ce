"""What a process imports before it does its work: each `aadbot` command only its own libraries.

Every `aadbot serve` restart, every sandbox and every sending process pays its imports in CPU before it
serves anything (seconds for the database, Slack's and the Teams SDK's libraries together); the checks run
in new processes, as the test process has imported everything already.
"""

from __future__ import annotations

import argparse
import inspect
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bot.cli import REGISTERED_BY, build_parser
from tests.conftest import IMPORTED_AT_COLLECTION

ROOT = Path(__file__).resolve().parents[1]


def _choices(command: str | None = None) -> set[str]:
    """The sub-commands `build_parser(command)` registers."""
    _, commands = build_parser(command)
    return set(commands)


HEAVY = {"sqlalchemy", "storage", "slack_bolt", "aiohttp", "msal", "faq", "microsoft_teams", "jwt", "uvicorn"}
"""What parsing a command's arguments must not import: the database, Slack, Microsoft's libraries."""
SERVING_ONLY = {"jwt", "cryptography", "sandbox", "bot.doctor"}
"""What sending and serving Slack never need: the token validator's PyJWT and cryptography serve Teams'
endpoint, the sandbox `AADBOT_SANDBOX`, the doctor its command."""
NEVER = {
    "microsoft_teams.apps",
    "microsoft_teams.api",
    "microsoft_teams.cards",
    "microsoft_teams.common",
    "fastapi",
    "dependency_injector",
}
"""What no command imports: the Teams SDK. Its token validator is vendored and its cards written as its card
models write them (bot/teams/cards.py); the SDK is in the `dev` extra only, for the tests that compare."""
ONE_MODE_ONLY = {"uvicorn", "slack_bolt.adapter.socket_mode"}
"""What `serve` imports only once it runs in the mode that uses it: the web server over HTTP (Slack's events,
Teams' endpoint), the Socket Mode link in Socket Mode."""
MIGRATING_ONLY = {"alembic", "mako", "pygments"}
"""What only migrating a database needs: Alembic with its templates (0.15 s of CPU at every start)."""
POSTGRESQL_ONLY = {"sqlalchemy.dialects.postgresql", "psycopg"}
"""What only a PostgreSQL database needs: SQLAlchemy's dialect (35 ms of CPU) and the driver."""
TOKENS_ONLY = {"msal", "requests"}
"""What only getting a Microsoft token needs: msal with requests (0.15 s of CPU), imported by the first token
(or a token cache file to read), not by making the clients every `serve` makes at start."""
FIXTURES_ONLY = {"httpx", "starlette", "slack_sdk"}
"""Libraries the tests' fixtures import, which the run's first process needs none of: httpx, the tests' and
the sandbox's HTTP client (90 ms of CPU), and the fake Slack's Starlette with Slack's SDK (150 ms)."""


def _imported_in_turn(*steps: str) -> list[set[str]]:
    """Which of `HEAVY`, `SERVING_ONLY`, `ONE_MODE_ONLY`, `NEVER`, `MIGRATING_ONLY`, `POSTGRESQL_ONLY`,
    `TOKENS_ONLY` and `FIXTURES_ONLY` are imported after each step, the steps run in turn in one new
    interpreter (the test process has imported everything already); each adds to what the ones before did."""
    watched = sorted(
        HEAVY
        | SERVING_ONLY
        | ONE_MODE_ONLY
        | NEVER
        | MIGRATING_ONLY
        | POSTGRESQL_ONLY
        | TOKENS_ONLY
        | FIXTURES_ONLY
    )
    lines = ["import json, sys"]
    for step in steps:
        lines += [step, f"print(json.dumps([name for name in {watched!r} if name in sys.modules]))"]
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [set(json.loads(line)) for line in done.stdout.splitlines()]


_SERVE_TEAMS_ALONE = f"""
import argparse, os, sys, types
# the token validator (PyJWT, cryptography) is loaded in a later step, after what Slack imports was read
sys.modules["bot.teams._token_validator"] = types.ModuleType("bot.teams._token_validator")
os.environ.pop("SLACK_BOT_TOKEN", None)
os.environ.update(TEAMS_APP_ID="{uuid.uuid4()}", TEAMS_APP_PASSWORD="secret")
os.environ.update(TEAMS_TENANT_ID="{uuid.uuid4()}")
os.environ.update(AZURE_DEVOPS_PAT="pat", AZURE_CLIENT_ID="app", AZURE_CLIENT_SECRET="secret")
from bot import serve
class Built(Exception): ...
def runtime(settings): raise Built
try: serve.run(argparse.Namespace(), slack_run=None, runtime=runtime)
except Built: pass
"""
"""`serve` with Teams and without Slack, up to building the runtime: everything it imports before it opens
the database."""


@pytest.fixture(scope="module")
def serving(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> list[set[str]]:
    """After parsing `serve`'s arguments, then serving Teams alone up to the runtime (its token validator a
    stand-in), then after importing what serves and sends Slack too, then after loading the validator, then
    after opening a database already at the newest revision, then after making the Microsoft clients with
    an app's secret and no token cache file yet."""
    folder = tmp_path_factory.mktemp("start-up")
    up_to_date = folder / "aadbot.db"
    shutil.copyfile(sqlite_template, up_to_date)
    live = {
        "AZURE_DEVOPS_PAT": "pat",
        "AZURE_CLIENT_ID": "app",
        "AZURE_CLIENT_SECRET": "secret",
        "AADBOT_TOKEN_CACHE": str(folder / "tokens.json"),
    }
    return _imported_in_turn(
        "import bot.cli; bot.cli.build_parser('serve')",
        _SERVE_TEAMS_ALONE,
        "import bot.teams.surface, bot.slack.serve, bot.serve, bot.runtime",
        "del sys.modules['bot.teams._token_validator']; import bot.teams.auth as a; a.load_validator()",
        f"from storage import open_database; open_database({f'sqlite:///{up_to_date}'!r}).dispose()",
        f"from msapi import from_environment; from_environment({live!r}).close()",
    )


def test_every_command_is_registered_by_the_module_named_for_it() -> None:
    assert _choices() == set(REGISTERED_BY)
    for command, module in REGISTERED_BY.items():
        alone = _choices(command)
        assert command in alone
        assert {REGISTERED_BY[other] for other in alone} == {module}, command


def test_a_command_imports_neither_the_database_nor_slack_before_it_runs(serving: list[set[str]]) -> None:
    (sandbox,) = _imported_in_turn("import bot.cli; bot.cli.build_parser('sandbox')")
    assert sandbox & (HEAVY - {"uvicorn"}) == set()  # the sandbox serves over uvicorn
    assert serving[0] & HEAVY == set()


def test_serving_teams_alone_imports_no_slack_library(serving: list[set[str]]) -> None:
    """Slack's libraries and aiohttp (0.2 to 0.3 s of CPU at start-up) are for Slack alone."""
    assert serving[1] & {"slack_bolt", "aiohttp"} == set()


def test_the_vendored_token_validator_imports_none_of_the_rest_of_the_teams_sdk(
    serving: list[set[str]],
) -> None:
    assert {"jwt", "cryptography"} <= serving[3]
    assert serving[3] & NEVER == set()


def test_sending_and_serving_slack_import_no_token_checking_and_no_emulator(serving: list[set[str]]) -> None:
    assert serving[2] & SERVING_ONLY == set()


def test_importing_what_serves_imports_neither_the_web_server_nor_the_socket_mode_link(
    serving: list[set[str]],
) -> None:
    assert serving[2] & ONE_MODE_ONLY == set()


def test_opening_an_up_to_date_database_imports_no_alembic(serving: list[set[str]]) -> None:
    """Pygments is there before in a development install: httpx imports its command line when rich is."""
    assert serving[4] - serving[3] == set()
    assert serving[4] & {"alembic", "mako"} == set()


def test_the_runs_first_process_starts_the_test_processes_without_the_product() -> None:
    """xdist's first process loads tests/conftest.py with its plugins and runs no test; the test processes
    start once it has: whatever those import at their top (the database's models, the sandbox, the fakes'
    web server, httpx) delays the start of every test process, and costs the run's CPU."""
    (loaded,) = _imported_in_turn("import tests.conftest, tests.storage.databases")
    assert loaded & (HEAVY | SERVING_ONLY | FIXTURES_ONLY) == set()


def test_serving_on_sqlite_imports_nothing_of_postgresql(serving: list[set[str]]) -> None:
    assert serving[4] & POSTGRESQL_ONLY == set()


def test_serving_and_making_the_microsoft_clients_import_no_msal_before_a_token(
    serving: list[set[str]],
) -> None:
    assert serving[5] & TOKENS_ONLY == set()


def test_loading_the_validator_imports_the_token_checking(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` with Teams loads it before listening: a broken install stops the start, not an activity."""
    from bot.teams.auth import load_validator

    monkeypatch.delitem(sys.modules, "bot.teams._token_validator", raising=False)
    load_validator()
    assert "TokenValidator" in vars(sys.modules["bot.teams._token_validator"])


def test_serving_teams_on_a_broken_install_stops_before_building(monkeypatch: pytest.MonkeyPatch) -> None:
    """The validator is imported lazily: `serve` must still meet a broken install at its start, before it
    opens the database or listens, and not at the first activity Teams sends."""
    from bot import serve

    monkeypatch.setenv("TEAMS_APP_ID", str(uuid.uuid4()))
    monkeypatch.setenv("TEAMS_APP_PASSWORD", "secret")
    monkeypatch.setenv("TEAMS_TENANT_ID", str(uuid.uuid4()))
    credentials = {"AZURE_DEVOPS_PAT": "pat", "AZURE_CLIENT_ID": "app", "AZURE_CLIENT_SECRET": "s"}
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    # importing it raises, as it does when PyJWT or cryptography is broken
    monkeypatch.setitem(sys.modules, "bot.teams._token_validator", None)
    built: list[object] = []

    with pytest.raises(ImportError, match=r"bot\.teams\._token_validator"):
        serve.run(argparse.Namespace(), slack_run=built.append, runtime=built.append)  # type: ignore[arg-type]
    assert built == []


def test_the_slack_app_is_made_without_reading_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """bolt names an unnamed app after its caller's file by reading the source of every frame."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.app import create_app

    def refused() -> None:
        raise AssertionError("inspect.stack() was called")

    monkeypatch.setattr(inspect, "stack", refused)
    app = create_app(conversation=object(), client=AsyncWebClient(token="xoxb-test"), signing_secret="s")  # type: ignore[arg-type]
    assert app.name == "aadbot"


NOT_AT_COLLECTION = {"microsoft_teams", "jsonschema", "referencing"}
"""What only a few test files use, which they import inside their tests: every test process collects every
test file, so an import at a file's top costs every one of them (the Teams SDK 2 s of CPU, its cards alone
0.3 s; jsonschema with referencing 50 ms, for the two manifest files)."""


def test_collecting_the_tests_imports_no_library_only_a_few_files_use(pytestconfig: pytest.Config) -> None:
    imported = pytestconfig.stash[IMPORTED_AT_COLLECTION]
    assert sorted(name for name in imported if name.split(".")[0] in NOT_AT_COLLECTION) == []
