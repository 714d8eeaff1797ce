"""Microsoft Graph: users, the organization, the authorization policy, directory roles, invitations."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import httpx

from msapi import permissions
from msapi._auth import granted, token_claims
from msapi._http import HttpSession, rejected_token, segment, service_error
from msapi._odata import address_filter, odata_string
from workflows.directory import (
    DirectoryUser,
    Invitation,
    InvitePermissionDenied,
    MicrosoftError,
    MissingPermission,
    Tenant,
)

SERVICE = "Microsoft Graph"
ROOT = "https://graph.microsoft.com/v1.0"
USER_FIELDS = (
    "id,displayName,userPrincipalName,mail,otherMails,proxyAddresses,userType,accountEnabled,"
    "externalUserState"
)
ORGANIZATION_FIELDS = "id,displayName,verifiedDomains"
PAGE_SIZE = 999

Progress = Callable[[str, int, int | None], None]
BearerToken = Callable[[bool], str]
"""`token(fresh)`: a bearer token; `fresh=True` when the service rejected the last one."""
log = logging.getLogger("msapi")


@dataclass(frozen=True)
class Overview:
    """The tenant, its invitation policy, one user's roles and every directory user."""

    tenant: Tenant
    allow_invites_from: str
    roles: tuple[str, ...]
    users: tuple[DirectoryUser, ...]
    roles_unread: tuple[str, str] | None = None
    """Why `roles` could not be read and how to grant that, if so (`Graph._inviter_roles`)."""


