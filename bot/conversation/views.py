"""The workflow's results as messages up to connecting: what happened, what it means, and the next actions.

After connecting (to-do lists, reminders, progress) is in `todo_views`; help and typos in `help_views`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.conversation import lists, plan_views, sign_in_views, todo_views
from bot.conversation.messages import (
    Actions,
    Audience,
    Block,
    Button,
    ButtonStyle,
    Facts,
    Heading,
    Message,
    Outgoing,
    Reply,
    Table,
    Text,
    say,
)
from storage import AuditEntry
from workflows import notices
from workflows.directory import OrgUser
from workflows.errors import NotInvitedYet
from workflows.machine import CONNECTED_STEPS, CONNECTED_UNFINISHED
from workflows.plan import Check, Plan
from workflows.progress import Progress
from workflows.results import (
    AccountDecision,
    Actor,
    Affected,
    AnnounceResult,
    ApprovalRequest,
    BillingResult,
    ConnectionResult,
    DecisionResult,
    InviteResult,
    MigrationStatus,
    NotifyResult,
    RemovalResult,
    TodoEntry,
)
from workflows.stages.removal import why_not_removable

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
}


def _stage(status: MigrationStatus) -> str:
    """What the stage means; a planned migration says, from its own plan, what is left before approval."""
    if status.state != "planned":
        return _STAGES.get(status.state, "")
    if any(check.status == "warn" for check in status.checks):
        ready = (
            "No prerequisite fails, but some warn (⚠️ in `plan`): read them before approval."
            " The plan is ready."
        )
    else:
        ready = "Prerequisites pass and the plan is ready."
    if status.counts.get("invite", 0):
        return f"{ready} Invite the missing users, then request approval."
    return f"{ready} Nobody needs an invitation: request approval next."


def _leavers(status: MigrationStatus) -> list[Block]:
    """Microsoft's prerequisite 4, offered while removing fits: delete the users who no longer need access."""
    if "remove-users" not in status.next_commands:
        return []
    return [
        Text(
            "Before connecting, Microsoft also asks you to remove the users who no longer need access"
            " (people who left): *Users who may have left* lists who has not signed in for 90 days, with a"
            " button that removes exactly that list once you confirm."
        )
    ]


def approval_key(approval_id: int) -> str:
    return notices.approval_thread(approval_id)


def next_actions(status: MigrationStatus) -> Actions | None:
    organization = status.organization
    buttons = tuple(
        Button(label, _BUTTON_ACTIONS.get(word, word), organization, style)
        for word in status.next_commands
        if word in _NEXT_BUTTONS and (word != "invite" or status.counts.get("invite", 0))
        for label, style in (_NEXT_BUTTONS[word],)
    )
    return Actions(buttons) if buttons else None


def next_step(status: MigrationStatus) -> Button | None:
    """The one action that moves this migration on now (the first primary one), as its button."""
    if status.pending_approval_id:  # another admin's approval, whatever else may be done meanwhile
        approval = str(status.pending_approval_id)
        return Button(f"Approve #{approval}", "approve", approval, "primary")
    buttons = next_actions(status)
    if buttons is None:
        return None
    ranked = sorted(
        (button for button in buttons.buttons if button.style != "danger"),
        key=lambda button: button.style != "primary",
    )
    return ranked[0] if ranked else None


def _with_next(blocks: list[Block], status: MigrationStatus) -> tuple[Block, ...]:
    actions = next_actions(status)
    return (*blocks, actions) if actions else tuple(blocks)


def _stage_facts(status: MigrationStatus) -> Facts:
    pairs = [
        ("Organization", status.organization),
        ("Directory", _tenant(status)),
        ("Stage", status.state.replace("_", " ")),
        ("Started by", f"{status.started_by.name or status.started_by.email} on {_day(status.created_at)}"),
    ]
    if status.pending_approval_id:
        pairs.append(("Approval", f"#{status.pending_approval_id} pending"))
    return Facts(tuple(pairs))


def _tenant(status: MigrationStatus) -> str:
    return f"{status.tenant_name} ({status.tenant_id})" if status.tenant_name else status.tenant_id


