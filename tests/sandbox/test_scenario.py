from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox import ScenarioError, load_scenario, parse_scenario
from sandbox.generate import generate
from sandbox.generate import main as generate_main


def _break(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """Set (or, with ..., delete) the value at a dotted path with [i] indexes."""
    node: Any = data
    parts = path.replace("[", ".").replace("]", "").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    key: Any = int(last) if last.isdigit() else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("user_entitlements[3].user.principalName", ..., "user_entitlements[3].user.principalName: missing"),
        (
            "user_entitlements[0].user.principalName",
            7,
            "user_entitlements[0].user.principalName: expected a string",
        ),
        ("user_entitlements[2].user", ..., "user_entitlements[2].user: missing"),
        ("user_entitlements[1].id", "  ", "user_entitlements[1].id: empty"),
        (
            "user_entitlements[4].lastAccessedDate",
            "yesterday",
            "user_entitlements[4].lastAccessedDate: 'yesterday'",
        ),
        ("organization.name", ..., "organization.name: missing"),
        ("organization", ..., "organization: missing"),
        ("tenant.users[2].userPrincipalName", None, "tenant.users[2].userPrincipalName: missing"),
        ("tenant.users[0].accountEnabled", "yes", "tenant.users[0].accountEnabled: expected true or false"),
        (
            "tenant.users[5].proxyAddresses",
            "SMTP:a@b",
            "tenant.users[5].proxyAddresses: expected a list of strings",
        ),
        (
            "tenant.authorizationPolicy.allowInvitesFrom",
            "admins",
            "tenant.authorizationPolicy.allowInvitesFrom: 'admins'",
        ),
        ("tenant.directoryRoles", [], "tenant.directoryRoles: expected an object"),
        (
            "tenant.directoryRoles",
            {"dana@fabrikam.com": [], " Dana@Fabrikam.com": ["Guest Inviter"]},
            "tenant.directoryRoles. Dana@Fabrikam.com: the same user as"
            " tenant.directoryRoles.dana@fabrikam.com",
        ),
        ("subscriptions[0].tenantId", ..., "subscriptions[0].tenantId: missing"),
        ("user_entitlements", {}, "user_entitlements: expected a list"),
        ("format", "aadbot-scenario/2", "format: expected 'aadbot-scenario/1'"),
        ("teams", "yes", "teams: expected an object"),
        ("teams", {"blocked": [5]}, "teams.blocked: expected a list of names"),
        ("teams", {"installed": "x"}, "teams.installed: expected a list of names"),
        ("teams", {"installed": [" "]}, "teams.installed: expected a list of names"),
        ("teams", {"channel": ["migration"]}, "teams.channel: expected a string"),
        ("teams", {"timeZones": []}, "teams.timeZones: expected an object"),
        (
            "teams",
            {"timeZones": {"carol@fabrikam.com": "Mars/Olympus"}},
            "teams.timeZones.carol@fabrikam.com: 'Mars/Olympus' is not an IANA time zone name",
        ),
        (
            "teams",
            {"timeZones": {"carol@fabrikam.com": 9}},
            "teams.timeZones.carol@fabrikam.com: expected an",
        ),
        ("teams", {"tenantLimitPerSecond": "5"}, "teams.tenantLimitPerSecond: expected a whole number"),
        ("teams", {"tenantLimitPerSecond": True}, "teams.tenantLimitPerSecond: expected a whole number"),
    ],
)
def test_invalid_scenarios_name_the_offending_path(
    fabrikam: dict[str, Any], path: str, value: object, message: str
) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(_break(fabrikam, path, value))
    assert str(error.value).startswith(message)


def test_duplicate_ids_are_refused_with_both_positions(fabrikam: dict[str, Any]) -> None:
    fabrikam["user_entitlements"][4]["id"] = fabrikam["user_entitlements"][1]["id"].upper()
    with pytest.raises(
        ScenarioError, match=r"user_entitlements\[4\]\.id: duplicate of user_entitlements\[1\]\.id"
    ):
        parse_scenario(fabrikam)


