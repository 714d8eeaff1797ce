"""`aadbot plan`: output forms and exit codes (the `run` function the lead's parser dispatches to)."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest

from msapi import commands
from sandbox import Sandbox

FABRIKAM = str(Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json")


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="aadbot")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["plan", *argv])
    return int(args.run(args))


def test_json_plan_of_the_bundled_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("--scenario", FABRIKAM, "--connector", "lee@fabrikam.com", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["organization"] == "fabrikam-fiber"
    assert plan["counts"] == {"auto": 5, "map": 2, "invite": 2, "disabled": 1, "ambiguous": 1}
    by_name = {user["principal_name"]: user for user in plan["users"]}
    assert by_name["bob.builder@outlook.com"]["match"]["by"] == "mail"
    assert by_name["kim@fabrikam-old.com"]["match"]["by"] == "proxyAddresses"
    assert len(by_name["hana@contoso.com"]["candidates"]) == 2
    statuses = {check["code"]: check["status"] for check in plan["checks"]}
    assert statuses["billing-subscription"] == "warn" and statuses["connector-admin"] == "pass"


def test_human_table_and_csv_with_a_failing_check_exit_0_as_the_contract_says_and_name_it_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "plan.csv"
    assert _run("--scenario", FABRIKAM, "--connector", "erin.eng@gmail.com", "--csv", str(output)) == 0
    captured = capsys.readouterr()
    # not in the directory, she may invite nobody either (the contract's invite-permission)
    failing = "connector-member, connector-admin, invite-permission"
    assert f"aadbot plan: a prerequisite fails ({failing})" in captured.err
    text = captured.out
    assert "ambiguous  hana@contoso.com" in text and "auto: 5  map: 2" in text
    assert "[FAIL] connector-member: erin.eng@gmail.com is not a user of Fabrikam." in text
    rows = list(csv.DictReader(output.read_text().splitlines()))
    assert len(rows) == 11 and rows[4]["outcome"] == "map" and rows[4]["match_by"] == "upn"


def test_the_json_plan_with_a_failing_check_is_one_object_on_stdout_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # shared/contracts/plan-and-scenario.md: exits 0 (2 only for unusable arguments or an invalid scenario)
    assert _run("--scenario", FABRIKAM, "--connector", "erin.eng@gmail.com", "--json") == 0
    captured = capsys.readouterr()
    plan = json.loads(captured.out)
    assert {check["code"] for check in plan["checks"] if check["status"] == "fail"} == {
        "connector-member",
        "connector-admin",
        "invite-permission",
    }
    failing = "connector-member, connector-admin, invite-permission"
    assert captured.err == f"aadbot plan: a prerequisite fails ({failing}): fix it before connecting.\n"


def test_csv_cells_cannot_become_formulas(tmp_path: Path) -> None:
    scenario = json.loads(Path(FABRIKAM).read_text())
    scenario["user_entitlements"][0]["user"]["displayName"] = "=HYPERLINK(1)"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    output = tmp_path / "plan.csv"
    assert _run("--scenario", str(path), "--connector", "lee@fabrikam.com", "--csv", str(output)) == 0
    assert next(csv.DictReader(output.read_text().splitlines()))["display_name"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--connector", "a@b.c"], "give --scenario FILE, or --org ORG and --tenant TENANT"),
        (["--scenario", FABRIKAM, "--org", "x", "--connector", "a@b.c"], "not both"),
        (["--scenario", FABRIKAM, "--connector", "lee"], "--connector must be an email address"),
        (["--scenario", "/nonexistent.json", "--connector", "a@b.c"], "invalid scenario /nonexistent.json"),
        (
            ["--org", "o", "--tenant", "t", "--connector", "a@b.c"],
            "missing environment variables: AZURE_DEVOPS_PAT",
        ),
    ],
)
def test_unusable_arguments_exit_2(argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(*argv) == 2
    captured = capsys.readouterr()
    assert reason in captured.err and "Traceback" not in captured.err and captured.out == ""


def test_invalid_scenario_names_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = json.loads(Path(FABRIKAM).read_text())
    del scenario["user_entitlements"][3]["user"]["principalName"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(scenario))
    assert _run("--scenario", str(path), "--connector", "a@b.c") == 2
    assert "user_entitlements[3].user.principalName: missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("teams", "reason"),
    [("yes", "teams: expected an object"), ({"blocked": [5]}, "teams.blocked: expected a list of names")],
)
def test_a_broken_teams_section_is_an_invalid_scenario_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], teams: object, reason: str
) -> None:
    scenario = json.loads(Path(FABRIKAM).read_text())
    scenario["teams"] = teams
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(scenario))
    assert _run("--scenario", str(path), "--connector", "dana@fabrikam.com", "--json") == 2
    captured = capsys.readouterr()
    assert captured.err == f"aadbot plan: invalid scenario {path}: {reason}\n" and captured.out == ""


def test_live_mode_failure_exits_1(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AADBOT_SANDBOX_URL", box.url)
    assert _run("--org", "fabrikam-fiber", "--tenant", "fabrikam.com", "--connector", "lee@fabrikam.com") == 0
    capsys.readouterr()
    assert _run("--org", "nowhere", "--tenant", "fabrikam.com", "--connector", "lee@fabrikam.com") == 1
    err = capsys.readouterr().err
    failed = "aadbot plan: reading Microsoft's services failed, so there is no plan and no CSV:"
    assert err.startswith(f"{failed} Azure DevOps refused")
    assert "VS800075" in err and err.count("\n") == 1
    assert err.endswith(
        "(`aadbot doctor --org ORG --tenant TENANT` checks each permission the live services"
        " need), then run it again; if a service was down, run it again later.\n"
    )


def test_a_csv_that_cannot_be_written_exits_1_and_says_so_not_that_microsoft_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "no-such-directory" / "plan.csv"
    assert _run("--scenario", FABRIKAM, "--connector", "lee@fabrikam.com", "--csv", str(output)) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f"aadbot plan: the plan was made, but writing its CSV to {output} failed (No such file or directory),"
        " so nothing was printed either. Fix: give --csv a file in a directory you may write to (or leave"
        " --csv out), then run it again.\n"
    )
    assert captured.out == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal_only() -> None:
    terminal = _Terminal()
    progress = commands.Progress(terminal, width=10)
    progress("organization users", 500, 1000)
    assert terminal.getvalue().endswith("fetching organization users [#####.....] 500 of 1,000\033[K")
    progress("organization users", 1000, 1000)
    assert terminal.getvalue().endswith("[##########] 1,000 of 1,000\033[K\n")
    progress("directory users", 2997, None)
    assert terminal.getvalue().endswith("\rfetching directory users: 2,997\033[K")
    progress.finish()
    progress.finish()
    assert terminal.getvalue().endswith("2,997\033[K\n")
    pipe = io.StringIO()
    commands.Progress(pipe)("directory users", 1, None)
    assert pipe.getvalue() == ""


def _variant(tmp_path: Path, policy: str, roles: dict[str, list[str] | None], **changes: object) -> str:
    """The bundled scenario under another guest invite setting and directory roles."""
    scenario = json.loads(Path(FABRIKAM).read_text())
    scenario["tenant"]["authorizationPolicy"] = {"allowInvitesFrom": policy}
    scenario["tenant"]["directoryRoles"] = roles
    for user in scenario["tenant"]["users"]:
        if user["userPrincipalName"] == "dana@fabrikam.com":
            user["userType"] = changes.pop("dana_type", user["userType"])
    scenario.update(changes)
    path = tmp_path / "variant.json"
    path.write_text(json.dumps(scenario))
    return str(path)


def _invitation_checks(capsys: pytest.CaptureFixture[str]) -> dict[str, tuple[str, str]]:
    plan = json.loads(capsys.readouterr().out)
    assert plan["counts"]["invite"] == 2
    return {
        check["code"]: (check["status"], check["message"])
        for check in plan["checks"]
        if check["code"] in ("invite-permission", "app-invite-permission")
    }


def test_a_guest_inviter_passes_invite_permission_though_the_bot_s_app_may_not_invite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The contract's rule reads the connector's roles (from Graph, as the app reads them): Dana holds Guest
    Inviter under adminsAndGuestInviters. Microsoft refusing the app is the extension check's."""
    path = _variant(tmp_path, "adminsAndGuestInviters", {"dana@fabrikam.com": ["Guest Inviter"]})
    assert _run("--scenario", path, "--connector", "dana@fabrikam.com", "--json") == 0
    checks = _invitation_checks(capsys)
    assert checks["invite-permission"][0] == "pass"
    assert checks["app-invite-permission"][0] == "fail"
    assert "Microsoft refuses invitations from an app" in checks["app-invite-permission"][1]


