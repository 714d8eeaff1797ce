"""`MicrosoftClients`: the `workflows.directory.Microsoft` protocol over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from msapi._arm import ResourceManager
from msapi._auth import ARM_SCOPE, GRAPH_SCOPE, AppCredential, AppTokens, Tokens, pat_header, token_claims
from msapi._device import DeviceSignIn
from msapi._devops import AzureDevOps, EntitlementTally, OrganizationRecord, UndocumentedFailure, org_user
from msapi._doctor import microsoft_checks
from msapi._graph import Graph
from msapi._http import HttpSession
from msapi._refusals import SignInRefused
from workflows.directory import (
    SIGN_IN_READ_HARM,
    DirectorySnapshot,
    DirectoryUser,
    Invitation,
    MicrosoftError,
    Organization,
    OrgUser,
    Subscription,
    Tenant,
)
from workflows.plan import Check

Progress = Callable[[str, int, int | None], None]
P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("msapi")

_MALFORMED = (ValueError, KeyError, TypeError, AttributeError, IndexError)
"""What reading an answer of an unexpected shape raises: not JSON, a missing key, a list for an object."""


def _answers_checked(
    method: Callable[Concatenate[MicrosoftClients, P], R],
) -> Callable[Concatenate[MicrosoftClients, P], R]:
    """An answer the clients cannot read becomes a `MicrosoftError`, like any other failing service."""

    def checked(self: MicrosoftClients, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except _MALFORMED as error:
            what = method.__name__.replace("_", " ")
            log.warning("unreadable answer in %s: %s", what, self.session.redact(repr(error)))
            raise MicrosoftError(
                f"A Microsoft service sent an answer I could not read while fetching the {what}"
                f" ({type(error).__name__}); try again, and if it persists tell the bot's operators."
            ) from None

    checked.__name__, checked.__doc__ = method.__name__, method.__doc__
    return checked


class MicrosoftClients:
    """Azure DevOps (PAT), Microsoft Graph and Azure Resource Manager (tokens through msal).

    Graph and ARM tokens are app-only (`app`, client credentials) or, with `signin`, delegated: the
    person who signed in with a device code, acting with their own rights.
    """

    def __init__(
        self,
        session: HttpSession,
        *,
        pat: str,
        app: AppCredential | None = None,
        signin: DeviceSignIn | None = None,
        token_cache: Path | None = None,
        progress: Progress | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.progress = progress
        self._devops = AzureDevOps(session, pat_header(session, pat))
        self._tokens: Tokens
        if app is not None and signin is None:
            self._tokens = AppTokens(app, session, token_cache)
        elif signin is not None and app is None:
            self._tokens = signin
        else:
            raise ValueError("give either an app credential or a device sign-in")
        self._on_close = on_close

    def close(self) -> None:
        self.session.close()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> MicrosoftClients:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # --- Azure DevOps ---

    @_answers_checked
    def organization(self, name: str) -> Organization:
        record = self._devops.organization_record(name)
        return self._organization(
            name, record, self._owner(name, record), self._devops.administrators(name, {})
        )

    @_answers_checked
    def administrators(self, name: str) -> tuple[str, ...]:
        owner = self._owner(name, self._devops.organization_record(name))
        return (*((owner,) if owner else ()), *self._devops.administrators(name, {}))

    @_answers_checked
    def billing_subscription_id(self, name: str) -> str | None:
        record = self._devops.organization_record(name)
        if record is None or not record.id:
            return None
        try:
            return self._devops.billing_subscription_id(record.id)
        except UndocumentedFailure:
            return None

    @_answers_checked
    def organization_tenant_id(self, name: str) -> str:
        return self._devops.tenant_id(name)

    @_answers_checked
    def org_users(self, name: str) -> list[OrgUser]:
        return self._devops.entitlements(name, self.progress)

    @_answers_checked
    def sign_ins(self, organization: str, since: datetime | None) -> list[OrgUser]:
        if since is None:  # a full read takes whoever it does not return for gone
            return self._devops.entitlements(organization, self.progress, harm=SIGN_IN_READ_HARM)
        recent: list[OrgUser] = []
        newest_first, previous = True, None
        tally = EntitlementTally()  # a page may repeat a user of the page before
        for items, total in self._devops.entitlement_pages(organization, order_by="lastAccessed desc"):
            for user in map(org_user, tally.new(items, total)):
                seen = user.last_accessed
                # Stop early only while the service really sorts: one that ignores $orderBy is read whole.
                newest_first = newest_first and (previous is None or (seen is None or seen <= previous))
                previous = seen if seen is not None else previous
                if seen is not None and seen > since:
                    recent.append(user)
                elif newest_first:
                    return recent
        return recent

    @_answers_checked
    def org_user(self, organization: str, user_id: str) -> OrgUser | None:
        return self._devops.entitlement(organization, user_id, f"reading user {user_id} of {organization!r}")

    @_answers_checked
    def remove_org_user(self, organization: str, user_id: str) -> None:
        self._devops.remove_entitlement(organization, user_id)

    # --- Microsoft Graph ---

    @_answers_checked
    def tenant(self, tenant: str) -> Tenant:
        return self._graph(tenant).tenant()

    @_answers_checked
    def directory_users(self, tenant_id: str) -> list[DirectoryUser]:
        return self._graph(tenant_id).users(self.progress)

    @_answers_checked
    def find_directory_user(self, tenant_id: str, email: str) -> DirectoryUser | None:
        return self._graph(tenant_id).find_user(email)

    @_answers_checked
    def directory_user(self, tenant_id: str, user_id: str) -> DirectoryUser | None:
        return self._graph(tenant_id).user(user_id)

    @_answers_checked
    def allow_invites_from(self, tenant_id: str) -> str:
        return self._graph(tenant_id).allow_invites_from()

    @_answers_checked
    def directory_roles(self, tenant_id: str, user_principal_name: str) -> list[str]:
        return self._graph(tenant_id).roles(user_principal_name)

    @_answers_checked
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
        """Invite with Microsoft's email on (unless `send_email` is off). With an app credential the app
        sends it and the directory applies its app rules (`inviter`'s own rights play no part: the plan's
        `invite-permission` check judges the policy); with a device sign-in the signed-in person sends it,
        under their own rights."""
        return self._graph(tenant_id).invite(
            email=email,
            display_name=display_name,
            message=message,
            redirect_url=redirect_url,
            send_email=send_email,
        )

    @property
    def invites_as_app(self) -> bool:
        """Invitations go out as the app registration (client credentials), not as a person."""
        return not isinstance(self._tokens, DeviceSignIn)

    # --- Azure Resource Manager ---

    @_answers_checked
    def subscription(self, subscription_id: str, tenant_id: str) -> Subscription | None:
        return self._arm(tenant_id).subscription(subscription_id)

    @_answers_checked
    def billing_account_in(self, subscription_id: str, tenant_id: str, organization: str) -> bool:
        """The subscription holds the organization's `Microsoft.VisualStudio/account` resource."""
        return self._arm(tenant_id).holds_organization(subscription_id, organization)

    def reads_once(self) -> AbstractContextManager[None]:
        return self.session.reads_once()

    def giving_up_after(self, seconds: float) -> AbstractContextManager[None]:
        return self.session.giving_up_after(seconds)

    # --- preflight ---

    def doctor(self, organization: str, tenant: str) -> list[Check]:
        """Read-only checks that these credentials can do everything the migration needs."""
        return microsoft_checks(
            self._devops,
            self._graph(tenant),
            self._arm(tenant),
            organization,
            delegated=not self.invites_as_app,
        )

    # --- raw pages and grants, for `aadbot snapshot` ---

    def entitlement_pages(
        self, organization: str, order_by: str = ""
    ) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        return self._devops.entitlement_pages(organization, order_by)

    def directory_user_pages(self, tenant_id: str) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        return self._graph(tenant_id).user_pages()

    def graph_token_claims(self, tenant_id: str) -> dict[str, Any]:
        """The claims of the Graph access token (`roles` app-only, `scp` delegated): what was granted."""
        return token_claims(self._tokens.token(tenant_id, GRAPH_SCOPE))

    # --- everything at once ---

    @_answers_checked
    def snapshot(self, organization: str, tenant: str, connector: str) -> DirectorySnapshot:
        """Organization and directory with the fewest requests: entitlement pages, Graph pages (the
        first inside a `$batch` with the tenant and policy), plus the organization record,
        administrators, billing setup and subscription."""
        record = self._devops.organization_record(organization)
        users = self._devops.entitlements(organization, self.progress)
        owner_id = record.owner_id if record is not None else None
        owner = next(
            (u.principal_name for u in users if owner_id and u.id.casefold() == owner_id.casefold()), None
        )
        if owner is None and owner_id:
            owner = self._devops.account_of(organization, owner_id)
        known = {user.descriptor: user.principal_name for user in users if user.descriptor}
        org = self._organization(
            organization, record, owner, self._devops.administrators(organization, known)
        )
        overview = self._graph(tenant).overview(connector, self.progress)
        billing_id = org.billing_subscription_id
        billing, billing_unread = None, None
        try:
            billing = self.subscription(billing_id, tenant) if billing_id else None
        except SignInRefused as refusal:
            if refusal.whole_app:
                raise
            # Resource Manager alone refused: only the billing check needs it, which then warns with why
            billing_unread = (f"AADSTS{refusal.code}: {refusal.reason}", refusal.fix)
        return DirectorySnapshot(
            organization=org,
            users=tuple(users),
            tenant=overview.tenant,
            directory_users=overview.users,
            allow_invites_from=overview.allow_invites_from,
            connector_roles=overview.roles,
            connector_roles_unread=overview.roles_unread,
            billing_subscription=billing,
            billing_unread=billing_unread,
            invites_as_app=self.invites_as_app,
        )

    def _owner(self, name: str, record: OrganizationRecord | None) -> str | None:
        """The owner's principal name: from their entitlement, else (none) their identity's account."""
        if record is None or not record.owner_id:
            return None
        entitlement = self._devops.entitlement(name, record.owner_id)
        return entitlement.principal_name if entitlement else self._devops.account_of(name, record.owner_id)

    def _organization(
        self, name: str, record: OrganizationRecord | None, owner: str | None, admins: tuple[str, ...]
    ) -> Organization:
        billing = None
        if record is not None and record.id:
            try:
                billing = self._devops.billing_subscription_id(record.id)
            except UndocumentedFailure as error:
                log.warning("billing subscription unknown: %s", error)
        # The record's shape is undocumented: without its tenant, ask the documented-by-use probe.
        tenant_id = (record.tenant_id if record is not None else "") or self._devops.tenant_id(name)
        return Organization(
            name=record.name if record is not None else name,
            connected_tenant_id=tenant_id,
            owner=owner,
            administrators=admins,
            billing_subscription_id=billing,
            id=record.id if record is not None else "",
        )

    def _arm(self, tenant: str) -> ResourceManager:
        return ResourceManager(self.session, lambda fresh: self._tokens.token(tenant, ARM_SCOPE, fresh=fresh))

    def _graph(self, tenant: str) -> Graph:
        return Graph(
            self.session,
            lambda fresh: self._tokens.token(tenant, GRAPH_SCOPE, fresh=fresh),
            delegated=not self.invites_as_app,
        )
