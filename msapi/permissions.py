"""Every permission, scope and role the bot's credentials need: what needs it, why, and how to grant it.

The README's permission table is this list (a test keeps them equal). Each entry was checked against
Microsoft's own tables; `source` says which file:
- Graph: microsoftgraph/microsoft-graph-docs-contrib `api-reference/v1.0/api/*.md` and
  `api-reference/v1.0/includes/permissions/*-permissions.md`,
- Azure DevOps: the `security` scopes in MicrosoftDocs/vsts-rest-api-specs `specification/*/7.1/*.json`,
- Azure RBAC: the built-in Reader role (`*/read`).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.directory import MissingPermission

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Microsoft Graph's application id, for `az ad app permission add --api`."""


@dataclass(frozen=True)
class Permission:
    name: str
    """Microsoft's own spelling: a Graph permission, an Azure DevOps scope id, an Azure role."""
    kind: str
    """`graph-application`, `teams-graph-application` (on the Teams bot's own app registration,
    `TEAMS_APP_ID`), `graph-delegated`, `devops-pat` or `azure-role`."""
    label: str
    """How the portal shows it."""
    calls: str
    why: str
    source: str
    also_accepted: tuple[str, ...] = ()
    """Higher-privileged names Microsoft also accepts for these calls."""

    def fix(self, subscription: str = "SUBSCRIPTION_ID") -> str:
        """How to grant it: the portal path and, where there is one, the `az` command."""
        if self.kind in ("graph-application", "teams-graph-application"):
            app, variable = (
                ("the Teams bot's app", "$TEAMS_APP_ID")
                if self.kind == "teams-graph-application"
                else ("the bot's app", "$AZURE_CLIENT_ID")
            )
            role = (
                f"$(az ad sp show --id {GRAPH_APP_ID} --query \"appRoles[?value=='{self.name}'].id\" -o tsv)"
            )
            return (
                f"Microsoft Entra admin center > App registrations > {app} > API permissions > Add a "
                f"permission > Microsoft Graph > Application permissions > {self.name}, then Grant admin "
                "consent; "
                f"or: az ad app permission add --id {variable} --api {GRAPH_APP_ID} --api-permissions "
                f"{role}=Role && az ad app permission admin-consent --id {variable}"
            )
        if self.kind == "graph-delegated":
            return (
                f"Microsoft Entra admin center > App registrations > the bot's app > API permissions > Add a "
                f"permission > Microsoft Graph > Delegated permissions > {self.name}, grant admin consent, "
                "then `aadbot signin` again"
            )
        if self.kind == "devops-pat":
            return (
                "Azure DevOps > User settings > Personal access tokens > edit the bot's token > Custom "
                f"defined > {self.label}, then set AZURE_DEVOPS_PAT to it"
            )
        return (
            f"Azure portal > Subscriptions > {subscription} > Access control (IAM) > Add role assignment > "
            f"{self.name} > the bot's app; or: az role assignment create --assignee $AZURE_CLIENT_ID "
            f"--role {self.name} --scope /subscriptions/{subscription}"
        )


_GRAPH_DOCS = "microsoft-graph-docs-contrib api-reference/v1.0/"

