"""Where a migration stands, as messages: its `status` (the stage in words, why it stopped, what is next)
and the App Home, every migration its reader administers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.conversation import closing_views, plan_views, progress_views, sign_in_views, todo_views
from bot.conversation.dates import clock_time, day, day_and_time
from bot.conversation.messages import Block, Facts, Heading, Message, Outgoing, Table, Text, for_you_alone
from bot.conversation.next_actions import decision_buttons, everyone_told, with_next
from bot.conversation.unreached_views import admin_unreached_line, told_blocks
from workflows.machine import CONNECTED_STEPS
from workflows.plan import Check
from workflows.plan_invitations import invitation_bar
from workflows.progress import Progress
from workflows.results import Actor, MigrationStatus
from workflows.results_approving import AdminUnreached, Rejection
from workflows.results_closing import CalledOffDelivery
from workflows.results_preparing import Told
from workflows.results_todo_lists import TodoEntry
from workflows.stopping import WHY_STOPPED

_STAGES: dict[str, str] = {
    "draft": "Just created; the prerequisite checks come next.",
    "checking_prerequisites": "Checking the prerequisites and comparing users with the directory.",
    "blocked": "A prerequisite fails; fix it, then `recheck`.",
    "inviting": "Sending B2B guest invitations.",
    "waiting_for_invite_settings": (
        # which permission applies (the inviter's role, or the app's own) is the refusal's, in `blocked_fix`
        "The directory refused invitations. Changed invitation settings and newly granted permissions take"
        " 15-60 minutes to apply; then `invite` again."
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


def stage_line(
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
                f" {clock_time(status.lease_ends)} UTC, when the step's lease ends."
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
            " invitation (`plan` names them): from the switch until they accept it, they cannot sign in."
        )
    return f"{ready} {next_steps}."


def _who_left(status: MigrationStatus) -> str:
    """The people whose only directory account is disabled, while removing them fits: Microsoft's FAQ
    reads such a user as one who "likely left your company", and its prerequisite 4 removes them."""
    disabled = status.counts.get("disabled", 0)
    if not disabled or "remove-users" not in status.next_commands:
        return ""
    return f"{sign_in_views.people_counted(disabled, 'has', 'have')} only a disabled directory account"


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
    in_channel: bool = False,
) -> Outgoing:
    """`called_off`: for a cancelled migration, where its "it is off" messages stand; `told`: how the
    advance notice went out; `unreached`: the admins its pending prompt or portal steps did not reach;
    `yours`: the reader may approve the pending request (its buttons come too); `admin`: the reader
    administers the migration, so may see whom the notice did not reach and gets the buttons of the next
    steps (anyone else would only be refused on pressing them); `rejected`: the latest approval request,
    when it was rejected; `in_channel`: asked in a channel, which reads how many the notice missed, not
    who (people's names are their addresses)."""
    blocks: list[Block] = [Heading(f"Migration of {status.organization}"), _stage_facts(status)]
    if rejected is not None:
        blocks.append(Text(rejection_line(rejected)))
    blocks.append(Text(stage_line(status, told, yours=yours, admin=admin)))
    blocks.extend(told_blocks(told, status, names=admin and not in_channel))
    blocks.extend(why_stopped(status))
    if admin:  # others are not the ones to chase an approver
        blocks.extend(Text(admin_unreached_line(person)) for person in unreached)
    if status.state == "waiting_for_invite_settings" and status.invite_recheck_at:
        blocks.append(Text(f"Try `invite` again after {clock_time(status.invite_recheck_at)} UTC."))
    if status.plan_fingerprint and status.state == "cancelled":  # its groups' futures will not come
        total = sum(status.counts.values())
        blocks.append(Text(f"Nothing changes for the {plan_views.people(total)} of its plan."))
    elif status.plan_fingerprint:
        blocks.append(plan_views.counts_as_of(status.state, status.counts, status.checks))
    if status.undecided and status.active:
        blocks.append(plan_views.undecided_line(status, admin=admin))
    if report is not None:
        apart = progress_views.losing_access_apart(report.deciders)
        blocks.append(
            Text(
                f"To-do lists: {progress_views.people_done(report)}"
                + (f" ({apart})" if apart else "")
                + f", {report.items_done:,} of {report.items_total:,} items"
                + _seen_since_connecting(report)
                + "; `progress` has the details."
            )
        )
    if called_off is not None:
        apart = for_you_alone("Who, and why,") if admin else ""  # only an admin is to tell them
        blocks.extend(
            closing_views.called_off_lines(
                status.organization, called_off, named=not in_channel, told_apart=apart
            )
        )
    if yours and status.pending_approval_id:
        blocks.append(decision_buttons(status.pending_approval_id))
    summary = f"{status.organization}: {status.state.replace('_', ' ')}"
    if not admin:
        return Outgoing(Message(summary, tuple(blocks)))
    return Outgoing(Message(summary, with_next(blocks, status, everyone_told=everyone_told(told))))


def _seen_since_connecting(report: Progress) -> str:
    """What the sign-in watch has seen since it began: who signed in, who was mapped by hand; counted."""
    if report.connected_at is None:
        return ""
    mapped = sign_in_views.mappings_line(report.mappings)
    return f", {report.users_signed_in} seen signing in" + (f", {mapped}" if mapped else "")


def rejection_line(rejected: Rejection) -> str:
    """Who rejected the last approval request, when and why: what an admin reads before asking again."""
    name = rejected.by.name or rejected.by.email
    when = day_and_time(rejected.at)
    reason = rejected.reason or "none given"
    return f"🚫 Approval #{rejected.approval_id} was rejected by {name} on {when}. Reason: {reason}."


def why_stopped(status: MigrationStatus, *, checks_shown: bool = False) -> list[Block]:
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


def home(statuses: Sequence[MigrationStatus], entries: Sequence[TodoEntry]) -> Message:
    blocks: list[Block] = [Heading("aadbot")]
    if statuses:
        rows = tuple(
            (
                status.organization,
                status.state.replace("_", " "),
                counts_sentence(status.counts, status.checks),
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


_GROUP_LABELS = {
    "auto": "keep access",
    "to-accept": "to accept an invitation",
    "map": "mapped by hand",
    "invite": "to invite",
    "disabled": "with a disabled account",
    "ambiguous": "to decide between accounts",
    "no-access": "losing access",
}
"""Each of the plan's groups in a few plain words, for a line that counts them all (walk38: the plan's
message read "5 auto, 2 map, 2 invite, 1 ambiguous"); `plan_views.OUTCOME_WORDS` says them in full."""


def counts_sentence(counts: Mapping[str, int], checks: Sequence[Check]) -> str:
    """Each group counted in its few words (`_GROUP_LABELS`); those to invite as `plan_views.outcome_words`
    says while nobody may invite them (`invitation_bar`): "to invite" would promise a way in there is not."""
    labels = _GROUP_LABELS
    if invitation_bar(checks):
        labels = {**labels, "invite": plan_views.outcome_words(checks)["invite"][0]}
    return (
        ", ".join(f"{count:,} {labels.get(group, group)}" for group, count in counts.items() if count)
        or "no users"
    )
