"""Where a migration stands, as messages: its status, the start's summary, the checks, the plan, the App
Home and the preflight (`doctor`).

The other stages have their own views: invitations, announcements, decisions and removals in
`preparing_views`, approval and connecting in `approval_views`, each person's to-do list after connecting
in `todo_views`, the admins' view of the lists in `progress_views`, reminders in `reminder_views`, billing
and the end in `closing_views`; help and typos in `help_views`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.conversation import closing_views, lists, plan_views, progress_views, sign_in_views, todo_views
from bot.conversation.messages import (
    Block,
    Channel,
    DirectMessage,
    Facts,
    Heading,
    Message,
    Outgoing,
    Table,
    Text,
)
from bot.conversation.next_actions import decision_buttons, everyone_told, with_next
from storage import AuditEntry
from workflows.machine import CONNECTED_STEPS, CONNECTED_UNFINISHED
from workflows.plan import Check, Plan
from workflows.progress import Progress
from workflows.results import (
    AFFECTED_NAMES,
    Actor,
    AdminUnreached,
    Affected,
    CalledOffDelivery,
    MigrationStatus,
    Rechecked,
    Rejection,
    TodoEntry,
    Told,
    Unreached,
)
from workflows.stopping import WHY_STOPPED

_STAGES: dict[str, str] = {
    "draft": "Just created; the prerequisite checks come next.",
    "checking_prerequisites": "Checking the prerequisites and comparing users with the directory.",
    "blocked": "A prerequisite fails; fix it, then `recheck`.",
    "inviting": "Sending B2B guest invitations.",
    "waiting_for_invite_settings": (
        "The directory refused invitations. Invitation settings and new Guest Inviter roles take 15-60"
        " minutes to apply; then `invite` again."
    ),
    "awaiting_approval": "Waiting for another admin to approve connecting.",
    "connecting": (
        "Approved. Waiting for the portal step (Organization settings > Microsoft Entra ID > Connect"
        " directory); I check the organization's directory until it is connected."
    ),
    "connected": "Connected. Next: send every affected user their own to-do list.",
    "inviting_after_connecting": (
        "Connected; inviting people with no directory account as B2B guests. Then it goes on from where"
        " it was."
    ),
    "users_notified": "Users have their to-do lists. Next: move billing to the new directory.",
    "billing_checked": "Billing is in the new directory. Complete the migration when you are ready.",
    "completed": "Done.",
    "cancelled": "Cancelled; nothing more happens.",
    "failed": "A step failed; `resume` runs it again.",
    "interrupted": "A step stopped part way, as the bot was stopping.",
}

_STAGES_FOR_EVERYONE: dict[str, str] = {
    "planned": "The plan is ready; the migration's admins prepare connecting.",
    "blocked": "A prerequisite fails; the migration's admins fix it before it moves on.",
    "waiting_for_invite_settings": (
        "The directory refused invitations; the migration's admins invite again once its settings allow it."
    ),
    "awaiting_approval": "Waiting for an admin to approve connecting.",
    "billing_checked": "Billing is in the new directory; the migration's admins complete the migration next.",
    "failed": "A step failed; the migration's admins run it again.",
    "interrupted": "A step stopped part way, as the bot was stopping; the migration's admins carry it on.",
}
"""`_STAGES` said to someone who does not administer the migration: what the admins do, not what to do."""


def _stage(
    status: MigrationStatus, told: Told | None = None, *, yours: bool = False, admin: bool = True
) -> str:
    """What the stage means; a planned migration says, from its own plan, what is left before approval.
    `told`: how the advance notice went out, if it did; `yours`: the reader may approve the pending
    request; `admin`: the reader administers the migration (else what its admins do is said instead)."""
    if not admin and status.state in _STAGES_FOR_EVERYONE:
        return _STAGES_FOR_EVERYONE[status.state]
    if status.state == "awaiting_approval" and yours and status.pending_approval_id:
        number = status.pending_approval_id
        return (
            f"Waiting for approval #{number} to connect, and yours counts: review `plan`, then `approve"
            f" {number}` or `reject {number}` (or the buttons)."
        )
    if status.state != "planned":
        stage = _STAGES.get(status.state, "")
        if status.lease_ends is not None and admin:  # the step runs, or its process died without a word
            stage += (
                f" Should the bot have stopped without a word, `resume` re-runs the step from"
                f" {status.lease_ends:%H:%M} UTC, when the step's lease ends."
            )
        return stage
    if any(check.status == "warn" for check in status.checks):
        ready = (
            "No prerequisite fails, but some warn (⚠️ in `plan`): read them before approval."
            " The plan is ready."
        )
    else:
        ready = "Prerequisites pass and the plan is ready."
    steps = [] if told else ["tell users what is coming (`announce`, with the date)"]
    if leavers := _who_left(status):  # prerequisite 4 first: the notice is for the people who stay
        steps.insert(0, f"remove the people who left ({leavers}: `stale-users`, then `remove-users`)")
    if status.counts.get("invite", 0):
        steps.append("invite the missing users")
    next_steps = (
        f"Next, as Microsoft orders it: {', '.join(steps)}, then request approval"
        if steps
        else ("Next: request approval")
    )
    if pending := status.counts.get("to-accept", 0):
        waiting = sign_in_views.people_counted(pending, "is", "are")
        return (
            f"{ready} {next_steps}. {waiting} invited and still to accept their"
            " invitation (`plan` names them): they must accept it before the switch, or they lose access."
        )
    return f"{ready} {next_steps}."


def _who_left(status: MigrationStatus) -> str:
    """The people whose only directory account is disabled, while removing them fits: Microsoft's FAQ
    reads such a user as one who "likely left your company", and its prerequisite 4 removes them."""
    disabled = status.counts.get("disabled", 0)
    if not disabled or "remove-users" not in status.next_commands:
        return ""
    return f"{sign_in_views.people_counted(disabled, 'has', 'have')} only a disabled directory account"


def _told(told: Told | None, status: MigrationStatus, *, names: bool = True) -> list[Block]:
    """When users were told what is coming, and whom the notice reached (its delivery records), as the
    status of a cancelled migration says it of the "it is off" messages; `names`: whom it did not reach
    (addresses and what the plan does with them, like `plan`: for admins only), else how many."""
    if told is None:
        return []
    when = f" for {told.when}" if told.when else ""
    reached = [f"{lists.of_people(told.delivered, told.people)} reached"]
    if told.waiting:
        reached.append(f"{told.waiting} still on the way")
    if told.unreached:
        reached.append(f"{len(told.unreached)} could not be reached")
    line = (
        f"Users told what is coming{when} on {day(told.since)} {clock_time(told.since)} UTC:"
        f" {', '.join(reached)}."
    )
    if told.untold:
        joined = sign_in_views.people_counted(told.untold, "has", "have")
        again = f"announce {status.organization} {told.when}".strip()
        line += f" {joined} joined the plan since: `{again}` tells only them."
    if told.unreached and not names:
        line += " An admin's `status` names them."
    if not (told.unreached and names):
        return [Text(line)]
    return [
        Text(line),
        Text(unreached_lines(told.unreached, status.checks)),
        *unreached_csv(told.unreached, status.checks, status.organization),
    ]


def notice_missed(status: MigrationStatus, told: Told) -> Outgoing:
    """The advance notice's report in the migration's channel once chat could not reach someone, updated
    in place as the notice's deliveries settle."""
    missed = len(told.unreached)
    summary = (
        f"{status.organization}: the advance notice could not reach {missed}"
        f" {'person' if missed == 1 else 'people'} in chat"
    )
    return Outgoing(
        Message(summary, (Heading(f"Advance notice of {status.organization}"), *_told(told, status))),
        Channel(status.channel_id),
        updates=f"notice:{status.id}",
    )


