"""The admins' decisions for the people a plan cannot place on its own: which of an ambiguous person's
directory accounts is theirs, or that someone knowingly loses access (their only account is disabled,
or none of their accounts is theirs).

Connecting maps nobody by hand: Microsoft's Connect carries over whoever it matches by sign-in name, and
the others are resolved afterwards under Organization settings > Microsoft Entra ID (*Resolve*). A
decision says, before or after, who that is: from then on the plan treats the person as mapped by hand
to the chosen account (`map`; `auto` for a guest whose address is theirs, as rule 2 has it: Connect
carries their identity over; `to-accept` while that guest's invitation is pending), so the approval,
their list, the messages to them and chat's recognition of them use that account. Decisions are stored
with the plan and applied again to every plan made afterwards, so a re-check keeps them; one that no
longer fits (the account was deleted, the person now matches by sign-in name) is kept but changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from workflows import _plan_codec
from workflows.directory import DirectorySnapshot
from workflows.plan import NO_ACCESS, UNDECIDED, Check, Decision, Match, Outcome, Plan, PlannedUser
from workflows.plan_matching import build_plan
from workflows.plan_shared_account import shared_account, shared_targets

DECIDED = "admin"
"""The `by` of a match an admin chose: no address decided it."""


def replan(snapshot: DirectorySnapshot, connector: str, stored: Mapping[str, Any] | None) -> Plan:
    """The plan of `snapshot`, with the decisions stored in the previous plan applied to it."""
    return apply(build_plan(snapshot, connector), _plan_codec.decisions(dict(stored or {})))


def lost_access_by(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """From a stored plan: the entitlement id of everyone an admin decided loses access, and who decided.
    Only those notified as such (`AffectedUser.outcome` NO_ACCESS) lost it: a decision that no longer
    fits changes nothing."""
    return {
        decision.user_id: decision.by
        for decision in _plan_codec.decisions(dict(stored or {}))
        if decision.account == NO_ACCESS
    }


def apply(plan: Plan, decisions: Iterable[Decision]) -> Plan:
    """`plan` with exactly these decisions (one per person; an earlier one for them is replaced)."""
    latest = {decision.user_id: decision for decision in decisions}
    if not latest and not any(user.decided_by for user in plan.users):
        return replace(plan, decisions=())  # a fresh plan and no decisions: nothing to copy
    users = []
    for user in plan.users:
        user = undecided(user)
        decision = latest.get(user.id)
        users.append(decided(user, decision) if decision is not None else user)
    shared = shared_targets(users)
    if shared:  # of people who would share an account, those decided out are left without it
        users = [_left(user, latest.get(user.id), shared) for user in users]
    checks = _with_check(plan.checks, shared_account(plan.organization, users))
    return replace(plan, users=tuple(users), checks=checks, decisions=tuple(latest.values()))


def _left(
    user: PlannedUser, decision: Decision | None, shared: Mapping[tuple[str, str], object]
) -> PlannedUser:
    """Someone mapped by hand to an account others would get too (`shared_targets`), decided out: they lose
    access knowingly. Connect carries an `auto` one over whatever is decided: only removing them helps."""
    if decision is None or decision.account != NO_ACCESS or user.outcome != "map" or user.match is None:
        return user
    held = (user.match.id, user.match.user_principal_name) in shared
    return replace(user, decided_by=decision.by, left=True) if held else user


def _with_check(checks: tuple[Check, ...], check: Check) -> tuple[Check, ...]:
    """`checks` with `check` in place of the one of its code (last, in a plan stored without it)."""
    if all(each.code != check.code for each in checks):
        return (*checks, check)
    return tuple(check if each.code == check.code else each for each in checks)


def decided(user: PlannedUser, decision: Decision) -> PlannedUser:
    """The person as the decision places them; unchanged when it does not fit their case (any more)."""
    if user.outcome not in UNDECIDED:
        return user
    if decision.account == NO_ACCESS:
        return replace(user, decided_by=decision.by)
    if decision.account in user.candidates:
        name = dict(zip(user.candidates, user.candidate_names, strict=False)).get(decision.account, "")
        match = Match(decision.account, name or decision.account, DECIDED)
        # a guest signed in to by their own address is rule 2's `auto`: Connect carries the identity over
        outcome: Outcome = "auto" if decision.account in user.carried_over else "map"
        pending = decision.account in user.pending_candidates
        return replace(user, outcome=outcome, match=match, decided_by=decision.by, invitation_pending=pending)
    return user


def undecided(user: PlannedUser) -> PlannedUser:
    """The person as the plan's own rules place them, before any decision."""
    if not user.decided_by:
        return user
    if user.match is not None and user.match.by == DECIDED:
        return replace(user, outcome="ambiguous", match=None, decided_by="", invitation_pending=False)
    return replace(user, decided_by="", left=False)
