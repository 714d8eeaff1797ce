"""The buttons that move a migration on: the next commands its stage allows, and the one to press now."""

from __future__ import annotations

from bot.conversation.messages import Actions, Block, Button, ButtonStyle
from workflows.results import MigrationStatus
from workflows.results_preparing import Told

_NEXT_BUTTONS: dict[str, tuple[str, ButtonStyle]] = {
    "announce": ("Tell users what is coming", "default"),
    "invite": ("Invite missing users", "primary"),
    "request-approval": ("Request approval", "primary"),
    "check-connection": ("Check connection now", "default"),
    "notify": ("Send users their to-do lists", "primary"),
    "check-billing": ("Check billing", "primary"),
    "complete": ("Complete", "primary"),
    "resume": ("Resume", "primary"),
    "recheck": ("Re-check", "default"),
    "remove-users": ("Users who may have left", "default"),
    "cancel": ("Cancel migration", "danger"),
}
_BUTTON_ACTIONS = {"remove-users": "stale-users"}
"""Removing starts from the list of who has not signed in for a while, with its own confirmed button."""
UNBLOCKED_BY = {
    "blocked": "recheck",
    "waiting_for_invite_settings": "invite",
    "failed": "resume",
    "interrupted": "resume",
}
"""What moves a migration held back on, once its block's own fix (`MigrationStatus.blocked_fix`) is done:
nothing else does, however early in the procedure another word comes (`announce`, `stale-users`)."""


def announce_button(organization: str) -> Button:
    """*Tell users what is coming* messages everyone affected at once, and a notice without a date tells
    them little: the click asks first, and points to the typed command that gives the date."""
    return Button(
        _NEXT_BUTTONS["announce"][0],
        "announce",
        organization,
        _NEXT_BUTTONS["announce"][1],
        f"Send everyone affected in {organization} the advance notice now, without a date? To give them"
        f" the date, type `announce {organization} WHEN` instead (for example `announce {organization}"
        " Friday 14:00 UTC`).",
    )


def cancel_question(organization: str) -> str:
    """What a button that cancels asks before it does: one click would end the migration for good, where a
    typed `cancel ORG` is deliberate enough."""
    return f"Cancel the migration of {organization}? Everyone told about it hears that it is off."


def everyone_told(told: Told | None) -> bool:
    """Whether the advance notice went to everyone in the plan now (reached or not): none is left to tell,
    so *Tell users what is coming* would send nothing."""
    return told is not None and not told.untold


def decision_buttons(approval_id: int) -> Actions:
    """Approve and Reject, under every copy of an approval prompt and for whoever may still decide."""
    return Actions(
        (
            Button("Approve", "approve", str(approval_id), "primary"),
            Button("Reject", "reject", str(approval_id), "danger"),
        )
    )


def next_actions(
    status: MigrationStatus, *, everyone_told: bool = False, everyone_invited: bool = False
) -> Actions | None:
    """`everyone_told`: the advance notice went to everyone in the plan, so pressing *Tell users what is
    coming* would send nothing. `everyone_invited`: an `invite` just now left nobody to invite, so
    pressing *Invite missing users* would invite nobody, whatever the plan still counts (after connecting
    it is the approved one, and Microsoft's search shows a new guest only minutes later)."""
    organization = status.organization
    hidden = {"announce"} if everyone_told else set()
    if everyone_invited or not status.counts.get("invite", 0):  # nobody left to invite
        hidden.add("invite")
    words = status.next_commands
    if status.counts.get("disabled", 0):  # who left is removed before the notice (status_views._who_left)
        words = tuple(sorted(words, key=lambda word: word != "remove-users"))
    buttons = tuple(
        announce_button(organization)
        if word == "announce"
        else Button(
            label,
            _BUTTON_ACTIONS.get(word, word),
            organization,
            style,
            cancel_question(organization) if word == "cancel" else "",
        )
        for word in words
        if word in _NEXT_BUTTONS and word not in hidden
        for label, style in (_NEXT_BUTTONS[word],)
    )
    return Actions(buttons) if buttons else None


def next_step(status: MigrationStatus, *, approves: bool = False) -> Button | None:
    """The one action that moves this migration on now (the first primary one), as its button; while an
    approval is pending, that is deciding it, for an admin who still may (`approves`: not its requester);
    held back, what follows the block's fix (`UNBLOCKED_BY`)."""
    if status.pending_approval_id:  # another admin's approval, whatever else may be done meanwhile
        approval = str(status.pending_approval_id)
        return Button(f"Approve #{approval}", "approve", approval, "primary") if approves else None
    if status.state in UNBLOCKED_BY:
        word = UNBLOCKED_BY[status.state]
        return Button(_NEXT_BUTTONS[word][0], word, status.organization, "primary")
    buttons = next_actions(status)
    if buttons is None:
        return None
    ranked = sorted(
        (button for button in buttons.buttons if button.style != "danger"),
        key=lambda button: button.style != "primary",
    )
    return ranked[0] if ranked else None


def with_next(
    blocks: list[Block],
    status: MigrationStatus,
    *,
    everyone_told: bool = False,
    everyone_invited: bool = False,
) -> tuple[Block, ...]:
    actions = next_actions(status, everyone_told=everyone_told, everyone_invited=everyone_invited)
    return (*blocks, actions) if actions else tuple(blocks)