def status(status: MigrationStatus, report: Progress | None = None) -> Outgoing:
    blocks: list[Block] = [Heading(f"Migration of {status.organization}"), _stage_facts(status)]
    blocks.append(Text(_stage(status)))
    blocks.extend(_why_stopped(status))
    if status.state == "waiting_for_invite_settings" and status.invite_recheck_at:
        blocks.append(Text(f"Try `invite` again after {_time(status.invite_recheck_at)} UTC."))
    if status.plan_fingerprint:
        blocks.append(plan_views.counts_facts(status.counts))
    if status.undecided and status.active:
        blocks.append(plan_views.undecided_line(status))
    if report is not None:
        blocks.append(
            Text(
                f"To-do lists: {lists.of_people(report.users_done, len(report.users))} done,"
                f" {report.items_done} of {report.items_total} items"
                + (f", {report.users_signed_in} seen signing in" if report.connected_at else "")
                + "; `progress` has the details."
            )
        )
    return Outgoing(
        Message(f"{status.organization}: {status.state.replace('_', ' ')}", _with_next(blocks, status))
    )


def _why_stopped(status: MigrationStatus) -> list[Block]:
    """A blocked or failed migration always says why, and what fixes it; so does a connected one whose
    last `invite` stopped (it went back to where it was)."""
    if status.state not in ("blocked", "failed", *CONNECTED_STEPS) or not status.blocked_reason:
        return []
    return [Text(f"❌ {status.blocked_reason}\nFix: {status.blocked_fix or 'see the checks above'}")]


def started(status: MigrationStatus, starter: Actor) -> Message:
    """The channel's summary of a start: the first check's result and what comes next."""
    name = starter.name or starter.email
    blocks: list[Block] = [
        Heading(f"{name} started moving {status.organization} to {status.directory_name}"),
        Text("*Prerequisites*"),
        plan_views.check_lines(status.checks),
        *_why_stopped(status),
    ]
    if status.state == "connected":  # found connected: no plan to approve, nothing to rehearse
        blocks.append(Text(_found_connected(status)))
        return Message(f"Migration of {status.organization} started: connected", _with_next(blocks, status))
    if status.plan_fingerprint:
        blocks.append(Text("*The plan*"))
        blocks.append(plan_views.counts_facts(status.counts))
    blocks.append(Text(_stage(status)))
    blocks.extend(_leavers(status))
    blocks.append(Text(sign_in_views.REHEARSE_HINT))
    return Message(f"Migration of {status.organization} started: {status.state}", _with_next(blocks, status))


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


def checked(status: MigrationStatus) -> Outgoing:
    blocks: list[Block] = [
        Heading(f"Prerequisites of {status.organization}"),
        plan_views.check_lines(status.checks),
        *_why_stopped(status),
        plan_views.counts_facts(status.counts),
        Text(_stage(status)),
    ]
    return Outgoing(Message(f"{status.organization}: {status.state}", _with_next(blocks, status)))


def plan(plan: Plan, status: MigrationStatus, *, made: AuditEntry | None = None) -> Outgoing:
    """Once connected, the plan is the one made before: `made` is the approval (or the finding that the
    organization was connected) it dates from, so its checks are not read as the state of things now."""
    blocks: list[Block] = [Heading(f"Plan for {plan.organization} → {status.tenant_name or plan.tenant_id}")]
    if status.state in CONNECTED_UNFINISHED | {"completed"}:
        blocks.append(Text(_plan_dated(made)))
    blocks += [
        plan_views.counts_facts(plan.counts),
        plan_views.who_is_affected(Affected.of(plan)),
        *plan_views.decisions_needed(plan, status),
        *plan_views.user_table(plan),
        plan_views.check_lines(plan.checks),
        *_leavers(status),
        plan_views.plan_csv(plan),
    ]
    return Outgoing(
        Message(f"Plan for {plan.organization}: {_counts_sentence(plan.counts)}", _with_next(blocks, status))
    )


