"""Azure Resource Manager: which tenant a subscription belongs to."""

from __future__ import annotations

import re
from collections.abc import Callable

from msapi._http import HttpSession, service_error
from workflows.directory import Subscription

SERVICE = "Azure Resource Manager"
_API = "2022-12-01"
_CHALLENGE_TENANT = re.compile(r'authorization_uri="https://login\.[^/"]+/([^/"]+)"', re.IGNORECASE)


class ResourceManager:
    def __init__(self, session: HttpSession, token: Callable[[], str]) -> None:
        self._session = session
        self._token = token

    def subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription, or None when it does not exist or the app may not read it.

        A subscription of another tenant answers 401 `InvalidAuthenticationTokenTenant` and names its
        own tenant in the `WWW-Authenticate` challenge, which is all the billing check needs.
        """
        response = self._session.request(
            "GET",
            f"https://management.azure.com/subscriptions/{subscription_id}",
            service=SERVICE,
            headers={"Authorization": f"Bearer {self._token()}"},
            params={"api-version": _API},
        )
        if response.status_code == 200:
            body = response.json()
            return Subscription(
                id=str(body.get("subscriptionId") or subscription_id),
                tenant_id=str(body.get("tenantId") or ""),
                display_name=str(body.get("displayName") or ""),
                state=str(body.get("state") or ""),
            )
        if response.status_code == 401:
            match = _CHALLENGE_TENANT.search(response.headers.get("WWW-Authenticate", ""))
            if match:
                return Subscription(id=subscription_id, tenant_id=match.group(1), state="")
        if response.status_code in (403, 404):
            return None
        raise service_error(self._session, response, f"reading subscription {subscription_id}", SERVICE)