def test_a_role_keyed_with_spaces_and_another_case_is_the_user_s_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-written key is matched to its user as principal names are (spaces and case aside)."""
    path = _variant(tmp_path, "adminsAndGuestInviters", {" Dana@Fabrikam.com ": ["Guest Inviter"]})
    assert _run("--scenario", path, "--connector", "dana@fabrikam.com", "--json") == 0
    assert _invitation_checks(capsys)["invite-permission"][0] == "pass"


def test_null_roles_are_no_roles_as_the_contract_allows_null(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _variant(tmp_path, "adminsAndGuestInviters", {"dana@fabrikam.com": None})
    assert _run("--scenario", path, "--connector", "dana@fabrikam.com", "--json") == 0
    status, message = _invitation_checks(capsys)["invite-permission"]
    assert status == "fail" and "dana@fabrikam.com may not invite guests" in message


def test_a_guest_without_a_role_fails_invite_permission_though_the_bot_s_app_may_invite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _variant(tmp_path, "adminsGuestInvitersAndAllMembers", {}, dana_type="Guest")
    assert _run("--scenario", path, "--connector", "dana@fabrikam.com", "--json") == 0
    checks = _invitation_checks(capsys)
    assert checks["invite-permission"] == (
        "fail",
        "2 users need a guest invitation but dana@fabrikam.com may not invite guests (allowInvitesFrom:"
        " adminsGuestInvitersAndAllMembers). Give dana@fabrikam.com the Guest Inviter role (Microsoft Entra"
        " admin center > Roles & admins > Guest Inviter), or relax the guest invite settings (External"
        " Identities > External collaboration settings).",
    )
    assert checks["app-invite-permission"][0] == "pass"


def test_an_app_not_granted_reading_roles_still_gets_a_plan_which_says_the_roles_are_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reading roles is no step of the app's own, so a live app is often not granted it: the plan is made
    all the same, and the check says why it could not credit the connector's role."""
    granted = ["User.Read.All", "Organization.Read.All", "Policy.Read.All", "User.Invite.All"]
    path = _variant(
        tmp_path,
        "adminsAndGuestInviters",
        {"dana@fabrikam.com": ["Guest Inviter"]},
        credentials={"graph_app_roles": granted},
    )
    assert _run("--scenario", path, "--connector", "dana@fabrikam.com", "--json") == 0
    status, message = _invitation_checks(capsys)["invite-permission"]
    assert status == "fail" and message.startswith(
        "2 users need a guest invitation, and I cannot tell whether dana@fabrikam.com may invite guests"
        " (allowInvitesFrom: adminsAndGuestInviters): the bot may not read their directory roles (Microsoft"
        " Graph refused reading the directory roles (HTTP 403): the app registration lacks the Microsoft"
        " Graph application permission RoleManagement.Read.Directory (Read all directory RBAC settings))."
        " Let the bot read directory roles: Microsoft Entra admin center > App registrations > the bot's app"
        " > API permissions > Add a permission > Microsoft Graph > Application permissions >"
        " RoleManagement.Read.Directory, then Grant admin consent; or: az ad app permission add"
    ), message
    assert "may not invite guests" not in message