def account_decided(result: AccountDecision) -> Outgoing:
    """What the admin who decided reads: the decision, what it means for connecting, what it changed."""
    person, status = result.person, result.status
    name, organization = person.principal_name, status.organization
    resolve = f"https://dev.azure.com/{organization} > Organization settings > Microsoft Entra ID > *Resolve*"
    if person.outcome == "map" and person.match is not None:
        account = person.match.user_principal_name
        lines = [f"Recorded: {name}'s directory account is {account}; the plan maps them to it."]
        if status.state in CONNECTED_UNFINISHED:
            lines.append(f"Map them now: {resolve}, and choose {account} for {name}.")
        else:
            lines.append(
                f"Connecting does not map them by itself: once it is connected, open {resolve} and choose"
                f" {account} for {name}. Their to-do list will say to sign in with it."
            )
        if result.list_changed:
            lines.append("Their to-do list now says to sign in with it, and I told them.")
    else:
        lines = [
            f"Recorded: {name} loses access to {organization}, as you decided; their history is kept."
            " Changed your mind? `plan` shows their choices again."
        ]
    if result.voided_approval is not None:
        lines.append(
            f"The plan changed, so approval request #{result.voided_approval} no longer holds: run"
            " `request-approval` again."
        )
    return Outgoing(Message(lines[0], _with_next([Text(" ".join(lines))], status)))


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


_INVITE_ORDER = {
    "denied": 0,
    "failed": 1,
    "sent": 2,
    "re-invited": 2,
    "already-invited": 3,
    "found": 4,
    "skipped": 5,
}
"""What needs an admin's eye comes first in the shortened list."""


def invited(result: InviteResult) -> Outgoing:
    organization = result.status.organization
    outcomes = sorted(result.outcomes, key=lambda outcome: _INVITE_ORDER.get(outcome.status, 9))
    rows = [(outcome.email, outcome.status, outcome.detail) for outcome in outcomes]
    blocks: list[Block] = [Heading(f"Invitations for {organization}"), Text(result.message)]
    if rows:
        blocks.extend(lists.table(("user", "result", "detail"), rows))
    if lists.is_cut(rows):
        blocks.append(
            lists.csv_file(
                f"invitations-{organization}.csv",
                f"Invitation results for {organization}",
                ("email", "name", "result", "detail"),
                [(o.email, o.display_name, o.status, o.detail) for o in outcomes],
                organization=organization,
            )
        )
    if result.denied:
        blocks.append(
            Text(
                "The directory answered *403 Forbidden*: you may not invite guests. Fix one of these in"
                " Microsoft Entra admin center > External Identities > External collaboration settings:"
                " set *Guest invite settings* so members (or everyone) can invite, or have a Global"
                " Administrator give you the *Guest Inviter* role. Changes take 15-60 minutes to apply;"
                " then press *Invite missing users* again. Nothing was lost: who was invited is recorded."
            )
        )
    return Outgoing(Message(result.message, _with_next(blocks, result.status)))


ANYWAY = "anyway"
"""The word after `request-approval ORG` that asks although people to invite never were."""


def not_invited_yet(refused: NotInvitedYet) -> Outgoing:
    """No request: who would be cut off, the step Microsoft puts first, and the way past it."""
    organization = refused.organization
    count = plan_views.people(len(refused.people))
    buttons = (
        Button("Invite missing users", "invite", organization, "primary"),
        Button(
            "Request approval anyway",
            "request-approval",
            f"{organization} {ANYWAY}",
            "danger",
            f"Request approval for {organization} although {count} lose access when it connects?",
        ),
    )
    return say(str(refused), Text(str(refused)), Actions(buttons), private=True)


def approval_prompt(request: ApprovalRequest) -> Message:
    requester = request.requested_by.name or request.requested_by.email
    target = request.tenant_name or request.tenant_id
    blocks: list[Block] = [
        Heading(f"Approval needed: connect {request.organization} to {target}"),
        Facts(
            (
                ("Requested by", requester),
                ("Directory", f"{target} ({request.tenant_id})"),
                ("Plan", f"{request.plan_fingerprint} (any change to the plan voids this approval)"),
                ("Approvals needed", f"{request.approvers_required}, not from {requester}"),
                ("Expires", f"{_day(request.expires_at)} {_time(request.expires_at)} UTC"),
            )
        ),
        plan_views.who_is_affected(request.affected),
    ]
    if request.warnings:
        blocks.append(plan_views.check_lines(request.warnings))
    blocks.append(_decision_buttons(request.approval_id))
    return Message(
        f"Approval #{request.approval_id} needed: connect {request.organization} to {target}", tuple(blocks)
    )


