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
from workflows.plan import NO_ACCESS, UNDECIDED, Decision, Match, Outcome, Plan, PlannedUser, build_plan

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
    return replace(plan, users=tuple(users), decisions=tuple(latest.values()))


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
    return replace(user, decided_by="")
