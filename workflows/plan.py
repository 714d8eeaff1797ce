"""The migration plan: who keeps access, who must be mapped or invited, and the prerequisite checks.

Normative rules: `shared/contracts/plan-and-scenario.md`. The JSON form (`Plan.to_json`) is the
contract; `Plan.fingerprint` is what an approval is bound to.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal

from workflows.directory import MSA_TENANT_ID, DirectorySnapshot, DirectoryUser, OrgUser

Outcome = Literal["auto", "map", "invite", "disabled", "ambiguous"]
OUTCOMES: tuple[Outcome, ...] = ("auto", "map", "invite", "disabled", "ambiguous")
UNDECIDED: tuple[Outcome, ...] = ("disabled", "ambiguous")
"""The outcomes that wait for an admin's decision (`workflows.decisions`)."""
GROUPS = ("auto", "to-accept", "map", "invite", "disabled", "ambiguous", "no-access")
"""How the plan places people, each in exactly one group: the counts every message shows. `to-accept`:
matched to a guest account whose invitation is still pending (whichever migration sent it), not yet
`auto` or `map`; `no-access`: disabled or ambiguous, and an admin decided they lose access."""
CheckStatus = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Match:
    id: str
    user_principal_name: str
    by: str


def awaits_acceptance(invitation_pending: bool, outcome: str) -> bool:
    """Whether someone is in the `to-accept` group: their directory account is a guest whose invitation is
    still pending, and Connect carries them over to it (`auto`) or an admin maps them to it (`map`)."""
    return invitation_pending and outcome in ("auto", "map")


@dataclass(frozen=True)
class PlannedUser:
    id: str
    principal_name: str
    outcome: Outcome
    match: Match | None
    candidates: tuple[str, ...] = ()
    display_name: str = ""
    mail_address: str = ""
    invitation_pending: bool = False
    """Matched to a guest who has not accepted the invitation yet: they keep access only once they do."""
    candidate_names: tuple[str, ...] = ()
    """The sign-in names of `candidates`, in the same order: what an admin recognises them by."""
    decided_by: str = ""
    """The admin who decided for this person (an account of their candidates, or no access): see
    `workflows.decisions`."""
    carried_over: tuple[str, ...] = ()
    """Of `candidates`, the guest holding the person's address as their `mail` or `otherMails`: rule 2's
    guest, whom their own address signs in to, so the identity carries over to it should an admin decide
    it is theirs (`workflows.decisions`). Connect carries an identity to one account at most: of several
    such guests only the one holding it as `mail` is kept, and none when that does not single one out."""
    pending_candidates: tuple[str, ...] = ()
    """Of `candidates`, the guests whose invitation is still pending: the one an admin chooses makes the
    person `invitation_pending`, as when it is their only account."""
    left: bool = False
    """Their account is one others would get too (`shared_targets`), and an admin (`decided_by`) decided
    that they are the one left without it: they lose access, their outcome and match stay the rules'."""

    @property
    def loses_access(self) -> bool:
        """An admin decided this person knowingly loses access (`decide ... no-access`): someone the plan
        could not place, or someone `left` without the account another person keeps."""
        return (self.outcome in UNDECIDED and bool(self.decided_by)) or self.left

    @property
    def group(self) -> str:
        """Their group among `GROUPS`."""
        if self.loses_access:
            return "no-access"
        if awaits_acceptance(self.invitation_pending, self.outcome):
            return "to-accept"
        return self.outcome

    @property
    def address(self) -> str:
        """Their Azure DevOps address: the mail address, or the principal name when there is none."""
        return (self.mail_address or self.principal_name).strip()

    def to_json(self) -> dict[str, Any]:
        match = None
        if self.match is not None:
            match = {
                "id": self.match.id,
                "user_principal_name": self.match.user_principal_name,
                "by": self.match.by,
            }
        return {
            "id": self.id,
            "principal_name": self.principal_name,
            "outcome": self.outcome,
            "match": match,
            "candidates": list(self.candidates),
        }


