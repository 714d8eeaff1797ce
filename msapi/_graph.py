"""Microsoft Graph: users, the organization, the authorization policy, directory roles, invitations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from msapi._http import HttpSession, service_error
from msapi._odata import address_filter
from workflows.directory import DirectoryUser, Invitation, InvitePermissionDenied, MicrosoftError, Tenant

SERVICE = "Microsoft Graph"
ROOT = "https://graph.microsoft.com/v1.0"
USER_FIELDS = "id,displayName,userPrincipalName,mail,otherMails,proxyAddresses,userType,accountEnabled"
PAGE_SIZE = 999

Progress = Callable[[str, int, int | None], None]
BearerToken = Callable[[], str]


@dataclass(frozen=True)
class Overview:
    """The tenant, its invitation policy, one user's roles and every directory user."""

    tenant: Tenant
    allow_invites_from: str
    roles: tuple[str, ...]
    users: tuple[DirectoryUser, ...]


class Graph:
    def __init__(self, session: HttpSession, token: BearerToken) -> None:
        self._session = session
        self._token = token

    def overview(self, connector: str, progress: Progress | None = None) -> Overview:
        """Everything the plan needs from the directory; the first users page rides in one `$batch`."""
        first_page = f"/users?{urlencode({'$select': USER_FIELDS, '$top': str(PAGE_SIZE)})}"
        requests = {
            "organization": "/organization",
            "policy": "/policies/authorizationPolicy",
            "users": first_page,
            "roles": f"{_roles_path(connector)}?$select=displayName",
        }
        body = self._call(
            "POST",
            f"{ROOT}/$batch",
            "a batch of directory reads",
            json={"requests": [{"id": key, "method": "GET", "url": url} for key, url in requests.items()]},
        )
        answers = {str(item.get("id")): item for item in body.get("responses") or ()}

        def answer(key: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
            item = answers.get(key) or {}
            status = int(item.get("status") or 0)
            if status == 200 and isinstance(item.get("body"), dict):
                return dict(item["body"])
            if status == 404 and missing_ok:
                return None
            # Throttled or failed inside the batch: ask again on its own, with the usual retries.
            return self._call(
                "GET", ROOT + requests[key], f"the {key} of the directory", missing_ok=missing_ok
            )

        organization = answer("organization") or {}
        policy = answer("policy") or {}
        roles = answer("roles", missing_ok=True)
        users = _users(answer("users") or {}, self, progress)
        return Overview(
            tenant=_tenant(organization),
            allow_invites_from=str(policy.get("allowInvitesFrom") or "everyone"),
            roles=_role_names(roles),
            users=tuple(users),
        )

    def users(self, progress: Progress | None = None) -> list[DirectoryUser]:
        params = urlencode({"$select": USER_FIELDS, "$top": str(PAGE_SIZE)})
        return _users(self._call("GET", f"{ROOT}/users?{params}", "the directory users"), self, progress)

    def next_page(self, url: str) -> dict[str, Any]:
        return self._call("GET", url, "the next page of directory users")

    def find_user(self, email: str) -> DirectoryUser | None:
        """A directory user holding `email` as UPN, mail, other mail or SMTP address; enabled ones first."""
        params = {"$select": USER_FIELDS, "$filter": address_filter(email.strip()), "$count": "true"}
        # `or` across lambdas can need advanced query mode; asking for it is always allowed.
        body = self._call("GET", f"{ROOT}/users", f"the directory user {email}", params=params, eventual=True)
        found = sorted(
            (_directory_user(item) for item in body.get("value") or ()), key=lambda u: not u.account_enabled
        )
        return found[0] if found else None

    def tenant(self) -> Tenant:
        return _tenant(self._call("GET", f"{ROOT}/organization", "the organization"))

    def allow_invites_from(self) -> str:
        policy = self._call("GET", f"{ROOT}/policies/authorizationPolicy", "the authorization policy")
        return str(policy.get("allowInvitesFrom") or "everyone")

    def roles(self, user: str) -> list[str]:
        body = self._call(
            "GET",
            f"{ROOT}{_roles_path(user)}",
            f"the roles of {user}",
            params={"$select": "displayName"},
            missing_ok=True,
        )
        return list(_role_names(body))

    def invite(self, *, email: str, display_name: str, message: str, redirect_url: str) -> Invitation:
        payload = {
            "invitedUserEmailAddress": email,
            "invitedUserDisplayName": display_name,
            "inviteRedirectUrl": redirect_url,
            "sendInvitationMessage": True,
            "invitedUserMessageInfo": {"customizedMessageBody": message},
        }
        response = self._session.request(
            "POST", f"{ROOT}/invitations", service=SERVICE, headers=self._headers(), json=payload
        )
        if response.status_code == 403:
            raise InvitePermissionDenied(
                f"the directory refused to invite {email}: the inviter may not invite guests "
                "(External collaboration settings: Guest invite settings)"
            )
        if response.status_code >= 400:
            raise service_error(self._session, response, f"inviting {email}", SERVICE)
        body = response.json()
        return Invitation(
            email=email,
            status=str(body.get("status") or ""),
            invited_user_id=(body.get("invitedUser") or {}).get("id"),
            redeem_url=body.get("inviteRedeemUrl"),
        )

    def _headers(self, *, eventual: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._token()}"}
        if eventual:
            headers["ConsistencyLevel"] = "eventual"
        return headers

    def _call(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        eventual: bool = False,
        missing_ok: bool = False,
    ) -> dict[str, Any]:
        response = self._session.request(
            method,
            url,
            service=SERVICE,
            headers=self._headers(eventual=eventual),
            params=params,
            json=json,
            retry_unsafe=method == "POST",  # only the read-only batch is posted through here
        )
        if response.status_code == 404 and missing_ok:
            return {}
        if response.status_code >= 400:
            raise service_error(self._session, response, f"reading {what}", SERVICE)
        body = response.json()
        if not isinstance(body, dict):
            raise MicrosoftError(f"Microsoft Graph sent an unexpected answer for {what}")
        return body


def _roles_path(user: str) -> str:
    return f"/users/{quote(user.strip(), safe='@')}/memberOf/microsoft.graph.directoryRole"


def _role_names(body: dict[str, Any] | None) -> tuple[str, ...]:
    return tuple(
        str(item["displayName"]) for item in (body or {}).get("value") or () if item.get("displayName")
    )


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
    )


def _tenant(body: dict[str, Any]) -> Tenant:
    entries = body.get("value") or ()
    if not entries:
        raise MicrosoftError("Microsoft Graph returned no organization for this tenant")
    entry = entries[0]
    domains = entry.get("verifiedDomains") or ()
    default = next((str(d["name"]) for d in domains if d.get("isDefault")), "")
    return Tenant(
        id=str(entry["id"]),
        display_name=str(entry.get("displayName") or ""),
        verified_domains=tuple(str(d["name"]) for d in domains),
        default_domain=default,
    )
