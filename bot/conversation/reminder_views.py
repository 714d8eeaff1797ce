"""Reminders in words: of the open items of a to-do list (and when a snooze puts the next one), of a list
that waits on the admins (once, to look for an invitation Microsoft never confirmed), and of billing that has
yet to move."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation import lists
from bot.conversation.messages import Actions, Block, Button, Heading, Message, Outgoing, Text, say
from bot.conversation.todo_item_views import BY_ID, open_items
from bot.conversation.todo_views import WAITING_FOR
from workflows.informing import the_admins
from workflows.invitation_email import FROM, SUBJECT
from workflows.item_rewording import SENT_IF_NOT, link_fetched
from workflows.results_todo_lists import TodoEntry
from workflows.snoozing import Snoozed
from workflows.todo import INVITATION_IN_DOUBT
from workflows.working_hours import zone


def todo_reminder(
    *,
    organization: str,
    name: str,
    items: Sequence[TodoEntry],
    total: int,
    reminder_id: int,
    sender: str = "",
    awaits_mapping: bool = False,
) -> Message:
    """Short: who asks, the open items by number and title with their buttons; `todo` has the steps (the
    first list gave them in full, and repeating them every other day buries what is left).
    `awaits_mapping`: they are mapped by hand and Azure DevOps still shows them on their Microsoft account,
    so signing in waits for the admins (`workflows.waiting.awaits_mapping`)."""
    heading = f"Reminder: {len(items)} of {total} items left on your {organization} list"
    asked = f"{sender}, who runs the move of {organization}, asked me to remind you: " if sender else ""
    blocks: list[Block] = [
        Heading(heading),
        Text(f"Hi {name}, {asked}these are still open. Press Done on each one you have finished."),
    ]
    if awaits_mapping:
        blocks.append(Text(MAPPING_AWAITED))
    blocks += [
        *open_items(items),
        Actions(
            (
                Button("Snooze 1 day", "snooze", f"{BY_ID}{reminder_id} 1d"),
                Button("Snooze 1 week", "snooze", f"{BY_ID}{reminder_id} 1w"),
            )
        ),
    ]
    return Message(heading, tuple(blocks))


MAPPING_AWAITED = (
    "Signing in waits for the migration admins: Azure DevOps still shows you on your Microsoft account, so"
    " they have yet to map your old identity to your work account (it keeps your history yours), and until"
    " then it refuses your work account. They see you on their list of who still needs it. Meanwhile do"
    " what needs no sign-in."
)
"""Said to someone mapped by hand while they wait for it: by their reminder, and when they tick signing in."""


def waiting_reminder(
    *,
    organization: str,
    name: str,
    sender: str,
    waiting_item: str,
    admins: Sequence[str] = (),
    mailed: bool = False,
) -> Message:
    """Instead of a reminder of tasks they cannot do yet: whom they wait on (`admins`, everyone who can act;
    without them, `sender`, who runs the migration), and what happens next. `mailed`: the invitation they
    wait on is known to have gone out (`workflows.stages.interrupted_invitations.mailed`)."""
    who = lists.names(admins) if admins else sender
    waits_for = f"the migration admins ({who})" if who else "the migration admins"
    if waiting_item == INVITATION_IN_DOUBT:
        return _look_for_invitation(organization, name, waits_for, mailed)
    heading = f"Your {organization} list waits on the migration admins"
    why = WAITING_FOR.get(waiting_item, "to act on your account")
    blocks: list[Block] = [
        Heading(heading),
        Text(
            f"Hi {name}, nothing on your {organization} list can be done yet: it waits for {waits_for} {why}."
            " As soon as they have, I send you the steps that follow, and reminders only come again then."
            " Something they should know, or in a hurry? Say `todo` and press *I need help* on that item."
        ),
    ]
    return Message(heading, tuple(blocks))


def _look_for_invitation(organization: str, name: str, waits_for: str, mailed: bool) -> Message:
    """The one reminder of someone whose invitation Microsoft never confirmed: the one thing theirs to do
    is to look for it, in junk or spam too; the rest waits for the admins' `invite`, which tells them.
    `mailed`: it did go out, and that `invite` fetches their own link to accept it."""
    heading = f"Reminder: look for your invitation to {organization}"
    if mailed:
        known = f"Hi {name}, Microsoft sent your invitation email."
        then = f"Meanwhile {link_fetched(waits_for)}"
    else:
        known = (
            f"Hi {name}, your invitation may have gone out, and {waits_for} are finding out whether it did."
        )
        then = SENT_IF_NOT
    return Message(
        heading,
        (
            Heading(heading),
            Text(
                f"{known} Have you looked for mail from {FROM}, subject {SUBJECT}, in junk or spam too? If it"
                f" is there, select *Accept invitation* and sign in with that address. {then}; this is the"
                " only reminder until then. Say `todo` to see your list."
            ),
        ),
    )


def billing_moved(*, organization: str, message: str) -> Message:
    """The billing reminder's check found the subscription in the new directory."""
    heading = f"Billing of {organization} has moved"
    blocks: list[Block] = [
        Heading(heading),
        Text(f"{message} No more billing reminders. Next: `complete` once everyone is done."),
        Actions((Button("Complete", "complete", organization, "primary"),)),
    ]
    return Message(heading, tuple(blocks))