@dataclass(frozen=True)
class Check:
    code: str
    status: CheckStatus
    message: str
    fix: str = ""
    policy: str = ""
    """The directory's guest invite setting the check read (`allowInvitesFrom`, as Graph spells it), if it
    read one: what bars the invitations (`invitation_bar`), whatever the words say. Stored with the plan
    (`_plan_codec`), not part of the checks' JSON form."""

    def __post_init__(self) -> None:
        # What to do is part of what chat and `--json` readers see, not only of the `fix` field.
        if self.fix and not self.message.endswith(self.fix):
            # a service's error may end the message without a full stop
            ended = self.message if self.message.endswith((".", "!", "?")) else f"{self.message}."
            object.__setattr__(self, "message", f"{ended} {self.fix}")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "status": self.status, "message": self.message}
        if self.fix:
            data["fix"] = self.fix
        return data


@dataclass(frozen=True)
class Decision:
    """An admin's decision for one person the plan cannot place: `account` is the object id of the
    directory account that is theirs, or `NO_ACCESS` (they knowingly lose access)."""

    user_id: str
    account: str
    by: str


NO_ACCESS = "no-access"


@dataclass(frozen=True)
class Plan:
    organization: str
    tenant_id: str
    users: tuple[PlannedUser, ...]
    checks: tuple[Check, ...]
    connector: str = ""
    tenant_name: str = ""
    decisions: tuple[Decision, ...] = ()
    """The admins' decisions for ambiguous and disabled people, kept across re-plans."""

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        for user in self.users:
            counts[user.outcome] += 1
        return counts

    @property
    def groups(self) -> dict[str, int]:
        """How many people each of `GROUPS` has: what chat shows (`counts` is the contract's, by outcome)."""
        groups: dict[str, int] = dict.fromkeys(GROUPS, 0)
        for user in self.users:
            groups[user.group] += 1
        return groups

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.status == "fail")

    @property
    def undecided(self) -> tuple[PlannedUser, ...]:
        """The disabled and ambiguous people no admin has decided for yet (`workflows.decisions`)."""
        return tuple(user for user in self.users if user.outcome in UNDECIDED and not user.decided_by)

    def users_with(self, outcome: Outcome) -> tuple[PlannedUser, ...]:
        return tuple(user for user in self.users if user.outcome == outcome)

    def to_json(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "tenant_id": self.tenant_id,
            "users": [user.to_json() for user in self.users],
            "counts": self.counts,
            "checks": [check.to_json() for check in self.checks],
        }

    @functools.cached_property
    def fingerprint(self) -> str:
        """Stable digest of what connecting would do: any change to users, outcomes or checks changes it.

        Worked out once per plan (every field is immutable): a step reads it two or three times, and it
        hashes every user (a tenth of a second at 20,000)."""
        material = {
            "organization": self.organization,
            "tenant_id": self.tenant_id,
            "users": sorted(
                (user.id, user.principal_name.casefold(), user.outcome, user.match.id if user.match else "")
                # Only a decision adds a field: plans without one keep the fingerprint they always had.
                + (("decided",) if user.decided_by else ())
                for user in self.users
            ),
            "checks": sorted((check.code, check.status) for check in self.checks),
        }
        encoded = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()[:16]


_FIELDS = ("upn", "mail", "otherMails", "proxyAddresses")
_INVITE_ROLES = frozenset(("guest inviter", "user administrator", "global administrator"))
_USER_COUNT_LIMIT = 100

Index = dict[str, list[tuple[int, tuple[str, ...]]]]
"""Key -> (directory position, every field of that user holding the key, in `_FIELDS` order) per user."""
_NO_ENTRIES: list[tuple[int, tuple[str, ...]]] = []  # shared and never mutated


def _key(value: str) -> str:
    return value.strip().casefold()


def _index(users: tuple[DirectoryUser, ...]) -> Index:
    index: Index = {}
    get = index.get
    for position, user in enumerate(users):
        values = [(user.user_principal_name, "upn")]
        if user.mail:
            values.append((user.mail, "mail"))
        values.extend((other, "otherMails") for other in user.other_mails)
        for proxy in user.proxy_addresses:
            proxy = proxy.strip()
            if proxy[:5].casefold() == "smtp:":
                values.append((proxy[5:], "proxyAddresses"))
        for value, field_name in values:
            key = value.strip().casefold()
            if not key:
                continue
            entries = get(key)
            if entries is None:
                index[key] = [(position, (field_name,))]
            elif entries[-1][0] != position:
                entries.append((position, (field_name,)))
            elif field_name not in entries[-1][1]:
                # The same user holds the key in several fields (UPN and mail, say): rule 2 needs them all.
                entries[-1] = (position, (*entries[-1][1], field_name))
    return index


