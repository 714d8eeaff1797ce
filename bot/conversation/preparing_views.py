"""Getting people ready before the connection, in words: invitations, the advance notice, an admin's
decision for someone the plan cannot place, and removing those who left."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bot.conversation import dates, lists, plan_views, sign_in_views
from bot.conversation.closing_views import CONFIRM
from bot.conversation.messages import (
    MAX_BUTTON_VALUE,
    Actions,
    Block,
    Button,
    Channel,
    Heading,
    Message,
    Outgoing,
    Text,
    say,
)
from bot.conversation.next_actions import everyone_told, with_next
from workflows.directory import OrgUser
from workflows.machine import CONNECTED_UNFINISHED
from workflows.mapping import map_by_hand
from workflows.plan_organization import removal_by_hand
from workflows.plan_shared_account import SHARED_ACCOUNT
from workflows.results import (
    AccountDecision,
    Actor,
    AnnounceResult,
    InviteResult,
    MigrationStatus,
    RemovalResult,
    Told,
)
from workflows.stages.invite_summary import counted
from workflows.stages.removal import why_not_removable


def account_decided(result: AccountDecision, told: Told | None = None) -> Outgoing:
    """What the admin who decided reads: the decision, what it means for connecting, what it changed.
    `told`: how the advance notice went out, while it still may."""
    person, status = result.person, result.status
    name, organization = person.principal_name, status.organization
    if not person.loses_access and person.match is not None:
        account = person.match.user_principal_name
        how = f"in https://dev.azure.com/{organization}, {map_by_hand(name, account)}."
        recorded = f"Recorded: {name}'s directory account is {account}"
        if person.outcome == "auto":  # a guest signed in to by their own address (the plan's rule 2)
            lines = [f"{recorded}, a guest with their own address: their identity carries over by itself."]
        elif status.state in CONNECTED_UNFINISHED:
            lines = [f"{recorded}; the plan maps them to it.", f"Map them now: {how}"]
        else:
            lines = [
                f"{recorded}; the plan maps them to it.",
                f"Connecting does not map them by itself: once it is connected, {how} Their to-do list will"
                " say to sign in with it.",
            ]
        if result.access_restored:
            given = (
                "they have their to-do list now" if result.first_list else "their whole to-do list is back"
            )
            lines.append(
                f"Their access to {organization} is restored: {given}, saying to sign in with it"
                f"{_told_them(result)}"
            )
        elif result.as_told:
            lines.append(
                "Their to-do list says to sign in with it again, as the one that may have reached them did:"
                " nothing new to tell them."
            )
        elif result.list_changed:
            first = "to accept its invitation, then " if person.group == "to-accept" else ""
            lines.append(f"Their to-do list now says {first}to sign in with it{_told_them(result)}")
    else:
        lines = [
            f"Recorded: {name} loses access to {organization}, as you decided; their history is kept."
            " Changed your mind? `plan` shows their choices again."
        ]
        if result.list_changed:
            lines.append(f"Their to-do list is withdrawn{_told_them(result, 'they lose access')}")
        if result.told_early == "lost":
            lines.append(
                "The advance notice told them to get ready, so I told them now that they lose access;"
                " `notify` sends them nothing more."
            )
        if result.told_early == "stopped":
            lines.append(
                "Their advance notice had not gone out yet, so it never will; I told them now that they lose"
                " access, and `notify` sends them nothing more."
            )
    if result.told_early == "back":
        lines.append('I told them that "you lose access" no longer holds; they get their list at `notify`.')
    if result.voided_approval is not None:
        lines.append(_voided(result.voided_approval))
    return Outgoing(
        Message(lines[0], with_next([Text(" ".join(lines))], status, everyone_told=everyone_told(told)))
    )


def _told_them(result: AccountDecision, what: str = "") -> str:
    """How a sentence on a changed list ends: that I told them (`what`), or, when chat could not reach them
    with my last message (`AccountDecision.out_of_chat`), that my message waits but may never arrive."""
    what = f" {what}" if what else ""
    if not result.out_of_chat:
        return f", and I told them{what}."
    return (
        f". My message telling them{what} waits to go out, but chat could not reach them with my last one, so"
        " it may never arrive: tell them another way"
        f" (`retry-failed {result.status.organization}` sends what failed again once chat reaches them)."
    )


def account_decided_answers(result: AccountDecision, told: Told | None, *, shared: bool) -> list[Outgoing]:
    """`account_decided` for the admin who decided. `shared`: decided in a channel, which reads only that a
    decision was recorded (and a voided approval); the person's name is their address, which is not for the
    whole channel, so what it means goes to the admin alone, first."""
    answer = account_decided(result, told)
    if not shared:
        return [answer]
    organization = result.status.organization
    lines = [
        f"Recorded your decision for 1 person of {organization}. {_for_you_alone('Who, and what it means,')}"
    ]
    if result.voided_approval is not None:
        lines.append(_voided(result.voided_approval))
    counted = Outgoing(
        Message(
            lines[0], with_next([Text(" ".join(lines))], result.status, everyone_told=everyone_told(told))
        )
    )
    return [replace(answer, message=replace(answer.message, private=True)), counted]


def _for_you_alone(what: str) -> str:
    """Where `what` a channel's answer leaves out goes (people's names are their addresses): to whoever
    asked alone. Said as what the bot does, not as done: that message may not arrive (Teams then says in
    the thread that it could not deliver it, Slack says so to them privately)."""
    return f"📬 {what} I send to you alone, in a message only you see."


def _voided(approval: int) -> str:
    return f"The plan changed, so approval request #{approval} no longer holds: run `request-approval` again."


_INVITE_ORDER = {
    "denied": 0,
    "failed": 1,
    "unanswered": 1,
    "sent": 2,
    "re-invited": 2,
    "already-invited": 3,
    "found": 4,
    "skipped": 5,
}
"""What needs an admin's eye comes first in the shortened list."""