USER_READ_ALL = Permission(
    "User.Read.All",
    "graph-application",
    "Read all users' full profiles",
    "GET /users, GET /users/{id}",
    "compare the organization's users with the directory (UPN, mail, other mails, proxy addresses, and "
    "accountEnabled and externalUserState: who is disabled, who has not accepted their invitation yet)",
    _GRAPH_DOCS + "api/user-list.md",
    ("User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
)
ORGANIZATION_READ_ALL = Permission(
    "Organization.Read.All",
    "graph-application",
    "Read organization information",
    "GET /organization/{tenant id}",
    "the tenant's name and verified domains (who signs in with a company address)",
    _GRAPH_DOCS + "includes/permissions/organization-get-permissions.md",
    ("Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"),
)
POLICY_READ_ALL = Permission(
    "Policy.Read.All",
    "graph-application",
    "Read your organization's policies",
    "GET /policies/authorizationPolicy",
    "the invitation setting allowInvitesFrom, before anyone is invited",
    _GRAPH_DOCS + "api/authorizationpolicy-get.md",
    ("Policy.ReadWrite.Authorization",),
)
USER_INVITE_ALL = Permission(
    "User.Invite.All",
    "graph-application",
    "Invite guest users to the organization",
    "POST /invitations",
    "invite the organization's users who are missing from the directory as B2B guests",
    _GRAPH_DOCS + "includes/permissions/invitation-post-permissions.md",
    ("User.ReadWrite.All", "Directory.ReadWrite.All"),
)
ROLE_MANAGEMENT_READ_DIRECTORY = Permission(
    "RoleManagement.Read.Directory",
    "graph-delegated",
    "Read all directory RBAC settings",
    "GET /roleManagement/directory/roleAssignments?$filter=principalId eq '{id}'&$expand=roleDefinition",
    "with a device sign-in only, and only when invitations are limited to admins and Guest Inviters: "
    "whether the signed-in person holds Guest Inviter, User Administrator or Global Administrator",
    _GRAPH_DOCS + "api/rbacapplication-list-roleassignments.md",
    ("RoleManagement.Read.All", "Directory.Read.All", "RoleManagement.ReadWrite.Directory"),
)
ENTITLEMENTS_WRITE = Permission(
    "vso.memberentitlementmanagement_write",
    "devops-pat",
    "Member Entitlement Management (Read & manage)",
    "GET/DELETE vsaex.dev.azure.com/{org}/_apis/userentitlements[/{id}]",
    "list the organization's users with licence and last access, find the owner by id, and remove the "
    "users an admin confirms (prerequisite: delete unwanted users); it includes the read scope. Without "
    "`remove-users`, the read scope `vso.memberentitlementmanagement` is enough (`doctor` warns)",
    "vsts-rest-api-specs specification/memberEntitlementManagement/7.1/memberEntitlementManagement.json",
)
GRAPH_READ = Permission(
    "vso.graph",
    "devops-pat",
    "Graph (Read)",
    "GET vssps.dev.azure.com/{org}/_apis/graph/groups, graph/Memberships/{descriptor}, "
    "POST graph/subjectlookup",
    "who the Project Collection Administrators are (nested groups resolved): the admin check and approvers",
    "vsts-rest-api-specs specification/graph/7.1/graph.json",
    ("vso.graph_manage",),
)
READER = Permission(
    "Reader",
    "azure-role",
    "Reader (on the billing subscription)",
    "GET management.azure.com/subscriptions/{id}, GET subscriptions/{id}/resources",
    "which directory the billing subscription belongs to, and that it holds the organization's "
    "Microsoft.VisualStudio/account resource",
    "Azure built-in role Reader (*/read); Azure/azure-rest-api-specs Microsoft.Resources GetSubscription",
    ("Contributor", "Owner"),
)

TEAMS_APP_INSTALLATION = Permission(
    "TeamsAppInstallation.ReadWriteSelfForUser.All",
    "teams-graph-application",
    "Allow the Teams app to manage itself for all users",
    "POST /users/{id}/teamwork/installedApps",
    "with Teams only: install the bot in the personal scope of people who never opened it, so that "
    "their to-do list can reach them",
    _GRAPH_DOCS + "includes/permissions/userteamwork-post-installedapps-permissions.md",
    (
        "TeamsAppInstallation.ReadWriteAndConsentForUser.All",
        "TeamsAppInstallation.ReadWriteAndConsentSelfForUser.All",
        "TeamsAppInstallation.ReadWriteForUser.All",
        "TeamsAppInstallation.ReadWriteSelectedForUser.All",
    ),
)
APP_CATALOG_READ = Permission(
    "AppCatalog.Read.All",
    "teams-graph-application",
    "Read all app catalogs",
    "GET /appCatalogs/teamsApps?$filter=externalId eq '{app id}'",
    "with Teams only: the bot's id in the organization's app catalog, which the installation names",
    _GRAPH_DOCS + "api/appcatalogs-list-teamsapps.md",
    ("AppCatalog.ReadWrite.All",),
)

APP_PERMISSIONS = (USER_READ_ALL, ORGANIZATION_READ_ALL, POLICY_READ_ALL, USER_INVITE_ALL)
"""What the app registration needs (client credentials)."""
TEAMS_APP_PERMISSIONS = (TEAMS_APP_INSTALLATION, APP_CATALOG_READ)
"""What the Teams bot's app registration needs besides `User.Read.All` (people by their object id, and
whether they can use Teams in the tenant: `accountEnabled`, `externalUserState`)."""
PAT_SCOPES = (ENTITLEMENTS_WRITE, GRAPH_READ)
ALL = (*APP_PERMISSIONS, ROLE_MANAGEMENT_READ_DIRECTORY, *PAT_SCOPES, READER, *TEAMS_APP_PERMISSIONS)

NOT_NEEDED = {
    "vso.identity": "the owner is read by id from the user entitlements, not from _apis/identities",
    "Directory.Read.All": "GET /organization/{id} needs only Organization.Read.All; roles come from "
    "roleManagement",
}
"""Permissions an earlier version asked for, and why they are no longer needed."""


def by_name(name: str) -> Permission:
    return next(permission for permission in ALL if permission.name == name)


def missing(
    permission: Permission, service: str, what: str, status: int, *, subscription: str | None = None
) -> MissingPermission:
    """The error for a call a service refused because the credentials lack `permission`."""
    kind = {
        "graph-application": "the app registration lacks the Microsoft Graph application permission",
        "teams-graph-application": "the Teams bot's app registration lacks the Microsoft Graph application "
        "permission",
        "graph-delegated": "the signed-in account's consent lacks the Microsoft Graph delegated permission",
        "devops-pat": "the personal access token (AZURE_DEVOPS_PAT) lacks the scope",
        "azure-role": "the app lacks the Azure role",
    }[permission.kind]
    label = f" ({permission.label})" if permission.kind != "azure-role" else ""
    return MissingPermission(
        f"{service} refused {what} (HTTP {status}): {kind} {permission.name}{label}.",
        permission=permission.name,
        fix=permission.fix(subscription) if subscription else permission.fix(),
    )