def _plan_user(
    user: OrgUser, directory: tuple[DirectoryUser, ...], index: Index, pending: frozenset[str]
) -> PlannedUser:
    principal = user.principal_name.strip().casefold()
    mail = user.mail_address.strip().casefold()
    by_principal = index.get(principal, _NO_ENTRIES)
    by_mail = index.get(mail, _NO_ENTRIES) if mail and mail != principal else _NO_ENTRIES
    outcome: Outcome
    match: Match | None = None
    candidates: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    carried_over: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    if not by_principal and not by_mail:
        outcome = "invite"
    elif len(by_principal) + len(by_mail) == 1:
        # The common case, decided without building candidate sets.
        position, fields = (by_principal or by_mail)[0]
        candidate = directory[position]
        if not candidate.account_enabled:
            outcome, by = "disabled", fields[0]
        elif by_principal and "upn" in fields:
            outcome, by = "auto", "upn"
        elif candidate.user_type.casefold() == "guest" and ("mail" in fields or "otherMails" in fields):
            outcome, by = "auto", "mail" if "mail" in fields else "otherMails"
        else:
            outcome, by = "map", fields[0]
        match = Match(candidate.id, candidate.user_principal_name, by)
    else:
        outcome, match, found, carried_over = _decide(principal, by_principal, by_mail, directory)
        candidates = tuple(candidate.id for candidate in found)
        names = tuple(candidate.user_principal_name for candidate in found)
        waiting = tuple(candidate for candidate in candidates if candidate in pending)
    return PlannedUser(
        id=user.id,
        principal_name=user.principal_name,
        outcome=outcome,
        match=match,
        candidates=candidates,
        display_name=user.display_name,
        mail_address=user.mail_address,
        invitation_pending=match is not None and match.id in pending,
        candidate_names=names,
        carried_over=carried_over,
        pending_candidates=waiting,
    )


def _decide(
    principal: str,
    by_principal: list[tuple[int, tuple[str, ...]]],
    by_mail: list[tuple[int, tuple[str, ...]]],
    directory: tuple[DirectoryUser, ...],
) -> tuple[Outcome, Match | None, tuple[DirectoryUser, ...], tuple[str, ...]]:
    """The rules in full, for a user with several candidates or several ways of matching one; with the
    candidates of an ambiguous one, the id of the one whose identity Connect carries over should an admin
    choose it (`PlannedUser.carried_over`)."""
    fields: dict[int, set[str]] = {}
    for position, found in (*by_principal, *by_mail):
        fields.setdefault(position, set()).update(found)
    enabled = [position for position in fields if directory[position].account_enabled]
    for position in enabled:
        candidate = directory[position]
        if _key(candidate.user_principal_name) == principal:
            return "auto", Match(candidate.id, candidate.user_principal_name, "upn"), (), ()
    if len(enabled) == 1:
        candidate, matched = directory[enabled[0]], fields[enabled[0]]
        if _guest_by_address(candidate, matched):
            by = "mail" if "mail" in matched else "otherMails"
            return "auto", Match(candidate.id, candidate.user_principal_name, by), (), ()
        by = next(field_name for field_name in _FIELDS if field_name in matched)
        return "map", Match(candidate.id, candidate.user_principal_name, by), (), ()
    if enabled:
        guests = [
            position for position in enabled if _guest_by_address(directory[position], fields[position])
        ]
        if len(guests) > 1:
            guests = [position for position in guests if "mail" in fields[position]]
        carried_over = (directory[guests[0]].id,) if len(guests) == 1 else ()
        return "ambiguous", None, tuple(directory[position] for position in enabled), carried_over
    position = next(iter(fields))
    disabled = directory[position]
    by = next(field_name for field_name in _FIELDS if field_name in fields[position])
    return "disabled", Match(disabled.id, disabled.user_principal_name, by), (), ()


def _guest_by_address(candidate: DirectoryUser, matched: set[str]) -> bool:
    """Rule 2's guest: matched through `mail` or `otherMails`, the address its person signs in with."""
    return candidate.user_type.casefold() == "guest" and bool(matched & {"mail", "otherMails"})