def billing_reminder(
    *,
    organization: str,
    message: str,
    steps: Sequence[str],
    deadline: str,
    missed: str | None = None,
    every_working_days: int = 0,
) -> Message:
    """`missed`: the end of the month of the connection, when it passed with billing unmoved; then
    `every_working_days` is how often the reminder comes (0: queued before it was said)."""
    if missed is None:
        heading = f"Reminder: move the billing of {organization} before the month ends ({deadline})"
        blocks: list[Block] = [Heading(heading), Text(message)]
    else:
        heading = f"Overdue: the billing of {organization} has not moved"
        overdue = (
            f"Microsoft asks to move billing before the end of the month the organization was connected in;"
            f" that was {missed}. Move it now; until it moves I remind you{_every(every_working_days)}."
        )
        blocks = [Heading(heading), Text(f"{overdue}\n{message}")]
    if steps:
        blocks.append(Text("\n".join(f"{number}. {step}" for number, step in enumerate(steps, start=1))))
    blocks.append(Actions((Button("Check billing", "check-billing", organization, "primary"),)))
    return Message(heading, tuple(blocks))


def _every(working_days: int) -> str:
    if working_days <= 0:
        return ""
    return " every working day" if working_days == 1 else f" every {working_days} working days"


def snooze_choices(upcoming: Snoozed) -> Outgoing:
    """`snooze` without a span ("remind me later"): when the next reminder comes, and the two spans."""
    text = f"Your next reminder comes on {_when(upcoming)}. Put it off by a day or a week:"
    return say(text, Text(text), _SNOOZE_BUTTONS, private=True)


def reminders_stay(
    organization: str, upcoming: Snoozed | None, not_yet: str, admins: Sequence[str]
) -> Outgoing:
    """ "Stop reminding me": reminders cannot be turned off, so how they end, the Snooze buttons (or, with no
    reminder yet, `not_yet`: why there is nothing to put off) and the admins, who can help with an item."""
    text = (
        f"I can't turn the reminders off: they come while items on your {organization} list are open, and"
        " stop by themselves once each one is done (press *Done* on it, or say `done N`) or the migration"
        " admins close the migration."
    )
    later = f" Your next reminder comes on {_when(upcoming)}; to put it off:" if upcoming else f" {not_yet}"
    stuck = (
        "An item that does not apply to you, or that you cannot do? Say `todo` and press *I need help* on it:"
        f" {the_admins(admins)} hear it and can help."
    )
    blocks: list[Block] = [Text(text + later)]
    if upcoming:
        blocks.append(_SNOOZE_BUTTONS)
    blocks.append(Text(stuck))
    return say(text, *blocks, private=True)


_SNOOZE_BUTTONS = Actions(
    tuple(Button(f"Snooze 1 {unit}", "snooze", span) for span, unit in (("1d", "day"), ("1w", "week")))
)
"""The reminder's own Snooze buttons, for the newest list rather than one reminder (`snooze 1d`)."""


def _when(snooze: Snoozed) -> str:
    local = snooze.until.astimezone(zone(snooze.time_zone))
    return f"{local:%A} {local.day} {local:%B at %H:%M} ({snooze.time_zone or 'UTC'})"


def snoozed(snooze: Snoozed) -> Outgoing:
    """When the next reminder actually comes, and whether the snooze changed it."""
    when = _when(snooze)
    if not snooze.moved:
        return say(
            f"Your next reminder comes on {when} anyway, after the time you asked for: nothing to put off."
            " Snooze again after it comes if you need more time.",
            private=True,
        )
    return say(f"😴 Snoozed: your next reminder comes on {when}.", private=True)
