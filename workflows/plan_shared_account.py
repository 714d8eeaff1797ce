"""`shared-directory-account`: no directory account is the one two people would get.

Connect carries an identity over to one account at most, and mapping a second to it fails: an admin decides
who keeps it (`workflows.decisions`).
"""

from __future__ import annotations

from collections.abc import Iterable

from workflows.plan import NO_ACCESS, Check, PlannedUser

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
    # counted before the colon that lists them: a channel reads the check up to there (walk39 c)
    count = sum(len(people) for people in shared.values())
    would = (
        f"{count} users would get one directory account, which only one can"
        if len(shared) == 1
        else f"{count} users would get {len(shared)} directory accounts, which only one user each can"
    )
    return Check(
        SHARED_ACCOUNT,
        "fail",
        f"{would}: Connect carries over one at most, and mapping another to it fails, stranding their"
        f" history: {listed}.",
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