def build_plan(snapshot: DirectorySnapshot, connector: str) -> Plan:
    """Apply the contract's matching rules and checks to one snapshot."""
    with _collector_paused():
        directory = snapshot.directory_users
        index = _index(directory)
        pending = frozenset(user.id for user in directory if user.invitation_pending)
        users = tuple(_plan_user(user, directory, index, pending) for user in snapshot.users)
        connector_user = _find_connector(directory, index.get(_key(connector), _NO_ENTRIES))
        duplicates = _duplicate_principal_names(snapshot)
    member, admin = _taking_over(
        snapshot,
        connector,
        _connector_member(snapshot, connector, connector_user),
        _connector_admin(snapshot, connector),
    )
    checks = (
        _org_connection(snapshot),
        member,
        admin,
        duplicates,
        _invite_permission(snapshot, connector, connector_user, users),
        _user_count(snapshot),
        _billing_subscription(snapshot),
        # last, so the contract's seven keep their places: a reader of the list by position is unchanged
        shared_account(snapshot.organization.name, users),
    )
    return Plan(
        organization=snapshot.organization.name,
        tenant_id=snapshot.tenant.id,
        users=users,
        checks=checks,
        connector=connector,
        tenant_name=snapshot.tenant.display_name,
    )


def connector_checks(snapshot: DirectorySnapshot, connector: str) -> tuple[Check, Check]:
    """`connector-member` and `connector-admin` for one person: may they click Connect in the portal? As
    the plan has them: failing, they name who may instead."""
    return _taking_over(snapshot, connector, *_connector_checks(snapshot, connector))


def _connector_checks(snapshot: DirectorySnapshot, connector: str) -> tuple[Check, Check]:
    wanted = _key(connector)
    entries = []
    for position, user in enumerate(snapshot.directory_users):
        fields = tuple(
            name
            for name, value in (("upn", user.user_principal_name), ("mail", user.mail or ""))
            if _key(value) == wanted
        )
        if fields:
            entries.append((position, fields))
    found = _find_connector(snapshot.directory_users, entries) if wanted else None
    return _connector_member(snapshot, connector, found), _connector_admin(snapshot, connector)


_collector_lock = threading.Lock()
_collector_pauses = 0


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Matching allocates a few objects per user and none form cycles; the collector's passes over a
    100k-user snapshot would cost more than the matching itself. Counted, so overlapping plans on
    several threads turn it back on only when the last one ends, and always on the way out."""
    global _collector_pauses
    with _collector_lock:
        # Off with no pause of ours running: someone else turned it off, and it is theirs to turn on.
        counted = _collector_pauses > 0 or gc.isenabled()
        if counted:
            _collector_pauses += 1
            gc.disable()
    try:
        yield
    finally:
        if counted:
            with _collector_lock:
                _collector_pauses -= 1
                if _collector_pauses == 0:
                    gc.enable()


def _find_connector(
    directory: tuple[DirectoryUser, ...], entries: list[tuple[int, tuple[str, ...]]]
) -> DirectoryUser | None:
    """The connector's directory user among the key's entries: by UPN, else by mail."""
    for wanted in ("upn", "mail"):
        for position, fields in entries:
            if wanted in fields:
                return directory[position]
    return None


def _org_connection(snapshot: DirectorySnapshot) -> Check:
    connected = snapshot.organization.connected_tenant_id
    name = snapshot.organization.name
    if connected.casefold() == MSA_TENANT_ID:
        return Check(
            "org-connection", "pass", f"{name} is backed by Microsoft accounts, not yet by a directory."
        )
    if snapshot.already_connected:
        return Check("org-connection", "warn", f"{name} is already connected to this tenant.")
    return Check(
        "org-connection",
        "fail",
        f"{name} is connected to another tenant ({connected}).",
        fix="Disconnect it from that directory first (Organization settings > Microsoft Entra ID).",
    )


def _connector_member(snapshot: DirectorySnapshot, connector: str, user: DirectoryUser | None) -> Check:
    tenant = snapshot.tenant.display_name or snapshot.tenant.id
    if user is None:
        return Check(
            "connector-member",
            "fail",
            f"{connector} is not a user of {tenant}.",
            fix=f"Connect as a Member of {tenant}, or have an admin create that account.",
        )
    if not user.account_enabled:
        return Check(
            "connector-member",
            "fail",
            f"{connector}'s account in {tenant} is disabled.",
            fix="Enable the account (Entra admin center > Users) or connect as another Member.",
        )
    if user.user_type.casefold() != "member":
        return Check(
            "connector-member",
            "fail",
            f"{connector} is a {user.user_type} in {tenant}; connecting needs a Member.",
            fix=(
                "Connect as a Member of the tenant (a guest cannot see its identities), or have"
                f" {connector} converted into a Member: {CONVERT_GUEST}."
            ),
        )
    return Check("connector-member", "pass", f"{connector} is an enabled Member of {tenant}.")


CONVERT_GUEST = (
    "https://learn.microsoft.com/azure/devops/organizations/accounts/faq-add-delete-users"
    "#q-how-can-i-convert-an-azure-ad-guest-into-a-member"
)
"""The tutorial's second prerequisite links this: how a guest of the directory becomes a member."""
TAKE_OVER = "connect-as-me"
"""The command an admin who may connect types to be the one the checks are for (`checking.connect_as_me`)."""


