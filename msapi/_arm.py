"""Azure Resource Manager: which tenant a subscription belongs to, and what it bills."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from msapi import permissions
from msapi._http import HttpSession, error_code, rejected_token, segment, service_error
from workflows.directory import Subscription

SERVICE = "Azure Resource Manager"
_API = "2022-12-01"
_RESOURCES_API = "2021-04-01"
_VISUAL_STUDIO_ACCOUNT = "Microsoft.VisualStudio/account"
_CHALLENGE_TENANT = re.compile(r'authorization_uri="https://login\.[^/"]+/([^/"]+)"', re.IGNORECASE)


class ResourceManager:
    def __init__(self, session: HttpSession, token: Callable[[bool], str]) -> None:
        self._session = session
        self._token = token

    def subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription, or None when it does not exist.

        A subscription of another tenant answers 401 `InvalidAuthenticationTokenTenant` and names its
        own tenant in the `WWW-Authenticate` challenge, which is all the billing check needs. A 403
        means the app holds no role on it: that names the Reader role and how to assign it.
        """
        url = f"https://management.azure.com/subscriptions/{segment(subscription_id)}"
        response = self._get(url, {"api-version": _API})
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
        if response.status_code == 404:
            return None
        raise self._refusal(response, subscription_id, f"reading subscription {subscription_id}")

    def holds_organization(self, subscription_id: str, organization: str) -> bool:
        """The subscription holds the organization's `Microsoft.VisualStudio/account` resource, which is
        what linking it for billing creates (documented ARM, unlike Azure DevOps' BillingSetup)."""
        url = f"https://management.azure.com/subscriptions/{segment(subscription_id)}/resources"
        params = {"$filter": f"resourceType eq '{_VISUAL_STUDIO_ACCOUNT}'", "api-version": _RESOURCES_API}
        response = self._get(url, params)
        if response.status_code != 200:
            raise self._refusal(response, subscription_id, f"listing the resources of {subscription_id}")
        wanted = organization.casefold()
        # The account's name is the id's last segment (Microsoft's own example shows `name` holding
        # the resource group's name instead).
        return any(
            str(item.get("type") or "").casefold() == _VISUAL_STUDIO_ACCOUNT.casefold()
            and wanted
            in (
                str(item.get("id") or "").rsplit("/", 1)[-1].casefold(),
                str(item.get("name") or "").casefold(),
            )
            for item in response.json().get("value") or ()
        )

    def _get(self, url: str, params: dict[str, str]) -> httpx.Response:
        response = None
        for fresh in (False, True):
            response = self._session.request(
                "GET",
                url,
                service=SERVICE,
                headers={"Authorization": f"Bearer {self._token(fresh)}"},
                params=params,
            )
            if not rejected_token(response):
                return response
        assert response is not None
        return response

    def _refusal(self, response: httpx.Response, subscription_id: str, what: str) -> Exception:
        if response.status_code == 403 and error_code(response) == "AuthorizationFailed":
            return permissions.missing(permissions.READER, SERVICE, what, 403, subscription=subscription_id)
        return service_error(self._session, response, what, SERVICE)
