"""`POST /_sandbox/signin` and the clients' incremental read of sign-ins, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from msapi import from_environment
from sandbox import Sandbox, parse_scenario

ORG = "fabrikam-fiber"


def _sign_in(box: Sandbox, who: str, organization: str = ORG) -> httpx.Response:
    return httpx.post(f"{box.url}/_sandbox/signin", json={"organization": organization, "principalName": who})


def _entitlement(box: Sandbox, entitlement_id: str) -> dict[str, Any]:
    return next(e for e in box.state()["user_entitlements"] if e["id"] == entitlement_id)


def test_a_sign_in_updates_last_access_and_after_the_connection_the_identity(box: Sandbox) -> None:
    before = datetime.now(UTC)
    answer = _sign_in(box, "ANN@fabrikam.com")
    assert answer.status_code == 200, answer.text
    ann = answer.json()["entitlement"]
    assert datetime.fromisoformat(ann["lastAccessedDate"]) >= before.replace(microsecond=0)
    assert ann["user"]["origin"] == "msa"  # not connected yet: still the Microsoft account

    tenant = box.state()["tenant"]["id"]
    httpx.post(
        f"{box.url}/_sandbox/connect", json={"organization": ORG, "tenantId": tenant}
    ).raise_for_status()
    bob = _sign_in(box, "bob.builder@outlook.com")  # a guest signs in with their own address
    assert bob.status_code == 200, bob.text
    user = _entitlement(box, bob.json()["entitlement"]["id"])["user"]
    guest = next(u for u in box.state()["tenant"]["users"] if u["mail"] == "bob.builder@outlook.com")
    assert (user["origin"], user["originId"], user["domain"]) == ("aad", guest["id"], tenant)
    assert user["descriptor"].startswith("aad.")


def test_who_has_no_directory_account_cannot_sign_in_after_the_connection(box: Sandbox) -> None:
    tenant = box.state()["tenant"]["id"]
    httpx.post(
        f"{box.url}/_sandbox/connect", json={"organization": ORG, "tenantId": tenant}
    ).raise_for_status()
    refused = _sign_in(box, "erin.eng@gmail.com")
    assert refused.status_code == 403 and "no enabled account" in refused.json()["error"]
    assert _sign_in(box, "nobody@fabrikam.com").status_code == 404
    assert _sign_in(box, "ann@fabrikam.com", "other-org").status_code == 404
    assert _sign_in(box, " ").status_code == 400


def test_recent_sign_ins_are_read_newest_first_and_stop_at_the_last_one_seen(
    fabrikam: dict[str, Any],
) -> None:
    for index, entitlement in enumerate(fabrikam["user_entitlements"]):
        entitlement["lastAccessedDate"] = f"2026-10-{index + 1:02d}T09:00:00Z"
    with Sandbox(parse_scenario(fabrikam), page_size=2) as box:
        _sign_in(box, "ann@fabrikam.com").raise_for_status()
        with from_environment({"AADBOT_SANDBOX_URL": box.url}) as clients:
            everyone = clients.sign_ins(ORG, None)
            full_read = clients.session.request_count
            recent = clients.sign_ins(ORG, datetime(2026, 10, 9, 12, 0, tzinfo=UTC))
            incremental = clients.session.request_count - full_read
    assert len(everyone) == len(fabrikam["user_entitlements"])
    assert [user.principal_name for user in recent] == [
        "ann@fabrikam.com",
        "ivan@fabrikam.com",
        "hana@contoso.com",
    ]
    assert incremental == 2  # two pages of two, not six: the third user on page two is older than the mark
