"""One person, several addresses: how the bot reaches an affected user in chat, and knows them there.

Azure DevOps knows a person by their mail address and principal name; the plan matches them to a
directory account, which may be another address (kim@fabrikam-old.com works as kim@fabrikam.com).
A chat platform may know them by any of these: Slack by the email on their profile, Teams by their
directory account. So a message to them tries every address, and their own list answers to any of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Text, bindparam, cast, false
from sqlmodel import col, func

from storage import AffectedUser
from workflows.directory import DirectoryUser
from workflows.plan import Match, PlannedUser
from workflows.results import Actor


@dataclass(frozen=True)
class Reach:
    """Where a direct message to one person goes."""

    addresses: tuple[str, ...]
    """In the order to try them; the first is the outbox recipient."""
    directory_id: str | None = None
    """Their directory object id, for a platform that knows people by it (Teams)."""
    candidates: tuple[str, ...] = ()
    """With no directory id: the object ids of every directory account that may be theirs, to try in turn."""

    @property
    def recipient(self) -> str:
        return self.addresses[0]

    def payload(self) -> dict[str, Any]:
        """What the outbox message carries beside its recipient, for the sender to try next."""
        return {
            "also": list(self.addresses[1:]),
            "directory_id": self.directory_id,
            "candidates": list(self.candidates),
        }


def mailbox(sign_in_name: str | None) -> str | None:
    """The sign-in name as an address mail and chat can reach; None for a guest's `#EXT#` name, which is
    no mailbox."""
    return sign_in_name if sign_in_name and "#EXT#" not in sign_in_name.upper() else None


def other_address(email: str, sign_in_name: str | None) -> str | None:
    """Their directory account's sign-in name, when it is an address and not `email`."""
    account = mailbox(sign_in_name)
    return account if account and account.casefold() != email.casefold() else None


def known_as(email: str, sign_in_name: str | None) -> str:
    """Their work account once the plan gives one that is another address, with the Azure DevOps address
    they were listed under: how `progress`, the admins' digest and every list of people name a person."""
    account = other_address(email, sign_in_name)
    return f"{account} (was {email})" if account else email


def is_guest(outcome: str, directory_account: str | None) -> bool:
    """A guest of the directory (invited, or matched to a `#EXT#` account) has no work account: they keep
    signing in with their own address."""
    return outcome == "invite" or (directory_account is not None and mailbox(directory_account) is None)


def account_kind(outcome: str, directory_account: str | None) -> str:
    """What the person signs in with, as their to-do list names it."""
    return "guest account" if is_guest(outcome, directory_account) else "work account"


def directory_account(user: PlannedUser) -> Match | None:
    """The directory user the plan matched or mapped this person to, None when there is none they can use:
    someone `left` without an account another person keeps has none of their own, and reaching or knowing
    them by that account would be reaching or knowing its keeper (walk39)."""
    return user.match if user.outcome != "disabled" and not user.left else None


def open_candidates(user: PlannedUser) -> tuple[str, ...]:
    """The accounts that may be theirs: every candidate while they wait for an admin's decision, none once
    an admin decided (the chosen account is then their match, and no-access means none is theirs)."""
    return () if user.decided_by else user.candidates


def planned_reach(user: PlannedUser, *, connected: bool) -> Reach:
    """Where a message to a planned person goes: as `affected_reach` for someone with a list, so someone the
    plan left ambiguous is tried at each candidate account (a chat profile may carry any one of them)."""
    account = directory_account(user)
    candidates = () if account else open_candidates(user)
    names = [address for name in user.candidate_names if candidates and (address := mailbox(name))]
    reach = _reach(
        (user.mail_address, user.principal_name, *names),
        account.user_principal_name if account else None,
        account.id if account else None,
        connected=connected,
    )
    return Reach(reach.addresses, reach.directory_id, candidates)


def affected_reach(user: AffectedUser) -> Reach:
    """A person with a to-do list: the organization is connected by then. Someone the plan left ambiguous
    is tried at each candidate account after their own addresses: any of them may be the one they read."""
    names = [key for key in user.candidates if "@" in key]
    reach = _reach(
        (user.email, user.principal_name, *names), user.directory_account, user.directory_id, connected=True
    )
    ids = tuple(key for key in user.candidates if "@" not in key)
    return Reach(reach.addresses, reach.directory_id, ids)


