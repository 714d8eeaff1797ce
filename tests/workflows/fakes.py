"""An in-memory Microsoft that changes state as the real services do, and a clock tests can move."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from workflows.directory import (
    DirectorySnapshot,
    DirectoryUser,
    Invitation,
    InvitePermissionDenied,
    MicrosoftError,
    Organization,
    OrgUser,
    Subscription,
    Tenant,
)
from workflows.plan import Check

if TYPE_CHECKING:
    from workflows.service import Actor, MigrationService

TENANT_ID = "7f1c2d3e-0000-4000-8000-00000000fab1"
OTHER_TENANT_ID = "9a9a9a9a-0000-4000-8000-0000000000ff"
SUBSCRIPTION_ID = "c0ffee00-0000-4000-8000-000000000001"
DANA = "dana@fabrikam.com"
LEE = "lee@fabrikam.com"


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class ProcessKilled(BaseException):
    """Stands for the process dying mid-step: nothing in the service may catch it."""


def redeem_link(sent: int) -> str:
    """The link to accept the `sent`th invitation (from 1), each a new one as Graph's are."""
    return f"https://login.microsoftonline.com/redeem?rd=fake-{sent}"


@dataclass
class FakeMicrosoft:
    """Fabrikam: an organization on Microsoft accounts and its company directory."""

    org: Organization = field(
        default_factory=lambda: Organization(
            name="fabrikam",
            owner=DANA,
            administrators=(DANA, LEE),
            billing_subscription_id=SUBSCRIPTION_ID,
        )
    )
    users: list[OrgUser] = field(
        default_factory=lambda: [
            OrgUser(id="e-dana", principal_name=DANA, mail_address=DANA, display_name="Dana"),
            OrgUser(id="e-lee", principal_name=LEE, mail_address=LEE, display_name="Lee"),
            OrgUser(
                id="e-ann",
                principal_name="ann@fabrikam.com",
                mail_address="ann@fabrikam.com",
                display_name="Ann",
            ),
            OrgUser(
                id="e-bob",
                principal_name="bob@outlook.com",
                mail_address="bob@outlook.com",
                display_name="Bob",
            ),
            OrgUser(
                id="e-cy",
                principal_name="cy@gmail.com",
                mail_address="cy@gmail.com",
                display_name="Cy",
                licensing_source="msdn",
            ),
        ]
    )
    doctor_checks: list[Check] = field(default_factory=list)
    tenant_info: Tenant = field(
        default_factory=lambda: Tenant(
            id=TENANT_ID,
            display_name="Fabrikam",
            verified_domains=("fabrikam.com",),
            default_domain="fabrikam.com",
        )
    )
    directory: list[DirectoryUser] = field(
        default_factory=lambda: [
            DirectoryUser(id="g-dana", user_principal_name=DANA, display_name="Dana", mail=DANA),
            DirectoryUser(id="g-lee", user_principal_name=LEE, display_name="Lee", mail=LEE),
            DirectoryUser(id="g-ann", user_principal_name="ann@fabrikam.com", display_name="Ann"),
        ]
    )
    allow_invites: str = "adminsGuestInvitersAndAllMembers"
    subscriptions: dict[str, Subscription] = field(
        default_factory=lambda: {SUBSCRIPTION_ID: Subscription(id=SUBSCRIPTION_ID, tenant_id=TENANT_ID)}
    )
    deny_invites: bool = False
    invites_as_app: bool = False
    """As `aadbot signin` makes it: invitations go out as the person who asked."""
    invite_refusal: MicrosoftError | None = None
    """Raised by every invitation: the credentials lack a permission (missing consent, not policy)."""
    broken: set[str] = field(default_factory=set)
    """Method names that raise `MicrosoftError`, as a service that keeps failing would."""
    kill_after_invitations: int | None = None
    invitations: list[str] = field(default_factory=list)
    """Each invitation email Microsoft sent."""
    links_without_email: list[str] = field(default_factory=list)
    """Each invitation asked for its link only (`send_email` off), to someone invited already."""
    removed: list[str] = field(default_factory=list)
    subscription_tenants: list[str] = field(default_factory=list)
    """The tenant each `subscription` call was asked to read with."""
    calls: dict[str, int] = field(default_factory=dict)
    sign_ins_since: list[datetime | None] = field(default_factory=list)
    """What each `sign_ins` read asked for: None for everyone, else the moment it read back to."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what an admin does outside the bot
    def connect(self, tenant_id: str) -> None:
        self.org = replace(self.org, connected_tenant_id=tenant_id)

    def add_directory_user(self, email: str, *, user_type: str = "Member") -> None:
        self.directory.append(
            DirectoryUser(id=f"g-{email}", user_principal_name=email, mail=email, user_type=user_type)
        )

    # --- the Microsoft protocol
    def _call(self, name: str) -> None:
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1
        if name in self.broken:
            raise MicrosoftError(f"Microsoft Graph kept answering 503 to {name}; try again later.")

    def administrators(self, name: str) -> tuple[str, ...]:
        self._call("administrators")
        return (*((self.org.owner,) if self.org.owner else ()), *self.org.administrators)

    def billing_subscription_id(self, name: str) -> str | None:
        self._call("billing_subscription_id")
        return self.org.billing_subscription_id

    def reads_once(self) -> AbstractContextManager[None]:
        """The fake keeps nothing: every read is counted as asked."""
        return nullcontext()

    def giving_up_after(self, seconds: float) -> AbstractContextManager[None]:
        """The fake answers at once."""
        return nullcontext()

    def organization_tenant_id(self, name: str) -> str:
        self._call("organization_tenant_id")
        return self.org.connected_tenant_id

    def org_users(self, name: str) -> list[OrgUser]:
        self._call("org_users")
        return list(self.users)

    def sign_ins(self, organization: str, since: datetime | None) -> list[OrgUser]:
        self._call("sign_ins")
        self.sign_ins_since.append(since)
        seen = [user for user in self.users if since is None or (user.last_accessed or since) > since]
        return sorted(
            seen, key=lambda user: user.last_accessed or datetime.min.replace(tzinfo=UTC), reverse=True
        )

    def org_user(self, organization: str, user_id: str) -> OrgUser | None:
        self._call("org_user")
        return next((user for user in self.users if user.id == user_id), None)

    def sign_in(self, entitlement_id: str, at: datetime) -> None:
        """What that user's sign-in does: last access now, and once connected the identity of the directory
        account with their address (its object id as `origin_id`)."""
        self.users = [
            replace(user, last_accessed=at, **self._signed_in_as(user)) if user.id == entitlement_id else user
            for user in self.users
        ]

    def _signed_in_as(self, user: OrgUser) -> dict[str, str]:
        if self.org.connected_tenant_id != self.tenant_info.id:
            return {"origin": "msa"}
        addresses = {user.principal_name.casefold(), (user.mail_address or "").casefold()} - {""}
        account = next(
            (
                each
                for each in self.directory
                if {each.user_principal_name.casefold(), (each.mail or "").casefold()} & addresses
            ),
            None,
        )
        return {"origin": "aad", "origin_id": account.id if account else ""}

    def remove_org_user(self, organization: str, user_id: str) -> None:
        self._call("remove_org_user")
        self.users = [user for user in self.users if user.id != user_id]
        self.removed.append(user_id)

    def tenant(self, tenant: str) -> Tenant:
        self._call("tenant")
        if tenant.casefold() not in (
            self.tenant_info.id.casefold(),
            *(d.casefold() for d in self.tenant_info.verified_domains),
        ):
            raise MicrosoftError(f"No tenant {tenant}.")
        return self.tenant_info

    def find_directory_user(self, tenant_id: str, email: str) -> DirectoryUser | None:
        self._call("find_directory_user")
        wanted = email.casefold()
        for user in self.directory:
            keys = {user.user_principal_name.casefold(), (user.mail or "").casefold()}
            keys.update(other.casefold() for other in user.other_mails)
            if wanted in keys:
                return user
        return None

    def directory_user(self, tenant_id: str, user_id: str) -> DirectoryUser | None:
        self._call("directory_user")
        return next((user for user in self.directory if user.id == user_id), None)

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
        self._call("invite_guest")
        if self.kill_after_invitations is not None and len(self.invitations) >= self.kill_after_invitations:
            raise ProcessKilled
        if self.deny_invites:
            raise InvitePermissionDenied(f"{inviter} may not invite guests")
        if self.invite_refusal is not None:
            raise self.invite_refusal
        held = next((user for user in self.directory if user.mail == email), None)
        if not send_email and held is not None:  # Graph's answer for an existing guest: a new link only
            with self._lock:
                self.links_without_email.append(email)
                sent = len(self.invitations) + len(self.links_without_email)
            return Invitation(
                email=email, status="PendingAcceptance", invited_user_id=held.id, redeem_url=redeem_link(sent)
            )
        with self._lock:
            self.invitations.append(email)
            sent = len(self.invitations) + len(self.links_without_email)
        guest = DirectoryUser(
            id=f"g-guest-{email}",
            user_principal_name=f"{email.replace('@', '_')}#EXT#@{self.tenant_info.default_domain}",
            display_name=display_name,
            mail=email,
            user_type="Guest",
        )
        self.directory.append(guest)
        return Invitation(
            email=email, status="PendingAcceptance", invited_user_id=guest.id, redeem_url=redeem_link(sent)
        )

    def subscription(self, subscription_id: str, tenant_id: str) -> Subscription | None:
        self._call("subscription")
        self.subscription_tenants.append(tenant_id)
        return self.subscriptions.get(subscription_id)

    def doctor(self, organization: str, tenant: str) -> list[Check]:
        """The preflight: `doctor_checks` as configured (all passing by default)."""
        self._call("doctor")
        return list(self.doctor_checks)

    def snapshot(self, organization: str, tenant: str, connector: str) -> DirectorySnapshot:
        self._call("snapshot")
        resolved = self.tenant(tenant)
        billing = self.org.billing_subscription_id
        return DirectorySnapshot(
            organization=self.org,
            users=tuple(self.users),
            tenant=resolved,
            directory_users=tuple(self.directory),
            allow_invites_from=self.allow_invites,
            billing_subscription=self.subscriptions.get(billing) if billing else None,
        )


def connect_and_notify(
    service: MigrationService, microsoft: FakeMicrosoft, requester: Actor, approver: Actor
) -> None:
    """Approval by another admin, the portal step, the watch seeing it, `notify`: where the tests of life
    after connecting begin."""
    connect(service, microsoft, requester, approver)
    service.notify(None, requester)


def connect(service: MigrationService, microsoft: FakeMicrosoft, requester: Actor, approver: Actor) -> None:
    """`connect_and_notify` up to `notify`."""
    request = service.request_approval(None, requester, anyway=True)
    service.decide(request.approval_id, approver, approve=True)
    microsoft.connect(service.status().tenant_id)
    service.check_connection()