def invited(result: InviteResult, told: Told | None = None, *, shared: bool = False) -> list[Outgoing]:
    """`told`: how the advance notice went out, while it still may. `shared`: asked in a channel, which
    reads how many (`invited_in_channel`): this answer, with each person's result, is for the admin who
    asked alone (people's names are their addresses, which are not for the whole channel)."""
    organization = result.status.organization
    blocks: list[Block] = [Heading(f"Invitations for {organization}"), Text(result.message)]
    blocks.extend(_invitations_named(result))
    content = with_next(blocks, result.status, everyone_told=everyone_told(told))
    return [Outgoing(Message(result.message, content, private=shared))]


_STOPPED = {
    "interrupted": "the run stopped partway, as the bot was shutting down; running it again carries on",
    "no-permission": "the run stopped: the bot's app lacks a Microsoft permission it needs to invite",
    "refused": "the run stopped: the directory's settings refuse the invitations",
    "unread": "nobody was invited: I could not read who needs an invitation",
}
"""How a run stopped short (`InviteResult.stopped`), as a channel reads it: naming nobody."""


def invited_in_channel(result: InviteResult, by: Actor, channel: str) -> list[Outgoing]:
    """What the channel `invite` was asked in reads of it: how many, naming nobody, and whether the run
    stopped short and why in kind; nothing when it asked about nobody and went to its end."""
    how_many = counted(result.outcomes)
    stopped = _STOPPED[result.stopped] if result.stopped else ""
    if not how_many and not stopped:
        return []
    who = by.name or by.email
    said = "; ".join(part for part in (how_many, stopped) if part)
    private = "The details are" if stopped else "Who they are is"
    text = (
        f"📨 Invitations for {result.status.organization}, by {who}: {said}. {private} for {who} alone: I"
        " send it to them privately."
    )
    return [Outgoing(Message(text, (Text(text),)), Channel(channel))]


def _invitations_named(result: InviteResult) -> list[Block]:
    """Each person's invitation and its result, what needs an admin's eye first; all of them as CSV past
    the chat list's length."""
    organization = result.status.organization
    outcomes = sorted(result.outcomes, key=lambda outcome: _INVITE_ORDER.get(outcome.status, 9))
    rows = [(outcome.email, outcome.status, outcome.detail) for outcome in outcomes]
    if not rows:
        return []
    export = [(o.email, o.display_name, o.status, o.detail) for o in outcomes]
    return lists.table_and_csv(
        ("user", "result", "detail"),
        rows,
        (
            f"invitations-{organization}.csv",
            f"Invitation results for {organization}",
            ("email", "name", "result", "detail"),
            export,
        ),
        organization=organization,
    )


