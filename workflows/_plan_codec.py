"""The stored form of a plan: `Plan.to_json` plus what the bot needs to rebuild it exactly."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from workflows.plan import GROUPS, OUTCOMES, Check, Decision, Match, Plan, PlannedUser, awaits_acceptance


def encode(plan: Plan) -> dict[str, Any]:
    data = plan.to_json()
    data["connector"] = plan.connector
    data["tenant_name"] = plan.tenant_name
    data["undecided"] = len(plan.undecided)
    data["groups"] = plan.groups
    for check_data, check in zip(data["checks"], plan.checks, strict=True):
        if check.policy:
            check_data["policy"] = check.policy
    data["decisions"] = [
        {"user_id": each.user_id, "account": each.account, "by": each.by} for each in plan.decisions
    ]
    for user_data, user in zip(data["users"], plan.users, strict=True):
        user_data["display_name"] = user.display_name
        user_data["mail_address"] = user.mail_address
        if user.invitation_pending:  # only then: the stored plan of 100,000 users stays as small
            user_data["invitation_pending"] = True
        if user.candidate_names:
            user_data["candidate_names"] = list(user.candidate_names)
        if user.carried_over:
            user_data["carried_over"] = list(user.carried_over)
        if user.pending_candidates:
            user_data["pending_candidates"] = list(user.pending_candidates)
        if user.decided_by:
            user_data["decided_by"] = user.decided_by
        if user.left:
            user_data["left"] = True
    return data


def decode(data: dict[str, Any]) -> Plan:
    return Plan(
        organization=data["organization"],
        tenant_id=data["tenant_id"],
        users=tuple(_user(user) for user in data["users"]),
        checks=checks(data),
        connector=data.get("connector", ""),
        tenant_name=data.get("tenant_name", ""),
        decisions=decisions(data),
    )


def decisions(data: dict[str, Any]) -> tuple[Decision, ...]:
    """The admins' decisions stored with a plan (none in plans stored before there were any)."""
    return tuple(
        Decision(user_id=each["user_id"], account=each["account"], by=each["by"])
        for each in data.get("decisions", ())
    )


def undecided(data: dict[str, Any]) -> int:
    """How many people wait for an admin's decision, from the stored summary (in a plan stored before
    there were decisions, every disabled and ambiguous one)."""
    stored = counts(data)
    return int(data.get("undecided", stored["disabled"] + stored["ambiguous"]))


def checks(data: dict[str, Any]) -> tuple[Check, ...]:
    return tuple(
        Check(
            code=check["code"],
            status=check["status"],
            message=check["message"],
            fix=check.get("fix", ""),
            policy=check.get("policy") or _policy_named(check["message"]),
        )
        for check in data["checks"]
    )


def _policy_named(message: str) -> str:
    """The guest invite setting a check stored before checks kept it names in its message, as Graph spells
    it: the words around it (and its fix) have changed since."""
    named = _ALLOW_INVITES_FROM.search(message)
    return named.group(1) if named else ""


_ALLOW_INVITES_FROM = re.compile(r"allowInvitesFrom(?::| is) (\w+)")


def counts(data: dict[str, Any]) -> dict[str, int]:
    """Read from the stored summary: a status must not rebuild every user of a 100,000-user plan."""
    stored = data["counts"]
    return {outcome: int(stored.get(outcome, 0)) for outcome in OUTCOMES}


def groups(data: dict[str, Any]) -> dict[str, int]:
    """`Plan.groups`, from the stored summary (a plan stored before there was one: from its users)."""
    stored = data.get("groups")
    if stored is None:
        stored = Counter(_user(user).group for user in data["users"])
    return {group: int(stored.get(group, 0)) for group in GROUPS}


def to_accept(data: dict[str, Any]) -> frozenset[str]:
    """The ids of the plan's `to-accept` group, read from the stored users without decoding them."""
    return frozenset(
        user["id"]
        for user in data["users"]
        if awaits_acceptance(bool(user.get("invitation_pending")), user["outcome"])
    )


def candidates(data: dict[str, Any], keys: set[str]) -> Iterator[PlannedUser]:
    """The users with an address or directory id among `keys` (case-folded), decoding only those: a question
    must not rebuild every user of a 100,000-user plan. Which of them is really the person is for
    `workflows.identities` to say."""
    for user in data["users"]:
        match = user.get("match") or {}
        known = (
            user["principal_name"],
            user.get("mail_address", ""),
            match.get("user_principal_name", ""),
            match.get("id", ""),
            *user.get("candidates", ()),
        )
        if keys & {str(value).strip().casefold() for value in known}:
            yield _user(user)


def _user(data: dict[str, Any]) -> PlannedUser:
    match = data.get("match")
    return PlannedUser(
        id=data["id"],
        principal_name=data["principal_name"],
        outcome=data["outcome"],
        match=Match(id=match["id"], user_principal_name=match["user_principal_name"], by=match["by"])
        if match
        else None,
        candidates=tuple(data.get("candidates", ())),
        display_name=data.get("display_name", ""),
        mail_address=data.get("mail_address", ""),
        invitation_pending=bool(data.get("invitation_pending", False)),
        candidate_names=tuple(data.get("candidate_names", ())),
        carried_over=tuple(data.get("carried_over", ())),
        pending_candidates=tuple(data.get("pending_candidates", ())),
        decided_by=data.get("decided_by", ""),
        left=bool(data.get("left", False)),
    )