def _decision_buttons(approval_id: int) -> Actions:
    return Actions(
        (
            Button("Approve", "approve", str(approval_id), "primary"),
            Button("Reject", "reject", str(approval_id), "danger"),
        )
    )


def decision(result: DecisionResult, actor: Actor) -> list[Outgoing]:
    """What the person who decided sees at once (they have decided: no buttons for them); every copy of
    the prompt, the channel and the connector hear it through the notices the workflow recorded."""
    return [Outgoing(decision_closed(result, actor, buttons=False))]


def decision_closed(result: DecisionResult, decider: Actor, *, buttons: bool = True) -> Message:
    """The prompt once decided: every copy of it is updated to this. Short of the approvals needed, it
    keeps Approve/Reject for the approvers still to decide (Teams shows them only to those)."""
    name = decider.name or decider.email
    waiting = result.approvers_required - result.approvals
    stamp = {
        "approved": f"✅ Approved by {name}",
        "recorded": f"👍 Approved by {name} ({result.approvals} of {result.approvers_required}), "
        f"waiting for {waiting} more",
        "rejected": f"🚫 Rejected by {name}",
        "expired": "⌛ Expired",
        "void": "⌛ Void",
    }[result.outcome]
    blocks: list[Block] = [
        Heading(f"Approval #{result.approval_id}: connect {result.status.organization}"),
        Text(f"{stamp}. {result.message}"),
    ]
    if result.outcome == "recorded" and buttons:
        blocks.append(_decision_buttons(result.approval_id))
    return Message(f"Approval #{result.approval_id}: {stamp}", tuple(blocks))


def approved(result: DecisionResult, decider: Actor) -> Message:
    """The channel hears who approved and who connects."""
    name = decider.name or decider.email
    connector = result.connector or decider
    who = connector.name or connector.email
    why = f" ({result.connector_reason})" if result.connector_reason else ""
    text = (
        f"{name} approved connecting {result.status.organization}. {who} has the portal steps by direct"
        f" message{why}; I am watching the organization and will say here when it is connected."
    )
    return Message(text, (Text(text),))


def portal_steps(status: MigrationStatus, approver: Actor, *, watch_seconds: float | None) -> Message:
    target = status.directory_name
    steps = (
        f"1. Sign in to https://dev.azure.com/{status.organization} as {approver.email} (a *member*, not a"
        f" guest, of {target}, and a Project Collection Administrator).",
        "2. Select *Organization settings* > *Microsoft Entra ID* > *Connect directory*.",
        f"3. Pick *{target}* ({status.tenant_id}) in the list, then select *Connect*.",
        "4. If a warning says some members will lose access: those are the users the plan could not match."
        " Connect anyway; they are listed in the plan, and can be mapped afterwards under Organization"
        " settings > Users (*Resolve*) or with Microsoft support.",
        "5. Select *Sign out*, open a private browser window and sign in with your work account to confirm.",
    )
    return Message(
        f"Your steps to connect {status.organization} to {target}",
        (
            Heading(f"Connect {status.organization} to {target}"),
            Text("There is no API for this step, so it is yours; it takes a minute:"),
            Text("\n".join(steps)),
            Text(
                f"I check the organization's directory {_every(watch_seconds)} and announce it when it is"
                " done; `check-connection` checks at once."
            ),
        ),
    )


def _every(seconds: float | None) -> str:
    """How often the connection watch looks (AADBOT_POLL_SECONDS), in words."""
    if seconds is None:
        return "regularly"
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return "every minute" if minutes == 1 else f"every {minutes} minutes"
    return f"every {seconds:g} seconds"


def connection(result: ConnectionResult, *, to: Audience | None = None) -> Outgoing:
    status = result.status
    if result.outcome == "connected":
        text = (
            f"🎉 {status.organization} is now connected to {status.directory_name}."
            " Next: send every affected user their own to-do list."
        )
    else:
        text = result.message
    blocks: list[Block] = [Text(text)]
    return Outgoing(Message(text, _with_next(blocks, status)), to or Reply())


