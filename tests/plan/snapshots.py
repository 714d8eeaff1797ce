from __future__ import annotations

from typing import Any

from workflows.directory import DirectorySnapshot, DirectoryUser, Organization, OrgUser, Tenant

TENANT = "11111111-2222-3333-4444-555555555555"


def build(
    users: list[tuple[str, str] | str] = (),  # type: ignore[assignment]
    directory: list[DirectoryUser] = (),  # type: ignore[assignment]
    **changes: Any,
) -> DirectorySnapshot:
    """A snapshot from org users (principal or (principal, mail)) and directory users, defaults elsewhere."""
    org_users = tuple(
        OrgUser(
            id=f"e{i}",
            principal_name=u if isinstance(u, str) else u[0],
            mail_address=u if isinstance(u, str) else u[1],
        )
        for i, u in enumerate(users)
    )
    organization = changes.pop(
        "organization", Organization(name="org", owner="owner@a.com", administrators=("admin@a.com",))
    )
    return DirectorySnapshot(
        organization=organization,
        users=org_users,
        tenant=Tenant(id=TENANT, display_name="A"),
        directory_users=tuple(directory),
        allow_invites_from=changes.pop("allow_invites_from", "everyone"),
        **changes,
    )


def member(id_: str, upn: str, **fields: Any) -> DirectoryUser:
    return DirectoryUser(id=id_, user_principal_name=upn, **fields)
