"""People who can do nothing on their to-do list until the admins act: several directory accounts match
them or theirs is disabled (the admins `decide`), or they have no way in yet (the admins `invite` them).

Their reminders say so once instead of repeating tasks they cannot do, and the admins' digest lists them
as waiting for the admins rather than as stragglers.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Any, Literal

from storage import SignInWatch, TodoItem
from workflows import _plan_codec
from workflows.todo import ASK_FOR_ACCESS, CHOOSING_ITEM, ENABLE_ACCOUNT, INVITATION_IN_DOUBT

Awaited = Literal["decide", "invite"]
WAITING_ITEMS: dict[str, Awaited] = {
    CHOOSING_ITEM: "decide",
    ENABLE_ACCOUNT: "decide",
    ASK_FOR_ACCESS: "invite",
    INVITATION_IN_DOUBT: "invite",
}
"""The item that stands for the wait, and what the admins do to end it. A decision or an invitation
replaces it on the list (`relisting`, `late_invitees`); a disabled account's item stays, so a decision
recorded in the plan ends that wait too. An invitation Microsoft never confirmed is a wait as well: only the
admins' `invite` finds out whether it went out; the person's part, looking for it, is one reminder
(`LOOK_ONCE`), not a chase."""
LOOK_ONCE = frozenset({INVITATION_IN_DOUBT})
"""Waits whose notice comes once even though the list said it: it reminds them to look for their
invitation in junk or spam, which the list asked of them."""


def decided(plan: dict[str, Any] | None) -> frozenset[str]:
    """The entitlement ids an admin decided for, an account or `no-access`, in a stored plan."""
    return frozenset(each.user_id for each in _plan_codec.decisions(plan)) if plan else frozenset()


def awaited(
    items: Iterable[TodoItem],
    entitlement_id: str,
    decisions: frozenset[str],
    *,
    went_out: Container[str] | None = None,
) -> TodoItem | None:
    """The item a person waits on the admins for, or None: done or not (pressing Done does not decide, nor
    invite), but for a wait that is theirs to end (`LOOK_ONCE`), which their tick ends: they found the
    invitation and accepted it. So for what they are told (`went_out` None); for the admins, only once
    their invitation is known to have gone out (`went_out`: the entitlement ids whose did), as a tick by
    mistake must not hide an invitation that never went out, which only the admins' `invite` sends."""
    for item in items:
        if (
            item.key in LOOK_ONCE
            and item.done_at is not None
            and (went_out is None or entitlement_id in went_out)
        ):
            continue
        wants = WAITING_ITEMS.get(item.key)
        if wants == "invite" or (wants == "decide" and entitlement_id not in decisions):
            return item
    return None


def admins_step(item: TodoItem) -> Awaited:
    return WAITING_ITEMS[item.key]


SIGN_IN_ITEM = "sign-in-work-account"


def awaits_mapping(
    outcome: str, items: Iterable[TodoItem], entitlement_id: str, still_personal: frozenset[str] | None
) -> bool:
    """Whether someone mapped by hand still waits for the admins to map their old identity to their work
    account: Connect maps nobody by hand, so they do until Azure DevOps shows otherwise, a sign-in with the
    work account (their sign-in item verified) or a daily full read that no longer finds them on their
    Microsoft account (`still_personal`: those it found, None before the first). Until then signing in is
    not theirs to do, though what needs no sign-in is (Microsoft's FAQ: the mapping keeps their history)."""
    if outcome != "map":
        return False
    if any(item.key == SIGN_IN_ITEM and item.verified_at is not None for item in items):
        return False
    return still_personal is None or entitlement_id in still_personal


def still_personal_ids(watch: SignInWatch | None) -> frozenset[str] | None:
    """The entitlement ids the watch's last full read found still on a Microsoft account; None before one."""
    if watch is None or watch.swept_at is None:
        return None
    return frozenset(str(entitlement_id) for entitlement_id, _ in watch.still_personal)
