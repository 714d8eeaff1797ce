"""Ending a migration in words: billing moved to the directory, who `complete` would leave behind, the
confirmations both ends ask for, and what the channel, the people told of the move and the connector hear
once it has ended."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation import lists, plan_views
from bot.conversation.messages import (
    Actions,
    Block,
    Button,
    Heading,
    Message,
    Outgoing,
    Text,
    greeting_name,
    say,
)
from bot.conversation.next_actions import cancel_question, with_next
from bot.conversation.quoting import quoted, untick
from bot.conversation.sign_in_views import count_of_people, people_counted
from bot.conversation.todo_views import WAITING_FOR, closed_in_doubt
from bot.conversation.unnamed import without_addresses
from workflows.plan import NO_ACCESS
from workflows.results import Actor, MigrationStatus
from workflows.results_closing import BillingResult, CalledOff, CalledOffDelivery, Completion, LeftBehind
from workflows.results_todo_lists import TodoEntry
from workflows.todo import INVITATION_IN_DOUBT

CONFIRM = "confirm"
"""The word after `complete ORG` that closes a migration although people would be left behind."""


def billing(result: BillingResult) -> Outgoing:
    blocks: list[Block] = [Heading(f"Billing for {result.status.organization}"), Text(result.message)]
    return Outgoing(Message(result.message, with_next([*blocks, *_steps(result)], result.status)))


def billing_first(result: BillingResult) -> Outgoing:
    """`complete` asked before billing was confirmed: the look it made just now found it unmoved."""
    organization = result.status.organization
    heading = f"`complete` waits for the billing of {organization} to move"
    text = (
        f"Microsoft's procedure ends with billing in {result.status.directory_name}, and it is not there yet:"
        f" I looked just now. {result.message}"
    )
    blocks: list[Block] = [Heading(heading), Text(text), *_steps(result)]
    return Outgoing(Message(heading, with_next(blocks, result.status)))


def _steps(result: BillingResult) -> list[Block]:
    numbered = (f"{number}. {step}" for number, step in enumerate(result.steps, start=1))
    return [Text("\n".join(numbered))] if result.steps else []


def left_behind_lines(left: LeftBehind, *, named: bool = True) -> list[str]:
    """One line per way a person can be left behind, each naming them, or (not `named`: a channel's copy)
    counting them."""
    ways = (
        (left.no_way_in, "no way in yet (no directory account, a disabled one, or several to choose from)"),
        (left.open, "items still open"),
        (left.not_signed_in, "not been seen signing in with their work or guest account"),
    )
    return [_left_line(people, what, named=named) for people, what in ways if people]


def _left_line(people: Sequence[str], what: str, *, named: bool) -> str:
    counted = people_counted(len(people), "has", "have")
    return f"• {counted} {what}: {lists.names(people)}" if named else f"• {counted} {what}."


def confirm_complete(completion: Completion) -> Outgoing:
    """Nothing was closed: who would be left behind, and the button (or words) that closes it anyway."""
    status, left = completion.status, completion.left
    organization = status.organization
    heading = f"Not completed yet: {organization} would leave people behind"
    decide = (
        f" {lists.names(left.undecided)} {'waits' if len(left.undecided) == 1 else 'wait'} for your"
        f" decision: say `decide {organization} PERSON ACCOUNT|{NO_ACCESS}` for each (`plan` shows their"
        " choices)."
        if left.undecided
        else ""
    )
    blocks: list[Block] = [
        Heading(heading),
        Text("\n".join(left_behind_lines(left))),
        Text(
            "Once it is complete, nobody is reminded any more and `invite` no longer runs for it."
            f" `progress {organization}` has everyone's details.{decide} To close it anyway, press"
            f" *Complete anyway* or say `complete {organization} {CONFIRM}`."
        ),
        Actions(
            (
                Button(
                    "Complete anyway",
                    "complete",
                    f"{organization} {CONFIRM}",
                    "danger",
                    _complete_anyway(organization, left),
                ),
            )
        ),
    ]
    return say(heading, *blocks, private=True)  # private: people's addresses


def _complete_anyway(organization: str, left: LeftBehind) -> str:
    """The question *Complete anyway* asks, counting as Microsoft's procedure does: who cannot get in (no
    way in, or not seen signing in), apart from who signed in and has only clean-up left, such as the Git
    credential cache (walk37 16)."""
    out = {*left.no_way_in, *left.not_signed_in}
    cleaning_up = len(set(left.open) - out)
    counted = (
        [f"{len(out):,} of {left.people:,} people not able to get in or not seen signing in"] if out else []
    )
    if cleaning_up:
        more = " more" if out else ""
        counted.append(
            f"{cleaning_up:,}{more} who signed in with only clean-up items left (such as clearing the Git"
            " credential cache)"
        )
    return f"Complete {organization}, leaving {' and '.join(counted)}? Reminders stop for everyone."


def completed(
    status: MigrationStatus, left: LeftBehind | None = None, *, shared_by: Actor | None = None
) -> Message:
    """`shared_by`: this is the copy in the migration's channel, which counts who was left behind; their
    names are their addresses, which go to the admin who closed it alone (`left_behind_named`)."""
    text = f"🏁 The move of {status.organization} to {status.directory_name} is complete."
    blocks: list[Block] = [
        Heading(text),
        plan_views.counts_facts(status.counts, status.checks, switched=True),
    ]
    if left is not None and left.anyone:
        lines = left_behind_lines(left, named=shared_by is None)
        where = f"Their lists stay readable: `progress {status.organization}`."
        if shared_by is not None:
            where = (
                f"{_names_go_to(shared_by, 'the admin who closed it')} Any admin may ask me `progress"
                f" {status.organization}` in a direct message for everyone's list."
            )
        blocks.append(
            Text(
                "Completed with people left behind; reminders have stopped:\n"
                + "\n".join(lines)
                + f"\n{where}"
            )
        )
    return Message(text, tuple(blocks))


def _names_go_to(actor: Actor, unnamed: str) -> str:
    """Under a channel's notice that counted people: where their names went."""
    return (
        f"📬 Who, by name, goes to {actor.name or unnamed} alone, in a message only they see: people's names"
        " are their addresses, which are not for the whole channel."
    )


