"""`POST /_sandbox/resolve` (an admin's *Resolve* of a disconnected user, or Support's mapping of someone
mapped) and the clients' read of one user entitlement, over real HTTP: the same entitlement, on the
directory account's identity, its last access untouched; onto a member of the organization by Support
only."""

from __future__ import annotations

import httpx

from msapi import from_environment
from sandbox import Sandbox

ORG = "fabrikam-fiber"
KIM_MSA = "kim@fabrikam-old.com"


def _resolve(
    box: Sandbox, who: str, account: str, organization: str = ORG, *, support: bool = False
) -> httpx.Response:
    body = {"organization": organization, "principalName": who, "account": account}
    return httpx.post(f"{box.url}/_sandbox/resolve", json={**body, "support": True} if support else body)


def _connect(box: Sandbox) -> None:
    tenant = box.state()["tenant"]["id"]
    httpx.post(
        f"{box.url}/_sandbox/connect", json={"organization": ORG, "tenantId": tenant}
    ).raise_for_status()


def test_resolve_maps_the_same_entitlement_to_the_directory_account(box: Sandbox) -> None:
    _connect(box)
    before = next(e for e in box.state()["user_entitlements"] if e["user"]["principalName"] == KIM_MSA)
    answer = _resolve(box, KIM_MSA, "KIM@fabrikam.com")
    assert answer.status_code == 200, answer.text
    after = next(e for e in box.state()["user_entitlements"] if e["id"] == before["id"])
    account = next(u for u in box.state()["tenant"]["users"] if u["userPrincipalName"] == "kim@fabrikam.com")
    user = after["user"]
    assert (user["origin"], user["originId"], user["principalName"]) == (
        "aad",
        account["id"],
        "kim@fabrikam.com",
    )
    assert user["descriptor"].startswith("aad.")
    assert after["lastAccessedDate"] == before["lastAccessedDate"]  # a mapping is no sign-in
    with from_environment({"AADBOT_SANDBOX_URL": box.url}) as clients:
        read = clients.org_user(ORG, before["id"])
        assert clients.org_user(ORG, "00000000-0000-0000-0000-000000000000") is None
    assert read is not None
    assert (read.id, read.origin, read.origin_id, read.principal_name) == (
        before["id"],
        "aad",
        account["id"],
        "kim@fabrikam.com",
    )


def test_resolve_is_refused_where_the_portal_offers_no_resolve(box: Sandbox) -> None:
    not_connected = _resolve(box, KIM_MSA, "kim@fabrikam.com")
    assert (not_connected.status_code, not_connected.json()) == (
        409,
        {"error": f"{ORG} is not connected to the directory: nobody to resolve"},
    )
    _connect(box)
    assert _resolve(box, "nobody@fabrikam.com", "kim@fabrikam.com").status_code == 404
    assert _resolve(box, KIM_MSA, "nobody@fabrikam.com").json() == {
        "error": "'nobody@fabrikam.com' is no enabled account of the directory"
    }
    assert _resolve(box, KIM_MSA, "kim@fabrikam.com", "other-org").status_code == 404
    assert _resolve(box, KIM_MSA, " ").status_code == 400
    carried = _resolve(box, "ann@fabrikam.com", "ann@fabrikam.com")  # Connect carried her over
    assert (carried.status_code, carried.json()) == (
        409,
        {"error": "'ann@fabrikam.com' is on the directory already: nothing to resolve"},
    )


def test_resolve_maps_onto_no_member_of_the_organization(box: Sandbox) -> None:
    """Microsoft's FAQ: mapping someone onto an existing member of the organization fails (map onto an
    identity that isn't a member yet, or ask Support); Ann's account is a member since Connect."""
    _connect(box)
    onto_ann = _resolve(box, KIM_MSA, "ann@fabrikam.com")
    assert (onto_ann.status_code, onto_ann.json()) == (
        409,
        {
            "error": f"'ann@fabrikam.com' is a member of {ORG} already: map onto an account that is not one"
            " yet, or ask Microsoft Support"
        },
    )
    assert _resolve(box, KIM_MSA, "max@fabrikam.com").status_code == 200


def test_support_maps_onto_a_member_whose_own_entitlement_goes(box: Sandbox) -> None:
    """The same FAQ: "If you still need to map to the existing Azure DevOps organization member, contact
    support." Kim's entitlement shows Ann's identity; Ann's own one is gone (one identity, one entitlement:
    an assumption, Microsoft does not say)."""
    _connect(box)
    before = box.state()["user_entitlements"]
    kims = next(e for e in before if e["user"]["principalName"] == KIM_MSA)
    anns = next(e for e in before if e["user"]["principalName"] == "ann@fabrikam.com")
    answer = _resolve(box, KIM_MSA, "ann@fabrikam.com", support=True)
    assert answer.status_code == 200, answer.text
    shown = answer.json()["entitlement"]
    user = shown["user"]
    assert (shown["id"], user["origin"], user["originId"], user["principalName"]) == (
        kims["id"],
        "aad",
        anns["user"]["originId"],
        "ann@fabrikam.com",
    )
    after = box.state()["user_entitlements"]
    assert [e["id"] for e in after if e["user"].get("originId") == anns["user"]["originId"]] == [kims["id"]]
    assert len(after) == len(before) - 1


def test_support_maps_someone_mapped_again_as_often_as_asked(box: Sandbox) -> None:
    """Once mapped, nobody is disconnected and the portal offers no Resolve: Support maps them again (the
    tutorial's "contact Support to map the current identity to the new identity"), onto no member either."""
    _connect(box)
    kim, max_ = "kim@fabrikam.com", "max@fabrikam.com"
    assert _resolve(box, KIM_MSA, max_).status_code == 200
    assert _resolve(box, max_, kim).status_code == 409  # no Resolve now
    for shown, account in [(max_, kim), (kim, max_)]:
        assert _resolve(box, shown, account, support=True).status_code == 200
    kims = next(e for e in box.state()["user_entitlements"] if e["user"]["principalName"] == max_)
    assert kims["user"]["originId"] == next(
        u["id"] for u in box.state()["tenant"]["users"] if u["userPrincipalName"] == max_
    )
    same = _resolve(box, max_, max_, support=True)
    assert (same.status_code, same.json()) == (409, {"error": f"'{max_}' is mapped to '{max_}' already"})