def test_optional_keys_may_be_missing_or_null(fabrikam: dict[str, Any]) -> None:
    del fabrikam["subscriptions"]
    fabrikam["user_entitlements"][0]["accessLevel"] = None
    fabrikam["user_entitlements"][0]["user"]["mailAddress"] = None
    fabrikam["tenant"]["users"][0]["otherMails"] = None
    del fabrikam["tenant"]["authorizationPolicy"]
    scenario = parse_scenario(fabrikam)
    assert scenario.data["subscriptions"] == []
    assert scenario.data["tenant"]["users"][0]["otherMails"] == []
    assert scenario.data["tenant"]["authorizationPolicy"]["allowInvitesFrom"] == "everyone"
    assert scenario.data["user_entitlements"][0]["accessLevel"]["licenseDisplayName"] == "Basic"


def test_the_teams_section_s_lists_may_be_missing_or_null_and_its_names_are_trimmed(
    fabrikam: dict[str, Any],
) -> None:
    fabrikam["teams"] = {"installed": None, "blocked": [" ivan@fabrikam.com "], "channel": "migration"}
    teams = parse_scenario(fabrikam).data["teams"]
    assert teams == {"installed": [], "blocked": ["ivan@fabrikam.com"], "channel": "migration"}
    fabrikam["teams"] = None
    assert parse_scenario(fabrikam).data["teams"] is None  # no section: nobody has the bot yet


def test_unreadable_and_non_json_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ')
    with pytest.raises(ScenarioError, match=r"not JSON \(line 1"):
        load_scenario(broken)


def test_bundled_scenario_covers_the_demo(fabrikam: dict[str, Any]) -> None:
    scenario = parse_scenario(fabrikam)
    org = scenario.data["organization"]
    assert scenario.organization_name == "fabrikam-fiber"
    assert (
        org["owner"] == "dana@fabrikam.com" and "lee@fabrikam.com" in org["project_collection_administrators"]
    )
    members = {u["userPrincipalName"]: u for u in scenario.data["tenant"]["users"]}
    assert members["dana@fabrikam.com"]["userType"] == members["lee@fabrikam.com"]["userType"] == "Member"
    billing = next(
        s for s in scenario.data["subscriptions"] if s["subscriptionId"] == org["billing_subscription_id"]
    )
    assert billing["tenantId"] != scenario.tenant_id
    assert any(e["accessLevel"]["licensingSource"] == "msdn" for e in scenario.data["user_entitlements"])


def test_generator_is_reproducible_and_valid(tmp_path: Path) -> None:
    first, second = generate(300, 250, seed=7), generate(300, 250, seed=7)
    assert first == second
    assert generate(300, 250, seed=8) != first
    scenario = parse_scenario(first)
    assert len(scenario.data["user_entitlements"]) == 300
    assert len(scenario.data["tenant"]["users"]) == 250
    output = tmp_path / "big.json"
    assert generate_main(["--users", "20", "--directory", "30", "--seed", "1", "-o", str(output)]) == 0
    assert len(json.loads(output.read_text())["tenant"]["users"]) == 30
    assert load_scenario(output).organization_name == "contoso-synthetic"


def test_a_generated_organization_has_a_second_admin_to_approve(tmp_path: Path) -> None:
    """walk30: the generator named one administrator, so no generated organization could be approved (an
    approval is another admin's) and a rehearsal at 20,000 people stopped there."""
    organization = generate(300, 250, seed=7)["organization"]
    admins = organization["project_collection_administrators"]
    assert len(set(admins)) == 2 and organization["owner"] == admins[0]
    output = tmp_path / "three.json"
    assert generate_main(["--users", "20", "--directory", "30", "--admins", "3", "-o", str(output)]) == 0
    assert len(load_scenario(output).data["organization"]["project_collection_administrators"]) == 3