class Graph:
    """Graph calls with the least permissions Microsoft documents for each (see `msapi.permissions`).

    `token(fresh)` gives a bearer token; a 401 `InvalidAuthenticationToken` asks once for a fresh one.
    """

    def __init__(self, session: HttpSession, token: BearerToken, *, delegated: bool = False) -> None:
        self._session = session
        self._token = token
        self._delegated = delegated

    def claims(self) -> dict[str, Any]:
        """The current token's claims (empty for an opaque token)."""
        return token_claims(self._token(False))

    def granted(self) -> frozenset[str]:
        """What the current token grants (`roles` of an app, `scp` of a signed-in person)."""
        return granted(self.claims())

    def tenant_id(self) -> str:
        """The tenant the token was issued for (its `tid`); `GET /organization` when the token is opaque."""
        tenant = str(token_claims(self._token(False)).get("tid") or "")
        return tenant or _tenant(self._call("GET", f"{ROOT}/organization", "the organization")).id

    def overview(self, connector: str, progress: Progress | None = None) -> Overview:
        """Everything the plan needs from the directory; the first users page rides in one `$batch`."""
        first_page = f"/users?{urlencode({'$select': USER_FIELDS, '$top': str(PAGE_SIZE)})}"
        requests = {
            "organization": f"/organization/{segment(self.tenant_id())}?$select={ORGANIZATION_FIELDS}",
            "policy": "/policies/authorizationPolicy",
            "users": first_page,
        }
        body = self._call(
            "POST",
            f"{ROOT}/$batch",
            "a batch of directory reads",
            json={"requests": [{"id": key, "method": "GET", "url": url} for key, url in requests.items()]},
            read_only=True,  # every request in the batch is a GET
        )
        answers = {str(item.get("id")): item for item in body.get("responses") or ()}

        def answer(key: str) -> dict[str, Any]:
            item = answers.get(key) or {}
            if int(item.get("status") or 0) == 200 and isinstance(item.get("body"), dict):
                return dict(item["body"])
            # Refused, throttled or failed inside the batch: ask again on its own, where a refusal
            # names its permission and a throttle gets the usual retries.
            return self._call("GET", ROOT + requests[key], _WHAT[key])

        organization = answer("organization")
        policy = answer("policy")
        users = _users(answer("users"), self, progress)
        allow = str(policy.get("allowInvitesFrom") or "everyone")
        wanted = connector.strip().casefold()
        match = next(
            (u for u in users if wanted in (u.user_principal_name.casefold(), (u.mail or "").casefold())),
            None,
        )
        roles, unread = self._inviter_roles(allow, match)
        return Overview(
            tenant=_organization(organization),
            allow_invites_from=allow,
            roles=roles,
            users=tuple(users),
            roles_unread=unread,
        )

    def _inviter_roles(
        self, allow: str, user: DirectoryUser | None
    ) -> tuple[tuple[str, ...], tuple[str, str] | None]:
        """The connector's directory roles when they decide whether they may invite guests (the plan's
        `invite-permission`): under `adminsAndGuestInviters`, or a guest under
        `adminsGuestInvitersAndAllMembers`; else none are read. An app is often not granted reading roles,
        and needs them for no step of its own (it invites under the setting alone): a refusal leaves them
        unknown (the reason and the fix, second), which that check says, rather than failing the plan."""
        if user is None or not (
            allow == "adminsAndGuestInviters"
            or (allow == "adminsGuestInvitersAndAllMembers" and user.user_type.casefold() != "member")
        ):
            return (), None
        try:
            return tuple(self.roles(user.id)), None
        except MissingPermission as error:
            return (), (error.reason, error.fix)

    def users(self, progress: Progress | None = None) -> list[DirectoryUser]:
        params = urlencode({"$select": USER_FIELDS, "$top": str(PAGE_SIZE)})
        return _users(self._call("GET", f"{ROOT}/users?{params}", "the directory users"), self, progress)

    def first_user(self) -> None:
        """One user, one field: proof that the directory's users can be read."""
        self._call("GET", f"{ROOT}/users", "the directory users", params={"$select": "id", "$top": "1"})

    def user_pages(self) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        """The raw directory users (the plan's fields) page by page, with the count Graph reports."""
        params = {"$select": USER_FIELDS, "$top": str(PAGE_SIZE), "$count": "true"}
        page = self._call("GET", f"{ROOT}/users", "the directory users", params=params, eventual=True)
        total = page.get("@odata.count")
        while True:
            yield list(page.get("value") or ()), int(total) if isinstance(total, int) else None
            link = page.get("@odata.nextLink")
            if not link:
                return
            # The link carries $count=true, which Graph refuses without the advanced-query header.
            page = self._call("GET", str(link), "the directory users", eventual=True)

    def next_page(self, url: str) -> dict[str, Any]:
        return self._call("GET", url, "the directory users")

    def find_user(self, email: str) -> DirectoryUser | None:
        """A directory user holding `email` as UPN, mail, other mail or SMTP address; enabled ones first."""
        params = {"$select": USER_FIELDS, "$filter": address_filter(email.strip()), "$count": "true"}
        # `or` across lambdas can need advanced query mode; asking for it is always allowed.
        body = self._call("GET", f"{ROOT}/users", "the directory users", params=params, eventual=True)
        found = sorted(
            (_directory_user(item) for item in body.get("value") or ()), key=lambda u: not u.account_enabled
        )
        return found[0] if found else None

    def user(self, user_id: str) -> DirectoryUser | None:
        """The directory user with this object id, None once it is gone. Read directly, not through the
        advanced query (`ConsistencyLevel: eventual`) `find_user` needs, whose index Microsoft documents as
        eventually consistent: a guest just invited may be missing from it for a while."""
        response = self._send("GET", f"{ROOT}/users/{segment(user_id)}", params={"$select": USER_FIELDS})
        if response.status_code == 404:
            return None
        return _directory_user(self._body(response, _WHAT["users"]))

    def tenant(self) -> Tenant:
        tenant_id = segment(self.tenant_id())
        return _organization(
            self._call(
                "GET",
                f"{ROOT}/organization/{tenant_id}",
                _WHAT["organization"],
                params={"$select": ORGANIZATION_FIELDS},
            )
        )

    def allow_invites_from(self) -> str:
        policy = self._call("GET", f"{ROOT}/policies/authorizationPolicy", _WHAT["policy"])
        return str(policy.get("allowInvitesFrom") or "everyone")

    def roles(self, user: str) -> list[str]:
        """Directory roles held by `user` (an object id or UPN), through role assignments."""
        user_id = user.strip()
        if not _GUID.fullmatch(user_id):
            response = self._send(
                "GET", f"{ROOT}/users/{segment(user_id, safe='@')}", params={"$select": "id"}
            )
            if response.status_code == 404:
                return []
            if response.status_code >= 400:
                raise service_error(self._session, response, "reading the directory users", SERVICE)
            user_id = str(response.json().get("id") or "")
        body = self._call(
            "GET",
            f"{ROOT}/roleManagement/directory/roleAssignments",
            "the directory roles",
            params={"$filter": f"principalId eq {odata_string(user_id)}", "$expand": "roleDefinition"},
        )
        return list(_role_names(body))

    def invite(
        self, *, email: str, display_name: str, message: str, redirect_url: str, send_email: bool = True
    ) -> Invitation:
        payload: dict[str, Any] = {
            "invitedUserEmailAddress": email,
            "invitedUserDisplayName": display_name,
            "inviteRedirectUrl": redirect_url,
            "sendInvitationMessage": send_email,
        }
        if send_email:
            payload["invitedUserMessageInfo"] = {"customizedMessageBody": message}
        response = self._send("POST", f"{ROOT}/invitations", json=payload)
        if response.status_code == 403:
            raise self._invite_refusal(email, response)
        if response.status_code >= 400:
            raise service_error(self._session, response, f"inviting {email}", SERVICE)
        body = response.json()
        return Invitation(
            email=email,
            status=str(body.get("status") or ""),
            invited_user_id=(body.get("invitedUser") or {}).get("id"),
            redeem_url=body.get("inviteRedeemUrl"),
        )

    def _invite_refusal(self, email: str, response: httpx.Response) -> Exception:
        """Missing consent (the token lacks User.Invite.All) or a policy refusal: different fixes."""
        invite = permissions.USER_INVITE_ALL
        held = self.granted()
        accepted = {invite.name, *invite.also_accepted}
        message = str(((_json(response) or {}).get("error") or {}).get("message") or "")
        if (held and not held & accepted) or message.startswith("Insufficient privileges to perform"):
            return permissions.missing(self._permission(invite), SERVICE, f"inviting {email}", 403)
        return InvitePermissionDenied(
            f"the directory refused to invite {email} by policy ({message or 'HTTP 403'}): "
            "External Identities > External collaboration settings > Guest invite settings"
        )

    def _permission(self, permission: permissions.Permission) -> permissions.Permission:
        """`permission` of the kind these credentials hold: delegated with a sign-in, else the app's (the
        roles, read by an app too for the plan's `invite-permission`, are listed as delegated)."""
        if self._delegated and permission.kind == "graph-application":
            return replace(permission, kind="graph-delegated")
        if not self._delegated and permission.kind == "graph-delegated":
            return replace(permission, kind="graph-application")
        return permission

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        eventual: bool = False,
        read_only: bool = False,
    ) -> httpx.Response:
        """One request; a rejected token (401 `InvalidAuthenticationToken`) is replaced once and retried."""
        response = None
        for fresh in (False, True):
            headers = {"Authorization": f"Bearer {self._token(fresh)}"}
            if eventual:
                headers["ConsistencyLevel"] = "eventual"
            response = self._session.request(
                method,
                url,
                service=SERVICE,
                headers=headers,
                params=params,
                json=json,
                read_only=read_only,
            )
            if not rejected_token(response):
                return response
            log.info("Microsoft Graph rejected the cached token; asking for a new one")
        assert response is not None
        return response

    def _call(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        eventual: bool = False,
        read_only: bool = False,
    ) -> dict[str, Any]:
        """`read_only`: a request other than a GET that changes nothing (resent after an error; keeps
        `reads_once`'s memory), said by its caller, never guessed from the method."""
        response = self._send(method, url, params=params, json=json, eventual=eventual, read_only=read_only)
        return self._body(response, what)

    def _body(self, response: httpx.Response, what: str) -> dict[str, Any]:
        """The answer's JSON object; a refusal names the permission reading `what` needs."""
        if response.status_code == 403 and what in _NEEDS:
            raise permissions.missing(self._permission(_NEEDS[what]), SERVICE, f"reading {what}", 403)
        if response.status_code >= 400:
            raise service_error(self._session, response, f"reading {what}", SERVICE)
        body = response.json()
        if not isinstance(body, dict):
            raise MicrosoftError(f"Microsoft Graph sent an unexpected answer for {what}")
        return body