def queued(result: NotifyResult) -> Outgoing:
    status = result.status
    text = (
        f"Queued {len(result.users)} to-do lists for {status.organization}, sending now. This message shows"
        " the progress; `progress` gives the details."
    )
    blocks: list[Block] = [Heading(f"To-do lists for {status.organization}"), Text(text)]
    if result.listed_before:
        had = sign_in_views.people_counted(len(result.listed_before), "has", "have")
        blocks.append(
            Text(
                f"{had} their list from an earlier migration of {status.organization} already, so they"
                f" get none again: {lists.names(result.listed_before)}."
            )
        )
    return Outgoing(
        Message(f"Queued {len(result.users)}, sending", _with_next(blocks, status)),
        updates=todo_views.progress_key(status.id),
    )


def advance_notice_dm(
    *, organization: str, tenant: str, name: str, when: str, lines: Sequence[str]
) -> Message:
    heading = (
        f"Coming {when}: {organization} moves to {tenant} accounts"
        if when
        else (f"Coming soon: {organization} moves to {tenant} accounts")
    )
    return Message(heading, (Heading(heading), Text(f"Hi {name},"), Text("\n".join(lines))))


def announced(result: AnnounceResult) -> Outgoing:
    status = result.status
    when = f" for {result.when}" if result.when else ""
    if result.queued:
        text = (
            f"Telling {lists.of_people(result.queued, result.users)} what is coming{when}, by direct message."
        )
    else:
        text = (
            f"Everyone has already been told{when}; nobody gets it twice. Give a new date to tell them again."
        )
    return Outgoing(Message(text, _with_next([Text(text)], status)))


def billing(result: BillingResult) -> Outgoing:
    blocks: list[Block] = [Heading(f"Billing for {result.status.organization}"), Text(result.message)]
    if result.steps:
        blocks.append(
            Text("\n".join(f"{number}. {step}" for number, step in enumerate(result.steps, start=1)))
        )
    return Outgoing(Message(result.message, _with_next(blocks, result.status)))


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
        (user.principal_name, _day(user.last_accessed) if user.last_accessed else "never", user.id)
        for user in users
    ]
    blocks: list[Block] = [
        Heading(f"Users of {organization} with no sign-in for {period}"),
        *lists.table(("user", "last sign-in", "id"), rows),
    ]
    if lists.is_cut(rows):
        blocks.append(
            lists.csv_file(
                f"stale-users-{organization}.csv",
                f"Users of {organization} with no sign-in for {period}",
                ("user", "name", "last sign-in", "id"),
                [
                    (name, user.display_name, last, id_)
                    for user, (name, last, id_) in zip(users, rows, strict=True)
                ],
                organization=organization,
            )
        )
    count = plan_views.people(len(users))
    away = sign_in_views.people_counted(len(users), "has", "have")
    summary = f"{away} not signed in for {period}"
    if (why := why_not_removable(status.state, organization)) is not None:
        return say(summary, *blocks, Text(why), private=True)  # no button the machine would refuse
    blocks.append(
        Text(
            "Removing people who left keeps them out of the directory comparison; the owner and the"
            " administrators are never listed. Nothing is removed until"
            f" an admin presses *Remove these {count}* and confirms. To keep some, remove the others with"
            f" `remove-users {organization} ID...`."
        )
    )
    value = f"{organization} --stale {days or 90} --list {fingerprint}"
    confirm = f"Remove {count} from {organization}? This cannot be undone; they lose access at once."
    blocks.append(Actions((Button(f"Remove these {count}", "remove-users", value, "danger", confirm),)))
    return say(summary, *blocks, private=True)


def removed(result: RemovalResult) -> Outgoing:
    lines = [f"Removed {plan_views.people(len(result.removed))}: {lists.names(result.removed)}."]
    if result.message:
        lines.append(result.message)
    failures = [f"{name}: {reason}" for name, reason in result.failed]
    if failures:
        lines.append(f"Could not remove {len(failures)}: {lists.names(failures)}")
    blocks: list[Block] = [Text("\n".join(lines)), plan_views.counts_facts(result.status.counts)]
    return Outgoing(Message(lines[0], _with_next(blocks, result.status)))


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


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _time(moment: datetime) -> str:
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
