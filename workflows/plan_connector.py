"""Who clicks Connect in the portal: `connector-member` and `connector-admin`, and who may connect instead.

The tutorial's prerequisites: the one who connects is an enabled Member of the directory and an admin of
the organization (its owner or a Project Collection Administrator).
"""

from __future__ import annotations

from dataclasses import replace

from workflows.directory import DirectorySnapshot, DirectoryUser
from workflows.plan import Check, address_key


def connector_checks(snapshot: DirectorySnapshot, connector: str) -> tuple[Check, Check]:
    """`connector-member` and `connector-admin` for one person: may they click Connect in the portal? As
    the plan has them: failing, they name who may instead."""
    return taking_over(snapshot, connector, *_connector_checks(snapshot, connector))


def _connector_checks(snapshot: DirectorySnapshot, connector: str) -> tuple[Check, Check]:
    wanted = address_key(connector)
    entries = []
    for position, user in enumerate(snapshot.directory_users):
        fields = tuple(
            name
            for name, value in (("upn", user.user_principal_name), ("mail", user.mail or ""))
            if address_key(value) == wanted
        )
        if fields:
            entries.append((position, fields))
    found = find_connector(snapshot.directory_users, entries) if wanted else None
    return connector_member(snapshot, connector, found), connector_admin(snapshot, connector)


def find_connector(
    directory: tuple[DirectoryUser, ...], entries: list[tuple[int, tuple[str, ...]]]
) -> DirectoryUser | None:
    """The connector's directory user among the key's entries: by UPN, else by mail."""
    for wanted in ("upn", "mail"):
        for position, fields in entries:
            if wanted in fields:
                return directory[position]
    return None


def connector_member(snapshot: DirectorySnapshot, connector: str, user: DirectoryUser | None) -> Check:
    tenant = snapshot.tenant.display_name or snapshot.tenant.id
    if user is None:
        return Check(
            "connector-member",
            "fail",
            f"{connector} is not a user of {tenant}.",
            fix=f"Connect as a Member of {tenant}, or have an admin create that account.",
        )
    if not user.account_enabled:
        return Check(
            "connector-member",
            "fail",
            f"{connector}'s account in {tenant} is disabled.",
            fix="Enable the account (Entra admin center > Users) or connect as another Member.",
        )
    if user.user_type.casefold() != "member":
        return Check(
            "connector-member",
            "fail",
            f"{connector} is a {user.user_type} in {tenant}; connecting needs a Member.",
            fix=(
                "Connect as a Member of the tenant (a guest cannot see its identities), or have"
                f" {connector} converted into a Member: {CONVERT_GUEST}."
            ),
        )
    return Check("connector-member", "pass", f"{connector} is an enabled Member of {tenant}.")


CONVERT_GUEST = (
    "https://learn.microsoft.com/azure/devops/organizations/accounts/faq-add-delete-users"
    "#q-how-can-i-convert-an-azure-ad-guest-into-a-member"
)
"""The tutorial's second prerequisite links this: how a guest of the directory becomes a member."""
TAKE_OVER = "connect-as-me"
"""The command an admin who may connect types to be the one the checks are for (`checking.connect_as_me`)."""


def taking_over(
    snapshot: DirectorySnapshot, connector: str, member: Check, admin: Check
) -> tuple[Check, Check]:
    """Failing connector checks name who may connect instead, if anyone: the organization's admins (owner,
    Project Collection Administrators) who are enabled Members of the directory, told once (on the first
    failing)."""
    if "fail" not in (member.status, admin.status):
        return member, admin
    org = snapshot.organization
    admins = dict.fromkeys(
        name
        for name in (org.owner or "", *org.administrators)
        if name and address_key(name) != address_key(connector)
    )
    able = [
        name for name in admins if all(check.status == "pass" for check in _connector_checks(snapshot, name))
    ]
    if not able:
        return member, admin
    instead = (
        f" {' or '.join(able)} may connect instead (an enabled Member and an admin of {org.name}): they type"
        f" `{TAKE_OVER} {org.name}`."
    )
    if member.status == "fail":
        return _fixed_also(member, instead), admin
    return member, _fixed_also(admin, instead)


def _fixed_also(check: Check, more: str) -> Check:
    """`check` with `more` after its fix (its message ends with the fix, so it is written anew)."""
    return replace(check, message=check.message.removesuffix(check.fix).rstrip(), fix=f"{check.fix}{more}")


def connector_admin(snapshot: DirectorySnapshot, connector: str) -> Check:
    org = snapshot.organization
    wanted = address_key(connector)
    if org.owner and address_key(org.owner) == wanted:
        return Check("connector-admin", "pass", f"{connector} owns {org.name}.")
    if any(address_key(admin) == wanted for admin in org.administrators):
        return Check(
            "connector-admin", "pass", f"{connector} is a Project Collection Administrator of {org.name}."
        )
    return Check(
        "connector-admin",
        "fail",
        f"{connector} is neither the owner nor a Project Collection Administrator of {org.name}.",
        fix="Have the owner add them to Project Collection Administrators, or connect as an admin.",
    )
