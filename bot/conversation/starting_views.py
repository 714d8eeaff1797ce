"""Starting and checking in words: the start's summary, the prerequisite checks (and what a re-check did
to a pending approval), the plan, and the preflight (`doctor`).

Where a migration stands is in `status_views`, whom chat could not reach in `unreached_views`. The other
stages have their own views: invitations in `invitation_views`, the advance notice in `announcement_views`, an
admin's decisions in `decision_views`, removals in `removal_views`, approval and connecting in
`approval_views`, each person's to-do list after connecting in `todo_views` (the messages that bring it in
`list_message_views`, its items in `todo_item_views`, help with them in `item_help_views`), the admins' view
of the lists in `progress_views` (the digest of who still has open items in `digest_views`), reminders in
`reminder_views`, billing and the end in `closing_views`; help and typos in `help_views`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation import plan_views, sign_in_views
from bot.conversation.dates import day
from bot.conversation.messages import Block, DirectMessage, Heading, Message, Outgoing, Text, for_you_alone
from bot.conversation.next_actions import everyone_told, with_next
from bot.conversation.status_views import counts_sentence, stage_line, why_stopped
from bot.conversation.unreached_views import told_blocks
from storage import AuditEntry
from workflows.machine import CONNECTED_OUTSIDE_APPROVAL, CONNECTED_UNFINISHED
from workflows.plan import Check, Plan
from workflows.results import Actor, MigrationStatus
from workflows.results_approving import Affected, Rechecked
from workflows.results_preparing import Told


def started(status: MigrationStatus, starter: Actor, *, shared: bool = False) -> Message:
    """The channel's summary of a start: the first check's result and what comes next. `shared`: the copy
    in a channel, whose checks name nobody; the starter has them whole (`checks_by_name`)."""
    name = starter.name or starter.email
    blocks: list[Block] = [
        Heading(f"{name} started moving {status.organization} to {status.directory_name}"),
        Text("*Prerequisites*"),
        plan_views.check_lines(status.checks, named=not shared, known=(status.started_by,)),
        *_names_left_out(status, _to_starter(starter), shared=shared),
        *why_stopped(status, checks_shown=True),
    ]
    if status.state == "connected":  # found connected: no plan to approve, nothing to rehearse
        blocks.append(Text(_found_connected(status)))
        return Message(f"Migration of {status.organization} started: connected", with_next(blocks, status))
    if status.plan_fingerprint:
        blocks.append(Text("*The plan*"))
        blocks.append(plan_views.counts_facts(status.counts, status.checks))
    blocks.append(Text(stage_line(status)))
    blocks.extend(_leavers(status))
    blocks.append(Text(sign_in_views.REHEARSE_HINT))
    if not status.channel_id:
        blocks.append(Text(STARTED_IN_A_DM.format(organization=status.organization)))
    return Message(f"Migration of {status.organization} started: {status.state}", with_next(blocks, status))


def _to_starter(starter: Actor) -> str:
    """Said by a notice rendered for the channel, not to whoever reads it: the starter is named."""
    who = starter.name or "whoever started it"
    return f"📬 Whom the checks name I send to {who} alone, in a message only they see."


STARTED_IN_A_DM = (
    "*Where notices go:* you started this in a direct message, so the migration's notices come here, where"
    " only you read them. What every admin must see (approved, connected, billing due, who could not be"
    " reached) also goes to each admin by direct message. To have the notices in a channel instead, add me to"
    " that channel and give me `move-here {organization}` there."
)
"""Said at `start` in a direct message (walk 33, finding 4): otherwise only the starter hears anything."""


def _found_connected(status: MigrationStatus) -> str:
    already = f"Already connected to {status.directory_name}, so nothing is left to approve or click"
    uninvited = status.counts.get("invite", 0)
    if not uninvited:
        return f"{already}: `notify` sends everyone their own to-do list."
    return (
        f"{already}. {sign_in_views.people_counted(uninvited, 'has', 'have')} no directory account and"
        " cannot sign in until invited: `invite` them first, then `notify` sends everyone their own to-do"
        " list."
    )


def checked(
    status: MigrationStatus,
    told: Told | None = None,
    rechecked: Rechecked | None = None,
    *,
    in_channel: bool = False,
) -> Outgoing:
    """`rechecked`: what a re-check did to a pending approval, said whichever way it went; `in_channel`:
    whom the notice missed counted, not named (people's names are their addresses)."""
    blocks: list[Block] = [
        Heading(f"Prerequisites of {status.organization}"),
        plan_views.check_lines(status.checks, named=not in_channel, known=(status.started_by,)),
        *_names_left_out(status, for_you_alone("Whom the checks name"), shared=in_channel),
        *why_stopped(status, checks_shown=True),
        plan_views.counts_facts(status.counts, status.checks),
        *_approval_after(rechecked),
        Text(stage_line(status, told)),
        *told_blocks(told, status, names=not in_channel),
    ]
    return Outgoing(
        Message(
            f"{status.organization}: {status.state}",
            with_next(blocks, status, everyone_told=everyone_told(told)),
        )
    )


def _names_left_out(status: MigrationStatus, where: str, *, shared: bool) -> list[Block]:
    """Under a channel's checks that left people out: `where` their names went (`checks_by_name`)."""
    if not (shared and plan_views.checks_name_anyone(status.checks, (status.started_by,))):
        return []
    return [
        Text(
            f"{where} People's names are their addresses, which are not for the whole channel: admins may ask"
            f" me `plan {status.organization}` in a direct message for the checks in full."
        )
    ]


def checks_by_name(status: MigrationStatus, *, in_channel: bool) -> list[Outgoing]:
    """To whoever had a channel's checks without the people they name (`_names_left_out`): the checks
    whole, privately; nothing when no check names anyone, or they were asked in a direct message."""
    if not (in_channel and plan_views.checks_name_anyone(status.checks, (status.started_by,))):
        return []
    heading = f"Prerequisites of {status.organization}, with whom they name"
    blocks = (Heading(heading), plan_views.check_lines(status.checks))
    return [Outgoing(Message(heading, blocks, private=True))]


def _approval_after(rechecked: Rechecked | None) -> list[Block]:
    if rechecked is not None and rechecked.kept is not None:
        return [
            Text(
                f"Nothing changed (the plan and its checks are as they were), so approval #{rechecked.kept}"
                " still stands."
            )
        ]
    if rechecked is None or not rechecked.voided:
        return []
    numbers = ", ".join(f"#{number}" for number in rechecked.voided)
    return [
        Text(
            f"The plan or its checks changed, so approval {numbers} is void: review `plan`, then"
            " `request-approval` again."
        )
    ]


def _leavers(status: MigrationStatus) -> list[Block]:
    """Microsoft's prerequisite 4, offered while removing fits: delete the users who no longer need access."""
    if "remove-users" not in status.next_commands:
        return []
    return [
        Text(
            "Before connecting, Microsoft also asks you to remove the users who no longer need access"
            " (people who left). Press *Users who may have left* to see who has not signed in for 90 days;"
            " the button under that list removes exactly those people once you confirm."
        )
    ]


def plan(
    plan: Plan, status: MigrationStatus, *, made: AuditEntry | None = None, told: Told | None = None
) -> Outgoing:
    """Once connected, the plan is the one made before: `made` is the approval (or the finding that the
    organization was connected) it dates from, so its checks are not read as the state of things now.
    `told`: how the advance notice went out, while it still may."""
    blocks = [
        *_plan_top(plan, status, made),
        plan_views.who_is_affected(Affected.of(plan), plan.checks),
        *_plan_people(plan, status),
        plan_views.check_lines(plan.checks),
        *_leavers(status),
        plan_views.plan_csv(plan),
    ]
    shown = with_next(blocks, status, everyone_told=everyone_told(told))
    return Outgoing(Message(_plan_summary(plan), shown))


def shared_plan(
    plan: Plan,
    status: MigrationStatus,
    asker: Actor,
    *,
    made: AuditEntry | None = None,
    told: Told | None = None,
) -> list[Outgoing]:
    """`plan` asked in a shared channel: the counts, the checks and what is next for the channel; who is
    affected, each person's directory account, the accounts to choose between for those waiting for a
    decision (other people's addresses) and the CSV to the admin who asked, by direct message."""
    waiting = len(plan.undecided)
    choices = (
        f", the accounts to choose between for the {plan_views.people(waiting)} waiting for a decision"
        if waiting
        else ""
    )
    known = (status.started_by, asker)  # said by their display names (walk39 d)
    named = [plan_views.check_lines(plan.checks)] if plan_views.checks_name_anyone(plan.checks, known) else []
    checks = ", whom the checks name" if named else ""
    where = (
        f"📬 Who is affected{checks}, each person's directory account{choices} and the CSV go to"
        f" {asker.name or 'whoever asked'} in a direct message: they name people's addresses, which are not"
        " for the whole channel. If it does not arrive, ask me `plan` in a direct message."
    )
    blocks = [
        *_plan_top(plan, status, made),
        plan_views.check_lines(plan.checks, named=False, known=known),
        *_leavers(status),
        Text(where),
    ]
    heading = f"Each person in the plan for {plan.organization}"
    details = (
        Heading(heading),
        *named,
        plan_views.who_is_affected(Affected.of(plan), plan.checks),
        *_plan_people(plan, status),
        plan_views.plan_csv(plan),
    )
    shown = with_next(blocks, status, everyone_told=everyone_told(told))
    return [
        Outgoing(Message(_plan_summary(plan), shown)),
        Outgoing(Message(heading, details), DirectMessage(asker.email)),
    ]


def _plan_top(plan: Plan, status: MigrationStatus, made: AuditEntry | None) -> list[Block]:
    blocks: list[Block] = [Heading(f"Plan for {plan.organization} → {status.tenant_name or plan.tenant_id}")]
    if status.state in CONNECTED_UNFINISHED | {"completed"}:
        blocks.append(Text(_plan_dated(made)))
    blocks.append(plan_views.counts_as_of(status.state, plan.groups, plan.checks))
    return blocks


def _plan_people(plan: Plan, status: MigrationStatus) -> list[Block]:
    """Who matches which account, and the choices for whoever waits for a decision: people's addresses."""
    return [*plan_views.decisions_needed(plan, status), *plan_views.user_table(plan)]


def _plan_summary(plan: Plan) -> str:
    return f"Plan for {plan.organization}: {counts_sentence(plan.groups, plan.checks)}"


def _plan_dated(made: AuditEntry | None) -> str:
    if made is not None and made.action == "found_connected":
        when = f"made on {day(made.at)}, when the organization was found already connected"
    elif made is not None and made.action == CONNECTED_OUTSIDE_APPROVAL:
        when = f"made on {day(made.at)}, when a check found the organization connected outside the approval"
    elif made is not None:
        when = f"approved by {made.actor_name or made.actor_email} on {day(made.at)}, before connecting"
    else:
        when = "made before connecting"
    return (
        f"*The plan {when}.* Its checks are as they stood then; `status` shows where the migration stands"
        " now."
    )


_DOCTOR_MARK = {"pass": "✅", "warn": "⚠️", "fail": "❌"}


def doctor(checks: Sequence[Check]) -> str:
    """The preflight, one line per check; failures first, each with its fix."""
    failing = sum(1 for check in checks if check.status == "fail")
    if not failing:
        head = "*Every check passes*: these credentials can do everything the migration needs."
    elif failing == 1:
        head = "*1 check fails*: the migration cannot run until it is fixed."
    else:
        head = f"*{failing} checks fail*: the migration cannot run until they are fixed."
    order = {"fail": 0, "warn": 1, "pass": 2}
    lines = [
        f"{_DOCTOR_MARK[c.status]} `{c.code}`: {c.message}"
        for c in sorted(checks, key=lambda c: order[c.status])
    ]
    return "\n".join([head, *lines])
