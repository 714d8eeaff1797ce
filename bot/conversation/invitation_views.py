"""Invitations in words: `invite`'s answer with each person's result (what needs an admin's eye first),
what the channel it was asked in reads of it, and the end of the wait for invitations Microsoft never
answered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.conversation import dates, lists
from bot.conversation.messages import Actions, Block, Button, Channel, Heading, Message, Outgoing, Text
from bot.conversation.next_actions import everyone_told, with_next
from workflows.results import Actor, InviteResult
from workflows.results_preparing import Told
from workflows.stages.invite_summary import counted

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

_SETTLED = frozenset({"sent", "re-invited", "already-invited", "found"})
"""Outcomes another `invite` would only find again: the person has their invitation or their account."""


def invited(result: InviteResult, told: Told | None = None, *, shared: bool = False) -> list[Outgoing]:
    """`told`: how the advance notice went out, while it still may. `shared`: asked in a channel, which
    reads how many (`invited_in_channel`): this answer, with each person's result, is for the admin who
    asked alone (people's names are their addresses, which are not for the whole channel)."""
    organization = result.status.organization
    blocks: list[Block] = [Heading(f"Invitations for {organization}"), Text(result.message)]
    blocks.extend(_invitations_named(result))
    content = with_next(
        blocks, result.status, everyone_told=everyone_told(told), everyone_invited=_everyone_invited(result)
    )
    return [Outgoing(Message(result.message, content, private=shared))]


def _everyone_invited(result: InviteResult) -> bool:
    """Whether the run went to its end with each person invited or found: run again it invites nobody.
    Not after a refusal, a stop, or someone Microsoft failed or never answered: `invite` is their retry."""
    return not result.denied and result.stopped is None and all(o.status in _SETTLED for o in result.outcomes)


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
