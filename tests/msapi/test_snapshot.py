"""`aadbot snapshot`: a running sandbox read into a scenario file plans every user as the live services do."""

from __future__ import annotations

import argparse
import base64
import io
import json
from pathlib import Path
from typing import Any, TextIO

import pytest

from msapi import from_environment, snapshot
from msapi._auth import token_claims
from msapi.commands import Progress
from msapi.snapshot import register, write_snapshot
from sandbox import Sandbox, load_scenario, parse_scenario
from workflows.plan import Plan, PlannedUser
from workflows.plan_matching import build_plan

ORGANIZATION, TENANT = "fabrikam-fiber", "fabrikam.com"


def _snapshot(monkeypatch: pytest.MonkeyPatch, url: str, out: Path, *extra: str) -> int:
    monkeypatch.setenv("AADBOT_SANDBOX_URL", url)
    parser = argparse.ArgumentParser(prog="aadbot")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        ["snapshot", "--org", ORGANIZATION, "--tenant", TENANT, "--out", str(out), *extra]
    )
    return int(args.run(args))


def _plan(url: str, organization: str, tenant: str, connector: str) -> Plan:
    with from_environment({"AADBOT_SANDBOX_URL": url}) as clients:
        return build_plan(clients.snapshot(organization, tenant, connector), connector)


def _plan_of_file(box: Sandbox, path: Path, connector: str) -> Plan:
    """The plan a rehearsal of the snapshot at `path` makes: the test process's sandbox, serving it from now
    on."""
    scenario = load_scenario(path)
    box.reset(scenario)
    return _plan(box.url, scenario.organization_name, scenario.tenant_id, connector)


def _outcomes(plan: Plan) -> dict[str, tuple[object, ...]]:
    def match(user: PlannedUser) -> tuple[str | None, str | None]:
        return (user.match.id, user.match.by) if user.match else (None, None)

    return {user.id: (user.outcome, *match(user), *sorted(user.candidates)) for user in plan.users}


def _harder(fabrikam: dict[str, Any]) -> dict[str, Any]:
    """Fabrikam plus what redaction could break: case and blanks in addresses, a personal account on a
    verified domain, an administrator who is only in the organization, roles of an admin."""
    entitlement = json.loads(json.dumps(fabrikam["user_entitlements"][2]))
    entitlement["id"] = "5f0c43a8-8d1e-4d7e-9a55-0e1f2a3b4c5d"
    entitlement["user"].update(principalName=" Max@Fabrikam.COM ", mailAddress="", displayName="Max M")
    fabrikam["user_entitlements"].append(entitlement)
    fabrikam["organization"]["project_collection_administrators"].append("erin.eng@gmail.com")
    fabrikam["tenant"]["directoryRoles"]["lee@fabrikam.com"] = ["Guest Inviter"]
    return fabrikam


