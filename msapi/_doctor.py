"""`aadbot doctor`'s Microsoft checks: can the configured credentials do everything the migration needs?

Read-only, one check per capability (the removal check's one DELETE names the all-zero id, which no
user holds: see `AzureDevOps.may_remove`). A refusal names the missing permission, scope or role exactly as
Microsoft spells it and says how to grant it (`msapi.permissions`). What only undocumented endpoints
can tell (the owner, the billing subscription), or what only an optional command needs (removing users),
is a warning with the manual way, never a failure.
"""

from __future__ import annotations

from collections.abc import Callable

from msapi import permissions
from msapi._arm import ResourceManager
from msapi._auth import granted
from msapi._devops import AzureDevOps, OrganizationRecord, UndocumentedFailure
from msapi._graph import Graph
from msapi._refusals import SignInRefused
from workflows.directory import (
    UNKNOWN_TENANT,
    MicrosoftError,
    MissingPermission,
    OrganizationNotFound,
    TenantNotFound,
)
from workflows.plan import Check
from workflows.plan_invitations import NO_APP_INVITES, invitation_policy_fix
from workflows.plan_organization import removal_by_hand

UNANSWERED = (
    "Run `aadbot doctor` again once Azure DevOps answers; if it never does, check that this machine reaches"
    " dev.azure.com (network, proxy, firewall)."
)
"""What to do when Azure DevOps did not answer at all (its retries spent)."""


def microsoft_checks(
    devops: AzureDevOps,
    graph: Graph,
    arm: ResourceManager,
    organization: str,
    *,
    delegated: bool,
) -> list[Check]:
    """Every Microsoft capability the migration uses, each tried with the least it needs."""
    try:
        devops.tenant_id(organization)  # needs no credentials: first, is there such an organization at all
    except OrganizationNotFound:
        # Nothing about it can pass, and each check of it would only fail (or warn) for the same reason.
        missing = Check(
            "devops-organization",
            "fail",
            f"Organization {organization} not found.",
            fix=f"Check the name at https://dev.azure.com/{organization}: it is what follows dev.azure.com/"
            " in the address of your organization.",
        )
        return [missing, *_graph_checks(graph, delegated=delegated)]
    except MicrosoftError:
        pass  # the look-up itself failed: the checks below tell what works
    checks = [
        _attempt(
            "devops-users", "read the organization's users", lambda: devops.entitlements_page(organization)
        ),
        _removal(devops, organization),
        _attempt(
            "devops-admins",
            "read the Project Collection Administrators",
            lambda: devops.administrators(organization, {}),
        ),
    ]
    try:
        record = devops.organization_record(organization)
    except MicrosoftError as error:  # no answer at all (its own refusals are None): the other checks go on
        checks.append(
            Check("devops-organization", "fail", f"Cannot read the organization: {error}", fix=UNANSWERED)
        )
        record = None
    else:
        checks.append(_record(organization, record))
    checks += _graph_checks(graph, delegated=delegated)
    checks.append(_billing(devops, arm, organization, record.id if record else "", graph))
    return checks


def _record(organization: str, record: OrganizationRecord | None) -> Check:
    """What Azure DevOps' undocumented Organizations/Me said: the organization's id and owner, or nothing."""
    if record is None:
        return Check(
            "devops-organization",
            "warn",
            "The organization's owner and id are unknown: Azure DevOps' Organizations/Me endpoint is "
            "undocumented and did not answer, so the owner is not counted as an admin and "
            "billing is unknown.",
            fix=f"Check the owner by hand at https://dev.azure.com/{organization}/_settings/organizationOverview.",
        )
    return Check("devops-organization", "pass", f"Organization {record.name} (id {record.id}).")


def _attempt(code: str, what: str, call: Callable[[], object]) -> Check:
    try:
        call()
    except MissingPermission as error:
        return Check(code, "fail", f"Cannot {what}: {error.reason}", fix=error.fix)
    except MicrosoftError as error:
        return Check(code, "fail", f"Cannot {what}: {error}")
    return Check(code, "pass", f"Can {what}.")


def _removal(devops: AzureDevOps, organization: str) -> Check:
    """Removing people who left is optional (the portal does it too), so a PAT that cannot is a warning:
    `start` goes on, and `remove-users`, if ever used, names the missing scope again."""
    what = "remove users an admin confirms"
    try:
        devops.may_remove(organization)
    except MissingPermission as error:
        reason, grant = error.reason, f"{error.fix}; or remove"
    except MicrosoftError as error:
        reason, grant = f"{str(error).rstrip('.')}.", "Remove"
    else:
        return Check("devops-remove-users", "pass", f"Can {what}.")
    return Check(
        "devops-remove-users",
        "warn",
        f"Cannot {what}: {reason} Only `remove-users` needs this; the migration runs without it.",
        fix=f"{grant} people who left by hand: {removal_by_hand(organization)}.",
    )


