"""Entra refusing the bot's app registration, where an admin meets it: `serve`'s start (exit 2 with the fix
when nothing can work), and a chat step mid-migration whose token ran out after the secret expired."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app_sign_in import check_app_sign_in
from bot.settings import SettingsError
from sandbox import Sandbox
from tests.bot.conftest import DANA, Chat, started, text_of
from tests.fakes.cli import Aadbot
from tests.fakes.serve_process import serve_database, serve_until_it_exits

SECRET = "s3cret-Value~of.the_app"


def test_serve_stops_at_start_with_the_code_and_the_fix_never_the_secret(
    tmp_path: Path, box: Sandbox, sqlite_template: Path
) -> None:
    box.set_faults(sign_in_refusal=7000222)
    with socket.socket() as bound:  # Slack is never reached: the sign-in stops serve before
        bound.bind(("127.0.0.1", 0))
        environment = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "AADBOT_", "AZURE_", "TEAMS_"))
            },
            "AADBOT_SANDBOX_URL": box.url,
            "AZURE_TENANT_ID": str(box.state()["tenant"]["id"]),
            "AZURE_CLIENT_ID": "bot-app",
            "AZURE_CLIENT_SECRET": SECRET,
            "AADBOT_DATABASE_URL": serve_database(tmp_path, sqlite_template),
            "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
            "SLACK_SIGNING_SECRET": "signing",
            "SLACK_API_URL": f"http://127.0.0.1:{bound.getsockname()[1]}/api/",
        }
        finished = serve_until_it_exits(environment, tmp_path, "--port", "0")
    assert finished.returncode == 2, finished.stderr
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith("aadbot: Microsoft Entra ID refused the bot's sign-in (AADSTS7000222): the client")
    assert "AZURE_CLIENT_SECRET" in last and "Certificates & secrets > New client secret" in last
    assert "listening" not in finished.stdout
    assert SECRET not in finished.stderr + finished.stdout
    assert "Traceback" not in finished.stderr


def test_without_a_tenant_to_sign_in_to_serve_says_so_and_starts(
    chat: Chat, box: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    box.set_faults(sign_in_refusal=700016)
    with pytest.raises(SettingsError, match=r"AADSTS700016.*AZURE_CLIENT_ID"):
        check_app_sign_in(chat.runtime)
    runtime = chat.runtime
    no_tenant = replace(runtime, settings=replace(runtime.settings, microsoft_environment={}), sandbox=None)
    with caplog.at_level(logging.WARNING, logger="aadbot.serve"):
        check_app_sign_in(no_tenant)  # nothing to sign in to yet: each `start` checks
    assert "set AZURE_TENANT_ID" in caplog.text


def test_a_step_mid_migration_after_the_secret_expired_says_what_to_change(chat: Chat, box: Sandbox) -> None:
    started(chat)
    box.set_faults(sign_in_refusal=7000222)
    box.revoke_tokens()  # the token msal holds has run out: the next call signs in again
    answer = text_of(chat.say(DANA, "recheck"))
    assert "AADSTS7000222" in answer and "AZURE_CLIENT_SECRET" in answer, answer
    assert "New client secret" in answer


def test_doctor_names_the_code_and_what_to_change(box: Sandbox, aadbot: Aadbot) -> None:
    box.set_faults(sign_in_refusal=7000112)
    environment = {"AADBOT_SANDBOX_URL": box.url, "AZURE_CLIENT_SECRET": SECRET}
    done = aadbot("doctor", "--org", "fabrikam-fiber", "--tenant", "fabrikam.com", environment=environment)
    assert done.returncode == 1, done.stderr
    line = next(line for line in done.stdout.splitlines() if "graph-sign-in" in line)
    assert line.startswith(
        "FAIL graph-sign-in: Cannot get a Microsoft Graph token: Microsoft Entra ID refused the bot's sign-in"
        " (AADSTS7000112): app aadbot-sandbox is disabled in tenant fabrikam.com."
    ), line
    assert "Enterprise applications > the app > Properties" in line
    assert SECRET not in done.stdout + done.stderr