def left_behind_named(status: MigrationStatus, left: LeftBehind) -> Outgoing:
    """To the admin who closed a migration whose channel counted who it left behind: who they are."""
    heading = f"Left behind by the completion of {status.organization}, by name"
    lines = "\n".join(left_behind_lines(left))
    text = f"{lines}\nTheir lists stay readable: `progress {status.organization}`."
    return say(heading, Heading(heading), Text(text), private=True)


def left_behind_dm(
    *,
    organization: str,
    tenant: str,
    name: str,
    closed_by: str,
    items: Sequence[TodoEntry],
    waiting_item: str = "",
    mailed: bool = False,
) -> Message:
    """The last word to someone a completed migration left behind: reminders have stopped, what is still
    open on their list (or that they still have no way in), and the admin to ask, who closed it. `mailed`:
    the invitation they wait on went out, its link never fetched (`todo_views.MAILED_BUT_CLOSED`); else one
    they wait on may have (`todo_views.UNCONFIRMED_BUT_CLOSED`)."""
    target = tenant or "your company's directory"
    heading = f"The move of {organization} to {target} accounts is closed"
    said = (
        f"Hi {name}, {closed_by} closed the migration of {organization}: I send no more reminders, and"
        " nobody follows your list any more."
    )
    if waiting_item == INVITATION_IN_DOUBT:  # `mailed` is only ever said of this wait
        where = f"{closed_in_doubt(mailed)} Your list as it stands:"
    elif waiting_item:
        why = WAITING_FOR.get(waiting_item, "to act on your account")
        where = (
            f"You still have no way in: {closed_by} or another admin of {organization} needs {why}, and"
            f" until then you cannot sign in to {organization} with a {target} account. Your list as it"
            " stands:"
        )
    else:
        where = "These items of your list are still open, and they still apply to you:"
    lines = [f"{item.number}. {item.title}" if item.number else f"• {item.title}" for item in items]
    ask = f"`todo` shows the steps. Ask {closed_by} if you are stuck or unsure what still applies."
    return Message(heading, (Heading(heading), Text(f"{said} {where}"), Text("\n".join(lines)), Text(ask)))


