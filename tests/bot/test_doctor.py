"""`aadbot doctor` as a user runs it, and `/aad doctor` in chat: read-only, exact names, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.doctor import manifest_scopes, slack_checks, teams_checks
from msapi import Router
from sandbox import Sandbox
from tests.bot.conftest import Chat, text_of
from tests.fakes.cli import Aadbot
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parents[2]


def _run(scenario: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`aadbot doctor` as a real process (see `aadbot` for the same command in this process)."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "SLACK_", "TEAMS_", "AADBOT_"))
    }
    environ["AADBOT_SANDBOX"] = str(scenario)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_the_command_prints_the_contract_json_and_exits_by_the_checks(
    fabrikam: dict[str, Any], tmp_path: Path, aadbot: Aadbot
) -> None:
    fabrikam["credentials"] = {
        "graph_app_roles": ["User.Read.All", "Organization.Read.All", "Policy.Read.All"]
    }
    scenario = tmp_path / "no-invite.json"
    scenario.write_text(json.dumps(fabrikam), encoding="utf-8")
    sandbox = {"AADBOT_SANDBOX": str(scenario)}
    done = aadbot(
        "doctor", "--org", "fabrikam-fiber", "--tenant", "fabrikam.com", "--json", environment=sandbox
    )
    assert done.returncode == 1, done.stderr
    checks = json.loads(done.stdout)["checks"]
    assert all(set(check) == {"code", "status", "message", "fix"} for check in checks)
    failing = [check for check in checks if check["status"] == "fail"]
    assert [check["code"] for check in failing] == ["graph-invite"]
    # first, as `serve` logs it: passing checks against the emulator say nothing about Microsoft
    assert checks[0]["code"] == "emulator" and checks[0]["status"] == "warn"
    assert checks[0]["message"].startswith(
        f"EMULATOR: every Microsoft call goes to the built-in sandbox of {scenario}"
    )
    assert "User.Invite.All" in failing[0]["message"] and "az ad app permission" in failing[0]["fix"]
    fabrikam.pop("credentials")
    scenario.write_text(json.dumps(fabrikam), encoding="utf-8")
    assert (
        aadbot(
            "doctor", "--org", "fabrikam-fiber", "--tenant", "fabrikam.com", environment=sandbox
        ).returncode
        == 0
    )


def test_a_pat_that_cannot_remove_users_warns_with_the_scope_and_the_portal_way(
    fabrikam: dict[str, Any], tmp_path: Path, aadbot: Aadbot
) -> None:
    fabrikam["credentials"] = {"devops_pat_scopes": ["vso.memberentitlementmanagement", "vso.graph"]}
    scenario = tmp_path / "read-only-pat.json"
    scenario.write_text(json.dumps(fabrikam), encoding="utf-8")
    done = aadbot(
        "doctor",
        "--org",
        "fabrikam-fiber",
        "--tenant",
        "fabrikam.com",
        environment={"AADBOT_SANDBOX": str(scenario)},
    )
    assert done.returncode == 0, done.stdout  # removing people who left is optional
    [line] = [line for line in done.stdout.splitlines() if "devops-remove-users" in line]
    assert line.startswith("WARN devops-remove-users: Cannot remove users an admin confirms")
    assert "vso.memberentitlementmanagement_write" in line and "Personal access tokens" in line
    assert "https://dev.azure.com/fabrikam-fiber/_settings/users" in line
    assert "FAIL" not in done.stdout
    assert done.stdout.splitlines()[0].startswith("WARN emulator: EMULATOR:")


def test_bad_arguments_exit_2_before_any_call(tmp_path: Path) -> None:
    done = _run(ROOT / "sandbox/scenarios/fabrikam.json", "--org", "..", "--tenant", "fabrikam.com")
    assert done.returncode == 2 and "not an Azure DevOps organization name" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    with ServerThread(fake.asgi()) as server:
        fake.url = server.url
        yield fake


def test_slack_scopes_come_from_auth_test_and_are_compared_with_the_manifest(slack: FakeSlack) -> None:
    environ = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": f"{slack.url}/api/"}
    wanted = manifest_scopes()
    slack.scopes = wanted
    assert [check.status for check in slack_checks(environ)] == ["pass"]
    slack.scopes = tuple(scope for scope in wanted if scope != "users:read.email")
    [check] = slack_checks(environ)
    assert check.status == "fail" and "users:read.email" in check.message and "reinstall" in check.fix
    [unchecked] = slack_checks({})  # not configured: said, not silently left out
    assert (
        unchecked.status == "warn"
        and "Slack was not checked: SLACK_BOT_TOKEN is not set" in unchecked.message
    )
    [teams_only] = slack_checks({"TEAMS_APP_ID": "5f0c7b43-3f9e-4c36-9d4c-2b1e7d6a0a11"})
    assert teams_only.status == "pass" and "the bot runs in Teams" in teams_only.message  # no warning


def test_teams_settings_are_checked_when_configured(box: Sandbox) -> None:
    assert teams_checks({}) == []
    good = {
        "TEAMS_APP_ID": "3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11",
        "TEAMS_APP_PASSWORD": "secret",
        "TEAMS_TENANT_ID": str(box.state()["tenant"]["id"]),
    }
    assert [check.status for check in teams_checks(good, router=Router(box.url))] == ["pass", "pass"]
    [domain] = teams_checks({**good, "TEAMS_TENANT_ID": "fabrikam.onmicrosoft.com"})
    assert (domain.status, domain.message) == (  # serve's words (`TeamsSettings`)
        "fail",
        "TEAMS_TENANT_ID='fabrikam.onmicrosoft.com' is not a tenant id: copy the Directory (tenant) ID, a"
        " GUID, from the Overview page of Microsoft Entra ID in the Entra admin center (a domain such as"
        " contoso.onmicrosoft.com will not do: Teams names the tenant of every message by its id).",
    )
    [check] = teams_checks({**good, "TEAMS_APP_ID": "my-bot", "TEAMS_APP_PASSWORD": ""})
    assert (
        check.status == "fail" and "TEAMS_APP_ID" in check.message and "TEAMS_APP_PASSWORD" in check.message
    )


def test_doctor_in_chat_is_for_admins(chat: Chat) -> None:
    reply = text_of(chat.say("dana@fabrikam.com", "doctor fabrikam-fiber fabrikam.com"))
    assert "graph-invite" in reply and "devops-remove-users" in reply
    refused = text_of(chat.say("mallory@outlook.com", "doctor fabrikam-fiber fabrikam.com"))
    assert "is for the organization's admins" in refused and "graph-invite" not in refused


def test_the_doctor_s_summary_counts_the_failing_checks() -> None:
    from bot.conversation.starting_views import doctor
    from workflows.plan import Check

    one = [Check("graph-invite", "fail", "refused", fix="grant it"), Check("devops-read", "pass", "ok")]
    assert doctor(one).startswith("*1 check fails*: the migration cannot run until it is fixed.")
    two = [*one, Check("devops-remove-users", "fail", "refused", fix="grant it")]
    assert doctor(two).startswith("*2 checks fail*: the migration cannot run until they are fixed.")
    assert doctor(one[1:]).startswith("*Every check passes*")


def test_a_mistyped_organization_is_one_failure_naming_where_to_check_the_name(
    aadbot: Aadbot, box: Sandbox
) -> None:
    sandbox = {"AADBOT_SANDBOX_URL": box.url, "AZURE_TENANT_ID": str(box.state()["tenant"]["id"])}
    done = aadbot("doctor", "--org", "nosuchorg", "--tenant", "fabrikam.com", environment=sandbox)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert "WARN slack-scopes: Slack was not checked: SLACK_BOT_TOKEN is not set." in " ".join(lines)
    assert lines[0].startswith(f"WARN emulator: EMULATOR: every Microsoft call goes to {box.url} (")
    assert [line for line in lines[1:] if not line.startswith(("ok   graph-", "WARN slack-scopes"))] == [
        "FAIL devops-organization: Organization nosuchorg not found. Check the name at"
        " https://dev.azure.com/nosuchorg: it is what follows dev.azure.com/ in the address of your"
        " organization."
    ]
    assert done.stderr == ""  # no warning about an undocumented endpoint that was never the problem


def test_a_fix_after_a_services_words_starts_a_sentence_of_its_own(aadbot: Aadbot, box: Sandbox) -> None:
    sandbox = {"AADBOT_SANDBOX_URL": box.url}
    done = aadbot("doctor", "--org", "fabrikam-fiber", "--tenant", "contoso.com", environment=sandbox)
    billing = next(line for line in done.stdout.splitlines() if "billing-subscription" in line)
    assert billing == (
        "WARN billing-subscription: Cannot read subscription c0ffee00-1234-4abc-8def-0123456789ab: the"
        " Microsoft identity platform does not know tenant 'contoso.com': check the tenant id or verified"
        " domain. Check by hand at https://dev.azure.com/fabrikam-fiber/_settings/billing (Organization"
        " settings > Billing)."
    )


def test_azure_devops_not_answering_is_a_failed_check_in_the_json_not_an_unexpected_failure(
    aadbot: Aadbot, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the HTTP session raises once its retries of a connection refused are spent (`ConnectError`)."""
    from msapi._devops import AzureDevOps
    from workflows.directory import MicrosoftError

    me = "vssps.dev.azure.com/fabrikam-fiber/_apis/Organization/Organizations/Me"
    said = f"Azure DevOps did not answer GET {me}"

    def unanswered(self: AzureDevOps, organization: str) -> None:
        raise MicrosoftError(f"{said} (ConnectError)")

    monkeypatch.setattr(AzureDevOps, "organization_record", unanswered)
    sandbox = {"AADBOT_SANDBOX_URL": box.url}
    done = aadbot(
        "doctor", "--org", "fabrikam-fiber", "--tenant", "fabrikam.com", "--json", environment=sandbox
    )
    assert done.returncode == 1 and "failed unexpectedly" not in done.stderr
    checks = {check["code"]: check for check in json.loads(done.stdout)["checks"]}
    assert checks["devops-organization"] == {
        "code": "devops-organization",
        "status": "fail",
        "message": f"Cannot read the organization: {said} (ConnectError). Run `aadbot doctor` again once"
        " Azure DevOps answers; if it never does, check that this machine reaches dev.azure.com (network,"
        " proxy, firewall).",
        "fix": "Run `aadbot doctor` again once Azure DevOps answers; if it never does, check that this"
        " machine reaches dev.azure.com (network, proxy, firewall).",
    }
    assert checks["graph-users"]["status"] == "pass"  # the other checks still ran
    text = aadbot("doctor", "--org", "fabrikam-fiber", "--tenant", "fabrikam.com", environment=sandbox)
    assert text.returncode == 1 and "failed unexpectedly" not in text.stderr
    assert f"FAIL devops-organization: Cannot read the organization: {said} (ConnectError)." in text.stdout
