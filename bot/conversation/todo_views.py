"""The person's own to-do list as they ask for it: `todo` (the list, a completed migration's, or before it
comes: an invitation to accept, what the move does to them, a wait the admins settle first), what the admins
must do first on a list that waits on them, and ticking items off (`done`).

Each item is `todo_item_views`'s; the messages that bring the list and its changes, or losing access instead,
`list_message_views`'s; help with an item and saying which account is theirs `item_help_views`'s. The
admins' views of the lists are in `progress_views` (their digest in `digest_views`), the reminders in
`reminder_views`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation.messages import Actions, Block, Button, Heading, Outgoing, Text, say
from bot.conversation.todo_item_views import MY_ACCOUNT, bullet, item_blocks, item_buttons
from faq import admins_named
from workflows.informing import BeforeTheList, the_admins
from workflows.invitation_email import FROM, NONE_CAME_ONCE_CLOSED, REDEMPTION_PAGE
from workflows.results import Actor
from workflows.results_standing import HeldBack, InvitationToAccept
from workflows.results_todo_lists import AccessLost, Closure, MarkDoneResult, TodoEntry
from workflows.todo import ASK_FOR_ACCESS, CHOOSING_ITEM, ENABLE_ACCOUNT, INVITATION_IN_DOUBT, required

WAITING_FOR = {
    CHOOSING_ITEM: "to decide which of the directory accounts that share your address is yours",
    ENABLE_ACCOUNT: "to have your disabled directory account enabled, or to choose another one",
    ASK_FOR_ACCESS: "to give you a way in: an invitation to the directory as a guest, or a work account",
    INVITATION_IN_DOUBT: "to find out whether your invitation went out, and to send it if it did not",
}
"""What the admins must do first, by the item that stands for the wait (`workflows.waiting`)."""
MAILED_BUT_CLOSED = (
    "Microsoft sent your invitation email: accept it from there (look in junk or spam too), and you can sign"
    " in."
)
"""Where someone stands whose invitation email went out, its link lost (`interrupted_invitations.mailed`),
once the migration is closed: nobody fetches that link any more, and the email is their way in."""
UNCONFIRMED_BUT_CLOSED = (
    "Your invitation email may have gone out (Microsoft never confirmed it): if you find it (look in junk or"
    f" spam too), accept it from there, and you can sign in; {NONE_CAME_ONCE_CLOSED}."
)
"""Where someone stands whose invitation Microsoft never confirmed, once the migration is closed: nobody
finds out any more whether it went out, nor sends it (`invite` no longer runs for it)."""


def closed_in_doubt(mailed: bool) -> str:
    """Where someone waiting on an invitation that may have gone out stands once the migration is closed."""
    return MAILED_BUT_CLOSED if mailed else UNCONFIRMED_BUT_CLOSED


def item_numbers(numbers: Sequence[int]) -> str:
    """The numbers of a list's items in as few words as say them right: `1 to 4`; `1, 2, 3 and 5` once an
    item left it (the others keep their numbers); `1` alone."""
    if len(numbers) == 1:
        return str(numbers[0])
    if list(numbers) == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]} to {numbers[-1]}"
    return f"{', '.join(str(each) for each in numbers[:-1])} and {numbers[-1]}"


def you_lost_access(lost: AccessLost, nothing: str = "Nothing") -> str:
    """Who decided they lose access, that their history is kept, and whom to ask: their notice
    (`access_lost_dm`) and `todo` say it alike."""
    who = f"{lost.decided_by}, a migration admin," if lost.decided_by else "A migration admin"
    ask = lost.decided_by or "the migration admins"
    return (
        f"{who} decided that you lose access to {lost.organization}. Your work items, commits and history"
        f" stay in the organization under your old name. {nothing} for you to do; if you still need access,"
        f" ask {ask}."
    )


NO_OWN_LIST = "You have no to-do list of your own. As a migration admin, this is what you can do next:"
"""`todo` (or "what's left") from an admin with no list: their next steps stand in for it."""


def todo_list(entries: Sequence[TodoEntry], actor: Actor, *, lost: Sequence[AccessLost] = ()) -> Outgoing:
    """`lost`: where an admin decided they lose access, which is why they have no list there."""
    if not entries and lost:
        told = " ".join(you_lost_access(each) for each in lost)
        return say(f"You have no to-do list. {told}", private=True)
    if not entries:
        return say("You have no to-do items: nothing for you to do in any migration right now.", private=True)
    asked = required(entries)
    open_items = [entry for entry in asked if not entry.done_at]
    if entries[0].closed is not None:
        return closed_list(entries, len(open_items))
    heading = f"Your to-do list for {entries[0].organization}: {len(open_items)} of {len(asked)} open"
    if len(asked) < len(entries):
        heading += f", {len(entries) - len(asked)} optional"
    return say(heading, Heading(heading), *item_blocks(entries), private=True)


def closed_list(entries: Sequence[TodoEntry], still_open: int) -> Outgoing:
    """The list of a completed migration: nobody follows it any more, so no buttons, nor words pointing to
    them; what is still open and whom to ask: who completed it, as their last message from the migration
    said, or for who did, another admin."""
    first = entries[0]
    organization, closure = first.organization, first.closed
    assert closure is not None
    heading = f"Your to-do list for {organization}: closed, {still_open} still open"
    if not still_open:
        heading = f"Your to-do list for {organization}: closed, all done"
    closer, who = ("You", "you") if closure.by_them else (closure.by, closure.by)
    waiting = next((entry.key for entry in entries if entry.key in WAITING_FOR and not entry.done_at), "")
    if waiting == INVITATION_IN_DOUBT:
        where = closed_in_doubt(closure.mailed)
    elif waiting:
        where = (
            f"You still have no way in: {who} or another admin of {organization} needs"
            f" {WAITING_FOR[waiting]}."
        )
    elif still_open:
        where = "The open items below still apply to you."
    else:
        where = "Nothing is left for you to do."
    text = (
        f"{closer} closed the migration of {organization}: no more reminders come, and nobody follows this"
        f" list any more. {where} {_whom_to_ask(organization, closure)}"
    )
    return say(heading, Heading(heading), Text(text), *item_blocks(entries, live=False), private=True)


def _whom_to_ask(organization: str, closure: Closure) -> str:
    """A person to turn to once nobody follows the list, never the reader: who completed the migration, or
    for them another admin; failing one, their help desk."""
    if not closure.by_them:
        return f"Ask {closure.by} if you are stuck or unsure what still applies."
    if closure.other_admins:
        others = admins_named(closure.other_admins)
        return (
            f"If you are stuck or unsure what still applies, ask another admin of {organization}: {others}."
        )
    return (
        f"I know of no other admin of {organization}: if you are stuck or unsure what still applies, ask your"
        " help desk (Organization settings > Permissions > Project Collection Administrators shows whether"
        f" {organization} has another admin)."
    )


def before_the_switch(invitations: Sequence[InvitationToAccept]) -> Outgoing:
    """An invitee's list until the lists go out: accepting the invitation before the switch, as their notice
    and the FAQ ask; ticked once the directory shows it accepted (no Done button: the directory says it)."""
    first = invitations[0]
    open_count = sum(not each.accepted for each in invitations)
    heading = (
        f"Your to-do list for {first.organization} before the switch: {open_count} of {len(invitations)} open"
    )
    blocks: list[Block] = [Heading(heading)]
    for number, each in enumerate(invitations, start=1):
        by = f"by {each.by}, before the switch" if each.by else "before the switch"
        title = f"Accept the invitation sent to {each.address}"
        if each.accepted:
            blocks.append(Text(f"✅ *{title}*: the directory shows it accepted."))
            continue
        taken_back = f"{each.taken_back} " if each.taken_back else ""
        blocks.append(
            Text(
                f"{number}. *{title}* ({by})\n{taken_back}Open Microsoft's invitation email from"
                f" {FROM} and select *Accept invitation*, or you lose access at the switch (your history is"
                " kept). Until the switch, keep signing in as you do today. More: " + REDEMPTION_PAGE
            )
        )
        if each.redeem_url:
            blocks.append(
                Actions((Button("Accept the invitation", "accept-invitation", url=each.redeem_url),))
            )
    return say(heading, *blocks, private=True)


def before_the_list(ahead: BeforeTheList) -> Outgoing:
    """`todo` before the lists go out: what the move does to them and asks of them until then, as their
    advance notice said it (*Choose my account* when they may say which account is theirs), and when their
    list comes."""
    organization, target = ahead.organization, ahead.tenant or "your company's directory"
    heading = f"Your to-do list for {organization} is not out yet"
    if ahead.connected:
        comes = (
            f"{organization} now signs in with {target} accounts: your own to-do list comes by direct message"
            " once the migration admins send the lists."
        )
    else:
        date = f"announced for {ahead.announced}" if ahead.announced else "no date is announced yet"
        comes = (
            f"Your own to-do list comes by direct message once {organization} moves to {target} accounts"
            f" ({date}). Until then, keep signing in as you do today."
        )
    happens = ahead.happens
    if ahead.outcome in ("auto", "map") and not ahead.connected:
        happens += " Nothing is asked of you before then."
    blocks: list[Block] = [Heading(heading), Text(f"{happens}\n{comes}")]
    if ahead.choosing:
        blocks.append(Actions((Button("Choose my account", MY_ACCOUNT, organization),)))
    return say(heading, *blocks, private=True)


def held_back(waits: Sequence[HeldBack]) -> Outgoing:
    """Before the switch, someone the advance notice left out as someone else would get their directory
    account too: the admins settle which one keeps it first, and only then can they be told what to do.
    The other person is not named: they may be someone else."""
    lines = [
        f"Before {each.organization} moves, {the_admins(each.admins)} must settle one thing about your"
        f" account: another Azure DevOps identity in {each.organization} would get the same directory"
        f" account, {each.account}, and only one can keep it. Until they have, there is nothing for you to"
        " do and I cannot yet tell you what the move means for you; I tell you once they have decided. If"
        " both identities are yours, tell them which one you use every day."
        for each in waits
    ]
    return say(lines[0], *(Text(line) for line in lines), private=True)


def which_done(entries: Sequence[TodoEntry]) -> Outgoing:
    """`done` without saying which item: the newest list's open items, each with the words that tick it off
    and its buttons; or that nothing is left."""
    open_items = [entry for entry in entries if not entry.done_at]
    if not open_items:
        return say(
            f"Your to-do list for {entries[0].organization} is all done: nothing left to tick off.",
            private=True,
        )
    # a completed migration's list has no buttons, nor words pointing to them (`closed_list`)
    live = entries[0].closed is None
    heading = (
        f"Which one did you do? Say `done N` with its number{', or press its Done button' if live else ''}:"
    )
    blocks: list[Block] = [Text(heading)]
    for item in open_items:
        typed = f": `done {item.number}`" if item.number else ""  # numbered lists only (`TodoEntry.number`)
        blocks.append(Text(f"{bullet(item)} *{item.title}*{typed}"))
        blocks.extend([item_buttons(item)] if live else [])
    return say(heading, *blocks, private=True)


def marked_done(result: MarkDoneResult, entries: Sequence[TodoEntry], actor: Actor) -> Outgoing:
    """The tick, then the list as it now stands, in one message: Teams showed two, one after the other."""
    if result.already_done:
        tick = f"*{result.item.title}* was already done."
    else:
        tail = (
            "That was the last one: all done, thank you!"
            if result.remaining == 0
            else f"{result.remaining} to go."
        )
        tick = f"✅ *{result.item.title}* done. {tail}"
    if result.awaits_mapping:  # not done-and-fine: the mapping it needs has not been seen
        closed = any(entry.closed for entry in entries if entry.id == result.item.id)
        tick += f" {MAPPING_NOT_SEEN_CLOSED if closed else MAPPING_NOT_SEEN}"
    return say(tick, Text(tick), *todo_list(entries, actor).message.blocks, private=True, revises=True)


MAPPING_NOT_SEEN = (
    "But Azure DevOps still shows you on your Microsoft account: the migration admins have yet to map your"
    " old identity to your work account, and until they have it refuses your work account and your history"
    " is not yet with it. Ask them if it takes long (*I need help* on the item); I tick it as seen once you"
    " sign in after the mapping."
)
"""Someone mapped by hand who ticks signing in before Azure DevOps shows the mapping."""
MAPPING_NOT_SEEN_CLOSED = (
    "But I never saw Azure DevOps show your old identity mapped to your work account before the migration"
    " closed: until the migration admins map it, Azure DevOps refuses your work account and your history is"
    " not with it. I no longer look for it: if Azure DevOps refuses your work account, the list below says"
    " whom to ask."
)
"""The same on a completed migration's list: the sign-in watch no longer runs, and the list has no buttons."""