def _taking_over(
    snapshot: DirectorySnapshot, connector: str, member: Check, admin: Check
) -> tuple[Check, Check]:
    """Failing connector checks name who may connect instead, if anyone: the organization's admins (owner,
    Project Collection Administrators) who are enabled Members of the directory, told once (on the first
    failing)."""
    if "fail" not in (member.status, admin.status):
        return member, admin
    org = snapshot.organization
    admins = dict.fromkeys(
        name for name in (org.owner or "", *org.administrators) if name and _key(name) != _key(connector)
    )
    able = [
        name for name in admins if all(check.status == "pass" for check in _connector_checks(snapshot, name))
    ]
    if not able:
        return member, admin
    instead = (
        f" {' or '.join(able)} may connect instead (an enabled Member and an admin of {org.name}): they type"
        f" `{TAKE_OVER} {org.name}`."
    )
    if member.status == "fail":
        return _fixed_also(member, instead), admin
    return member, _fixed_also(admin, instead)


def _fixed_also(check: Check, more: str) -> Check:
    """`check` with `more` after its fix (its message ends with the fix, so it is written anew)."""
    return replace(check, message=check.message.removesuffix(check.fix).rstrip(), fix=f"{check.fix}{more}")


def _connector_admin(snapshot: DirectorySnapshot, connector: str) -> Check:
    org = snapshot.organization
    wanted = _key(connector)
    if org.owner and _key(org.owner) == wanted:
        return Check("connector-admin", "pass", f"{connector} owns {org.name}.")
    if any(_key(admin) == wanted for admin in org.administrators):
        return Check(
            "connector-admin", "pass", f"{connector} is a Project Collection Administrator of {org.name}."
        )
    return Check(
        "connector-admin",
        "fail",
        f"{connector} is neither the owner nor a Project Collection Administrator of {org.name}.",
        fix="Have the owner add them to Project Collection Administrators, or connect as an admin.",
    )


def _duplicate_principal_names(snapshot: DirectorySnapshot) -> Check:
    counts = Counter(_key(user.principal_name) for user in snapshot.users)
    shared = {key for key, count in counts.items() if count > 1}
    if not shared:
        return Check("duplicate-principal-names", "pass", "Every principal name is distinct.")
    duplicates: dict[str, list[str]] = {}
    for user in snapshot.users:
        key = _key(user.principal_name)
        if key in shared:
            duplicates.setdefault(key, []).append(user.principal_name)
    listed = "; ".join(" = ".join(names) for names in duplicates.values())
    return Check(
        "duplicate-principal-names",
        "fail",
        f"Users share a principal name, which blocks mapping: {listed}.",
        fix="Remove the extra users from the organization, or have them rename their Microsoft account.",
    )


SHARED_ACCOUNT = "shared-directory-account"


def shared_targets(users: Iterable[PlannedUser]) -> dict[tuple[str, str], list[PlannedUser]]:
    """The directory accounts (object id, sign-in name) that more than one person would get, with those
    people: Connect carries over one at most, and mapping another to it (*Resolve*) fails."""
    holders: dict[tuple[str, str], list[PlannedUser]] = {}
    for user in users:
        if user.match is not None and user.outcome in ("auto", "map") and not user.loses_access:
            holders.setdefault((user.match.id, user.match.user_principal_name), []).append(user)
    return {account: people for account, people in holders.items() if len(people) > 1}


