"""The emulated Azure Resource Manager: a subscription, and the resources of one type in it."""

from __future__ import annotations

from typing import Any

from sandbox._common import Call, Reply, arm_error, bearer
from sandbox._state import State, Token

VISUAL_STUDIO_ACCOUNT = "Microsoft.VisualStudio/account"


def arm(state: State, call: Call) -> Reply:
    token = bearer(state, call, "arm")
    if isinstance(token, Reply):
        return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
    parts = call.path.strip("/").split("/")
    route = parts[2:] if len(parts) >= 2 and parts[0] == "subscriptions" else None
    if call.method != "GET" or route not in ([], ["resources"]):
        return arm_error(404, "NotFound", f"No route for {call.method} {call.path}.")
    if "api-version" not in call.query:
        return arm_error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
    subscription = next(
        (
            s
            for s in state.data["subscriptions"]
            if str(s["subscriptionId"]).casefold() == parts[1].casefold()
        ),
        None,
    )
    if subscription is None:
        return arm_error(404, "SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found.")
    if str(subscription["tenantId"]).casefold() != token.tenant_id.casefold():
        # Real ARM names the subscription's own tenant in the challenge; clients use it to find the tenant.
        challenge = (
            f'Bearer authorization_uri="https://login.windows.net/{subscription["tenantId"]}", '
            'error="invalid_token", error_description="The access token is from the wrong issuer."'
        )
        return arm_error(
            401,
            "InvalidAuthenticationTokenTenant",
            f"The access token is from the wrong issuer. It must match the tenant "
            f"'https://sts.windows.net/{subscription['tenantId']}/' associated with this subscription.",
            {"WWW-Authenticate": challenge},
        )
    action = (
        "Microsoft.Resources/subscriptions/resources/read"
        if route
        else "Microsoft.Resources/subscriptions/read"
    )
    if not state.credentials.may_read_subscription(str(subscription["subscriptionId"])):
        return _authorization_failed(token, action, f"/subscriptions/{subscription['subscriptionId']}")
    if route:
        return Reply(200, {"value": _resources(state, subscription, call.query.get("$filter", ""))})
    body = {
        "id": f"/subscriptions/{subscription['subscriptionId']}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionPolicies": {"quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
        **subscription,
    }
    return Reply(200, body)


def _authorization_failed(token: Token, action: str, scope: str) -> Reply:
    """ARM's answer when no role assignment grants the action (HTTP 403 `AuthorizationFailed`)."""
    return arm_error(
        403,
        "AuthorizationFailed",
        f"The client '{token.principal}' with object id '{token.principal}' does not have authorization to "
        f"perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
        "granted, please refresh your credentials.",
    )


def _resources(state: State, subscription: dict[str, Any], query_filter: str) -> list[dict[str, Any]]:
    """The organization's `Microsoft.VisualStudio/account` resource when this subscription bills it."""
    org = state.organization
    if (
        str(org.get("billing_subscription_id") or "").casefold()
        != str(subscription["subscriptionId"]).casefold()
    ):
        return []
    if query_filter and VISUAL_STUDIO_ACCOUNT.casefold() not in query_filter.casefold():
        return []
    group = f"VisualStudioOnline-{str(org['id']).replace('-', '').upper()[:32]}"
    return [
        {
            "id": f"/subscriptions/{subscription['subscriptionId']}/resourceGroups/{group}"
            f"/providers/{VISUAL_STUDIO_ACCOUNT}/{org['name']}",
            "name": org["name"],
            "type": VISUAL_STUDIO_ACCOUNT,
            "location": "centralus",
            "tags": {},
        }
    ]