def candidate_keys(accounts: Iterable[DirectoryUser]) -> list[str]:
    """What `AffectedUser.candidates` holds for these directory accounts: each object id, then each
    sign-in name that is a mailbox, lower case."""
    accounts = list(accounts)
    names = [address.casefold() for account in accounts if (address := mailbox(account.user_principal_name))]
    return [account.id.casefold() for account in accounts] + names


def recognises(actor: Actor, user: AffectedUser) -> bool:
    """Whether whoever speaks in chat is this person, by their chat id, directory id or any address, or any
    candidate account of someone the plan left ambiguous."""
    if actor.id and actor.id in (user.chat_user_id, user.directory_id):
        return True
    if actor.id and actor.id.casefold() in user.candidates:
        return True
    email = actor.email.strip().casefold()
    known = (user.email, user.principal_name, user.directory_account or "", *user.candidates)
    return bool(email) and email in {address.casefold() for address in known}


def is_planned_as(actor: Actor, user: PlannedUser) -> bool:
    """Whether whoever speaks in chat is this planned person, known as `recognises` knows them once they have
    a list: by any Azure DevOps address, the directory account they can use, or its object id (or, left
    ambiguous, any candidate's)."""
    account = directory_account(user)
    if actor.id and account is not None and actor.id == account.id:
        return True
    if actor.id and actor.id.casefold() in {candidate.casefold() for candidate in open_candidates(user)}:
        return True
    email = actor.email.strip().casefold()
    known = (user.principal_name, user.mail_address, account.user_principal_name if account else "")
    return bool(email) and email in {address.strip().casefold() for address in known}


OwnerShape = tuple[bool, bool]
"""How a person is matched to affected-user rows: by an address, by a chat id (`owner`)."""


def owner(who: Actor | str) -> tuple[OwnerShape, dict[str, str]]:
    """How `owned_by` matches this person (an address, a chat id, both or neither), and the values to bind
    to its condition."""
    email = (who.email if isinstance(who, Actor) else who).strip().lower()
    chat_id = who.id if isinstance(who, Actor) else ""
    values: dict[str, str] = {}
    if email:
        values |= {"email": email, "email_listed": _listed(email)}
    if chat_id:
        values |= {"chat_id": chat_id, "chat_id_listed": _listed(chat_id.casefold())}
    return (bool(email), bool(chat_id)), values


@cache
def owned_by(shape: OwnerShape) -> ColumnElement[bool]:
    """The affected-user rows of a person known this way (`owner`), matched as `recognises` matches them.
    Built once for each way: built anew with the values in it, at every list read, it cost more than the
    read."""
    by_email, by_chat_id = shape
    mine: ColumnElement[bool] = false()
    if by_email:
        email: BindParameter[str] = bindparam("email")
        mine = (
            (col(AffectedUser.email) == email)
            | (func.lower(AffectedUser.principal_name) == email)
            | (func.lower(AffectedUser.directory_account) == email)
        )
    if by_chat_id:
        chat_id: BindParameter[str] = bindparam("chat_id")
        mine = mine | (col(AffectedUser.chat_user_id) == chat_id)
        mine = mine | (col(AffectedUser.directory_id) == chat_id)
    for key, wanted in (("email_listed", by_email), ("chat_id_listed", by_chat_id)):
        if wanted:  # one of the JSON list's strings, quotes included: never part of a longer one
            mine = mine | cast(AffectedUser.candidates, Text).contains(bindparam(key), escape=_ESCAPE)
    return mine


_ESCAPE = "/"


def _listed(key: str) -> str:
    """`key` as the JSON list of candidates holds it, its LIKE wildcards escaped (as `autoescape` does)."""
    quoted = json.dumps(key)
    return quoted.replace(_ESCAPE, _ESCAPE * 2).replace("%", f"{_ESCAPE}%").replace("_", f"{_ESCAPE}_")


def _reach(devops: Iterable[str], account: str | None, object_id: str | None, *, connected: bool) -> Reach:
    """Once the organization is connected, the directory account is the one they work with, so it comes
    first; before, the Azure DevOps addresses do. A guest's `#EXT#` sign-in name is no mailbox: the object
    id finds them instead."""
    directory = [address] if (address := mailbox(account)) else []
    ordered = [*directory, *devops] if connected else [*devops, *directory]
    unique: dict[str, str] = {}
    for address in ordered:
        unique.setdefault(address.strip().casefold(), address.strip())
    unique.pop("", None)
    return Reach(tuple(unique.values()), object_id)
