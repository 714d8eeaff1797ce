"""`POST /_sandbox/signin`: what one person's sign-in to Azure DevOps does to the organization's data.

The entitlement's `lastAccessedDate` becomes now. Once the organization is connected to the tenant,
the person signs in with a directory account (a member by its UPN, a guest by its own address), and
the entitlement shows that identity from then on, as Azure DevOps does; someone with no directory
account cannot sign in at all any more. A guest whose invitation was still pending redeems it by signing
in: the directory shows them `Accepted` from then on (Graph's `externalUserState`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox._scenario import ZERO_TENANT, descriptor_for
from sandbox._state import State


def sign_in(state: State, organization: str, principal_name: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of the control call."""
    wanted = principal_name.strip().casefold()
    if not state.is_organization(organization):
        return 404, {"error": f"unknown organization {organization!r}"}
    if not wanted:
        return 400, {"error": "principalName is required (the address the person signs in with)"}
    with state.lock:
        connected = str(state.organization["connected_tenant_id"]).casefold()
        account = (
            directory_account(state, wanted) if connected == str(state.tenant["id"]).casefold() else None
        )
        entitlement = _entitlement(state, wanted, account)
        if entitlement is None:
            return 404, {"error": f"{principal_name!r} is not a user of {organization}"}
        if connected != ZERO_TENANT and account is None:
            return 403, {
                "error": f"{principal_name!r} has no enabled account in the directory {organization} is"
                " connected to, so the sign-in fails"
            }
        now = datetime.fromtimestamp(state.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        entitlement["lastAccessedDate"] = now
        if account is not None and account.get("externalUserState") == "PendingAcceptance":
            account.update(externalUserState="Accepted", externalUserStateChangeDateTime=now)
        if account is not None:
            on_directory(state, entitlement, account)
        return 200, {"organization": organization, "entitlement": entitlement}


def on_directory(state: State, entitlement: dict[str, Any], account: dict[str, Any]) -> None:
    """The entitlement shows `account`'s identity from now on, as Azure DevOps shows an identity on the
    directory: its origin, object id, sign-in name (a guest's own address) and descriptor."""
    guest = account.get("userType") == "Guest"
    entitlement["user"].update(
        origin="aad",
        originId=account["id"],
        principalName=(account.get("mail") if guest else None) or account["userPrincipalName"],
        mailAddress=account.get("mail") or entitlement["user"].get("mailAddress") or "",
        domain=state.tenant["id"],
        descriptor=descriptor_for("aad", str(account["id"])),
    )


def directory_account(state: State, address: str) -> dict[str, Any] | None:
    """The enabled directory account someone signing in as `address` uses: by UPN, else by mail."""
    enabled = [user for user in state.directory_users if user.get("accountEnabled", True)]
    by_upn = [user for user in enabled if str(user["userPrincipalName"]).casefold() == address]
    by_mail = [
        user
        for user in enabled
        if address
        in {str(mail).casefold() for mail in (user.get("mail"), *(user.get("otherMails") or ())) if mail}
    ]
    found = by_upn or by_mail
    return found[0] if len(found) == 1 else None


def _entitlement(state: State, address: str, account: dict[str, Any] | None) -> dict[str, Any] | None:
    """The person's entitlement: by its address, or (already moved) by the directory account's id."""
    for entitlement in state.entitlements:
        user = entitlement["user"]
        addresses = {
            str(user.get("principalName") or "").strip().casefold(),
            str(user.get("mailAddress") or "").casefold(),
        }
        if address in addresses or (account is not None and user.get("originId") == account["id"]):
            return entitlement
    return None
