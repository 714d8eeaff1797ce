"""Approval and connecting in words: the refusal while people are not invited yet, the prompt and every
copy of it once decided, what the channel hears, the connector's portal steps, and the connection found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.conversation import dates, plan_views, unreached_views
from bot.conversation.billing_views import billing_ahead
from bot.conversation.messages import (
    Actions,
    Audience,
    Block,
    Button,
    Facts,
    Heading,
    Message,
    Outgoing,
    Reply,
    Text,
    say,
)
from bot.conversation.next_actions import announce_button, decision_buttons, with_next
from workflows.errors import NotInvitedYet
from workflows.machine import describe_state
from workflows.mapping import map_by_hand
from workflows.results import Actor, MigrationStatus
from workflows.results_approving import (
    AdminUnreached,
    Affected,
    ApprovalRequest,
    ConnectionResult,
    DecisionResult,
    OutsideApproval,
    ToMap,
)

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


def approval_prompt(request: ApprovalRequest, *, shared: bool = False) -> Message:
    """`shared`: a prompt with a copy in the migration's channel (every copy is equal), which says how many
    are affected and where their names are (`approval_people`): people's names are their addresses."""
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
                ("Expires", dates.day_and_time(request.expires_at)),
            )
        ),
        plan_views.who_is_affected(request.affected, request.warnings, named=not shared),
    ]
    if shared:
        blocks.append(Text(_names_where(request.organization)))
    if request.warnings:
        blocks.append(plan_views.check_lines(request.warnings))
        blocks.extend(
            billing_ahead(
                request.warnings, request.organization, target, request.status.updated_at, connected=False
            )
        )
    blocks.extend(nobody_told(request, shared=shared))
    if not shared:
        blocks.extend(_everyone_losing_access(request))
    blocks.append(decision_buttons(request.approval_id))
    return Message(
        f"Approval #{request.approval_id} needed: connect {request.organization} to {target}", tuple(blocks)
    )


def approval_people(request: ApprovalRequest) -> Message:
    """Whom an approval prompt with a copy in a channel affects, by name, to each approver privately."""
    summary = f"Who approval #{request.approval_id} affects: connect {request.organization}"
    blocks: list[Block] = [
        Heading(summary),
        plan_views.who_is_affected(request.affected, request.warnings),
        *nobody_told(request),
        *_everyone_losing_access(request),
    ]
    return Message(summary, tuple(blocks))


def people_settled(result: DecisionResult, decider: Actor, at: datetime) -> Message:
    """An approver's message naming whom an approval affects, once the approval is settled (at `at`): how,
    and no longer the names, which nobody decides on now."""
    organization = result.status.organization
    stamp = _stamp(result, decider)
    # an expiry's message says when it expired; any other outcome is dated here
    when = "" if result.outcome == "expired" else f" on {dates.day_and_time(at)}"
    return Message(
        f"Who approval #{result.approval_id} affected: {stamp}",
        (
            Heading(f"Who approval #{result.approval_id} affected: connect {organization}"),
            Text(f"{stamp}{when}. {result.message}"),
            Text(
                "This message named them while the approval waited for a decision; it is settled, so it no"
                f" longer does. `plan {organization}` here lists everyone."
            ),
        ),
    )


def _everyone_losing_access(request: ApprovalRequest) -> list[Block]:
    """The prompt names the first few of each group; whoever loses access beyond them is in `plan`'s CSV
    (the plan this approval is bound to: a change voids it)."""
    affected = request.affected
    losing = (affected.uninvited, affected.undecided, affected.without_access)
    if all(group.count <= len(group.names) for group in losing):
        return []
    organization = request.organization
    return [
        Text(
            f"Before approving, see everyone who loses access: `plan {organization}` attaches each person's"
            " outcome as CSV (column *outcome*)."
        ),
        Actions((Button("Plan with everyone (CSV)", "plan", organization),)),
    ]


def requested(request: ApprovalRequest, *, shared: bool = False) -> Message:
    """What the admin who asked reads: the request is out, and whether users were told beforehand (`shared`:
    in a channel, how many the notice missed; `unreached_views.missed_by_name` names them to the asker)."""
    text = (
        f"Approval requested (#{request.approval_id}); the prompt goes to the other admins by direct message,"
        " and I say here if it cannot reach one."
    )
    return Message(text, (Text(text), *nobody_told(request, shared=shared)))


def nobody_told(request: ApprovalRequest, *, shared: bool = False) -> list[Block]:
    """Microsoft's first prerequisite, said plainly when it was skipped or missed the people it matters most
    for; approving stays possible. `shared`: how many it missed, not their addresses."""
    organization = request.organization
    if request.unreached and shared:
        missed = plan_views.people(len(request.unreached))
        why = unreached_views.counted_reasons([person.why for person in request.unreached])
        return [
            Text(
                f"⚠️ The advance notice could not reach {missed} in chat ({why}), so they do not know what is"
                " coming. This does not block approval."
            )
        ]
    if request.unreached:  # those who must act before the change, or lose access with it, first
        lines = unreached_views.unreached_lines(
            request.unreached, request.warnings, rest="(`status` attaches them all)"
        )
        return [Text(f"{lines}\nThis does not block approval.")]
    if not request.nobody_told:
        return []
    return [
        Text(
            f"⚠️ Nobody in {organization} has been told yet what is coming: Microsoft asks to inform users"
            " before you begin. This does not block approval; tell them with"
            f" `announce {organization} WHEN` or the button."
        ),
        Actions((announce_button(organization),)),
    ]


