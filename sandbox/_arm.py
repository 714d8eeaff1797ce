"""The emulated Azure Resource Manager: subscriptions."""

from __future__ import annotations

from sandbox._common import Call, Reply, arm_error, bearer
from sandbox._state import State


def arm(state: State, call: Call) -> Reply:
    token = bearer(state, call, "arm")
    if isinstance(token, Reply):
        return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
    parts = call.path.strip("/").split("/")
    if call.method != "GET" or len(parts) != 2 or parts[0] != "subscriptions":
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
    body = {
        "id": f"/subscriptions/{subscription['subscriptionId']}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionPolicies": {"quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
        **subscription,
    }
    return Reply(200, body)