def admin_unreached_line(unreached: AdminUnreached) -> str:
    """Whom chat could not reach with what, why, and what to do instead (the channel's notice, `status`)."""
    who, number = unreached.email, unreached.approval_id
    if unreached.missed == "approval_prompt":
        return (
            f"⚠️ The approval prompt #{number} could not reach {who} in chat ({unreached.why}), so they have"
            f" not been asked. Tell them another way: they can type `approve {number}` (or `help`) to the bot"
            f"{_where(unreached.surfaces)}, or press *Approve* on the prompt in this channel."
        )
    return (
        f"⚠️ The portal steps could not reach {who}, who connects {unreached.organization}, in chat"
        f" ({unreached.why}). Tell them another way: https://dev.azure.com/{unreached.organization} >"
        f" Organization settings > Microsoft Entra ID > Connect directory > {unreached.directory} > Connect;"
        " I say here once it is connected."
    )


def _where(surfaces: Sequence[str]) -> str:
    """Where someone finds the bot, by the chat platforms it serves: only those ("in Slack or Teams" on a
    Slack-alone install sends them looking in Teams for nothing)."""
    if len(surfaces) > 1:
        return f" wherever they have it, in {' or '.join(surfaces)}"
    return f" in {surfaces[0]}" if surfaces else " wherever they have it"