def decision(result: DecisionResult, actor: Actor) -> list[Outgoing]:
    """What the person who decided sees at once (they have decided: no buttons for them); every copy of
    the prompt, the channel and the connector hear it through the notices the workflow recorded."""
    return [Outgoing(decision_closed(result, actor, buttons=False), revises=True)]  # the prompt, decided


def decision_closed(result: DecisionResult, decider: Actor, *, buttons: bool = True) -> Message:
    """The prompt once decided: every copy of it is updated to this. Short of the approvals needed, it
    keeps Approve/Reject for the approvers still to decide (Teams shows them only to those)."""
    stamp = _stamp(result, decider)
    blocks: list[Block] = [
        Heading(f"Approval #{result.approval_id}: connect {result.status.organization}"),
        Text(f"{stamp}. {result.message}"),
    ]
    if result.outcome == "recorded" and buttons:
        blocks.append(decision_buttons(result.approval_id))
    return Message(f"Approval #{result.approval_id}: {stamp}", tuple(blocks))


def _stamp(result: DecisionResult, decider: Actor) -> str:
    """What became of an approval, and by whom where someone decided it."""
    name = decider.name or decider.email
    waiting = result.approvers_required - result.approvals
    return {
        "approved": f"✅ Approved by {name}",
        "recorded": f"👍 Approved by {name} ({result.approvals} of {result.approvers_required}), "
        f"waiting for {waiting} more",
        "rejected": f"🚫 Rejected by {name}",
        "expired": "⌛ Expired",
        "void": "⌛ Void",
    }[result.outcome]


def approved(result: DecisionResult, decider: Actor) -> Message:
    """The channel hears who approved and who connects."""
    name = decider.name or decider.email
    connector = result.connector or decider
    who = connector.name or connector.email
    why = f" ({result.connector_reason})" if result.connector_reason else ""
    text = (
        f"{name} approved connecting {result.status.organization}. {who} gets the portal steps by direct"
        f" message{why} (I say here if they cannot be reached); I am watching the organization and will say"
        " here when it is connected."
    )
    return Message(text, (Text(text),))


def admin_unreached(unreached: AdminUnreached) -> Message:
    """What the admins hear when an approver's prompt or the connector's portal steps reached nobody."""
    return Message(
        unreached_views.admin_unreached_line(unreached).removeprefix("⚠️ "),
        (Text(unreached_views.admin_unreached_line(unreached)),),
    )