def confirm_cancel(status: MigrationStatus, reason: str = "") -> Outgoing:
    """A bare `cancel`, or `cancel REASON`: which migration it would end, and the button that does."""
    organization = status.organization
    heading = f"Cancel the migration of {organization}?"
    read_as = (
        f"`{untick(reason.split()[0])}` is not a migration I know, so I read “{quoted(reason)}” as the reason"
        f" for cancelling {organization}, the only migration in progress. "
        if reason
        else ""
    )
    text = (
        f"{read_as}It is {status.state.replace('_', ' ')}. Cancelling ends it for good: everyone who was"
        " told about the move, or invited for it, hears that it is off, and whoever holds the portal steps"
        " is told not to connect. "
        + (
            f"To name the migration yourself, say `cancel {organization} REASON`."
            if reason
            else f"To cancel with a reason, say `cancel {organization} REASON`."
        )
    )
    value = f"{organization} {reason}".strip()
    button = Button(
        f"Cancel migration of {organization}", "cancel", value, "danger", cancel_question(organization)
    )
    return say(heading, Heading(heading), Text(text), Actions((button,)), private=True)


def cancelled(
    status: MigrationStatus, actor: Actor, told: Sequence[CalledOff] = (), *, shared: bool = False
) -> Message:
    """`shared`: the copy a channel reads, which counts whom the cancel told and who stays invited; their
    names, which are their addresses, go to `actor` alone (`cancelled_named`); a reason naming someone
    says them without their address there (the admin who typed it knows whom it meant)."""
    reason = status.blocked_reason or ""
    if shared:
        name = actor.name or "An admin"
        reason = without_addresses(reason, {actor.email.casefold(): actor.name} if actor.name else {})
    else:
        name = actor.name or actor.email
    said = f": {quoted(reason)}" if reason else " (no reason given)"
    text = f"{name} cancelled the migration of {status.organization}{said}. Nothing more happens."
    lines = [text, *_told_lines(status, told, named=not shared)]
    if shared and told:
        lines.append(_names_go_to(actor, "the admin who cancelled it"))
    return Message(text, (Text("\n".join(lines)),))


def cancelled_named(status: MigrationStatus, told: Sequence[CalledOff]) -> Outgoing:
    """To the admin who cancelled a migration whose channel counted whom it told: who they are."""
    heading = f"Who hears that {status.organization} is off, by name"
    return say(heading, Heading(heading), Text("\n".join(_told_lines(status, told))), private=True)


def _told_lines(status: MigrationStatus, told: Sequence[CalledOff], *, named: bool = True) -> list[str]:
    """Whom the cancel is telling that the move is off, and the guests it leaves in the directory: named,
    or (a channel's copy) counted."""
    organization, directory = status.organization, status.directory_name
    lines = []
    if told:
        telling = (
            f"Telling by direct message that the move is off: {lists.names([p.email for p in told])}."
            if named
            else f"Telling {count_of_people(len(told))} by direct message that the move is off."
        )
        lines.append(
            f"{telling} The messages are on their way; `status {organization}` shows"
            f" {'who' if named else 'how many'} could not be reached."
        )
    invited = [person.email for person in told if person.invited]
    if invited:
        stay = (
            f"Guests invited for the move stay in {directory}'s directory: {lists.names(invited)}."
            if named
            else f"{_guests(len(invited))} invited for the move stay in {directory}'s directory."
        )
        lines.append(
            f"{stay} Delete them in the Microsoft Entra admin center (Users) if they should not stay."
        )
    return lines