def shared_account(organization: str, users: Iterable[PlannedUser]) -> Check:
    """`shared-directory-account`: no directory account is the target of two Azure DevOps identities (one
    person's two Microsoft accounts, say). The tutorial's "I got an error message when mapping": one
    identity's history would be stranded."""
    shared = shared_targets(users)
    if not shared:
        return Check(SHARED_ACCOUNT, "pass", "No directory account is the target of two users.")
    listed = "; ".join(
        f"{' and '.join(user.principal_name for user in people)} → {name}"
        for (_, name), people in shared.items()
    )
    decidable = [user for people in shared.values() for user in people if user.outcome == "map"]
    decide = (
        f"Decide which one keeps it; for each other one, `decide {organization} {decidable[0].principal_name}"
        f" {NO_ACCESS}` (they lose access, their history is kept)."
        if decidable
        else "Decide which one keeps it."
    )
    keeps = "".join(_carried_at_connect(organization, people) for people in shared.values())
    return Check(
        SHARED_ACCOUNT,
        "fail",
        "Several users would get one directory account, which only one can: Connect carries over one at"
        f" most, and mapping another to it fails, stranding their history: {listed}.",
        fix=f"{decide}{keeps} If one of them is someone else, give them an account of their own in the"
        " directory (no address of theirs on this one), then `recheck`.",
    )


def _carried_at_connect(organization: str, people: list[PlannedUser]) -> str:
    """Who Connect itself gives the account (the same sign-in name), which no `decide` undoes: one such user
    keeps it unless removed first; several (sign-in names differing only in case) cannot all, and only
    their ids tell them apart to `remove-users`."""
    carried = [user for user in people if user.outcome == "auto"]
    if len(carried) == 1:
        return (
            f" {carried[0].principal_name} keeps it at Connect (the same sign-in name) unless removed from"
            " the organization first (`remove-users`)."
        )
    if carried:
        names = " and ".join(user.principal_name for user in carried)
        ids = ", ".join(f"{user.id} for {user.principal_name}" for user in carried)
        return (
            f" {names} each have its sign-in name, and Connect carries over one of them at most: remove the"
            " others from the organization first"
            f" (`remove-users {organization} ID`; their ids: {ids})."
        )
    return ""


NO_APP_INVITES = ("adminsAndGuestInviters", "none")
"""invitation-post.md: app-only invitations fail when invitations are disabled or limited to admins."""

_GUEST_INVITE_SETTINGS = (
    "In the Microsoft Entra admin center open External Identities > External collaboration settings > Guest"
    " invite settings and choose 'Member users and users assigned to specific admin roles can invite'"
)


InvitationBar = Literal["", "rights", "setting"]
"""What keeps the people without a directory account from being invited: nothing; the rights of whoever
the bot acts for (someone allowed to invite guests, a Guest Inviter, still could); or the directory's
setting, which lets nobody invite guests, admins included (allowInvitesFrom: none)."""


def invitation_bar(checks: Iterable[Check]) -> InvitationBar:
    """Whether `invite-permission` fails, and why (`InvitationBar`): nobody the bot acts for may invite the
    people without a directory account, so an invitation is no way in for them until the directory's
    settings, or (`rights`) who invites them, change. The one test of it."""
    for check in checks:
        if check.code == "invite-permission" and check.status == "fail":
            return "setting" if check.policy == "none" else "rights"
    return ""


def removal_by_hand(organization: str) -> str:
    """Where an admin removes people who left without the bot (whose PAT then needs only to read users)."""
    return (
        f"https://dev.azure.com/{organization}/_settings/users > the user's ... menu > Remove from"
        " organization"
    )


def invitation_policy_fix(policy: str) -> str:
    """What lets the invitations out when the directory's policy refuses the bot's app (`NO_APP_INVITES`)."""
    if policy == "none":
        # authorizationpolicy.md: `none` prevents everyone from inviting, admins included, so neither a
        # role nor the portal helps: only the setting does.
        return (
            f"{_GUEST_INVITE_SETTINGS}. Under 'No one in the organization can invite guest users' nobody can"
            " invite them, admins included, not even in the portal."
        )
    return (
        f"{_GUEST_INVITE_SETTINGS}; or have a Guest Inviter run `aadbot signin` and set AZURE_AUTH=device;"
        " or have a Guest Inviter invite them by hand (Users > All users > New user > Invite external user)."
    )


