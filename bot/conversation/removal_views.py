"""Removing those who left, in words: `stale-users` (who has not signed in for a while, with one button
that removes exactly that list), `remove-users` asking before it removes anyone, and who was removed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.conversation import dates, lists, plan_views, sign_in_views
from bot.conversation.closing_views import CONFIRM
from bot.conversation.messages import (
    MAX_BUTTON_VALUE,
    Actions,
    Block,
    Button,
    Heading,
    Message,
    Outgoing,
    Text,
    say,
)
from bot.conversation.next_actions import everyone_told, with_next
from workflows.directory import OrgUser
from workflows.plan_organization import removal_by_hand
from workflows.results import MigrationStatus
from workflows.results_preparing import RemovalResult, Told
from workflows.stages.removal import why_not_removable


def stale_users(
    status: MigrationStatus, users: Sequence[OrgUser], days: int | None, fingerprint: str
) -> Outgoing:
    """Who has not signed in for a while, and one button that removes exactly this list once confirmed.

    The button carries the list's fingerprint, not its ids: a list of thousands fits no button, and a
    list that changed since (someone signed in) is shown again instead of removed.
    """
    period = "1 day" if days == 1 else f"{days or 90} days"
    organization = status.organization
    if not users:
        return say(f"Nobody in {organization} has been away for more than {period}.", private=True)
    rows = [
        (user.principal_name, dates.day(user.last_accessed) if user.last_accessed else "never", user.id)
        for user in users
    ]
    csv_rows = [
        (name, user.display_name, last, id_) for user, (name, last, id_) in zip(users, rows, strict=True)
    ]
    blocks: list[Block] = [
        Heading(f"Users of {organization} with no sign-in for {period}"),
        *lists.table_and_csv(
            ("user", "last sign-in", "id"),
            rows,
            (
                f"stale-users-{organization}.csv",
                f"Users of {organization} with no sign-in for {period}",
                ("user", "name", "last sign-in", "id"),
                csv_rows,
            ),
            organization=organization,
        ),
    ]
    away = sign_in_views.people_counted(len(users), "has", "have")
    summary = f"{away} not signed in for {period}"
    if (why := why_not_removable(status.state, organization)) is not None:
        return say(summary, *blocks, Text(why), private=True)  # no button the machine would refuse
    label = remove_label(len(users))
    blocks.append(
        Text(
            "Removing people who left keeps them out of the directory comparison; the owner and the"
            f" administrators are never listed. Nothing is removed until an admin presses *{label}* and"
            f" confirms. To keep some, remove the others with `remove-users {organization} ID...`; or"
            f" remove them by hand: {removal_by_hand(organization)}."
        )
    )
    value = f"{organization} --stale {days or 90} --list {fingerprint}"
    blocks.append(Actions((_remove_button(label, value, organization, len(users)),)))
    return say(summary, *blocks, private=True)


def confirm_removal(organization: str, user_ids: Sequence[str], names: Mapping[str, str]) -> Outgoing:
    """`remove-users ORG ID...` typed: who it would remove (`names`: the plan's, by id), removed only once
    confirmed (it takes their access at once), by the button or by the same words ending in `confirm`."""
    rows = [(names[user_id], user_id) for user_id in user_ids]
    label = remove_label(len(user_ids))
    words = f"remove-users {organization} {' '.join(user_ids)} {CONFIRM}"
    heading = f"Remove {plan_views.people(len(user_ids))} from {organization}?"
    blocks: list[Block] = [
        Heading(heading),
        *lists.table_and_csv(
            ("user", "id"),
            rows,
            (
                f"to-remove-{organization}.csv",
                f"Who would be removed from {organization}",
                ("user", "id"),
                rows,
            ),
            organization=organization,
        ),
        Text(
            f"{plan_views.REMOVAL_UNDONE_BY} Nothing is removed until you press *{label}* and confirm, or"
            f" say `{words}`."
        ),
    ]
    value = f"{organization} {' '.join(user_ids)} {CONFIRM}"
    if len(value) <= MAX_BUTTON_VALUE:
        blocks.append(Actions((_remove_button(label, value, organization, len(user_ids)),)))
    return say(heading, *blocks, private=True)


def remove_label(count: int) -> str:
    return "Remove this user" if count == 1 else f"Remove these {plan_views.people(count)}"


def _remove_button(label: str, value: str, organization: str, count: int) -> Button:
    question = f"Remove {plan_views.people(count)} from {organization}?"
    return Button(label, "remove-users", value, "danger", f"{question} {plan_views.REMOVAL_UNDONE_BY}")


def removed(result: RemovalResult, told: Told | None = None, *, shared: bool = False) -> Outgoing:
    """`told`: how the advance notice went out, while it still may. `shared`: asked in a channel, where
    whom it removed (people's names are their addresses) is for the admin who asked alone."""
    lines = [f"Removed {plan_views.people(len(result.removed))}: {lists.names(result.removed)}."]
    if result.message:
        lines.append(result.message)
    failures = [f"{name}: {reason}" for name, reason in result.failed]
    if failures:
        lines.append(f"Could not remove {len(failures):,}: {lists.names(failures)}")
    blocks: list[Block] = [
        Text("\n".join(lines)),
        plan_views.counts_facts(result.status.counts, result.status.checks),
    ]
    if len(result.removed) > lists.NAME_LIMIT or len(failures) > lists.NAME_LIMIT:
        # the sentences name the first 25 only: every name is kept, to add back whoever was removed by mistake
        blocks.append(
            lists.csv_file(
                f"removed-{result.status.organization}.csv",
                f"Who was removed from {result.status.organization}, and who could not be",
                ("principal_name", "result", "reason"),
                [
                    *((name, "removed", "") for name in result.removed),
                    *((name, "not removed", reason) for name, reason in result.failed),
                ],
                organization=result.status.organization,
            )
        )
    shown = with_next(blocks, result.status, everyone_told=everyone_told(told))
    return Outgoing(Message(lines[0], shown, private=shared))