def _guests(count: int) -> str:
    return "1 guest" if count == 1 else f"{count:,} guests"


def called_off_lines(
    organization: str, delivery: CalledOffDelivery, *, named: bool = True, told_apart: str = ""
) -> list[Block]:
    """For `status` of a cancelled migration: who has read that the move is off, and who could not; not
    `named` (a channel's copy), how many, then `told_apart`: where their names go, if anywhere."""
    if not (delivery.reached or delivery.waiting or delivery.unreached):
        return []
    told = f"Told that the move is off: {len(delivery.reached):,}"
    if delivery.waiting:
        waiting = lists.names(list(delivery.waiting)) if named else count_of_people(len(delivery.waiting))
        told += f"; still on the way to {waiting}"
    blocks: list[Block] = [Text(told + ".")]
    if delivery.unreached and named:
        blocks.extend(_unreached(organization, delivery))
    elif delivery.unreached:
        counted = count_of_people(len(delivery.unreached))
        blocks.append(Text(f"⚠️ {counted} could not be reached, so they may still expect the move."))
    if told_apart and not named and (delivery.waiting or delivery.unreached):
        blocks.append(Text(told_apart))
    return blocks


def called_off_named(organization: str, delivery: CalledOffDelivery) -> list[Outgoing]:
    """To an admin who asked `status` of a cancelled migration in a channel, which counted them: whom "it is
    off" has still to reach, and whom it could not, by name."""
    if not (delivery.waiting or delivery.unreached):
        return []
    heading = f"Not yet told that {organization} is off, by name"
    blocks: list[Block] = [Heading(heading)]
    if delivery.waiting:
        blocks.append(Text(f"Still on the way to {lists.names(list(delivery.waiting))}."))
    if delivery.unreached:
        blocks.extend(_unreached(organization, delivery))
    return [say(heading, *blocks, private=True)]


def _unreached(organization: str, delivery: CalledOffDelivery) -> list[Block]:
    """Who could not be reached, and why: the first `lists.ROW_LIMIT` in chat, everyone in a CSV beside."""
    rows = delivery.unreached
    title = f"Not told that {organization} is off"
    return [
        Text("⚠️ Could not be reached, so they may still expect the move; tell them another way:"),
        *lists.table_and_csv(
            ("User", "Why"),
            rows,
            ("not-told-it-is-off.csv", title, ("user", "why"), rows),
            organization=organization,
        ),
    ]


def called_off_dm(person: CalledOff) -> Message:
    """To someone who was told of the move, or invited for it: it is off."""
    heading = f"Called off: {person.organization} is not moving to {person.tenant} accounts"
    if person.announced_for:
        said = f"The change announced for {person.announced_for} is off."
    elif person.announced_for is not None:
        said = "The change you were told about is off."
    else:
        said = f"The move of {person.organization} to {person.tenant} accounts is off."
    greeted = greeting_name(person.display_name) or person.email
    lines = [f"Hi {greeted},", f"{said} Keep signing in as you do today."]
    if person.invited:
        lines.append(f"You can ignore Microsoft's invitation to join {person.tenant}.")
    if person.reason:
        lines.append(f"The admins' reason: {quoted(person.reason)}")
    return Message(heading, (Heading(heading), Text("\n".join(lines))))


def portal_withdrawn(status: MigrationStatus) -> Message:
    """The connector's portal steps, replaced: the migration was cancelled."""
    heading = f"Do not connect {status.organization} to {status.directory_name}"
    reason = f" ({status.blocked_reason})" if status.blocked_reason else ""
    text = (
        f"The migration was cancelled{reason}, so the portal steps you had are withdrawn: do not select"
        " *Connect*. If you already did, tell the migration admins at once."
    )
    return Message(heading, (Heading(heading), Text(text)))