def invitation_wait_over(
    *,
    organization: str,
    count: int,
    people: Sequence[str],
    command: str,
    state: str,
    stuck_since: datetime | None = None,
) -> Message:
    """Invitations whose answer Microsoft never gave: the wait in which its directory search may not show
    their guests is over (`workflows.invitation_wait`), so the word that runs the invitations (`command`:
    `invite` or `resume`; empty while neither fits, the migration being `state`) now sends each their link
    or their invitation. `people`: who, for an admin alone; a channel reads how many. `stuck_since`: the
    step still `state` died then, and only `resume` runs it again."""
    invitations = "1 invitation" if count == 1 else f"{count:,} invitations"
    heading = f"The wait for {invitations} of {organization} is over"
    who = f" (to {lists.names(people)})" if people else ""
    lost = (
        f"Microsoft never answered {invitations} sent for {organization}, so {'it' if count == 1 else 'they'}"
        f" may have gone out{who}. For ten minutes its directory search might not have shown the new guests,"
        " and that time is over."
    )
    does = (
        "it looks for each of them in the directory, sends a guest it finds their own link to accept, with"
        " no second email, and invites whoever it does not find. Until then they may have no invitation to"
        " accept."
    )
    if not command:
        then = (
            f"`invite` does not fit while the migration is {state}: `status {organization}` says what comes"
            f" first. Then run `invite {organization}`: {does}"
        )
        return Message(heading, (Heading(heading), Text(lost), Text(then)))
    label = "Resume" if command == "resume" else "Invite missing users"
    now = f"Run `{command} {organization}` now: {does}"
    if stuck_since is not None:
        now = (
            f"The migration still reads {state}, but its step has not moved since"
            f" {dates.day_and_time(stuck_since)}: it stopped without finishing (a restart or a crash), and"
            f" nothing looks at {'it' if count == 1 else 'them'} until it runs again. {now}"
        )
    button = Button(label, command, organization, "primary")
    return Message(heading, (Heading(heading), Text(lost), Text(now), Actions((button,))))


def advance_notice_dm(
    *, organization: str, tenant: str, name: str, when: str, lines: Sequence[str]
) -> Message:
    heading = (
        f"Coming {when}: {organization} moves to {tenant} accounts"
        if when
        else (f"Coming soon: {organization} moves to {tenant} accounts")
    )
    return Message(heading, (Heading(heading), Text(f"Hi {name},"), Text("\n".join(lines))))


def announced(result: AnnounceResult, *, shared: bool = False) -> list[Outgoing]:
    """`shared`: asked in a channel, which reads how many were not told and why; who they are goes to the
    admin who asked alone (people's names are their addresses, which are not for the whole channel)."""
    status = result.status
    when = f" for {result.when}" if result.when else ""
    if result.typed and result.typed.casefold() != result.when.casefold():
        when += f" (you wrote “{result.typed}”; I count days in UTC)"
    since = dates.day_and_time(result.since)
    if result.queued:
        text = (
            f"Telling {lists.of_people(result.queued, result.users)} what is coming{when}, by direct message"
            + (f" (the others were told on {since})" if result.queued < result.users else "")
            + f". The messages are on their way; `status {status.organization}` shows who could not be"
            " reached."
        )
    else:
        text = (
            f"Everyone has already been told{when}, on {since}; nobody gets it twice. Give a new date to"
            " tell them again."
        )
    named = _not_told(result)
    if shared and named:
        held = sum(len(addresses) for _, addresses in result.held_back)
        counted = [
            f"{plan_views.people(len(result.left_out))} whose only directory account is disabled"
            if result.left_out
            else "",
            f"{plan_views.people(held)} who would share one directory account" if held else "",
        ]
        text += (
            f" Not told: {' and '.join(part for part in counted if part)}."
            f" {_for_you_alone('Who, and what to do,')}"
        )
    elif named:
        text += f" {named}"
    answer = Outgoing(Message(text, with_next([Text(text)], status, everyone_told=True)))
    if not (shared and named):
        return [answer]
    heading = f"Not told about {status.organization}, by name"
    return [answer, say(heading, Heading(heading), Text(named), private=True)]


def _not_told(result: AnnounceResult) -> str:
    lines = []
    if result.left_out:
        accounts = "account is" if len(result.left_out) == 1 else "accounts are"
        lines.append(
            f"Not told: {lists.names(result.left_out)}, whose only directory {accounts} disabled (likely"
            f" someone who left): remove them before connecting (`stale-users {result.status.organization}`,"
            " then `remove-users`); if they still need access, have the account enabled and `recheck`, then"
            " `announce` again reaches them."
        )
    if result.held_back:
        lines.append(held_back_line(result))
    return " ".join(lines)


def held_back_line(result: AnnounceResult) -> str:
    """Who `announce` did not tell as several of them would get one directory account: any notice would be
    wrong for all but one (one would keep their tokens, another would read that an admin maps them to an
    account the mapping cannot give them). The fix is the failing check's."""
    groups = "; ".join(f"{lists.names(addresses)} → {account}" for account, addresses in result.held_back)
    check = next((each for each in result.status.checks if each.code == SHARED_ACCOUNT), None)
    fix = f" {check.fix}" if check is not None and check.fix else ""
    return (
        f"Not told yet: {groups}. Several people would get one directory account, which only one can keep,"
        f" so what I would tell each of them depends on your decision.{fix} Once you have decided, I tell"
        " whoever keeps it at once, and whoever loses access hears it when the lists go out; fixed in the"
        " directory instead, `announce` again after the `recheck` tells them."
    )


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
