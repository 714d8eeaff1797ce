"""What Microsoft's services demand of a caller, as their published tables say, and the refusals.

Graph: the permission tables of microsoftgraph/microsoft-graph-docs-contrib
(`api-reference/v1.0/api/*.md` and `includes/permissions/*-permissions.md`): any one permission of
a row suffices, app-only tokens carry them in `roles`, delegated ones in `scp`. Azure DevOps: the
`security` scopes of MicrosoftDocs/vsts-rest-api-specs; a PAT without the scope gets 401. Azure RBAC:
reading a subscription or its resources needs a role with `*/read` on it.

A scenario without `credentials` grants everything, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# user-list-permissions / user-get: reading users.
_READ_USERS_APP = frozenset(
    {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)
_READ_USERS_DELEGATED = _READ_USERS_APP | {"User.ReadBasic.All"}
GRAPH_PERMISSIONS: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {
    # (method, route) -> (application permissions, delegated permissions); any one of a set suffices.
    ("GET", "users"): (_READ_USERS_APP, _READ_USERS_DELEGATED),
    ("GET", "users/{id}"): (_READ_USERS_APP, _READ_USERS_DELEGATED | {"User.Read"}),
    # organization-get-permissions.md: Organization.Read.All is the least for an app.
    ("GET", "organization/{id}"): (
        frozenset(
            {
                "Organization.Read.All",
                "Directory.Read.All",
                "Organization.ReadWrite.All",
                "Directory.ReadWrite.All",
            }
        ),
        frozenset({"User.Read", "Organization.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}),
    ),
    # organization-list.md: the collection names only Directory.Read.All for an app.
    ("GET", "organization"): (
        frozenset({"Directory.Read.All", "Directory.ReadWrite.All"}),
        frozenset({"User.Read", "Directory.Read.All", "Directory.ReadWrite.All"}),
    ),
    ("GET", "policies/authorizationPolicy"): (
        frozenset({"Policy.Read.All", "Policy.ReadWrite.Authorization"}),
        frozenset({"Policy.Read.All", "Policy.ReadWrite.Authorization"}),
    ),
    ("POST", "invitations"): (
        frozenset({"User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}),
        frozenset({"User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}),
    ),
    # rbacapplication-list-roleassignments.md, directory provider.
    ("GET", "roleManagement/directory/roleAssignments"): (
        frozenset(
            {
                "RoleManagement.Read.Directory",
                "RoleManagement.Read.All",
                "Directory.Read.All",
                "RoleManagement.ReadWrite.Directory",
                "Directory.ReadWrite.All",
            }
        ),
        frozenset(
            {
                "RoleManagement.Read.Directory",
                "RoleManagement.Read.All",
                "Directory.Read.All",
                "RoleManagement.ReadWrite.Directory",
                "Directory.ReadWrite.All",
            }
        ),
    ),
    # includes/permissions/userteamwork-post-installedapps-permissions.md: installing the bot for a user.
    ("POST", "users/{id}/teamwork/installedApps"): (
        frozenset(
            {
                "TeamsAppInstallation.ReadWriteSelfForUser.All",
                "TeamsAppInstallation.ReadWriteAndConsentForUser.All",
                "TeamsAppInstallation.ReadWriteAndConsentSelfForUser.All",
                "TeamsAppInstallation.ReadWriteForUser.All",
                "TeamsAppInstallation.ReadWriteSelectedForUser.All",
            }
        ),
        frozenset(
            {
                "TeamsAppInstallation.ReadWriteSelfForUser",
                "TeamsAppInstallation.ReadWriteAndConsentForUser",
                "TeamsAppInstallation.ReadWriteAndConsentSelfForUser",
                "TeamsAppInstallation.ReadWriteForUser",
                "TeamsAppInstallation.ReadWriteSelectedForUser",
            }
        ),
    ),
    # appcatalogs-list-teamsapps.md
    ("GET", "appCatalogs/teamsApps"): (
        frozenset({"AppCatalog.Read.All", "AppCatalog.ReadWrite.All"}),
        frozenset({"AppCatalog.Submit", "AppCatalog.Read.All", "AppCatalog.ReadWrite.All"}),
    ),
    # user-list-memberof: the cast to directoryRole; app-only needs Directory.Read.All.
    ("GET", "users/{id}/memberOf"): (
        frozenset({"Directory.Read.All", "Directory.ReadWrite.All"}),
        frozenset({"User.Read", "Directory.Read.All", "Directory.ReadWrite.All", "GroupMember.Read.All"}),
    ),
}

_ENTITLEMENTS_READ = frozenset({"vso.memberentitlementmanagement", "vso.memberentitlementmanagement_write"})
DEVOPS_SCOPES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "userentitlements"): _ENTITLEMENTS_READ,
    ("DELETE", "userentitlements"): frozenset({"vso.memberentitlementmanagement_write"}),
    ("GET", "graph"): frozenset({"vso.graph", "vso.graph_manage"}),
    ("POST", "graph/subjectlookup"): frozenset({"vso.graph", "vso.graph_manage"}),
    ("GET", "identities"): frozenset({"vso.identity", "vso.identity_manage"}),
}
FULL_ACCESS_SCOPE = "app_token"
"""What a full-access PAT carries: every scope."""

READ_ROLES = frozenset({"Reader", "Contributor", "Owner", "User Access Administrator"})
"""Built-in Azure roles whose actions include `*/read` (enough to read a subscription and its resources)."""


@dataclass(frozen=True)
class Credentials:
    """The scenario's `credentials`: what the bot's app registration, PAT and Azure roles were granted."""

    graph_app_roles: frozenset[str] | None = None
    graph_delegated_scopes: frozenset[str] | None = None
    devops_pat_scopes: frozenset[str] | None = None
    arm_roles: dict[str, frozenset[str]] | None = None

    @classmethod
    def from_scenario(cls, data: dict[str, Any]) -> Credentials:
        raw = data.get("credentials")
        if raw is None:
            return cls()

        def names(key: str) -> frozenset[str] | None:
            return frozenset(raw[key]) if raw.get(key) is not None else None

        arm = raw.get("arm_roles")
        return cls(
            graph_app_roles=names("graph_app_roles"),
            graph_delegated_scopes=names("graph_delegated_scopes"),
            devops_pat_scopes=names("devops_pat_scopes"),
            arm_roles=(
                {str(sub).casefold(): frozenset(roles) for sub, roles in arm.items()}
                if arm is not None
                else None
            ),
        )

    def app_roles(self) -> list[str]:
        """The `roles` claim of an app-only Graph token (everything when unrestricted)."""
        if self.graph_app_roles is None:
            return sorted({name for app, _ in GRAPH_PERMISSIONS.values() for name in app})
        return sorted(self.graph_app_roles)

    def delegated_scopes(self, requested: list[str]) -> list[str]:
        """The `scp` of a delegated token: what was asked for and consented to (`.default`: everything)."""
        consented = self.graph_delegated_scopes
        if consented is None:
            consented = frozenset({name for _, delegated in GRAPH_PERMISSIONS.values() for name in delegated})
        if any(item.endswith("/.default") for item in requested):
            return sorted(consented)
        return sorted(name for name in requested if name in consented)

    def pat_scopes(self) -> frozenset[str]:
        return (
            self.devops_pat_scopes if self.devops_pat_scopes is not None else frozenset({FULL_ACCESS_SCOPE})
        )

    def may_read_subscription(self, subscription_id: str) -> bool:
        if self.arm_roles is None:
            return True
        return bool(self.arm_roles.get(subscription_id.casefold(), frozenset()) & READ_ROLES)


def devops_allows(scopes: frozenset[str], needed: frozenset[str] | None) -> bool:
    return needed is None or FULL_ACCESS_SCOPE in scopes or bool(scopes & needed)