_WHAT = {
    "organization": "the organization",
    "policy": "the authorization policy",
    "users": "the directory users",
}
_NEEDS = {
    "the organization": permissions.ORGANIZATION_READ_ALL,
    "the authorization policy": permissions.POLICY_READ_ALL,
    "the directory users": permissions.USER_READ_ALL,
    "the directory roles": permissions.ROLE_MANAGEMENT_READ_DIRECTORY,
}
"""Which permission a refused read lacks, by what was being read."""
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _role_names(body: dict[str, Any] | None) -> tuple[str, ...]:
    """Role names of `roleAssignments?$expand=roleDefinition`."""
    names = (
        ((item.get("roleDefinition") or {}).get("displayName")) for item in (body or {}).get("value") or ()
    )
    return tuple(dict.fromkeys(str(name) for name in names if name))


def _users(first: dict[str, Any], graph: Graph, progress: Progress | None) -> list[DirectoryUser]:
    users: list[DirectoryUser] = []
    page: dict[str, Any] = first
    while True:
        users.extend(_directory_user(item) for item in page.get("value") or ())
        if progress is not None:
            progress("directory users", len(users), None)
        link = page.get("@odata.nextLink")
        if not link:
            return users
        page = graph.next_page(str(link))


def _directory_user(item: dict[str, Any]) -> DirectoryUser:
    return DirectoryUser(
        id=str(item["id"]),
        user_principal_name=str(item.get("userPrincipalName") or ""),
        display_name=str(item.get("displayName") or ""),
        mail=item.get("mail") or None,
        other_mails=tuple(item.get("otherMails") or ()),
        proxy_addresses=tuple(item.get("proxyAddresses") or ()),
        user_type=str(item.get("userType") or "Member"),
        account_enabled=item.get("accountEnabled") is not False,
        external_user_state=item.get("externalUserState") or None,
    )


def _tenant(body: dict[str, Any]) -> Tenant:
    """The first entry of `GET /organization` (the collection)."""
    entries = body.get("value") or ()
    if not entries:
        raise MicrosoftError("Microsoft Graph returned no organization for this tenant")
    return _organization(entries[0])


def _organization(entry: dict[str, Any]) -> Tenant:
    """`GET /organization/{id}`: the tenant's id, name and verified domains."""
    domains = entry.get("verifiedDomains") or ()
    default = next((str(d["name"]) for d in domains if d.get("isDefault")), "")
    return Tenant(
        id=str(entry["id"]),
        display_name=str(entry.get("displayName") or ""),
        verified_domains=tuple(str(d["name"]) for d in domains),
        default_domain=default,
    )