def unreached_lines(
    unreached: Sequence[Unreached], checks: Sequence[Check], *, rest: str = "in the attached CSV"
) -> str:
    """Who the advance notice could not reach in chat, those it matters most for first, what happens to
    them (as the plan's `checks` have it now, like `plan`), why it could not (as its delivery found then:
    someone invited since had no directory account at the time), and how to reach them; past the first
    few, how many more and where they are (`rest`: `unreached_csv`'s file, where one is attached)."""
    first = _unreached_first(unreached)
    words = plan_views.outcome_words(checks)
    lines = [
        f"• {person.address} ({words[person.group][1]}) — when the notice went out:"
        f" {person.why or 'no reason given'}"
        for person in first[:AFFECTED_NAMES]
    ]
    if len(first) > AFFECTED_NAMES:
        lines.append(f"…and {len(first) - AFFECTED_NAMES} more {rest}")
    return "\n".join(
        [
            "⚠️ The advance notice could not reach them in chat, so they do not know what is coming; tell"
            " them another way, by email at these addresses:",
            *lines,
        ]
    )


def unreached_csv(unreached: Sequence[Unreached], checks: Sequence[Check], organization: str) -> list[Block]:
    """Everyone `unreached_lines` names, with their addresses to write to, when it cannot name them all: at
    20,000 people the notice missed 1,689 and the message showed ten, asking admins to email "these
    addresses"."""
    if len(unreached) <= AFFECTED_NAMES:
        return []
    words = plan_views.outcome_words(checks)
    return [
        lists.csv_file(
            f"not-reached-{organization}.csv",
            f"People the advance notice of {organization} could not reach in chat",
            ("email", "what happens to them", "why the notice could not reach them"),
            [
                (person.address, words[person.group][1], person.why or "no reason given")
                for person in _unreached_first(unreached)
            ],
            organization=organization,
        )
    ]


def _unreached_first(unreached: Sequence[Unreached]) -> list[Unreached]:
    return sorted(unreached, key=lambda person: not person.matters_most)


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


def _stage_facts(status: MigrationStatus) -> Facts:
    pairs = [
        ("Organization", status.organization),
        ("Directory", _tenant(status)),
        ("Stage", status.state.replace("_", " ")),
        ("Started by", f"{status.started_by.name or status.started_by.email} on {day(status.created_at)}"),
    ]
    if status.pending_approval_id:
        pairs.append(("Approval", f"#{status.pending_approval_id} pending"))
    return Facts(tuple(pairs))


def _tenant(status: MigrationStatus) -> str:
    return f"{status.tenant_name} ({status.tenant_id})" if status.tenant_name else status.tenant_id


