"""Each check's pass, warn and fail."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.plan.snapshots import TENANT, build, member
from workflows.directory import Organization, Subscription
from workflows.plan import Check
from workflows.plan_connector import connector_checks
from workflows.plan_matching import build_plan

ADMIN = member("adm", "admin@a.com")


def _check(code: str, connector: str = "admin@a.com", **snapshot: object) -> Check:
    snapshot.setdefault("directory", [ADMIN])
    plan = build_plan(build(**snapshot), connector)
    return next(check for check in plan.checks if check.code == code)


def test_org_connection() -> None:
    assert _check("org-connection").status == "pass"
    connected = Organization(name="org", connected_tenant_id=TENANT.upper())
    assert _check("org-connection", organization=connected).status == "warn"
    elsewhere = _check("org-connection", organization=Organization(name="org", connected_tenant_id="9" * 8))
    assert elsewhere.status == "fail" and "Disconnect it" in elsewhere.message


@pytest.mark.parametrize(
    ("user", "status", "words"),
    [
        (member("1", "admin@a.com"), "pass", "enabled Member"),
        (member("1", "x@a.com", mail="Admin@a.com"), "pass", "enabled Member"),
        (member("1", "admin@a.com", user_type="Guest"), "fail", "is a Guest"),
        (member("1", "admin@a.com", account_enabled=False), "fail", "disabled"),
        (member("1", "someone@a.com"), "fail", "not a user"),
    ],
)
def test_connector_member(user: object, status: str, words: str) -> None:
    check = _check("connector-member", directory=[user])
    assert check.status == status and words in check.message


def test_connector_admin() -> None:
    org = Organization(name="org", owner="Owner@a.com", administrators=("admin@a.com",))
    assert _check("connector-admin", " owner@A.com", organization=org).status == "pass"
    assert _check("connector-admin", "ADMIN@a.com", organization=org).status == "pass"
    check = _check("connector-admin", "else@a.com", organization=org)
    assert check.status == "fail" and check.fix and check.fix in check.message


def test_duplicate_principal_names() -> None:
    assert _check("duplicate-principal-names", users=["a@a.com", "b@a.com"]).status == "pass"
    check = _check("duplicate-principal-names", users=["a@a.com", " A@A.com", "b@a.com"])
    assert check.status == "fail" and "a@a.com =  A@A.com" in check.message


@pytest.mark.parametrize(
    ("policy", "connector", "roles", "status"),
    [
        ("everyone", member("1", "admin@a.com", user_type="Guest"), (), "pass"),
        ("adminsGuestInvitersAndAllMembers", member("1", "admin@a.com"), (), "pass"),
        ("adminsGuestInvitersAndAllMembers", member("1", "admin@a.com", user_type="Guest"), (), "fail"),
        (
            "adminsGuestInvitersAndAllMembers",
            member("1", "admin@a.com", user_type="Guest"),
            ("Guest Inviter",),
            "pass",
        ),
        ("adminsAndGuestInviters", member("1", "admin@a.com"), (), "fail"),
        ("adminsAndGuestInviters", member("1", "admin@a.com"), ("User Administrator",), "pass"),
        ("adminsAndGuestInviters", member("1", "admin@a.com"), ("global administrator",), "pass"),
        ("none", member("1", "admin@a.com"), ("Global Administrator",), "fail"),
    ],
)
def test_invite_permission(policy: str, connector: object, roles: tuple[str, ...], status: str) -> None:
    check = _check(
        "invite-permission",
        users=["new@gmail.com"],
        directory=[connector],
        allow_invites_from=policy,
        connector_roles=roles,
    )
    assert check.status == status
    assert policy in check.message


def test_invite_permission_passes_when_nobody_needs_inviting() -> None:
    check = _check("invite-permission", users=["admin@a.com"], allow_invites_from="none")
    assert check.status == "pass" and "Nobody" in check.message


def test_user_count() -> None:
    assert _check("user-count", users=[f"u{i}@a.com" for i in range(100)]).status == "pass"
    check = _check("user-count", users=[f"u{i}@a.com" for i in range(101)])
    assert check.status == "warn" and "support request" in check.message


def test_billing_subscription() -> None:
    assert _check("billing-subscription").status == "pass"
    org = Organization(name="org", billing_subscription_id="sub")
    inside = Subscription(id="sub", tenant_id=TENANT)
    assert _check("billing-subscription", organization=org, billing_subscription=inside).status == "pass"
    outside = Subscription(id="sub", tenant_id="other")
    check = _check("billing-subscription", organization=org, billing_subscription=outside)
    assert check.status == "warn" and "before the month ends" in check.message
    unreadable = _check("billing-subscription", organization=org)
    assert unreadable.status == "warn" and "cannot read" in unreadable.message


def test_the_fingerprint_covers_the_checks_status() -> None:
    snapshot = build(["admin@a.com"], [ADMIN])
    passing = build_plan(snapshot, "admin@a.com")
    elsewhere = Organization(name="org", administrators=("admin@a.com",), connected_tenant_id="9" * 8)
    moved = build_plan(replace(snapshot, organization=elsewhere), "admin@a.com")
    assert [u.outcome for u in moved.users] == [u.outcome for u in passing.users]
    assert moved.fingerprint != passing.fingerprint
    assert build_plan(snapshot, "admin@a.com").fingerprint == passing.fingerprint


@pytest.mark.parametrize(
    ("person", "member_status", "admin_status"),
    [
        ("admin@a.com", "pass", "pass"),
        ("Owner@a.com", "fail", "pass"),  # owns the organization but has no account in the tenant
        ("guest@a.com", "fail", "fail"),
        ("mailonly@x.com", "pass", "fail"),
        ("", "fail", "fail"),
    ],
)
def test_connector_checks_judge_any_person(person: str, member_status: str, admin_status: str) -> None:
    directory = [
        ADMIN,
        member("g", "guest@a.com", user_type="Guest"),
        member("m", "m@a.com", mail="mailonly@x.com"),
    ]
    snapshot = build(["admin@a.com"], directory)
    member_check, admin_check = connector_checks(snapshot, person)
    assert (member_check.code, member_check.status) == ("connector-member", member_status)
    assert (admin_check.code, admin_check.status) == ("connector-admin", admin_status)
    plan = build_plan(snapshot, person)
    assert [c for c in plan.checks if c.code in ("connector-member", "connector-admin")] == [
        member_check,
        admin_check,
    ]


POLICIES = ("everyone", "adminsGuestInvitersAndAllMembers", "adminsAndGuestInviters", "none")
ROLE_SETS = (
    (),
    ("Guest Inviter",),
    ("User Administrator",),
    ("global administrator",),  # role names compare case-folded
    ("Security Reader",),  # a role, but not one that may invite
    ("Security Reader", "GUEST INVITER"),
)


def _contract_allows(policy: str, user_type: str, roles: tuple[str, ...]) -> bool:
    """plan-and-scenario.md, written out on its own: `everyone` lets anyone invite;
    `adminsGuestInvitersAndAllMembers` members and role holders; `adminsAndGuestInviters` only holders of
    Guest Inviter, User Administrator or Global Administrator; `none` nobody. A Guest is not a member."""
    inviter = any(
        role.lower() in ("guest inviter", "user administrator", "global administrator") for role in roles
    )
    return {
        "everyone": True,
        "adminsGuestInvitersAndAllMembers": user_type == "Member" or inviter,
        "adminsAndGuestInviters": inviter,
        "none": False,
    }[policy]


@pytest.mark.parametrize("invites_as_app", [False, True])
@pytest.mark.parametrize("user_type", ["Member", "Guest"])
@pytest.mark.parametrize("roles", ROLE_SETS)
@pytest.mark.parametrize("policy", POLICIES)
def test_invite_permission_is_the_contract_s_rule_for_the_connector_whoever_sends_the_invitations(
    policy: str, roles: tuple[str, ...], user_type: str, invites_as_app: bool
) -> None:
    """Every allowInvitesFrom x role x member/guest: the connector's right decides `invite-permission`,
    with the bot's app or a signed-in person sending (what the app adds is `app-invite-permission`'s)."""
    snapshot = build(
        users=["new@gmail.com"],
        directory=[member("1", "admin@a.com", user_type=user_type)],
        allow_invites_from=policy,
        connector_roles=roles,
        invites_as_app=invites_as_app,
    )
    checks = {check.code: check for check in build_plan(snapshot, "admin@a.com").checks}
    expected = "pass" if _contract_allows(policy, user_type, roles) else "fail"
    assert checks["invite-permission"].status == expected
    app = checks["app-invite-permission"]
    # the app's check reads the setting alone, never the connector
    refused = invites_as_app and policy in ("adminsAndGuestInviters", "none")
    assert app.status == ("fail" if refused else "pass")


@pytest.mark.parametrize("policy", POLICIES)
def test_nobody_to_invite_passes_both_invitation_checks(policy: str) -> None:
    snapshot = build(users=["admin@a.com"], directory=[ADMIN], allow_invites_from=policy, invites_as_app=True)
    statuses = {check.code: check.status for check in build_plan(snapshot, "admin@a.com").checks}
    assert statuses["invite-permission"] == statuses["app-invite-permission"] == "pass"