def test_the_snapshot_plans_every_user_as_the_live_services_do(
    fabrikam: dict[str, Any], served_box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "rehearsal.json"
    box = served_box
    box.reset(parse_scenario(_harder(fabrikam)))
    before = box.state()
    assert _snapshot(monkeypatch, box.url, out) == 0
    assert box.state() == before  # read-only: nothing in the organization or the directory changed
    live = _plan(box.url, ORGANIZATION, TENANT, "lee@fabrikam.com")
    rehearsal = _plan_of_file(box, out, "lee@fabrikam.com")

    assert _outcomes(rehearsal) == _outcomes(live)
    assert len(live.users) == 12 and rehearsal.counts == live.counts
    assert [(c.code, c.status) for c in rehearsal.checks] == [(c.code, c.status) for c in live.checks]
    written = json.loads(out.read_text())
    assert written["organization"]["owner"] == "dana@fabrikam.com"
    assert written["organization"]["project_collection_administrators"] == [
        "dana@fabrikam.com",
        "lee@fabrikam.com",
        "erin.eng@gmail.com",
    ]
    assert written["tenant"]["directoryRoles"] == {
        "dana@fabrikam.com": ["Global Administrator"],
        "lee@fabrikam.com": ["Guest Inviter"],
    }
    # Only the fields the plan reads: nothing of the sandbox's own bookkeeping or Graph's metadata.
    assert set(written["tenant"]["users"][0]) == {
        "id",
        "displayName",
        "userPrincipalName",
        "mail",
        "otherMails",
        "proxyAddresses",
        "userType",
        "accountEnabled",
        "externalUserState",
    }
    assert not list(tmp_path.glob("*.partial"))


def test_redacted_snapshot_plans_alike_and_names_nobody(
    fabrikam: dict[str, Any], served_box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = _harder(fabrikam)
    out = tmp_path / "shared.json"
    box = served_box
    box.reset(parse_scenario(scenario))
    assert _snapshot(monkeypatch, box.url, out, "--redact") == 0
    live = _plan(box.url, ORGANIZATION, TENANT, "lee@fabrikam.com")
    text = out.read_text()
    written = json.loads(text)

    originals = {e["user"]["principalName"].strip() for e in scenario["user_entitlements"]}
    originals |= {u["userPrincipalName"] for u in scenario["tenant"]["users"]}
    originals |= {e["user"]["displayName"] for e in scenario["user_entitlements"]}
    originals |= {"fabrikam", "Fabrikam", "contoso", "outlook.com", "gmail.com"}
    # the ids that name the company as surely as its domain: its tenant, organization and subscriptions
    originals |= {scenario["tenant"]["id"], scenario["organization"]["id"]}
    originals |= {s[key] for s in scenario["subscriptions"] for key in ("subscriptionId", "tenantId")}
    assert [name for name in originals if name.casefold() in text.casefold()] == []

    # Lee stands in for Lee everywhere: as administrator, role holder, organization user and directory user.
    lee = written["organization"]["project_collection_administrators"][1]
    assert lee in written["tenant"]["directoryRoles"]
    assert any(e["user"]["principalName"] == lee for e in written["user_entitlements"])
    assert any(u["userPrincipalName"] == lee for u in written["tenant"]["users"])

    rehearsal = _plan_of_file(box, out, lee)
    assert rehearsal.counts == live.counts
    assert _outcomes(rehearsal) == _outcomes(live)  # entitlement and directory ids are kept
    assert [(c.code, c.status) for c in rehearsal.checks] == [(c.code, c.status) for c in live.checks]
    # Max's messy address is the same person as the clean one; a guest keeps the #EXT# mark.
    by_id = {e["id"]: e["user"]["principalName"] for e in written["user_entitlements"]}
    max_ids = [
        e["id"] for e in scenario["user_entitlements"] if "max@" in e["user"]["principalName"].casefold()
    ]
    assert len({by_id[i] for i in max_ids}) == 1
    assert sum("#EXT#@" in u["userPrincipalName"] for u in written["tenant"]["users"]) == 2
    # A personal account on a company domain is still on a verified domain.
    verified = {d["name"] for d in written["tenant"]["verifiedDomains"]}
    assert by_id[max_ids[-1]].rpartition("@")[2] in verified


@pytest.mark.parametrize("connected", [False, True], ids=["before-connecting", "after-connecting"])
def test_a_redacted_snapshot_holds_no_id_of_the_company_however_encoded(
    connected: bool, box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connecting writes the tenant's id into every mapped user's identity domain and the directory ids
    into their descriptors; a personal account's descriptor can carry its address."""
    state = box.state()
    if connected:
        box.connect(ORGANIZATION, str(state["tenant"]["id"]))
        state = box.state()
    out = tmp_path / "shared.json"
    assert _snapshot(monkeypatch, box.url, out, "--redact") == 0
    written = json.loads(out.read_text())

    readable = [out.read_text()]
    for entitlement in written["user_entitlements"]:
        _, _, encoded = entitlement["user"]["descriptor"].partition(".")
        decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        readable.append(decoded.decode(errors="replace"))
    text = "\n".join(readable).casefold()
    originals = {state["tenant"]["id"], state["organization"]["id"], "fabrikam"}
    originals |= {e["user"]["principalName"].strip() for e in state["user_entitlements"]}
    originals |= {u["userPrincipalName"] for u in state["tenant"]["users"]}
    assert [name for name in originals if name.casefold() in text] == []
    mapped = [e for e in written["user_entitlements"] if e["user"]["origin"] == "aad"]
    assert bool(mapped) is connected and all(e["user"]["domain"] for e in mapped)
    assert load_scenario(out).organization_name == written["organization"]["name"]  # still rehearsable


def test_two_redacted_snapshots_share_no_stand_ins(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert _snapshot(monkeypatch, box.url, first, "--redact") == 0
    assert _snapshot(monkeypatch, box.url, second, "--redact") == 0
    names = [
        {e["user"]["principalName"] for e in json.loads(path.read_text())["user_entitlements"]}
        for path in (first, second)
    ]
    assert not names[0] & names[1]  # the key is random: a guessed address cannot be hashed to match


def test_granted_credentials_are_recorded(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_DEVOPS_PAT_SCOPES", "vso.graph, vso.memberentitlementmanagement")
    out = tmp_path / "granted.json"
    assert _snapshot(monkeypatch, box.url, out) == 0
    credentials = json.loads(out.read_text())["credentials"]
    assert credentials["devops_pat_scopes"] == ["vso.graph", "vso.memberentitlementmanagement"]
    assert parse_scenario(json.loads(out.read_text())).data["credentials"] == credentials


def test_token_claims_show_app_roles_and_delegated_scopes() -> None:
    def jwt(claims: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"eyJhbGciOiJSUzI1NiJ9.{body}.signature"

    assert token_claims(jwt({"roles": ["User.Read.All"]}))["roles"] == ["User.Read.All"]
    assert token_claims(jwt({"scp": "User.Invite.All User.Read"}))["scp"] == "User.Invite.All User.Read"
    assert token_claims("sandbox.opaque-token") == {}
    assert token_claims("a.!!!.c") == {}


def test_an_unknown_organization_fails_with_one_line_and_leaves_no_file(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AADBOT_SANDBOX_URL", box.url)
    parser = argparse.ArgumentParser(prog="aadbot")
    register(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "nothing.json"
    args = parser.parse_args(["snapshot", "--org", "no-such-org", "--tenant", TENANT, "--out", str(out)])
    assert args.run(args) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("aadbot snapshot: ") and "no-such-org" in error and "\n" not in error
    assert list(tmp_path.iterdir()) == []


def test_a_short_list_of_users_fails_with_both_numbers_and_leaves_no_file(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Streamed as read, the users are not read again: the rehearsal would miss whoever is missing."""
    box.set_faults(short_user_listings=1)
    assert _snapshot(monkeypatch, box.url, tmp_path / "short.json") == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"aadbot snapshot: Azure DevOps counts 11 users in {ORGANIZATION} but listed only 10 of them, so I"
        " stopped there: a rehearsal from this file would leave out whoever is missing. Try again in a few"
        " minutes; should it stay short, Microsoft Support can look at the organization's users."
    )
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_is_refused(box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _snapshot(monkeypatch, box.url, tmp_path) == 2


def test_big_organizations_report_progress_with_totals(box: Sandbox, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    with from_environment({"AADBOT_SANDBOX_URL": box.url}) as clients, (tmp_path / "s.json").open("w") as out:
        write_snapshot(clients, ORGANIZATION, TENANT, out, progress=lambda *step: seen.append(step))
    assert ("organization users", 11, 11) in seen
    # Graph's `@odata.count` gives the bar its end where the service sends it; a running count otherwise.
    assert [step[:2] for step in seen if step[0] == "directory users"] == [("directory users", 11)]
    bar = io.StringIO()
    bar.isatty = lambda: True  # type: ignore[method-assign]
    draw = Progress(bar)
    for step in seen:
        draw(*step)
    assert "fetching organization users [##############################] 11 of 11" in bar.getvalue()


def test_an_interrupted_snapshot_leaves_no_file(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(clients: object, organization: str, tenant: str, out: TextIO, **_: object) -> None:
        out.write('{"format": "aadbot-scenario/1", "user_entitlements": [')
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot, "write_snapshot", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _snapshot(monkeypatch, box.url, tmp_path / "half.json")
    assert list(tmp_path.iterdir()) == []


def test_the_rehearsal_meets_the_same_refusals_as_the_live_credentials(
    fabrikam: dict[str, Any], served_box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An app without User.Invite.All and without a role on the billing subscription: the snapshot
    records exactly that, and inviting then fails the same way live and in the rehearsal."""
    roles = ["Directory.Read.All", "Organization.Read.All", "Policy.Read.All", "User.Read.All"]
    billing = fabrikam["organization"]["billing_subscription_id"]
    fabrikam["subscriptions"][0]["tenantId"] = fabrikam["tenant"]["id"]  # readable, were it allowed
    fabrikam["credentials"] = {"graph_app_roles": roles, "arm_roles": {billing: []}}
    out = tmp_path / "limited.json"
    box = served_box
    box.reset(parse_scenario(fabrikam))
    assert _snapshot(monkeypatch, box.url, out) == 0
    live = _refusal_of_an_invitation(box.url, box.state()["tenant"]["id"])
    credentials = json.loads(out.read_text())["credentials"]
    assert credentials["graph_app_roles"] == roles
    assert credentials["arm_roles"] == {billing: []}
    scenario = load_scenario(out)
    box.reset(scenario)
    assert _refusal_of_an_invitation(box.url, scenario.tenant_id) == live
    assert "User.Invite.All" in live


def _refusal_of_an_invitation(url: str, tenant_id: str) -> str:
    with from_environment({"AADBOT_SANDBOX_URL": url}) as clients:
        try:
            clients.invite_guest(
                tenant_id,
                email="someone@example.com",
                display_name="Someone",
                message="",
                redirect_url="https://dev.azure.com/fabrikam-fiber",
                inviter="dana@fabrikam.com",
            )
        except Exception as error:  # whatever the clients make of the refusal, it must be the same
            return f"{type(error).__name__}: {error}"
    return "invited"