def status(
    status: MigrationStatus,
    report: Progress | None = None,
    called_off: CalledOffDelivery | None = None,
    *,
    told: Told | None = None,
    yours: bool = False,
    admin: bool = False,
    unreached: Sequence[AdminUnreached] = (),
    rejected: Rejection | None = None,
) -> Outgoing:
    """`called_off`: for a cancelled migration, where its "it is off" messages stand; `told`: how the
    advance notice went out; `unreached`: the admins its pending prompt or portal steps did not reach;
    `yours`: the reader may approve the pending request (its buttons come too); `admin`: the reader
    administers the migration, so may see whom the notice did not reach and gets the buttons of the next
    steps (anyone else would only be refused on pressing them); `rejected`: the latest approval request,
    when it was rejected."""
    blocks: list[Block] = [Heading(f"Migration of {status.organization}"), _stage_facts(status)]
    if rejected is not None:
        blocks.append(Text(rejection_line(rejected)))
    blocks.append(Text(_stage(status, told, yours=yours, admin=admin)))
    blocks.extend(_told(told, status, names=admin))
    blocks.extend(_why_stopped(status))
    if admin:  # others are not the ones to chase an approver
        blocks.extend(Text(admin_unreached_line(person)) for person in unreached)
    if status.state == "waiting_for_invite_settings" and status.invite_recheck_at:
        blocks.append(Text(f"Try `invite` again after {clock_time(status.invite_recheck_at)} UTC."))
    if status.plan_fingerprint and status.state == "cancelled":  # its groups' futures will not come
        total = sum(status.counts.values())
        blocks.append(Text(f"Nothing changes for the {plan_views.people(total)} of its plan."))
    elif status.plan_fingerprint:
        blocks.append(plan_views.counts_facts(status.counts, status.checks))
    if status.undecided and status.active:
        blocks.append(plan_views.undecided_line(status, admin=admin))
    if report is not None:
        apart = progress_views.losing_access_apart(report.deciders)
        blocks.append(
            Text(
                f"To-do lists: {lists.of_people(report.users_done, len(report.listed))} done"
                + (f" ({apart})" if apart else "")
                + f", {report.items_done:,} of {report.items_total:,} items"
                + (f", {report.users_signed_in} seen signing in" if report.connected_at else "")
                + "; `progress` has the details."
            )
        )
    if called_off is not None:
        blocks.extend(closing_views.called_off_lines(called_off))
    if yours and status.pending_approval_id:
        blocks.append(decision_buttons(status.pending_approval_id))
    summary = f"{status.organization}: {status.state.replace('_', ' ')}"
    if not admin:
        return Outgoing(Message(summary, tuple(blocks)))
    return Outgoing(Message(summary, with_next(blocks, status, everyone_told=everyone_told(told))))


def rejection_line(rejected: Rejection) -> str:
    """Who rejected the last approval request, when and why: what an admin reads before asking again."""
    name = rejected.by.name or rejected.by.email
    when = f"{day(rejected.at)} {clock_time(rejected.at)} UTC"
    reason = rejected.reason or "none given"
    return f"🚫 Approval #{rejected.approval_id} was rejected by {name} on {when}. Reason: {reason}."


def _why_stopped(status: MigrationStatus, *, checks_shown: bool = False) -> list[Block]:
    """A blocked or failed migration always says why, and what fixes it; so does a connected one whose
    last `invite` stopped (it went back to where it was). Once: a blocked one's reason is its failing
    checks, which `checks_shown` already were, and a check's message ends with its fix."""
    if (
        status.state not in ("blocked", "failed", "interrupted", *CONNECTED_STEPS)
        or not status.blocked_reason
    ):
        return []
    # nothing to fix: the step carries on (an invite after connecting goes back to its step, so says why)
    if status.state == "interrupted" or status.blocked_reason.endswith(WHY_STOPPED):
        return [Text(f"⏸️ {status.blocked_reason}: {status.blocked_fix or '`resume` carries on.'}")]
    if checks_shown and status.state == "blocked":
        return []
    fix = status.blocked_fix or "see the checks above"
    if fix in status.blocked_reason:
        return [Text(f"❌ {status.blocked_reason}")]
    return [Text(f"❌ {status.blocked_reason}\nFix: {fix}")]


