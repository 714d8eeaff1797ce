"""Building the plan from one snapshot: the contract's matching rules place everyone, then the checks run.

Normative rules: `shared/contracts/plan-and-scenario.md` (rules 1 to 4, and the checks' order). The checks
live by what they are about: the connector (`plan_connector`), the organization (`plan_organization`),
invitations (`plan_invitations`, the contract's and the bot's app's), one account for two people
(`plan_shared_account`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from workflows.directory import DirectorySnapshot, DirectoryUser, OrgUser
from workflows.plan import Match, Outcome, Plan, PlannedUser, address_key
from workflows.plan_connector import connector_admin, connector_member, find_connector, taking_over
from workflows.plan_invitations import app_invite_permission, invite_permission
from workflows.plan_organization import (
    billing_subscription,
    duplicate_principal_names,
    org_connection,
    user_count,
)
from workflows.plan_shared_account import shared_account

_FIELDS = ("upn", "mail", "otherMails", "proxyAddresses")


Index = dict[str, list[tuple[int, tuple[str, ...]]]]
"""Key -> (directory position, every field of that user holding the key, in `_FIELDS` order) per user."""
_NO_ENTRIES: list[tuple[int, tuple[str, ...]]] = []  # shared and never mutated


def build_plan(snapshot: DirectorySnapshot, connector: str) -> Plan:
    """Apply the contract's matching rules and checks to one snapshot."""
    with _collector_paused():
        directory = snapshot.directory_users
        index = _index(directory)
        pending = frozenset(user.id for user in directory if user.invitation_pending)
        users = tuple(_plan_user(user, directory, index, pending) for user in snapshot.users)
        connector_user = find_connector(directory, index.get(address_key(connector), _NO_ENTRIES))
        duplicates = duplicate_principal_names(snapshot)
    member, admin = taking_over(
        snapshot,
        connector,
        connector_member(snapshot, connector, connector_user),
        connector_admin(snapshot, connector),
    )
    checks = (
        org_connection(snapshot),
        member,
        admin,
        duplicates,
        invite_permission(snapshot, connector, connector_user, users),
        user_count(snapshot),
        billing_subscription(snapshot),
        # last, so the contract's seven keep their places: a reader of the list by position is unchanged
        shared_account(snapshot.organization.name, users),
        app_invite_permission(snapshot, users),
    )
    return Plan(
        organization=snapshot.organization.name,
        tenant_id=snapshot.tenant.id,
        users=users,
        checks=checks,
        connector=connector,
        tenant_name=snapshot.tenant.display_name,
    )


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
        if address_key(candidate.user_principal_name) == principal:
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
