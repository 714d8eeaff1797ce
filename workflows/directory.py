"""What the bot knows about an organization and a directory, independent of where it came from.

The Microsoft clients (package `msapi`) turn the services' JSON into these values; the plan, the
workflow and the chat surfaces only ever see these.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from workflows.plan import Check

MSA_TENANT_ID = "00000000-0000-0000-0000-000000000000"
"""What `X-VSS-ResourceTenant` reports for an organization backed by Microsoft accounts."""
PENDING_ACCEPTANCE = "PendingAcceptance"


@dataclass(frozen=True)
class OrgUser:
    """One Azure DevOps user entitlement (`GET _apis/userentitlements`)."""

    id: str
    principal_name: str
    mail_address: str = ""
    display_name: str = ""
    origin: str = "msa"
    origin_id: str = ""
    """The identity's id where it comes from: a directory account's object id once on the directory."""
    descriptor: str = ""
    license_display_name: str = ""
    licensing_source: str = ""
    msdn_license_type: str = "none"
    last_accessed: datetime | None = None
    date_created: datetime | None = None

    @property
    def is_visual_studio_subscriber(self) -> bool:
        return self.licensing_source == "msdn" or self.msdn_license_type not in ("", "none")


@dataclass(frozen=True)
class DirectoryUser:
    """One Microsoft Entra ID user (`GET /v1.0/users` with the plan's `$select`)."""

    id: str
    user_principal_name: str
    display_name: str = ""
    mail: str | None = None
    other_mails: tuple[str, ...] = ()
    proxy_addresses: tuple[str, ...] = ()
    user_type: str = "Member"
    account_enabled: bool = True
    external_user_state: str | None = None
    """`PendingAcceptance` for a guest who has not redeemed their invitation yet, `Accepted` once they
    have, None for everyone else (Graph's `externalUserState`)."""

    @property
    def invitation_pending(self) -> bool:
        """A guest who has not accepted their invitation: they cannot use anything of the tenant yet."""
        return self.external_user_state == PENDING_ACCEPTANCE


@dataclass(frozen=True)
class Tenant:
    """A Microsoft Entra ID tenant (`GET /v1.0/organization`)."""

    id: str
    display_name: str = ""
    verified_domains: tuple[str, ...] = ()
    default_domain: str = ""


@dataclass(frozen=True)
class Organization:
    """An Azure DevOps organization and the facts the prerequisites need."""

    name: str
    connected_tenant_id: str = MSA_TENANT_ID
    owner: str | None = None
    administrators: tuple[str, ...] = ()
    """Principal names of the Project Collection Administrators, nested groups resolved."""
    billing_subscription_id: str | None = None
    id: str = ""


@dataclass(frozen=True)
class Subscription:
    """An Azure subscription (`GET management.azure.com/subscriptions/{id}`)."""

    id: str
    tenant_id: str
    display_name: str = ""
    state: str = "Enabled"


@dataclass(frozen=True)
class Invitation:
    """The result of one B2B guest invitation (`POST /v1.0/invitations`)."""

    email: str
    status: str
    invited_user_id: str | None = None
    redeem_url: str | None = None


@dataclass(frozen=True)
class DirectorySnapshot:
    """Everything the plan is computed from, fetched once."""

    organization: Organization
    users: tuple[OrgUser, ...]
    tenant: Tenant
    directory_users: tuple[DirectoryUser, ...]
    allow_invites_from: str
    connector_roles: tuple[str, ...] = ()
    connector_roles_unread: tuple[str, str] | None = None
    """Why the connector's directory roles could not be read (the app may lack the permission), and how to
    grant it, when they decide whether the connector may invite: `invite-permission` then cannot tell."""
    billing_subscription: Subscription | None = None
    billing_unread: tuple[str, str] | None = None
    """Why the billing subscription could not be read, and what to do, when Microsoft refused that read
    alone (the tenant lacks Azure Resource Manager): the billing check warns with it, the others go on."""
    invites_as_app: bool = False
    """Invitations are sent by the bot's app registration (app-only), not by a signed-in person."""

    @property
    def already_connected(self) -> bool:
        """The organization is connected to this very tenant: the portal step is done."""
        return self.organization.connected_tenant_id.casefold() == self.tenant.id.casefold()


class InvitePermissionDenied(Exception):
    """The directory refused an invitation by policy (External collaboration settings), not for consent."""


class MicrosoftError(Exception):
    """A Microsoft service failed in a way retries did not cure; the message is safe to show."""

    needs_change = False
    """True when the message says what an admin must change first (a setting, a portal page): trying again
    fails alike until then, however soon the service answers."""
    lacks_resource_manager = False
    """True when the tenant has no Azure Resource Manager (Entra's AADSTS500011 naming it): it holds no Azure
    subscription, so the one billing the organization is not in it yet."""


class Unanswered(MicrosoftError):
    """The request reached the service and its answer never came (it timed out, the connection dropped):
    the service may have done what it asked, or not. Only a look at what it changes can tell."""


class OrganizationNotFound(MicrosoftError):
    """No Azure DevOps organization has this name (a typo, most often)."""


class TenantNotFound(MicrosoftError):
    """The Microsoft identity platform knows no tenant of this id or verified domain (a typo, most often)."""


UNKNOWN_TENANT = "entra-tenant"
"""The preflight check that fails when the tenant given is one Microsoft does not know (`TenantNotFound`)."""


PARTIAL_LIST_HARM = (
    "whoever is missing from a partial list would be left out of the plan or the stale users, or recorded as"
    " removed"
)
SIGN_IN_READ_HARM = (
    "whoever is missing from a partial list would be taken for removed from the organization, their sign-in"
    " no longer looked for"
)
"""`ShortUserList`'s harm in a full read of the sign-ins (`MicrosoftClients.sign_ins`, for `verification`),
which takes everyone it does not return for gone."""


class ShortUserList(MicrosoftError):
    """Azure DevOps listed fewer users of an organization than it counted."""

    def __init__(self, organization: str, listed: int, counted: int, *, again: bool, harm: str) -> None:
        """`harm`: what going on with the partial list would do, a clause such as `PARTIAL_LIST_HARM`."""
        twice = ", twice in a row," if again else ","
        super().__init__(
            f"Azure DevOps counts {counted} users in {organization} but listed only {listed} of them{twice}"
            f" so I stopped there: {harm}. Try again in a few minutes; should it stay short, Microsoft"
            " Support can look at the organization's users."
        )
        self.listed = listed
        self.counted = counted


class MissingPermission(MicrosoftError):
    """A service refused a call because the bot's credentials lack a permission, scope or role.

    `permission` is Microsoft's own name for it (`User.Invite.All`, `vso.graph`, `Reader`); the
    message names it and says how to grant it.
    """

    def __init__(self, reason: str, *, permission: str, fix: str) -> None:
        super().__init__(f"{reason} Fix: {fix}")
        self.reason = reason
        self.permission = permission
        self.fix = fix


class Microsoft(Protocol):
    """The Microsoft services the workflow needs: Azure DevOps, Microsoft Graph, Azure Resource Manager.

    Implemented over HTTP by `msapi.MicrosoftClients` (real services or the sandbox). Every method
    raises `MicrosoftError` with a message fit for chat when a service keeps failing.
    """

    def administrators(self, name: str) -> tuple[str, ...]:
        """The owner's principal name (when known) first, then the Project Collection Administrators'
        (walks the administrators' groups)."""
        ...

    def billing_subscription_id(self, name: str) -> str | None:
        """Only the subscription that bills the organization, without the administrators' walk."""
        ...

    def reads_once(self) -> AbstractContextManager[None]:
        """Within it, this context reads the same thing once (`start`'s checks, then its snapshot)."""
        ...

    def giving_up_after(self, seconds: float) -> AbstractContextManager[None]:
        """Within it, this context's calls fail (`MicrosoftError`) rather than wait past `seconds` from now,
        for a service asking to be retried later, a back-off or a slow answer: the watch's early looks, which
        must not hold up its next poll."""
        ...

    def organization_tenant_id(self, name: str) -> str:
        """The tenant the organization is connected to now (`HEAD vssps.dev.azure.com/{org}`)."""
        ...

    def org_users(self, name: str) -> list[OrgUser]: ...

    def remove_org_user(self, organization: str, user_id: str) -> None: ...

    def org_user(self, organization: str, user_id: str) -> OrgUser | None:
        """One user by entitlement id (`GET _apis/userentitlements/{id}`), None once they are gone."""
        ...

    def sign_ins(self, organization: str, since: datetime | None) -> list[OrgUser]:
        """Users who accessed the organization after `since`, newest first (every user when None).

        Where the service sorts by last access, reading stops at `since`: a check every few minutes
        reads a page or two, not the whole organization.
        """
        ...

    def tenant(self, tenant: str) -> Tenant:
        """`tenant` is a tenant id or one of its verified domains."""
        ...

    def find_directory_user(self, tenant_id: str, email: str) -> DirectoryUser | None: ...

    def directory_user(self, tenant_id: str, user_id: str) -> DirectoryUser | None:
        """By object id, None once it is gone. Unlike the search by address, which may miss someone created
        moments ago (the directory's search is eventually consistent), it finds a guest just invited."""
        ...

    @property
    def invites_as_app(self) -> bool:
        """Invitations go out as the bot's app registration, not as the person who asked: a refusal is the
        app's."""
        ...

    def invite_guest(
        self,
        tenant_id: str,
        *,
        email: str,
        display_name: str,
        message: str,
        redirect_url: str,
        inviter: str,
        send_email: bool = True,
    ) -> Invitation:
        """Raises `InvitePermissionDenied` on 403. Without `send_email` Microsoft mails nothing; a guest
        already invited gets a new link to accept (`interrupted_invitations`)."""
        ...

    def subscription(self, subscription_id: str, tenant_id: str) -> Subscription | None:
        """Read with a token of `tenant_id`; a subscription of another tenant still names its tenant."""
        ...

    def snapshot(self, organization: str, tenant: str, connector: str) -> DirectorySnapshot:
        """Fetch everything the plan needs in as few requests as the services allow."""
        ...

    def doctor(self, organization: str, tenant: str) -> list[Check]:
        """Read-only checks that the credentials can do everything the migration needs (`aadbot doctor`)."""
        ...
