"""Entra refusing the bot's app registration, where an admin meets it: `serve`'s start (exit 2 with the fix
when nothing can work and no migration is under way, within a bounded time), `start` in a tenant without
Resource Manager, and a chat step mid-migration whose token ran out after the secret expired."""

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
from tests.fakes.runtimes import runtime_on
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
            "AZURE_TENANT_ID": box.tenant_id,
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


def test_a_refusal_by_the_tenant_at_start_names_where_the_tenant_came_from(chat: Chat, box: Sandbox) -> None:
    box.set_faults(sign_in_refusal=700016)
    tenant = box.tenant_id
    with pytest.raises(SettingsError) as raised:
        check_app_sign_in(chat.runtime)  # AZURE_TENANT_ID named the tenant: the admin may have mistyped it
    assert str(raised.value).startswith("Microsoft Entra ID refused the bot's sign-in (AADSTS700016)")
    assert "AZURE_CLIENT_ID" in str(raised.value) and "sent to the wrong tenant" in str(raised.value)
    assert str(raised.value).endswith(
        f"Nothing can be migrated to {tenant} until then (tenant from AZURE_TENANT_ID: check it, or unset it"
        " to skip this check)."
    )
    runtime = chat.runtime
    from_the_sandbox = replace(runtime, settings=replace(runtime.settings, microsoft_environment={}))
    with pytest.raises(SettingsError) as raised:
        check_app_sign_in(from_the_sandbox)  # the sandbox's own tenant: no setting to check
    assert str(raised.value).endswith(f"Nothing can be migrated to {tenant} until then.")


def test_without_a_tenant_to_sign_in_to_serve_says_how_to_have_it_checked_without_alarm(
    chat: Chat, box: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    box.set_faults(sign_in_refusal=700016)  # not met: nothing is asked of Entra
    runtime = chat.runtime
    no_tenant = replace(runtime, settings=replace(runtime.settings, microsoft_environment={}), sandbox=None)
    with caplog.at_level(logging.INFO, logger="aadbot.serve"):
        check_app_sign_in(no_tenant)  # nothing to sign in to yet: each `start` checks
    [said] = caplog.records
    assert said.levelno == logging.INFO and "set AZURE_TENANT_ID" in said.getMessage()


def test_with_a_migration_under_way_a_refusal_at_start_is_logged_and_serving_goes_on(
    chat: Chat, box: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Its to-do lists, reminders, FAQ and status need no Entra: stopping would take them away too."""
    started(chat)
    box.set_faults(sign_in_refusal=7000222)
    restarted = runtime_on(box, chat.runtime.database)  # a new process: no token kept from before
    try:
        with caplog.at_level(logging.WARNING, logger="aadbot.serve"):
            check_app_sign_in(restarted)
    finally:
        restarted.close()
    [said] = caplog.records
    assert said.levelno == logging.ERROR
    assert said.getMessage().startswith("Microsoft Entra ID refused the bot's sign-in (AADSTS7000222)")
    assert "New client secret" in said.getMessage()
    assert said.getMessage().endswith(
        "Serving goes on for the 1 migration(s) under way, whose steps wait for it."
    )


def test_the_check_at_start_gives_up_rather_than_hold_the_port_for_minutes(
    chat: Chat, box: Sandbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entra throttling with Retry-After 100 would hold `serve` (and /healthz) for minutes, retries and
    all."""
    waited: list[float] = []
    monkeypatch.setattr(chat.runtime.microsoft.session, "_sleep", waited.append)
    box.set_faults(rate_429=1.0, retry_after=100, hosts=["login.microsoftonline.com"])
    with caplog.at_level(logging.WARNING, logger="aadbot.serve"):
        check_app_sign_in(chat.runtime)
    assert sum(waited) <= 15, waited
    assert "did not succeed at start" in caplog.text and "each `start` checks it again" in caplog.text


def test_start_in_a_tenant_without_resource_manager_warns_of_billing_and_plans(
    chat: Chat, box: Sandbox
) -> None:
    """Only the billing check reads Resource Manager: the rest of the checks, and the migration, go on."""
    box.set_faults(sign_in_refusal=500011)
    answer = text_of(started(chat))
    assert chat.state() == "planned", answer
    assert "No checks ran" not in answer
    billing = answer[answer.index("billing-subscription:") :]
    assert billing.startswith(
        "billing-subscription: Cannot read billing subscription c0ffee00-1234-4abc-8def-0123456789ab:"
    ), billing
    assert "AADSTS500011" in billing and "Organization settings > Billing" in billing


def test_a_step_mid_migration_after_the_secret_expired_says_what_to_change(chat: Chat, box: Sandbox) -> None:
    started(chat)
    box.set_faults(sign_in_refusal=7000222)
    box.revoke_tokens()  # the token msal holds has run out: the next call signs in again
    answer = " ".join(text_of(chat.say(DANA, "recheck")).split())
    assert "AADSTS7000222" in answer and "AZURE_CLIENT_SECRET" in answer, answer
    assert "New client secret" in answer
    # not to wait for the service to answer: it answered, and will alike until an admin acts
    assert "Fix: `resume` once that is changed." in answer
    assert "once the service answers" not in answer


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
