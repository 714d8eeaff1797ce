"""Two Azure DevOps identities planned onto one directory account: Connect and *Resolve* give it to one only
(the tutorial's "I got an error message when mapping"), so the plan fails a check naming both and the
account, and an admin decides which one keeps it."""

from __future__ import annotations

from typing import cast

import pytest

from tests.plan.snapshots import build, member
from workflows.decisions import apply
from workflows.errors import WorkflowError
from workflows.plan import NO_ACCESS, Check, Decision, Plan
from workflows.plan_matching import build_plan
from workflows.stages.removal import removable
from workflows.stages.unit import Context

KIM = member("k", "kim@fabrikam.com", proxy_addresses=("smtp:kim@fabrikam-old.com",))
ADMIN = member("adm", "admin@a.com")


def _two_kims() -> Plan:
    return build_plan(build(["kim@fabrikam-old.com", "kim@fabrikam.com"], [KIM, ADMIN]), "admin@a.com")


def _shared(plan: Plan) -> Check:
    return next(check for check in plan.checks if check.code == "shared-directory-account")


def test_two_identities_onto_one_account_fail_a_check_naming_both_and_the_account() -> None:
    plan = _two_kims()
    assert [(user.outcome, user.match.id if user.match else "") for user in plan.users] == [
        ("map", "k"),
        ("auto", "k"),
    ]
    check = _shared(plan)
    assert check.status == "fail"
    assert "kim@fabrikam-old.com and kim@fabrikam.com → kim@fabrikam.com" in check.message
    assert "`decide org kim@fabrikam-old.com no-access`" in check.fix
    assert check in plan.failed_checks


def test_one_identity_per_account_passes() -> None:
    plan = build_plan(build(["kim@fabrikam.com", "admin@a.com"], [KIM, ADMIN]), "admin@a.com")
    assert _shared(plan).status == "pass"


def test_deciding_the_one_mapped_by_hand_out_clears_the_check_and_undoing_it_brings_it_back() -> None:
    plan = _two_kims()
    left = apply(plan, [Decision("e0", NO_ACCESS, "Dana")])
    old, new = left.users
    assert (old.loses_access, old.group, new.loses_access, new.group) == (True, "no-access", False, "auto")
    assert old.outcome == "map"  # the contract's outcome stays the rules' own
    assert _shared(left).status == "pass" and not left.failed_checks
    assert left.fingerprint != plan.fingerprint
    assert apply(left, []).users == plan.users and _shared(apply(left, [])).status == "fail"


def test_a_no_access_decision_for_someone_who_shares_nothing_changes_nothing() -> None:
    plan = build_plan(build(["kim@fabrikam-old.com"], [KIM, ADMIN]), "admin@a.com")
    assert plan.users[0].outcome == "map"
    assert apply(plan, [Decision("e0", NO_ACCESS, "Dana")]).users == plan.users


def test_an_ambiguous_person_decided_onto_a_taken_account_fails_the_check() -> None:
    other = member("o", "kim.other@fabrikam.com", mail="kim@fabrikam-old.com")
    plan = build_plan(build(["kim@fabrikam-old.com", "kim@fabrikam.com"], [KIM, other, ADMIN]), "admin@a.com")
    assert plan.users[0].outcome == "ambiguous" and _shared(plan).status == "pass"
    assert _shared(apply(plan, [Decision("e0", "k", "Dana")])).status == "fail"
    assert _shared(apply(plan, [Decision("e0", "o", "Dana")])).status == "pass"


def test_two_identities_both_carried_over_are_told_apart_by_id_for_removal_not_decided_out() -> None:
    # Connect carries both over only when their principal names differ in case alone: a `decide` cannot take
    # the account from either (Connect gives it by sign-in name), and an address names both to
    # `remove-users`, so the fix names each one's id.
    plan = build_plan(build(["kim@fabrikam.com", "KIM@fabrikam.com"], [KIM, ADMIN]), "admin@a.com")
    assert [user.outcome for user in plan.users] == ["auto", "auto"]
    assert _shared(plan).fix == (
        "Decide which one keeps it. kim@fabrikam.com and KIM@fabrikam.com each have its sign-in name, and"
        " Connect carries over one of them at most: remove the others from the organization first"
        " (`remove-users org ID`; their ids: e0 for kim@fabrikam.com, e1 for KIM@fabrikam.com). If one of"
        " them is someone else, give them an account of their own in the directory (no address of theirs on"
        " this one), then `recheck`."
    )


def test_an_address_two_case_variants_share_is_refused_for_removal_naming_each_one_s_id() -> None:
    plan = build_plan(build(["kim@fabrikam.com", "KIM@fabrikam.com"], [KIM, ADMIN]), "admin@a.com")
    with pytest.raises(WorkflowError) as refused:
        removable(cast(Context, None), "org", plan.users, ["kim@fabrikam.com"])  # refused before any look-up
    assert str(refused.value) == (
        "`kim@fabrikam.com` names several users of org: kim@fabrikam.com (id e0), KIM@fabrikam.com (id e1)."
        " Name the one you mean by their id."
    )