def started(status: MigrationStatus, starter: Actor) -> Message:
    """The channel's summary of a start: the first check's result and what comes next."""
    name = starter.name or starter.email
    blocks: list[Block] = [
        Heading(f"{name} started moving {status.organization} to {status.directory_name}"),
        Text("*Prerequisites*"),
        plan_views.check_lines(status.checks),
        *_why_stopped(status, checks_shown=True),
    ]
    if status.state == "connected":  # found connected: no plan to approve, nothing to rehearse
        blocks.append(Text(_found_connected(status)))
        return Message(f"Migration of {status.organization} started: connected", with_next(blocks, status))
    if status.plan_fingerprint:
        blocks.append(Text("*The plan*"))
        blocks.append(plan_views.counts_facts(status.counts, status.checks))
    blocks.append(Text(_stage(status)))
    blocks.extend(_leavers(status))
    blocks.append(Text(sign_in_views.REHEARSE_HINT))
    if not status.channel_id:
        blocks.append(Text(STARTED_IN_A_DM.format(organization=status.organization)))
    return Message(f"Migration of {status.organization} started: {status.state}", with_next(blocks, status))


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
    status: MigrationStatus, told: Told | None = None, rechecked: Rechecked | None = None
) -> Outgoing:
    """`rechecked`: what a re-check did to a pending approval, said whichever way it went."""
    blocks: list[Block] = [
        Heading(f"Prerequisites of {status.organization}"),
        plan_views.check_lines(status.checks),
        *_why_stopped(status, checks_shown=True),
        plan_views.counts_facts(status.counts, status.checks),
        *_approval_after(rechecked),
        Text(_stage(status, told)),
        *_told(told, status),
    ]
    return Outgoing(
        Message(
            f"{status.organization}: {status.state}",
            with_next(blocks, status, everyone_told=everyone_told(told)),
        )
    )


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
    where = (
        f"📬 Who is affected, each person's directory account{choices} and the CSV went to"
        f" {asker.name or asker.email} in a direct message: they name people's addresses, which are not for"
        " the whole channel."
    )
    blocks = [
        *_plan_top(plan, status, made),
        plan_views.check_lines(plan.checks),
        *_leavers(status),
        Text(where),
    ]
    heading = f"Each person in the plan for {plan.organization}"
    details = (
        Heading(heading),
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
    blocks.append(plan_views.counts_facts(plan.groups, plan.checks))
    return blocks


def _plan_people(plan: Plan, status: MigrationStatus) -> list[Block]:
    """Who matches which account, and the choices for whoever waits for a decision: people's addresses."""
    return [*plan_views.decisions_needed(plan, status), *plan_views.user_table(plan)]


def _plan_summary(plan: Plan) -> str:
    return f"Plan for {plan.organization}: {_counts_sentence(plan.groups)}"


def _plan_dated(made: AuditEntry | None) -> str:
    if made is not None and made.action == "found_connected":
        when = f"made on {made.at:%Y-%m-%d}, when the organization was found already connected"
    elif made is not None:
        when = f"approved by {made.actor_name or made.actor_email} on {made.at:%Y-%m-%d}, before connecting"
    else:
        when = "made before connecting"
    return (
        f"*The plan {when}.* Its checks are as they stood then; `status` shows where the migration stands"
        " now."
    )


def _counts_sentence(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in counts.items() if count) or "no users"


def home(statuses: Sequence[MigrationStatus], entries: Sequence[TodoEntry]) -> Message:
    blocks: list[Block] = [Heading("aadbot")]
    if statuses:
        rows = tuple(
            (
                status.organization,
                status.state.replace("_", " "),
                _counts_sentence(status.counts),
                f"#{status.pending_approval_id}" if status.pending_approval_id else "-",
            )
            for status in statuses
        )
        blocks.append(Text("*Migrations you administer*"))
        blocks.append(Table(("organization", "stage", "users", "pending approval"), rows))
    if entries:
        blocks.extend(todo_views.todo_list(entries, Actor("", "", "")).message.blocks)
    if len(blocks) == 1:
        blocks.append(
            Text("Nothing for you here yet. Type `help` to see what I can do, or ask me a question.")
        )
    return Message("aadbot home", tuple(blocks))


def day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def clock_time(moment: datetime) -> str:
    return moment.strftime("%H:%M")


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
