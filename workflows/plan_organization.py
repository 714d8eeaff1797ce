"""The checks on the organization itself: its connection, its users' principal names, how many there
are, its billing subscription; and where its admins remove a user by hand.
"""

from __future__ import annotations

from collections import Counter

from workflows.directory import MSA_TENANT_ID, DirectorySnapshot
from workflows.plan import Check, address_key

_USER_COUNT_LIMIT = 100


def org_connection(snapshot: DirectorySnapshot) -> Check:
    connected = snapshot.organization.connected_tenant_id
    name = snapshot.organization.name
    if connected.casefold() == MSA_TENANT_ID:
        return Check(
            "org-connection", "pass", f"{name} is backed by Microsoft accounts, not yet by a directory."
        )
    if snapshot.already_connected:
        return Check("org-connection", "warn", f"{name} is already connected to this tenant.")
    return Check(
        "org-connection",
        "fail",
        f"{name} is connected to another tenant ({connected}).",
        fix="Disconnect it from that directory first (Organization settings > Microsoft Entra ID).",
    )


def duplicate_principal_names(snapshot: DirectorySnapshot) -> Check:
    counts = Counter(address_key(user.principal_name) for user in snapshot.users)
    shared = {key for key, count in counts.items() if count > 1}
    if not shared:
        return Check("duplicate-principal-names", "pass", "Every principal name is distinct.")
    duplicates: dict[str, list[str]] = {}
    for user in snapshot.users:
        key = address_key(user.principal_name)
        if key in shared:
            duplicates.setdefault(key, []).append(user.principal_name)
    listed = "; ".join(" = ".join(names) for names in duplicates.values())
    return Check(
        "duplicate-principal-names",
        "fail",
        f"Users share a principal name, which blocks mapping: {listed}.",
        fix="Remove the extra users from the organization, or have them rename their Microsoft account.",
    )


def user_count(snapshot: DirectorySnapshot) -> Check:
    count = len(snapshot.users)
    if count <= _USER_COUNT_LIMIT:
        return Check("user-count", "pass", f"{count} users (at most {_USER_COUNT_LIMIT}).")
    return Check(
        "user-count",
        "warn",
        f"{count} users, more than {_USER_COUNT_LIMIT}: Microsoft asks for a support request "
        "to map disconnected users.",
        fix="Open a support request with Azure DevOps before connecting.",
    )


def billing_subscription(snapshot: DirectorySnapshot) -> Check:
    subscription_id = snapshot.organization.billing_subscription_id
    if not subscription_id:
        return Check("billing-subscription", "pass", "The organization has no billing subscription.")
    if snapshot.billing_unread is not None:
        why, fix = snapshot.billing_unread
        return Check(
            "billing-subscription",
            "warn",
            f"Cannot read billing subscription {subscription_id}: {why}.",
            fix=fix,
        )
    subscription = snapshot.billing_subscription
    if subscription is not None and subscription.tenant_id.casefold() == snapshot.tenant.id.casefold():
        return Check(
            "billing-subscription", "pass", f"Billing subscription {subscription_id} is in the tenant."
        )
    where = (
        f"directory {subscription.tenant_id}"
        if subscription is not None
        else "a directory the app cannot read"
    )
    return Check(
        "billing-subscription",
        "warn",
        f"Billing subscription {subscription_id} is in another directory ({where}).",
        fix=(
            "The organization is connected, so change billing now to a subscription in the tenant, before"
            " the month ends; `check-billing` confirms it once everyone is notified."
            if snapshot.already_connected
            else "After connecting, change billing to a subscription in the tenant before the month ends."
        ),
    )


def removal_by_hand(organization: str) -> str:
    """Where an admin removes people who left without the bot (whose PAT then needs only to read users)."""
    return (
        f"https://dev.azure.com/{organization}/_settings/users > the user's ... menu > Remove from"
        " organization"
    )
