"""What each check tells the admins, word for word: the message and the fix are the product here."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.plan.snapshots import TENANT, member
from tests.plan.test_checks import _check
from workflows.directory import Organization, Subscription
from workflows.plan_connector import CONVERT_GUEST

APP_INVITES_FIX = (
    "In the Microsoft Entra admin center open External Identities > External collaboration settings > Guest"
    " invite settings and choose 'Member users and users assigned to specific admin roles can invite'; or"
    " have a Guest Inviter run `aadbot signin` and set AZURE_AUTH=device; or have a Guest Inviter invite"
    " them by hand (Users > All users > New user > Invite external user)."
)
NOBODY_INVITES_FIX = (
    "In the Microsoft Entra admin center open External Identities > External collaboration settings > Guest"
    " invite settings and choose 'Member users and users assigned to specific admin roles can invite'. Under"
    " 'No one in the organization can invite guest users' nobody can invite them, admins included, not even"
    " in the portal."
)
ROLE_FIX = (
    "Give admin@a.com the Guest Inviter role (Microsoft Entra admin center > Roles & admins > Guest Inviter),"
    " or relax the guest invite settings (External Identities > External collaboration settings)."
)
GRANT_ROLES = "App registrations > the bot's app > RoleManagement.Read.Directory, then Grant admin consent"
UNREAD_ROLES_FIX = (
    f"Let the bot read directory roles: {GRANT_ROLES}. Should admin@a.com hold none of Guest Inviter, User"
    " Administrator or Global Administrator, give admin@a.com the Guest Inviter role (Microsoft Entra admin"
    " center > Roles & admins > Guest Inviter), or relax the guest invite settings (External Identities >"
    " External collaboration settings)."
)
CONNECTOR_FIX = "Connect as an enabled Member of the directory (see connector-member)."

# A failing connector check names the admins able to connect instead (`connect-as-me`), the connector and
# those who could not connect themselves left out.
ADMIN = member("1", "admin@a.com")
GUEST_FIX = (
    "Connect as a Member of the tenant (a guest cannot see its identities), or have g@a.com converted into a"
    f" Member: {CONVERT_GUEST}."
)
ADMIN_FIX = "Have the owner add them to Project Collection Administrators, or connect as an admin."
TAKE_OVER_WHY = " may connect instead (an enabled Member and an admin of org): they type `connect-as-me org`."
TWO_MAY = " owner@a.com or admin@a.com" + TAKE_OVER_WHY
OWNER_MAY = " owner@a.com" + TAKE_OVER_WHY
BILLED = Organization(name="org", billing_subscription_id="sub")
SHARED_WHY = (
    "2 users would get one directory account, which only one can: Connect carries over one at most,"
    " and mapping another to it fails, stranding their history: "
)
SHARED_TWO = "4 users would get 2 directory accounts, which only one user each can"
SOMEONE_ELSE = (
    " If one of them is someone else, give them an account of their own in the directory (no address of"
    " theirs on this one), then `recheck`."
)
SHARED_CARRIED_FIX = (
    "Decide which one keeps it; for each other one, `decide org kim@old.com no-access` (they lose access,"
    " their history is kept). kim@a.com keeps it at Connect (the same sign-in name) unless removed from the"
    " organization first (`remove-users`)." + SOMEONE_ELSE
)
SHARED_MAPPED_FIX = (
    "Decide which one keeps it; for each other one, `decide org x@b.com no-access` (they lose access, their"
    " history is kept)." + SOMEONE_ELSE
)
SHARED_TWO_FIX = SHARED_CARRIED_FIX.replace("kim@old.com no-access", "x@b.com no-access")
KIM = member("k", "kim@a.com", proxy_addresses=("smtp:kim@old.com",))
BOTH = member("k", "k@a.com", other_mails=("x@b.com", "y@b.com"))
CASES: dict[str, tuple[str, dict[str, Any], tuple[str, str, str]]] = {
    "org-pass": (
        "org-connection",
        {},
        ("pass", "org is backed by Microsoft accounts, not yet by a directory.", ""),
    ),
    "org-warn": (
        "org-connection",
        {"organization": Organization(name="org", connected_tenant_id=TENANT.upper())},
        ("warn", "org is already connected to this tenant.", ""),
    ),
    "org-fail": (
        "org-connection",
        {"organization": Organization(name="org", connected_tenant_id="9" * 8)},
        (
            "fail",
            "org is connected to another tenant (99999999). Disconnect it from that directory first"
            " (Organization settings > Microsoft Entra ID).",
            "Disconnect it from that directory first (Organization settings > Microsoft Entra ID).",
        ),
    ),
    "member-pass": (
        "connector-member",
        {"directory": [member("1", "admin@a.com")]},
        ("pass", "admin@a.com is an enabled Member of A.", ""),
    ),
    "member-guest": (
        "connector-member",
        {"directory": [member("1", "admin@a.com", user_type="Guest")]},
        (
            "fail",
            "admin@a.com is a Guest in A; connecting needs a Member. Connect as a Member of the tenant"
            " (a guest cannot see its identities), or have admin@a.com converted into a Member:"
            f" {CONVERT_GUEST}.",
            "Connect as a Member of the tenant (a guest cannot see its identities), or have admin@a.com"
            f" converted into a Member: {CONVERT_GUEST}.",
        ),
    ),
    "member-guest-others-may": (
        "connector-member",
        {
            "connector": "g@a.com",
            "directory": [member("g", "g@a.com", user_type="Guest"), member("o", "owner@a.com"), ADMIN],
        },
        (
            "fail",
            "g@a.com is a Guest in A; connecting needs a Member. " + GUEST_FIX + TWO_MAY,
            GUEST_FIX + TWO_MAY,
        ),
    ),
    "member-disabled": (
        "connector-member",
        {"directory": [member("1", "admin@a.com", account_enabled=False)]},
        (
            "fail",
            "admin@a.com's account in A is disabled. Enable the account (Entra admin center > Users)"
            " or connect as another Member.",
            "Enable the account (Entra admin center > Users) or connect as another Member.",
        ),
    ),
    "member-absent": (
        "connector-member",
        {"directory": [member("1", "someone@a.com")]},
        (
            "fail",
            "admin@a.com is not a user of A. Connect as a Member of A, or have an admin create that account.",
            "Connect as a Member of A, or have an admin create that account.",
        ),
    ),
    "admin-owner": ("connector-admin", {"connector": "owner@a.com"}, ("pass", "owner@a.com owns org.", "")),
    "admin-pca": (
        "connector-admin",
        {},
        ("pass", "admin@a.com is a Project Collection Administrator of org.", ""),
    ),
    "admin-fail": (
        "connector-admin",
        {"connector": "else@a.com"},
        (
            "fail",
            "else@a.com is neither the owner nor a Project Collection Administrator of org. Have the"
            " owner add them to Project Collection Administrators, or connect as an admin.",
            "Have the owner add them to Project Collection Administrators, or connect as an admin.",
        ),
    ),
    "admin-fail-owner-may": (
        "connector-admin",
        {
            "connector": "else@a.com",
            "directory": [
                member("e", "else@a.com"),
                member("o", "owner@a.com"),
                member("1", "admin@a.com", account_enabled=False),
            ],
        },
        (
            "fail",
            "else@a.com is neither the owner nor a Project Collection Administrator of org. "
            + ADMIN_FIX
            + OWNER_MAY,
            ADMIN_FIX + OWNER_MAY,
        ),
    ),
    "duplicates-pass": (
        "duplicate-principal-names",
        {"users": ["a@a.com", "b@a.com"]},
        ("pass", "Every principal name is distinct.", ""),
    ),
    "duplicates-fail": (
        "duplicate-principal-names",
        {"users": ["a@a.com", " A@A.com", "b@a.com", "c@a.com", "C@a.com"]},
        (
            "fail",
            "Users share a principal name, which blocks mapping: a@a.com =  A@A.com; c@a.com = C@a.com."
            " Remove the extra users from the organization, or have them rename their Microsoft account.",
            "Remove the extra users from the organization, or have them rename their Microsoft account.",
        ),
    ),
    "shared-pass": (
        "shared-directory-account",
        {"users": ["admin@a.com", "kim@old.com"], "directory": [member("adm", "admin@a.com"), KIM]},
        ("pass", "No directory account is the target of two users.", ""),
    ),
    "shared-carried": (
        "shared-directory-account",
        {
            "users": ["kim@old.com", "kim@a.com", "admin@a.com"],
            "directory": [member("adm", "admin@a.com"), KIM],
        },
        (
            "fail",
            SHARED_WHY + "kim@old.com and kim@a.com → kim@a.com. " + SHARED_CARRIED_FIX,
            SHARED_CARRIED_FIX,
        ),
    ),
    "shared-mapped": (
        "shared-directory-account",
        {"users": ["x@b.com", "y@b.com"], "directory": [member("adm", "admin@a.com"), BOTH, KIM]},
        ("fail", SHARED_WHY + "x@b.com and y@b.com → k@a.com. " + SHARED_MAPPED_FIX, SHARED_MAPPED_FIX),
    ),
    "shared-two": (
        "shared-directory-account",
        {"users": ["x@b.com", "kim@old.com", "y@b.com", "kim@a.com"], "directory": [BOTH, KIM]},
        (
            "fail",
            SHARED_WHY.replace("2 users would get one directory account, which only one can", SHARED_TWO)
            + "x@b.com and y@b.com → k@a.com; kim@old.com and kim@a.com → kim@a.com. "
            + SHARED_TWO_FIX,
            SHARED_TWO_FIX,
        ),
    ),
    "invite-nobody": (
        "invite-permission",
        {"users": ["admin@a.com"]},
        ("pass", "Nobody needs a guest invitation.", ""),
    ),
    "invite-pass": (
        "invite-permission",
        {"users": ["x@b.com", "y@b.com"]},
        ("pass", "admin@a.com may invite the 2 guests needed (allowInvitesFrom: everyone).", ""),
    ),
    "invite-fail": (
        "invite-permission",
        {"users": ["x@b.com"], "allow_invites_from": "adminsAndGuestInviters"},
        (
            "fail",
            "1 user needs a guest invitation but admin@a.com may not invite guests"
            " (allowInvitesFrom: adminsAndGuestInviters). " + ROLE_FIX,
            ROLE_FIX,
        ),
    ),
    "invite-nobody-may": (
        "invite-permission",
        {"users": ["x@b.com"], "allow_invites_from": "none", "connector_roles": ("Global Administrator",)},
        (
            "fail",
            "1 user needs a guest invitation, but the directory lets nobody invite guests, admins included"
            " (allowInvitesFrom: none). " + NOBODY_INVITES_FIX,
            NOBODY_INVITES_FIX,
        ),
    ),
    "invite-as-app-nobody-may": (
        "app-invite-permission",
        {"users": ["x@b.com"], "allow_invites_from": "none", "invites_as_app": True},
        (
            "fail",
            "1 user needs a guest invitation, which the bot's app may not send either (allowInvitesFrom:"
            " none): invite-permission says what changes that.",
            "",
        ),
    ),
    "invite-as-app-nobody-may-contract": (
        "invite-permission",
        {"users": ["x@b.com"], "allow_invites_from": "none", "invites_as_app": True},
        (
            "fail",
            "1 user needs a guest invitation, but the directory lets nobody invite guests, admins included"
            " (allowInvitesFrom: none). " + NOBODY_INVITES_FIX,
            NOBODY_INVITES_FIX,
        ),
    ),
    "invite-as-app-refused": (
        "app-invite-permission",
        {
            "users": ["x@b.com", "y@b.com"],
            "allow_invites_from": "adminsAndGuestInviters",
            "invites_as_app": True,
            "connector_roles": ("Guest Inviter",),
        },
        (
            "fail",
            "2 users need a guest invitation, which the bot's app sends; Microsoft refuses invitations from"
            " an app when allowInvitesFrom is adminsAndGuestInviters. " + APP_INVITES_FIX,
            APP_INVITES_FIX,
        ),
    ),
    "invite-as-app-connector-may": (  # the contract's rule: the connector's roles, whoever sends
        "invite-permission",
        {
            "users": ["x@b.com", "y@b.com"],
            "allow_invites_from": "adminsAndGuestInviters",
            "invites_as_app": True,
            "connector_roles": ("Guest Inviter",),
        },
        (
            "pass",
            "admin@a.com may invite the 2 guests needed (allowInvitesFrom: adminsAndGuestInviters).",
            "",
        ),
    ),
    "invite-as-app-allowed": (
        "app-invite-permission",
        {
            "users": ["x@b.com"],
            "allow_invites_from": "adminsGuestInvitersAndAllMembers",
            "invites_as_app": True,
        },
        (
            "pass",
            "The bot's app may send the 1 invitation needed"
            " (allowInvitesFrom: adminsGuestInvitersAndAllMembers).",
            "",
        ),
    ),
    "invite-as-app-whoever-connects": (
        "app-invite-permission",
        {"users": ["x@b.com", "y@b.com"], "directory": [], "invites_as_app": True},
        ("pass", "The bot's app may send the 2 invitations needed (allowInvitesFrom: everyone).", ""),
    ),
    "invite-as-app-nobody": (
        "app-invite-permission",
        {"users": ["admin@a.com"], "allow_invites_from": "none", "invites_as_app": True},
        ("pass", "Nobody needs a guest invitation from the bot's app.", ""),
    ),
    "invite-delegated-app": (
        "app-invite-permission",
        {"users": ["x@b.com"], "allow_invites_from": "adminsAndGuestInviters"},
        (
            "pass",
            "Invitations go out as the signed-in person (AZURE_AUTH=device), not as the bot's app:"
            " invite-permission covers them.",
            "",
        ),
    ),
    "invite-roles-unread": (  # unread roles are unknown, not none: granting the read settles it
        "invite-permission",
        {
            "users": ["x@b.com"],
            "allow_invites_from": "adminsAndGuestInviters",
            "connector_roles_unread": ("Microsoft Graph refused reading the directory roles.", GRANT_ROLES),
        },
        (
            "fail",
            "1 user needs a guest invitation, and I cannot tell whether admin@a.com may invite guests"
            " (allowInvitesFrom: adminsAndGuestInviters): the bot may not read their directory roles"
            " (Microsoft Graph refused reading the directory roles). " + UNREAD_ROLES_FIX,
            UNREAD_ROLES_FIX,
        ),
    ),
    "invite-connector-absent": (  # no role or setting helps someone who is not in the directory
        "invite-permission",
        {"users": ["x@b.com"], "connector": "nobody@a.com"},
        (
            "fail",
            "1 user needs a guest invitation but nobody@a.com is not a user of the directory, so cannot"
            " invite anyone. " + CONNECTOR_FIX,
            CONNECTOR_FIX,
        ),
    ),
    "invite-connector-disabled": (
        "invite-permission",
        {"users": ["x@b.com"], "directory": [member("1", "admin@a.com", account_enabled=False)]},
        (
            "fail",
            "1 user needs a guest invitation but admin@a.com has a disabled account in the directory, so"
            " cannot invite anyone. " + CONNECTOR_FIX,
            CONNECTOR_FIX,
        ),
    ),
    "count-pass": (
        "user-count",
        {"users": [f"u{i}@a.com" for i in range(100)]},
        ("pass", "100 users (at most 100).", ""),
    ),
    "count-warn": (
        "user-count",
        {"users": [f"u{i}@a.com" for i in range(101)]},
        (
            "warn",
            "101 users, more than 100: Microsoft asks for a support request to map disconnected users. Open a"
            " support request with Azure DevOps before connecting.",
            "Open a support request with Azure DevOps before connecting.",
        ),
    ),
    "billing-none": (
        "billing-subscription",
        {},
        ("pass", "The organization has no billing subscription.", ""),
    ),
    "billing-inside": (
        "billing-subscription",
        {"organization": BILLED, "billing_subscription": Subscription(id="sub", tenant_id=TENANT)},
        ("pass", "Billing subscription sub is in the tenant.", ""),
    ),
    "billing-outside": (
        "billing-subscription",
        {"organization": BILLED, "billing_subscription": Subscription(id="sub", tenant_id="other")},
        (
            "warn",
            "Billing subscription sub is in another directory (directory other). After connecting, change"
            " billing to a subscription in the tenant before the month ends.",
            "After connecting, change billing to a subscription in the tenant before the month ends.",
        ),
    ),
    "billing-outside-connected": (
        "billing-subscription",
        {
            "organization": replace(BILLED, connected_tenant_id=TENANT),
            "billing_subscription": Subscription(id="sub", tenant_id="other"),
        },
        (
            "warn",
            "Billing subscription sub is in another directory (directory other). The organization is"
            " connected, so change billing now to a subscription in the tenant, before the month ends;"
            " `check-billing` confirms it once everyone is notified.",
            "The organization is connected, so change billing now to a subscription in the tenant, before"
            " the month ends; `check-billing` confirms it once everyone is notified.",
        ),
    ),
    "billing-unreadable": (
        "billing-subscription",
        {"organization": BILLED},
        (
            "warn",
            "Billing subscription sub is in another directory (a directory the app cannot read). After"
            " connecting, change billing to a subscription in the tenant before the month ends.",
            "After connecting, change billing to a subscription in the tenant before the month ends.",
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_check_says_what_is_wrong_and_how_to_fix_it_word_for_word(case: str) -> None:
    code, snapshot, expected = CASES[case]
    snapshot = dict(snapshot)
    check = _check(code, snapshot.pop("connector", "admin@a.com"), **snapshot)
    assert (check.status, check.message, check.fix) == expected