def _graph_checks(graph: Graph, *, delegated: bool) -> list[Check]:
    try:
        claims = graph.claims()
    except TenantNotFound as error:
        # Nothing in the directory can be checked: the one check says which tenant and how to name it.
        return [Check(UNKNOWN_TENANT, "fail", f"{str(error)[0].upper()}{str(error)[1:]}.")]
    except MicrosoftError as error:
        # Entra's refusal of the app says what to change: `start` shows the message, `doctor --json` the fix
        fix = error.fix if isinstance(error, SignInRefused) else ""
        return [Check("graph-sign-in", "fail", f"Cannot get a Microsoft Graph token: {error}", fix=fix)]
    checks = [
        Check("graph-sign-in", "pass", f"Signed in to tenant {claims.get('tid') or '(opaque token)'}."),
        _attempt("graph-users", "read the directory's users", graph.first_user),
        _attempt("graph-tenant", "read the tenant's name and verified domains", graph.tenant),
    ]
    policy = ""
    try:
        policy = graph.allow_invites_from()
    except MissingPermission as error:
        checks.append(Check("graph-invite-settings", "fail", error.reason, fix=error.fix))
    except MicrosoftError as error:
        checks.append(Check("graph-invite-settings", "fail", f"Cannot read the invitation settings: {error}"))
    else:
        checks.append(
            Check("graph-invite-settings", "pass", f"Invitation setting allowInvitesFrom: {policy}.")
        )
    checks.append(_invite(granted(claims), policy, delegated=delegated, opaque=not claims))
    if delegated:
        checks.append(
            _attempt(
                "graph-roles",
                "read directory roles",
                lambda: graph.roles(str(claims.get("oid") or claims.get("upn") or "")),
            )
        )
    else:
        checks.append(
            Check(
                "graph-roles",
                "pass",
                "Directory roles are not needed: the app sends invitations itself, whatever the "
                "connector's roles. (The plan's invite-permission check credits the connector's role"
                " only where the app may read it, with RoleManagement.Read.Directory; else it says so.)",
            )
        )
    return checks


def _invite(held: frozenset[str], policy: str, *, delegated: bool, opaque: bool) -> Check:
    invite = permissions.USER_INVITE_ALL
    if opaque:
        return Check(
            "graph-invite",
            "warn",
            "The Graph token does not say what it grants, so the invitation permission cannot be checked "
            f"without inviting someone; make sure {invite.name} is granted.",
            fix=invite.fix(),
        )
    if not held & {invite.name, *invite.also_accepted}:
        kind = "delegated" if delegated else "application"
        return Check(
            "graph-invite",
            "fail",
            f"Cannot invite guests: the Microsoft Graph token lacks the {kind} permission {invite.name}.",
            fix=invite.fix()
            if not delegated
            else invite.fix().replace("Application permissions", "Delegated permissions"),
        )
    if policy == "none" or (not delegated and policy in NO_APP_INVITES):
        refused, check = (
            ("the directory lets nobody invite guests, admins included", "invite-permission")
            if policy == "none"
            else ("Microsoft refuses invitations from an app", "app-invite-permission")
        )
        # Only a plan knows whether anyone needs an invitation: that check of it fails then.
        return Check(
            "graph-invite",
            "warn",
            f"{invite.name} is granted, but {refused} (allowInvitesFrom: {policy}). That matters only if"
            f" someone needs a guest invitation: the plan's {check} check says.",
            fix=invitation_policy_fix(policy),
        )
    return Check("graph-invite", "pass", f"Can invite guests ({invite.name} granted).")


def _billing(
    devops: AzureDevOps, arm: ResourceManager, organization: str, organization_id: str, graph: Graph
) -> Check:
    manual = (
        f"Check by hand at https://dev.azure.com/{organization}/_settings/billing (Organization settings > "
        "Billing)."
    )
    if not organization_id:
        return Check("billing-subscription", "warn", "The billing subscription is unknown.", fix=manual)
    try:
        subscription_id = devops.billing_subscription_id(organization_id)
    except UndocumentedFailure as error:
        return Check(
            "billing-subscription",
            "warn",
            "The billing subscription is unknown: Azure DevOps' BillingSetup endpoint is "
            f"undocumented ({error}).",
            fix=manual,
        )
    except MicrosoftError as error:
        return Check(
            "billing-subscription", "warn", f"The billing subscription is unknown ({error}).", fix=manual
        )
    if not subscription_id:
        return Check("billing-subscription", "pass", "The organization is not billed through Azure.")
    try:
        subscription = arm.subscription(subscription_id)
        if subscription is None:
            return Check(
                "billing-subscription",
                "warn",
                f"The billing subscription {subscription_id} was not found.",
                fix=manual,
            )
        if subscription.tenant_id.casefold() != graph.tenant_id().casefold():
            return Check(
                "billing-subscription",
                "warn",
                f"The billing subscription {subscription_id} is in another directory "
                f"({subscription.tenant_id}): "
                "change it after connecting, before the month ends.",
                fix=manual,
            )
        holds = arm.holds_organization(subscription_id, organization)
    except MissingPermission as error:
        return Check("billing-subscription", "fail", error.reason, fix=error.fix)
    except MicrosoftError as error:
        return Check(
            "billing-subscription", "warn", f"Cannot read subscription {subscription_id}: {error}", fix=manual
        )
    if not holds:
        return Check(
            "billing-subscription",
            "warn",
            f"Subscription {subscription_id} holds no Microsoft.VisualStudio/account resource named "
            f"{organization}, "
            "though Azure DevOps names it as the billing subscription.",
            fix=manual,
        )
    return Check(
        "billing-subscription",
        "pass",
        f"Billing subscription {subscription_id} (tenant {subscription.tenant_id}) holds the organization's "
        "Microsoft.VisualStudio/account resource.",
    )