def _invite_permission(
    snapshot: DirectorySnapshot, connector: str, user: DirectoryUser | None, users: tuple[PlannedUser, ...]
) -> Check:
    needed = sum(1 for user in users if user.outcome == "invite")
    if needed == 0:
        return Check("invite-permission", "pass", "Nobody needs a guest invitation.")
    policy = snapshot.allow_invites_from
    users_need = _counted(needed, "user needs", "users need")
    if policy == "none":
        return Check(
            "invite-permission",
            "fail",
            f"{users_need} a guest invitation, but the directory lets nobody invite guests, admins included"
            " (allowInvitesFrom: none).",
            fix=invitation_policy_fix(policy),
            policy=policy,
        )
    if snapshot.invites_as_app:  # the app sends them: whose rights count is the app's, not the connector's
        if policy in NO_APP_INVITES:
            return Check(
                "invite-permission",
                "fail",
                f"{users_need} a guest invitation, which the bot's app sends; Microsoft refuses "
                f"invitations from an app when allowInvitesFrom is {policy}.",
                fix=invitation_policy_fix(policy),
                policy=policy,
            )
        return Check(
            "invite-permission",
            "pass",
            f"The bot's app may send the {_counted(needed, 'invitation', 'invitations')} needed"
            f" (allowInvitesFrom: {policy}).",
            policy=policy,
        )
    roles = {role.casefold() for role in snapshot.connector_roles}
    holds_role = bool(roles & _INVITE_ROLES)
    if user is None or not user.account_enabled:
        allowed = False
    elif policy == "everyone":
        allowed = True
    elif policy == "adminsGuestInvitersAndAllMembers":
        allowed = user.user_type.casefold() == "member" or holds_role
    elif policy == "adminsAndGuestInviters":
        allowed = holds_role
    else:
        allowed = False
    if allowed:
        return Check(
            "invite-permission",
            "pass",
            f"{connector} may invite the {_counted(needed, 'guest', 'guests')} needed"
            f" (allowInvitesFrom: {policy}).",
            policy=policy,
        )
    return Check(
        "invite-permission",
        "fail",
        f"{users_need} a guest invitation but {connector} may not invite guests "
        f"(allowInvitesFrom: {policy}).",
        fix=f"Give {connector} the Guest Inviter role (Microsoft Entra admin center > Roles & admins > Guest"
        " Inviter), or relax the guest invite settings (External Identities > External collaboration"
        " settings).",
        policy=policy,
    )


def _counted(count: int, one: str, many: str) -> str:
    """`1 user needs`, `3 users need`: the count with the words that agree with it."""
    return f"{count} {one if count == 1 else many}"


def _user_count(snapshot: DirectorySnapshot) -> Check:
    count = len(snapshot.users)
    if count <= _USER_COUNT_LIMIT:
        return Check("user-count", "pass", f"{count} users (at most {_USER_COUNT_LIMIT}).")
    return Check(
        "user-count",
        "warn",
        f"{count} users, more than {_USER_COUNT_LIMIT}: Microsoft asks for a support request "
        "to map disconnected users.",
        fix="Open a support request with Azure DevOps before connecting.",
    )


def _billing_subscription(snapshot: DirectorySnapshot) -> Check:
    subscription_id = snapshot.organization.billing_subscription_id
    if not subscription_id:
        return Check("billing-subscription", "pass", "The organization has no billing subscription.")
    subscription = snapshot.billing_subscription
    if subscription is not None and subscription.tenant_id.casefold() == snapshot.tenant.id.casefold():
        return Check(
            "billing-subscription", "pass", f"Billing subscription {subscription_id} is in the tenant."
        )
    where = (
        f"directory {subscription.tenant_id}"
        if subscription is not None
        else "a directory the app cannot read"
    )
    return Check(
        "billing-subscription",
        "warn",
        f"Billing subscription {subscription_id} is in another directory ({where}).",
        fix=(
            "The organization is connected, so change billing now to a subscription in the tenant, before"
            " the month ends; `check-billing` confirms it once everyone is notified."
            if snapshot.already_connected
            else "After connecting, change billing to a subscription in the tenant before the month ends."
        ),
    )
