"""The README's permission table is exactly what the migration needs: granted, everything works;
one entry less, `doctor` fails naming it and `start` refuses with its name and fix, nothing stored."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from bot.demo import run_demo
from msapi import from_environment, permissions
from sandbox import Sandbox
from sandbox._scenario import parse_scenario
from workflows.directory import InvitePermissionDenied, MissingPermission

ROOT = Path(__file__).resolve().parents[2]
ORG = "fabrikam-fiber"


def exactly_the_table(fabrikam: dict[str, Any]) -> dict[str, Any]:
    """Fabrikam, billed from a subscription of its own tenant, with only the README's permissions."""
    scenario = copy.deepcopy(fabrikam)
    subscription = scenario["subscriptions"][0]
    subscription["tenantId"] = scenario["tenant"]["id"]
    scenario["credentials"] = {
        "graph_app_roles": [p.name for p in permissions.APP_PERMISSIONS],
        "graph_delegated_scopes": [],
        "devops_pat_scopes": [p.name for p in permissions.PAT_SCOPES],
        "arm_roles": {subscription["subscriptionId"]: [permissions.READER.name]},
    }
    return scenario


def _doctor(box: Sandbox, scenario: dict[str, Any]) -> list[dict[str, str]]:
    """Doctor's checks against the test process's sandbox, serving `scenario` from now on."""
    box.reset(parse_scenario(scenario))
    with from_environment({"AADBOT_SANDBOX_URL": box.url}) as clients:
        checks = clients.doctor(ORG, "fabrikam.com")
    return [{"code": c.code, "status": c.status, "message": c.message, "fix": c.fix} for c in checks]


def test_the_readme_table_is_the_permission_list() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- permissions:start -->")[1].split("<!-- permissions:end -->")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = [row.split("`")[1] for row in rows]
    assert named == [p.name for p in permissions.ALL]


def test_exactly_the_table_passes_doctor_and_runs_the_whole_migration(
    fabrikam: dict[str, Any], served_box: Sandbox, tmp_path: Path
) -> None:
    scenario = exactly_the_table(fabrikam)
    checks = _doctor(served_box, scenario)
    assert [c for c in checks if c["status"] == "fail"] == []
    path = tmp_path / "least.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    out = io.StringIO()
    assert run_demo(out, path) == 0
    assert "Final stage       completed" in out.getvalue()


@pytest.mark.parametrize(
    "removed", [p.name for p in (*permissions.APP_PERMISSIONS, *permissions.PAT_SCOPES, permissions.READER)]
)
def test_one_entry_less_fails_doctor_naming_it(
    fabrikam: dict[str, Any], served_box: Sandbox, removed: str
) -> None:
    scenario = exactly_the_table(fabrikam)
    credentials = scenario["credentials"]
    for key in ("graph_app_roles", "devops_pat_scopes"):
        credentials[key] = [name for name in credentials[key] if name != removed]
    credentials["arm_roles"] = {
        sub: [role for role in roles if role != removed] for sub, roles in credentials["arm_roles"].items()
    }
    failing = [c for c in _doctor(served_box, scenario) if c["status"] == "fail"]
    assert failing, f"nothing failed without {removed}"
    assert all(removed in c["message"] for c in failing), failing
    grant = permissions.by_name(removed)
    assert any(grant.fix().split(" > ")[0] in c["fix"] for c in failing)


def test_a_pat_that_cannot_remove_users_only_warns_and_the_migration_runs(
    fabrikam: dict[str, Any], served_box: Sandbox, tmp_path: Path
) -> None:
    """Removing people who left is optional (the portal does it too): the read scope is enough to start."""
    scenario = exactly_the_table(fabrikam)
    scenario["credentials"]["devops_pat_scopes"] = ["vso.memberentitlementmanagement", "vso.graph"]
    checks = _doctor(served_box, scenario)
    assert [c for c in checks if c["status"] == "fail"] == []
    [removal] = [c for c in checks if c["code"] == "devops-remove-users"]
    assert removal["status"] == "warn" and "vso.memberentitlementmanagement_write" in removal["message"]
    assert "Personal access tokens" in removal["fix"] and "Remove from organization" in removal["fix"]
    path = tmp_path / "read-only-pat.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    out = io.StringIO()
    assert run_demo(out, path) == 0
    assert "Final stage       completed" in out.getvalue()


def test_start_refuses_in_chat_naming_the_missing_permission(
    fabrikam: dict[str, Any], tmp_path: Path
) -> None:
    scenario = exactly_the_table(fabrikam)
    scenario["credentials"]["graph_app_roles"].remove("User.Invite.All")
    path = tmp_path / "no-invite.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(RuntimeError):  # the demo stops: no plan, so no approval button
        run_demo(out, path)
    conversation = out.getvalue()
    assert "User.Invite.All" in conversation and "Grant admin consent" in conversation
    assert "nothing was started" in conversation


def test_an_invitation_403_is_told_apart_missing_consent_from_policy(
    fabrikam: dict[str, Any], served_box: Sandbox
) -> None:
    options: dict[str, Any] = {
        "display_name": "Zed",
        "message": "Join",
        "redirect_url": "https://dev.azure.com/x",
        "inviter": "x",
    }
    scenario = exactly_the_table(fabrikam)
    scenario["credentials"]["graph_app_roles"].remove("User.Invite.All")
    box = served_box
    box.reset(parse_scenario(scenario))
    with from_environment({"AADBOT_SANDBOX_URL": box.url}) as clients:
        tenant = box.state()["tenant"]["id"]
        with pytest.raises(MissingPermission) as missing:
            clients.invite_guest(tenant, email="zed@gmail.com", **options)
        assert missing.value.permission == "User.Invite.All" and "Grant admin consent" in str(missing.value)
    scenario = exactly_the_table(fabrikam)
    scenario["tenant"]["authorizationPolicy"]["allowInvitesFrom"] = "none"
    box.reset(parse_scenario(scenario))
    with from_environment({"AADBOT_SANDBOX_URL": box.url}) as clients:
        tenant = box.state()["tenant"]["id"]
        with pytest.raises(InvitePermissionDenied, match="External collaboration settings"):
            clients.invite_guest(tenant, email="zed@gmail.com", **options)
