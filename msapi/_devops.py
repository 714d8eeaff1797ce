"""Azure DevOps: user entitlements (vsaex), the organization record, administrators and tenant (vssps)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from msapi import permissions
from msapi._http import HttpSession, segment, service_error
from workflows.directory import (
    PARTIAL_LIST_HARM,
    MicrosoftError,
    OrganizationNotFound,
    OrgUser,
    ShortUserList,
)

log = logging.getLogger("msapi")

SERVICE = "Azure DevOps"
_ENTITLEMENTS_API = "7.1"
_GRAPH_API = "7.1-preview.1"
_ORGANIZATION_API = "7.1-preview.1"
_PCA = "Project Collection Administrators"
_NEVER = "0001-01-01"

Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class OrganizationRecord:
    """`GET vssps.dev.azure.com/{org}/_apis/Organization/Organizations/Me` (undocumented; see the sandbox)."""

    id: str
    name: str
    tenant_id: str
    owner_id: str | None


class AzureDevOps:
    def __init__(self, session: HttpSession, auth: Mapping[str, str]) -> None:
        self._session = session
        self._auth = dict(auth)

    def tenant_id(self, organization: str) -> str:
        """`HEAD vssps.dev.azure.com/{org}`: 404 with `X-VSS-ResourceTenant`, no credentials needed."""
        url = f"https://vssps.dev.azure.com/{segment(organization)}"
        tenant = str(
            self._session.request("HEAD", url, service=SERVICE).headers.get("X-VSS-ResourceTenant", "")
        )
        if not tenant:
            raise OrganizationNotFound(
                f"Azure DevOps organization {organization!r} was not found: "
                f"check the name in https://dev.azure.com/{organization}"
            )
        return tenant.split(",")[0].strip()

    def organization_record(self, organization: str) -> OrganizationRecord | None:
        """The organization's id and owner, or None when the undocumented endpoint fails.

        Nothing documented gives the owner: a failure here means "unknown", never a failed migration.
        """
        url = f"https://vssps.dev.azure.com/{segment(organization)}/_apis/Organization/Organizations/Me"
        response = self._session.request(
            "GET", url, service=SERVICE, headers=self._auth, params={"api-version": _ORGANIZATION_API}
        )
        body = _json_object(response) if response.status_code == 200 else None
        if body is None:
            # 404 is what a mistyped organization gets; the groups' look-up that follows says so
            level = logging.DEBUG if response.status_code == 404 else logging.WARNING
            log.log(level, "Organizations/Me (undocumented) answered HTTP %s", response.status_code)
            return None
        collection = body.get("primaryCollection") or {}
        return OrganizationRecord(
            id=str(body.get("id") or ""),
            name=str(body.get("name") or organization),
            tenant_id=str(body.get("tenantId") or ""),
            owner_id=collection.get("owner") or None,
        )

    def entitlement(
        self, organization: str, user_id: str, what: str = "reading the owner's user entitlement"
    ) -> OrgUser | None:
        """One user entitlement by id (the owner's id is one), or None when there is none; `what` names the
        read where it fails."""
        url = f"https://vsaex.dev.azure.com/{segment(organization)}/_apis/userentitlements/{segment(user_id)}"
        response = self._send("GET", url, {"api-version": _ENTITLEMENTS_API}, what, missing_ok=True)
        body = _json_object(response) if response.status_code == 200 else None
        return org_user(body) if body else None

    def account_of(self, organization: str, identity_id: str) -> str | None:
        """The sign-in address of an identity id (`GET vssps/_apis/identities?identityIds=`), or None
        when the PAT lacks the optional vso.identity scope: only an owner without an entitlement needs it."""
        url = f"https://vssps.dev.azure.com/{segment(organization)}/_apis/identities"
        response = self._session.request(
            "GET",
            url,
            service=SERVICE,
            headers=self._auth,
            params={"identityIds": identity_id, "api-version": "7.1"},
        )
        body = _json_object(response) if response.status_code == 200 else None
        for identity in (body or {}).get("value") or ():
            account = ((identity.get("properties") or {}).get("Account") or {}).get("$value")
            if account:
                return str(account)
        return None

    def entitlements_page(self, organization: str) -> None:
        """The first page of users: proof that the PAT may read them."""
        url = f"https://vsaex.dev.azure.com/{segment(organization)}/_apis/userentitlements"
        self._get(url, {"api-version": _ENTITLEMENTS_API}, f"the users of {organization!r}")

    def may_remove(self, organization: str) -> None:
        """Proof that the PAT may remove users, without removing anyone: `DELETE
        vsaex.dev.azure.com/{org}/_apis/userentitlements/00000000-0000-0000-0000-000000000000`.

        Azure DevOps checks the scope before looking the user up, so a PAT without
        vso.memberentitlementmanagement_write gets 401 and one with it gets 404 (no such user): no user
        holds the all-zero id, so nothing is removed. Nothing documented answers this read-only: a PAT
        cannot read its own scopes (the PAT lifecycle API takes only a Microsoft Entra token).
        """
        url = f"https://vsaex.dev.azure.com/{segment(organization)}/_apis/userentitlements/{_NOBODY}"
        response = self._session.request(
            "DELETE",
            url,
            service=SERVICE,
            headers=self._auth,
            params={"api-version": _ENTITLEMENTS_API},
            read_only=True,  # nobody holds the all-zero id: nothing is removed
        )
        if response.status_code in _REFUSED:
            raise permissions.missing(
                permissions.ENTITLEMENTS_WRITE, SERVICE, "removing users", response.status_code
            )
        # Any other answer (404 no such user, or 400 for the all-zero id) got past the scope check.

    def entitlements(
        self, organization: str, progress: Progress | None = None, *, harm: str = PARTIAL_LIST_HARM
    ) -> list[OrgUser]:
        """Every user of the organization. A read that lists fewer than Azure DevOps counts (a page lost,
        a race of its own) is made again once, and `ShortUserList` should the second come back short too,
        with other users missing, its `harm` what the reader would do with a partial list: whoever reads
        the whole list plans, removes or marks people gone by who is missing from it. Two short reads
        listing the very same users are taken, with a warning: a lost page seldom repeats to the user,
        where a count including users the list never returns would otherwise stop every whole read for
        good."""
        users, first = self._every_entitlement(organization, progress)
        if first.short:
            log.warning(
                "Azure DevOps counts %d users in %s but listed %d: reading them again",
                first.fewest_counted,
                organization,
                len(first.listed),
            )
            self._session.forget_reads()  # the first page kept by `reads_once` may be the short one
            users, tally = self._every_entitlement(organization, progress)
            if tally.short and tally.listed == first.listed:
                log.warning(
                    "Azure DevOps counts %d users in %s but listed the same %d twice: going on with them",
                    tally.fewest_counted,
                    organization,
                    len(tally.listed),
                )
            else:
                tally.check(organization, again=True, harm=harm)
        return users

    def _every_entitlement(
        self, organization: str, progress: Progress | None
    ) -> tuple[list[OrgUser], EntitlementTally]:
        """One read of every page: the users, each once, and how many Azure DevOps counted."""
        users: list[OrgUser] = []
        tally = EntitlementTally()
        for items, total in self.entitlement_pages(organization):
            users += [org_user(item) for item in tally.new(items, total)]
            if progress is not None:
                progress("organization users", len(users), total)
        return users, tally

    def entitlement_pages(
        self, organization: str, order_by: str = ""
    ) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        """The raw entitlements page by page, with the total the service reports; `order_by` is a
        `$orderBy` such as `lastAccessed desc` (a reader may stop early)."""
        url = f"https://vsaex.dev.azure.com/{segment(organization)}/_apis/userentitlements"
        token = ""
        while True:
            params = {"api-version": _ENTITLEMENTS_API}
            if order_by:
                params["$orderBy"] = order_by
            if token:
                params["continuationToken"] = token
            body = self._get(url, params, f"the users of {organization!r}")
            total = body.get("totalCount")
            yield list(body.get("items") or ()), int(total) if isinstance(total, int) else None
            token = body.get("continuationToken") or ""
            if not token:
                return

    def remove_entitlement(self, organization: str, user_id: str) -> None:
        """Remove a user from the organization; one already gone counts as removed (safe to repeat)."""
        url = f"https://vsaex.dev.azure.com/{segment(organization)}/_apis/userentitlements/{segment(user_id)}"
        # 200 is the 7.1 spec's answer; 204 is accepted too. A 404 means already gone.
        self._send(
            "DELETE", url, {"api-version": _ENTITLEMENTS_API}, f"removing user {user_id}", missing_ok=True
        )

    def administrators(self, organization: str, known: Mapping[str, str]) -> tuple[str, ...]:
        """Principal names in Project Collection Administrators, nested groups resolved.

        `known` maps user descriptors to principal names (from the entitlements) so only strangers
        cost a subject lookup.
        """
        root = f"https://vssps.dev.azure.com/{segment(organization)}/_apis/graph"
        group = self._find_group(root, f"[{organization}]\\{_PCA}".casefold())
        users: list[str] = []
        seen = {group}
        pending = [group]
        while pending:
            container = pending.pop(0)
            body = self._get(
                f"{root}/Memberships/{segment(container)}",
                {"direction": "down", "api-version": _GRAPH_API},
                f"the members of {_PCA}",
            )
            for membership in body.get("value") or ():
                member = str(membership.get("memberDescriptor") or "")
                if member.startswith(("vssgp.", "aadgp.")):
                    if member not in seen:
                        seen.add(member)
                        pending.append(member)
                elif member:
                    users.append(member)
        names = {descriptor: known[descriptor] for descriptor in users if descriptor in known}
        strangers = [descriptor for descriptor in users if descriptor not in known]
        if strangers:
            names.update(self._lookup(root, strangers))
        return tuple(dict.fromkeys(names[descriptor] for descriptor in users if descriptor in names))

    def billing_subscription_id(self, organization_id: str) -> str | None:
        """The organization's billing subscription (`azdevopscommerce` BillingSetup; undocumented).

        Raises `UndocumentedFailure` when the endpoint does not answer as expected, so callers can
        report "unknown" with the manual way instead of failing.
        """
        url = f"https://azdevopscommerce.dev.azure.com/{segment(organization_id)}/_apis/AzComm/BillingSetup"
        response = self._session.request(
            "GET", url, service=SERVICE, headers=self._auth, params={"api-version": "7.1-preview.1"}
        )
        body = _json_object(response) if response.status_code == 200 else None
        if body is None:
            raise UndocumentedFailure(f"BillingSetup (undocumented) answered HTTP {response.status_code}")
        return str(body["subscriptionId"]) if body.get("subscriptionId") else None

    def _find_group(self, root: str, principal_name: str) -> str:
        token = ""
        while True:
            params = {"api-version": _GRAPH_API}
            if token:
                params["continuationToken"] = token
            what = "reading the organization's groups"
            response = self._send("GET", f"{root}/groups", params, what, missing_ok=True)
            if response.status_code == 404:  # VS800075, the organization was not found
                raise OrganizationNotFound(service_error(self._session, response, what, SERVICE).args[0])
            for group in response.json().get("value") or ():
                if str(group.get("principalName", "")).casefold() == principal_name:
                    return str(group["descriptor"])
            token = response.headers.get("X-MS-ContinuationToken", "")
            if not token:
                raise MicrosoftError(
                    f"the group {_PCA} was not found; is the PAT's owner an organization admin?"
                )

    def _lookup(self, root: str, descriptors: list[str]) -> dict[str, str]:
        body = {"lookupKeys": [{"descriptor": descriptor} for descriptor in descriptors]}
        response = self._session.request(
            "POST",
            f"{root}/subjectlookup",
            service=SERVICE,
            headers=self._auth,
            params={"api-version": _GRAPH_API},
            json=body,
            read_only=True,  # a read, despite the verb
        )
        if response.status_code in _REFUSED:
            raise permissions.missing(permissions.GRAPH_READ, SERVICE, "looking up administrators", 401)
        if response.status_code >= 400:
            raise service_error(self._session, response, "looking up administrators", SERVICE)
        subjects: dict[str, Any] = response.json().get("value") or {}
        return {
            key: str(value["principalName"]) for key, value in subjects.items() if value.get("principalName")
        }

    def _get(self, url: str, params: dict[str, str], what: str) -> dict[str, Any]:
        body = self._send("GET", url, params, f"reading {what}").json()
        if not isinstance(body, dict):
            raise MicrosoftError(f"Azure DevOps sent an unexpected answer for {what}")
        return body

    def _send(
        self, method: str, url: str, params: dict[str, str], what: str, *, missing_ok: bool = False
    ) -> Any:
        response = self._session.request(method, url, service=SERVICE, headers=self._auth, params=params)
        if response.status_code in _REFUSED:
            # A PAT without the scope gets 401 like an invalid one; name the scope this call needs.
            raise permissions.missing(_scope_for(method, url), SERVICE, what, response.status_code)
        if response.status_code == 404 and missing_ok:
            return response
        if response.status_code >= 400:
            raise service_error(self._session, response, what, SERVICE)
        return response


@dataclass
class EntitlementTally:
    """The users a read of the entitlement pages listed (their ids) and the fewest any page counted.

    `totalCount` is "the total count of the existing user entitlement items" (memberEntitlementManagement
    7.1), counted anew on each page, so someone added or removed between two pages moves it: a list shorter
    than the fewest counted is one Azure DevOps cut short (a page lost, a page truncated), which no such race
    explains. It does not catch every race: the check relies on each continuation token resuming after the
    last user returned (the service's are opaque Cosmos DB tokens, vsts-rest-api-specs#442), where paging by
    offset would skip someone when a user before them is removed, with the counts still agreeing. Nor does the
    spec rule out a count that always includes users the list never returns: `entitlements` takes two short
    reads of the same users."""

    listed: set[str] = field(default_factory=set)
    fewest_counted: int | None = None

    def new(self, items: list[dict[str, Any]], total: int | None) -> list[dict[str, Any]]:
        """Of a page's `items`, those not listed before (a page may repeat one); `total`: the page's count."""
        if total is not None:
            self.fewest_counted = total if self.fewest_counted is None else min(self.fewest_counted, total)
        fresh = [item for item in items if str(item.get("id")) not in self.listed]
        self.listed.update(str(item.get("id")) for item in fresh)
        return fresh

    @property
    def short(self) -> bool:
        return len(self.listed) < (self.fewest_counted or 0)

    def check(self, organization: str, *, again: bool, harm: str = PARTIAL_LIST_HARM) -> None:
        """`ShortUserList` for a short read; `again`: the second in a row; `harm`: as `ShortUserList`'s."""
        if self.short:
            listed, counted = len(self.listed), self.fewest_counted or 0
            raise ShortUserList(organization, listed, counted, again=again, harm=harm)


class UndocumentedFailure(MicrosoftError):
    """An undocumented endpoint failed: what it would tell is unknown, not wrong."""


_REFUSED = (401, 403, 203)
"""203 is Azure DevOps' sign-in page for a PAT it does not accept."""
_NOBODY = "00000000-0000-0000-0000-000000000000"


def _scope_for(method: str, url: str) -> permissions.Permission:
    if "/_apis/userentitlements" in url:
        return permissions.ENTITLEMENTS_WRITE
    return permissions.GRAPH_READ


def _json_object(response: Any) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value or value.startswith(_NEVER):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def org_user(item: dict[str, Any]) -> OrgUser:
    user = item.get("user") or {}
    access = item.get("accessLevel") or {}
    return OrgUser(
        id=str(item["id"]),
        principal_name=str(user.get("principalName") or ""),
        mail_address=str(user.get("mailAddress") or ""),
        display_name=str(user.get("displayName") or ""),
        origin=str(user.get("origin") or ""),
        origin_id=str(user.get("originId") or ""),
        descriptor=str(user.get("descriptor") or ""),
        license_display_name=str(access.get("licenseDisplayName") or ""),
        licensing_source=str(access.get("licensingSource") or ""),
        msdn_license_type=str(access.get("msdnLicenseType") or "none"),
        last_accessed=_date(item.get("lastAccessedDate")),
        date_created=_date(item.get("dateCreated")),
    )
