"""The emulator's mutable world: the scenario being served, issued tokens, faults and request counts."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox._copies import copied
from sandbox._odata import ADDRESS_PROPERTIES
from sandbox._permissions import Credentials
from sandbox._scenario import ZERO_TENANT, Scenario, descriptor_for

if TYPE_CHECKING:
    from sandbox._teams import TeamsWorld


@dataclass(frozen=True)
class Token:
    """An access token the emulator issued: who holds it, for which resource and tenant."""

    audience: str
    tenant_id: str
    principal: str
    expires_at: float
    user: str | None = None
    """The signed-in user's UPN for a delegated token; None for an app-only one."""
    roles: frozenset[str] = frozenset()
    """An app-only token's application permissions (its `roles` claim)."""
    scopes: frozenset[str] = frozenset()
    """A delegated token's consented scopes (its `scp` claim)."""


@dataclass
class DeviceCode:
    """A device-code sign-in in progress: pending until `/_sandbox/device/approve` names its user."""

    user_code: str
    client_id: str
    scope: str
    expires_at: float
    user: str | None = None


@dataclass(frozen=True)
class RefreshToken:
    client_id: str
    user: str


@dataclass
class Faults:
    """Injected failures; draws come from one seeded generator so a run is reproducible."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_slow: float = 0.0
    retry_after: float = 1.0
    slow_seconds: float = 0.5
    sequence: list[int | str] = field(default_factory=list)
    hosts: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    """Only requests for these Azure DevOps organizations (a URL's first path segment), when given: Azure
    DevOps throttles one organization's reads while another's go through."""
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    directory_lag: float = 0.0
    """Seconds Graph's user searches lag behind invitations, on the sandbox's clock: a guest an invitation
    creates is missing from `GET /users` listings and filters for that long (or until the faults are set
    again), while `GET /users/{id}` finds them at once. Microsoft serves such queries from an index of its
    own, kept eventually consistent ("Advanced query capabilities on Microsoft Entra ID objects",
    https://learn.microsoft.com/graph/aad-advanced-queries), and documents no bound on the lag."""
    unlisted: dict[str, float] = field(default_factory=dict, init=False)
    """The ids of the guests invited while `directory_lag` is on, and when the searches show them."""
    invitation_faults: list[str] = field(default_factory=list)
    """How the next `POST /invitations` go wrong, one item each: `"504"` (500 or 502) answers that before
    anything is done; `"504 after"` invites as asked (the guest made, the email sent), then answers 504 all
    the same, as a gateway does when the invitation service behind it is slow to answer: Graph's 504 says
    only that the gateway got no timely answer (https://learn.microsoft.com/graph/errors). `"403"` refuses
    it as the directory's invitation policy does (a setting changed after the bot read it), `"400"` as a
    bad request: answers, with nothing done. `""` (`"ok"` when set over HTTP) answers as usual."""

    short_user_listings: int = 0
    """How many of the next whole reads of the user entitlements (each from its first page, without
    `$orderBy`) list fewer users than their `totalCount` counts, as a page Azure DevOps lost, or a race of its
    own, would."""
    left_out_users: int = 1
    """How many users such a read leaves out of its first page (all of it, should they be more): the last
    ones on the first short read, the first ones on the next, and so on in turn, as two pages lost are
    seldom the same; its next page resumes after the page as it would have been."""
    short_reads_made: int = field(default=0, init=False)
    sign_in_refusal: int = 0
    """An AADSTS code (`sandbox._sign_in_refusals.CODES`) every app's client-credentials sign-in is refused
    with from now on, as a setting of the tenant would (a secret expired, the app disabled), until the
    faults are set again; 0 for none."""
    sign_in_refusal_client: str = ""
    """The one client id `sign_in_refusal` refuses (the bot's app registration, not the Teams bot's, say);
    empty for every app's."""

    def first_page_listed(self, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What the first page of a whole read of the entitlements, beginning now, lists of `page`."""
        if self.short_user_listings <= 0:
            return page
        self.short_user_listings -= 1
        self.short_reads_made += 1
        kept = max(0, len(page) - self.left_out_users)
        return page[:kept] if self.short_reads_made % 2 else page[len(page) - kept :]

    def listed(self, user_id: str, now: float) -> bool:
        """Whether Graph's searches show this directory user at `now`."""
        return self.unlisted.get(user_id, now) <= now

    def draw(self, host: str, path: str = "/") -> int | str | None:
        """The fault for the next request to `host` and `path`: a status code, `"slow"`, or None."""
        if self.hosts and host not in self.hosts:
            return None
        wanted = {organization.casefold() for organization in self.organizations}
        if wanted and path.split("/")[1].casefold() not in wanted:
            return None
        if self.sequence:
            return self.sequence.pop(0)
        roll = self.rng.random()
        if roll < self.rate_429:
            return 429
        if roll < self.rate_429 + self.rate_500:
            return 500
        if roll < self.rate_429 + self.rate_500 + self.rate_slow:
            return "slow"
        return None


class State:
    """Thread-safe holder of everything the emulator serves and remembers."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        page_size: int = 100,
        clock: Callable[[], float] = time.time,
        device_interval: int = 5,
    ) -> None:
        self.lock = threading.RLock()
        self.data: dict[str, Any] = copied(scenario.data)
        self.listing_order = {str(item["id"]).casefold(): rank for rank, item in enumerate(self.entitlements)}
        """By user entitlement id, its place in Azure DevOps' listing (the order of creation), kept once the
        entitlement is removed: a continuation token resumes after a place (`sandbox._devops`)."""
        self.page_size = page_size
        self.clock = clock
        self.device_interval = device_interval
        """Seconds a device-code client must wait between polls (Entra asks for 5)."""
        self.tokens: dict[str, Token] = {}
        self.device_codes: dict[str, DeviceCode] = {}
        """By device code (the secret the client polls with)."""
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.client_secrets: dict[str, str] = {}
        """Client id -> the secret its app registration holds (the Teams bot's, once it is registered): the
        token endpoint refuses any other, as Entra does; every other client id's secret is taken as given."""
        self.faults = Faults()
        self.credentials = Credentials.from_scenario(self.data)
        self.request_counts: Counter[str] = Counter()
        self.teams: TeamsWorld | None = None
        """Teams as the sandbox plays it, made with the sandbox's routes (sandbox/_teams_routes.py)."""
        self._addresses: dict[str, list[int]] = {}
        self._addressed: tuple[list[dict[str, Any]] | None, int] = (None, 0)
        """`_addresses` indexes this list's users up to this count (`holding`)."""

    def copy(self, *, page_size: int, clock: Callable[[], float], device_interval: int) -> State:
        """An independent copy of everything served and remembered (the scenario as it is now, tokens,
        device codes, faults and their draws, request counts, Teams' conversations, messages, installs and
        per-person views), with locks of its own and the options given (a copy may serve in another
        sandbox, on that one's clock)."""
        own: dict[int, Any] = {id(self.lock): threading.RLock(), id(self.clock): clock}
        teams_lock = self.teams.lock if self.teams is not None else threading.RLock()
        own[id(teams_lock)] = threading.RLock()
        with self.lock, teams_lock:
            twin = copied(self, own)
        twin.page_size, twin.device_interval = page_size, device_interval
        return twin

    @property
    def organization(self) -> dict[str, Any]:
        return self.data["organization"]  # type: ignore[no-any-return]

    @property
    def tenant(self) -> dict[str, Any]:
        return self.data["tenant"]  # type: ignore[no-any-return]

    @property
    def directory_users(self) -> list[dict[str, Any]]:
        return self.tenant["users"]  # type: ignore[no-any-return]

    @property
    def entitlements(self) -> list[dict[str, Any]]:
        return self.data["user_entitlements"]  # type: ignore[no-any-return]

    def is_organization(self, name: str) -> bool:
        return name.casefold() == str(self.organization["name"]).casefold()

    def tenant_matches(self, tenant: str) -> bool:
        """True for the tenant's id or one of its verified domains."""
        wanted = tenant.casefold()
        if wanted == str(self.tenant["id"]).casefold():
            return True
        return any(wanted == str(domain["name"]).casefold() for domain in self.tenant["verifiedDomains"])

    def holding(self, values: frozenset[str]) -> list[dict[str, Any]]:
        """The directory users holding one of `values` (casefolded) in an address property, in directory
        order: a look-up by address scanned all 20,000 users of a rehearsal's directory for each of its
        thousands of invitees. Address properties are set when a user is created, and the directory only
        grows (invited guests are appended), so the index follows by indexing the users added since; a new
        list (another scenario) is indexed anew."""
        users = self.directory_users
        indexed, count = self._addressed
        if indexed is not users or count > len(users):
            self._addresses, count = {}, 0
        for position in range(count, len(users)):
            for value in _address_values(users[position]):
                self._addresses.setdefault(value, []).append(position)
        self._addressed = (users, len(users))
        positions = sorted({position for value in values for position in self._addresses.get(value, ())})
        return [users[position] for position in positions]

    def find_directory_user(self, key: str) -> dict[str, Any] | None:
        """A directory user by object id or user principal name."""
        wanted = key.casefold()
        for user in self.directory_users:
            if str(user["id"]).casefold() == wanted or str(user["userPrincipalName"]).casefold() == wanted:
                return user
        return None

    def roles_of(self, user: dict[str, Any]) -> list[str]:
        roles: dict[str, list[str]] = self.tenant["directoryRoles"]
        upn = str(user["userPrincipalName"]).casefold()
        return next((names for key, names in roles.items() if key.casefold() == upn), [])

    def revoke_tokens(self) -> None:
        """Every issued access token stops working, as when Entra revokes them (refresh tokens stay)."""
        with self.lock:
            self.tokens.clear()

    def approve_device(self, user_code: str, user: str) -> str:
        """What a person entering `user_code` and signing in as `user` does; the reason when it can't."""
        with self.lock:
            code = next(
                (
                    c
                    for c in self.device_codes.values()
                    if c.user_code.casefold() == user_code.strip().casefold()
                ),
                None,
            )
            if code is None:
                return f"unknown user code {user_code!r}"
            if code.expires_at <= self.clock():
                return f"the code {user_code!r} has expired"
            account = self.find_directory_user(user.strip())
            if account is None or not account.get("accountEnabled", True):
                return f"{user!r} is not an enabled user of the tenant"
            code.user = str(account["userPrincipalName"])
            return ""

    def move_subscription(self, subscription_id: str, tenant_id: str) -> bool:
        """What "Change directory" on a subscription in the Azure portal does; False if it is unknown."""
        with self.lock:
            for subscription in self.data["subscriptions"]:
                if str(subscription["subscriptionId"]).casefold() == subscription_id.casefold():
                    subscription["tenantId"] = tenant_id
                    return True
        return False

    def connect(self, organization: str, tenant_id: str) -> None:
        """What an admin's click on Connect (or Disconnect) in the portal does."""
        with self.lock:
            self.organization["connected_tenant_id"] = tenant_id
            if tenant_id == ZERO_TENANT or tenant_id.casefold() != str(self.tenant["id"]).casefold():
                return
            # Connecting maps users whose sign-in address is a member's UPN; the rest stay disconnected.
            members = {
                str(user["userPrincipalName"]).casefold(): user
                for user in self.directory_users
                if user["accountEnabled"]
            }
            for entitlement in self.entitlements:
                user = entitlement["user"]
                member = members.get(str(user["principalName"]).strip().casefold())
                if member is not None:
                    user.update(
                        origin="aad",
                        originId=member["id"],
                        domain=self.tenant["id"],
                        descriptor=descriptor_for("aad", str(member["id"])),
                    )


def _address_values(user: dict[str, Any]) -> set[str]:
    """What `holding` finds a user by: each value of `ADDRESS_PROPERTIES`, casefolded as filters compare."""
    values: set[str] = set()
    for name in ADDRESS_PROPERTIES:
        held = user.get(name)
        for value in held if isinstance(held, list) else (held,):
            if isinstance(value, str) and value:
                values.add(value.casefold())
    return values