def portal_steps(status: MigrationStatus, approver: Actor, *, watch_seconds: float | None) -> Message:
    target = status.directory_name
    steps = (
        f"1. Sign in to https://dev.azure.com/{status.organization} as {approver.email} (a *member*, not a"
        f" guest, of {target}, and a Project Collection Administrator).",
        "2. Select *Organization settings* > *Microsoft Entra ID* > *Connect directory*.",
        f"3. Pick *{target}* ({status.tenant_id}) in the list, then select *Connect*.",
        "4. If a warning says some members will lose access: those are the users the plan could not match."
        f" Connect anyway; they are listed in the plan. Afterwards, {map_by_hand()}.",
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
            *billing_ahead(status.checks, status.organization, target, status.updated_at, connected=False),
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


def connection(
    result: ConnectionResult, *, to: Audience | None = None, privately: Privately | None = None
) -> Outgoing:
    """`privately`: this is the copy in the migration's channel, which counts the people and says who has
    their names (people's names are their addresses); the admins' own copies name them."""
    status = result.status
    if result.outside_approval is not None:
        alarm = connected_outside_approval(result, result.outside_approval, privately)
        return Outgoing(alarm, to or Reply())
    if result.seen_before is not None:  # announced when first seen: a second 🎉 reads as a second connection
        text = (
            f"{status.organization} is connected to {status.directory_name}: I saw it connected already on"
            f" {dates.day_and_time(result.seen_before)} and said so then."
        )
    elif result.outcome == "connected":
        text = (
            f"🎉 {status.organization} is now connected to {status.directory_name}."
            " Next: send every affected user their own to-do list."
        )
    else:
        text = result.message
    blocks: list[Block] = [Text(text), *to_map(result.to_map, named=privately is None)]
    if privately is not None and result.to_map is not None and result.to_map.count:
        blocks.append(
            Text(privately.where(status.organization, "Whom to map, each with their directory account,"))
        )
    if result.outcome == "connected" and result.seen_before is None:
        target = status.directory_name
        blocks.extend(
            billing_ahead(status.checks, status.organization, target, status.updated_at, connected=True)
        )
    return Outgoing(Message(text, with_next(blocks, status)), to or Reply())


def connected_outside_approval(
    result: ConnectionResult, outside: OutsideApproval, privately: Privately | None = None
) -> Message:
    """Every admin hears at once that a click in the portal skipped the approval: what happened, who is
    locked out now, and what to do now (`privately`: in the channel, how many, and who has the names)."""
    status = result.status
    organization, target = status.organization, status.directory_name
    when = (
        f"while approval #{outside.approval_id} was still waiting (it is void now)"
        if outside.approval_id
        else f"while the migration was {describe_state(outside.state_before)}"
    )
    summary = f"🚨 {organization} was connected to {target} outside the approval"
    blocks: list[Block] = [
        Heading(summary),
        Text(
            f"Someone connected {organization} to {target} in the portal {when}. Nobody approved it and I"
            " did not authorise it: I recorded it as connected outside the approval. From now on everyone"
            f" signs in to {organization} with a {target} account."
        ),
        Text(_locked_out(result.affected, named=privately is None)),
        Text(
            "Do this now: send everyone their own to-do list, which tells each person how to get back in:"
            f" `notify {organization}`."
        ),
        *to_map(result.to_map, named=privately is None),
    ]
    if privately is not None:
        blocks.append(Text(privately.where(organization, "Who is locked out and whom to map by hand")))
    blocks.extend(billing_ahead(status.checks, organization, target, status.updated_at, connected=True))
    return Message(summary, with_next(blocks, status))


def _locked_out(affected: Affected | None, *, named: bool = True) -> str:
    """Who cannot get in now, by what gets them back in, as the approved (or last) plan had them (not
    `named`: how many only)."""
    if affected is None:
        return "I have no plan of who is affected: `notify` reads the organization and tells each person."
    groups = (
        (affected.uninvited, "no directory account: `invite` them now"),
        (affected.undecided, "disabled or ambiguous account: decide for them (`plan` shows their choices)"),
        (affected.to_accept, "invited, not accepted yet: in once they accept"),
        (affected.without_access, "lose access, as an admin decided"),
    )
    lines = [
        f"• {f'{plan_views.names(people)} ({people.count})' if named else plan_views.people(people.count)}"
        f" — {what}"
        for people, what in groups
        if people.count
    ]
    if not lines:
        return "Nobody the plan places is locked out for good, but everyone must sign in anew."
    return "\n".join(["*Locked out now:*", *lines])


def to_map(people: ToMap | None, *, named: bool = True) -> list[Block]:
    """Whom an admin maps by hand now that it is connected, each with their directory account: named at
    once, not days later in the digest (not `named`: how many only)."""
    if people is None or not people.count:
        return []
    lines = [f"• {address} → {account}" for address, account in people.pairs if named]
    if people.count > len(people.pairs) and named:
        more = people.count - len(people.pairs)
        lines.append(f"…and {more} more: `plan` attaches each person's outcome and account (CSV)")
    how = map_by_hand(
        "each one", "the directory account after the arrow" if named else "their directory account"
    )
    return [
        Text(
            "\n".join(
                [f"🔗 *Map by hand now* ({people.count}), so they keep access and history: {how}.", *lines]
            )
        )
    ]


def _names_where(organization: str) -> str:
    """Where the names a channel's prompt leaves out go: what is being sent, not that it arrived. An approver
    chat cannot reach misses the prompt too, which the channel hears (`admin_unreached`)."""
    return (
        "📬 Who they are: each approver gets a message of its own naming them, by direct message (I say here"
        " if one cannot be reached); people's names are their addresses, which are not for the whole"
        f" channel. Admins may ask me `plan {organization}` in a direct message for everyone."
    )


@dataclass(frozen=True)
class Privately:
    """Who is sent the names a channel's connection notice leaves out: `admins` by direct message, or, when
    Azure DevOps could not list the admins (`unlisted`: the bot's own sentence saying so, with why), only
    whoever started the migration. Said when queued, not delivered: it names the way to them all that does
    not hang on a direct message arriving (`plan` asked in one)."""

    admins: int
    unlisted: str = ""

    def where(self, organization: str, what: str) -> str:
        if self.unlisted:
            return (
                f"📬 {what} goes only to whoever started the migration, by direct message."
                f" {self.unlisted.rstrip('.')}. Other admins: ask me `plan {organization}` in a direct"
                " message for everyone."
            )
        if not self.admins:  # a notice queued before the admins' copies were
            return (
                f"📬 {what}: ask me `plan {organization}` in a direct message; people's names are their"
                " addresses, which are not for the whole channel."
            )
        admins = "the admin" if self.admins == 1 else f"each of the {self.admins} admins"
        return (
            f"📬 {what} goes to {admins} (owner and Project Collection Administrators) by direct message:"
            " people's names are their addresses, which are not for the whole channel. If yours does not"
            f" arrive, ask me `plan {organization}` in a direct message for everyone."
        )
