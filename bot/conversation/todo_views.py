"""The person's own to-do list after connecting: the list as it first arrives and as it changes, losing
access instead, `todo` and ticking items off, and help with an item (the answer, and the admins' word of it).

The admins' views of the lists are in `progress_views` (their digest in `digest_views`), the reminders in
`reminder_views`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.conversation import faq_views, plan_views
from bot.conversation.messages import Actions, Block, Button, Heading, Message, Outgoing, Text, say
from faq import admins_named
from workflows.identities import mailbox
from workflows.invitation_email import FROM, REDEMPTION_PAGE
from workflows.plan import PlannedUser
from workflows.results import (
    BOT,
    AccessLost,
    Actor,
    Closure,
    HeldBack,
    InvitationToAccept,
    MarkDoneResult,
    TodoEntry,
)
from workflows.todo import (
    ACCEPT_INVITATION,
    ASK_FOR_ACCESS,
    CHOOSING_ITEM,
    ENABLE_ACCOUNT,
    INVITATION_IN_DOUBT,
    OPTIONAL_ITEMS,
    BeforeTheList,
    accepted,
    link_fetched,
    on_a_closed_list,
    required,
    the_admins,
    without_help_button,
)

BY_ID = "#"
"""In front of the id a button carries (`done #57`), where a typed number is a place on the list."""
MY_ACCOUNT = "my-account"
"""How someone several directory accounts match says which one is theirs: `my-account [ORG] [ACCOUNT]`."""


@dataclass(frozen=True)
class Choosing:
    """Someone several directory accounts match, no admin having decided which is theirs: the accounts."""

    organization: str
    person: str
    """Their entitlement id, as `decide` takes it."""
    accounts: tuple[tuple[str, str], ...]
    """Each account's object id and sign-in name."""

    @classmethod
    def of(cls, organization: str, person: PlannedUser) -> Choosing:
        accounts = tuple(zip(person.candidates, person.candidate_names, strict=False))
        return cls(organization, person.id, accounts)

    @property
    def names(self) -> str:
        return ", ".join(name for _, name in self.accounts)


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
    " spam too), accept it from there, and you can sign in; if none came, you still have no way in."
)
"""Where someone stands whose invitation Microsoft never confirmed, once the migration is closed: nobody
finds out any more whether it went out, nor sends it (`invite` no longer runs for it)."""


def closed_in_doubt(mailed: bool) -> str:
    """Where someone waiting on an invitation that may have gone out stands once the migration is closed."""
    return MAILED_BUT_CLOSED if mailed else UNCONFIRMED_BUT_CLOSED


def todo_list_dm(
    *,
    organization: str,
    tenant: str,
    name: str,
    notes: Sequence[str],
    items: Sequence[TodoEntry],
    waiting_item: str = "",
    admins: Sequence[str] = (),
    awaits_mapping: bool = False,
    mailed: bool = False,
) -> Message:
    """`waiting_item`: the item that says they wait on the migration `admins` (who can act), if one does;
    `awaits_mapping`: someone the admins map by hand, whose sign-in waits for it (`workflows.waiting`);
    `mailed`: the invitation their first item says to look for is known to have gone out."""
    target = tenant or "your company's directory"
    intro = f"Hi {name}, {organization} on Azure DevOps now uses {target} accounts."
    if waiting_item == INVITATION_IN_DOUBT and mailed:
        intro += (
            " Before you can sign in, accept the invitation Microsoft sent you: the first item says what to"
            " look for. The items after it can only be done once you have. Meanwhile"
            f" {link_fetched(the_admins(admins))}; I remind you once to look for it."
        )
    elif waiting_item == INVITATION_IN_DOUBT:  # their part is to look for it: reminded once, not chased
        intro += (
            f" Before you can sign in, {the_admins(admins)} need {WAITING_FOR[waiting_item]}: the first item"
            " says what to look for meanwhile. The items after it can only be done once you have accepted"
            " it. I remind you once to look for it, and tell you as soon as they know."
        )
    elif waiting_item:
        who = the_admins(admins)
        why = WAITING_FOR.get(waiting_item, "to act on your account")
        intro += f" Before you can sign in, {who} need {why}: the first item says how to help them."
        if len(items) > 1:
            intro += (
                " The items after it can only be done once they have; I tell you then, and send no reminders"
                " until then."
            )
        else:  # someone whose only account is disabled: if they left, nothing is theirs to do
            intro += " It is all your list holds, and I send no reminders until they have."
    elif awaits_mapping:
        intro += (
            f" Before you can sign in, {the_admins(admins)} need to map your old identity to your work"
            " account, which keeps your history yours: until they have, Azure DevOps refuses your work"
            " account. Meanwhile, do what needs no sign-in (clearing your Git credential cache, say); once"
            " they have, sign in and do the rest. Press Done as you go."
        )
    else:
        intro += " Here is what *you* need to do; press Done as you go."
    blocks: list[Block] = [
        Heading(f"Your to-do list: {organization} now signs in with {target}"),
        Text(intro),
    ]
    if notes:
        blocks.append(Text("\n".join(f"• {note}" for note in notes)))
    blocks.extend(_items(items))
    return Message(f"Your to-do list for {organization}", tuple(blocks))


def invited_after_connecting_dm(
    *,
    organization: str,
    tenant: str,
    name: str,
    items: Sequence[TodoEntry],
    invited: bool = True,
    refused: bool = False,
) -> Message:
    """Someone whose list said to ask for an account has a way in now (invited as a guest, or found in
    the directory): the items that replaced that one or joined it. `refused`: the invitation their list said
    may have gone out did not, so it asks for an account again (the item says why)."""
    target = tenant or "your company's directory"
    if refused:
        heading = f"No invitation to {target} went out to you"
        why = (
            f"Hi {name}, your list said your invitation may have gone out: it did not, so there is no email"
            " to look for. I tell you here as soon as you have a way in."
        )
        return _items_changed(heading, why, items, "changed")
    if invited:
        heading = f"You are invited to {target}: {organization} is open to you again"
        how = f"the migration admins invited you as a guest of {target}"
    else:
        heading = f"You have an account in {target}: {organization} is open to you again"
        how = f"you have an account in {target} now"
    return _items_changed(heading, f"Hi {name}, {how}, so you can sign in to {organization} again.", items)


def account_decided_dm(
    *,
    organization: str,
    name: str,
    account: str,
    items: Sequence[TodoEntry],
    corrects: str = "",
    carried_over: bool = False,
    dropped: Sequence[str] = (),
    own_address: str = "",
) -> Message:
    """Someone whose list asked which work account is theirs: the admins decided, and their list says so.
    `own_address`: theirs, which they sign in to a guest account with (its `#EXT#` name is no address).
    `corrects`: the account an earlier decision named, which they may have been told; this one wins.
    `carried_over`: the account is a guest with their own address, which their identity moves to by itself.
    `dropped`: the items they may have read that this account does not call for, now off their list."""
    shown, earlier = _account_named(account, own_address), _account_named(corrects, own_address)
    heading = f"Your work account for {organization} is {shown}"
    why = (
        f"the migration admins recorded {shown} as your account and {_how(carried_over, shown != account)},"
        " so your history stays yours."
    )
    if corrects:
        heading += f", not {earlier}"
        why = f"I told you that {earlier} is your work account. That no longer holds: {why}"
    # what was done for the account decided before is open again for this one
    message = _items_changed(heading, f"Hi {name}, {why}", items, "new, changed or open again")
    if not dropped:
        return message
    gone = "; ".join(f"*{title}*" for title in dropped)
    it, does = ("it", "it does") if len(dropped) == 1 else ("them", "they do")
    signs_in_as = mailbox(account) or own_address or account
    off = Text(
        f"No longer on your list, as {does} not apply to {signs_in_as}: {gone}. Nothing to do for {it}."
    )
    return Message(message.summary, (*message.blocks, off))


def _account_named(account: str, own_address: str) -> str:
    """An account as its owner knows it: a guest's `#EXT#` sign-in name is no address anyone types, the
    address they sign in to it with is."""
    if mailbox(account) or not own_address:
        return account
    return f"the guest account you sign in to with {own_address}"


def item_numbers(numbers: Sequence[int]) -> str:
    """The numbers of a list's items in as few words as say them right: `1 to 4`; `1, 2, 3 and 5` once an
    item left it (the others keep their numbers); `1` alone."""
    if len(numbers) == 1:
        return str(numbers[0])
    if list(numbers) == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]} to {numbers[-1]}"
    return f"{', '.join(str(each) for each in numbers[:-1])} and {numbers[-1]}"


def _how(carried_over: bool, named_as_guest: bool = False) -> str:
    """How their identity gets to the account the admins recorded (`named_as_guest`: already said to be a
    guest they sign in to with their own address)."""
    if carried_over and named_as_guest:
        return "your identity carries over to it by itself"
    if carried_over:
        return "your identity carries over to it by itself (a guest you sign in to with your own address)"
    return "map your identity to it"


def access_kept_dm(
    *,
    organization: str,
    name: str,
    account: str,
    corrects: bool,
    items: Sequence[TodoEntry],
    carried_over: bool = False,
    own_address: str = "",
) -> Message:
    """Someone decided out of access, then given an account: their whole list; `corrects` when they may
    have heard that they lose access, which it takes back; `carried_over` and `own_address` as for
    `account_decided_dm`."""
    shown = _account_named(account, own_address)
    kept = (
        f"the migration admins recorded {shown} as your work account and"
        f" {_how(carried_over, shown != account)},"
        " so you keep access and your history stays yours."
    )
    if corrects:
        heading = f"You keep access to {organization} after all"
        why = f"Hi {name}, I told you that you lose access to {organization}. That no longer holds: {kept}"
    else:
        heading = f"Your work account for {organization} is {shown}"
        why = f"Hi {name}, {kept}"
    blocks: list[Block] = [
        Heading(heading),
        Text(f"{why} Here is what *you* need to do; press Done as you go."),
        *_items(items),
    ]
    return Message(heading, tuple(blocks))


def access_lost_dm(
    *,
    organization: str,
    tenant: str,
    name: str,
    decided_by: str,
    case: str,
    withdraws: bool = False,
    told_early: bool = False,
    takes_back: bool = True,
    connected: bool = True,
) -> Message:
    """Someone an admin decided loses access: told once, plainly, why and by whom; nothing to do.
    `withdraws` when a list of theirs may have reached them: it no longer holds. `told_early` when it is
    decided before the lists: if the advance notice `takes_back` may have reached them, what it asked them
    to get ready no longer holds; before the organization is `connected`, the move is ahead."""
    target = tenant or "your company's directory"
    why = (
        f"your only account in {target} is disabled"
        if case == "disabled"
        else f"none of the accounts in {target} that carry your address is yours"
    )
    signs_in = "now signs in" if connected else "will sign in"
    if told_early:
        heading = f"You lose access to {organization}" + ("" if connected else " when it moves")
        change = f"{organization} on Azure DevOps {signs_in} with {target} accounts"
        change = f"as I told you, {change}" if takes_back else change
        nothing = (
            "What I asked you to get ready for it no longer holds, and no to-do list follows: nothing"
            if takes_back
            else "No to-do list follows: nothing"
        )
    else:
        heading = f"You no longer have access to {organization}"
        change = f"{organization} on Azure DevOps {signs_in} with {target} accounts"
        nothing = "The to-do list I sent you no longer holds: nothing" if withdraws else "Nothing"
    text = f"Hi {name}, {change}, and {why}. {_lost_access(AccessLost(organization, decided_by), nothing)}"
    return Message(heading, (Heading(heading), Text(text)))


def access_back_dm(
    *, organization: str, name: str, account: str, connected: bool, own_address: str = ""
) -> Message:
    """Someone told before the lists that they lose access, then given an account: it no longer holds,
    and their list comes when the organization moves (soon, once it is `connected`); `own_address` as for
    `account_decided_dm`."""
    heading = f"You keep access to {organization} after all"
    text = (
        f"Hi {name}, I told you that you lose access to {organization}. That no longer holds: the migration"
        f" admins recorded {_account_named(account, own_address)} as your work account, so you keep access"
        " and your history stays yours."
        f" {'Shortly' if connected else 'When the organization moves'}, I send you your own short to-do list."
    )
    return Message(heading, (Heading(heading), Text(text)))


def _lost_access(lost: AccessLost, nothing: str = "Nothing") -> str:
    """Who decided they lose access, that their history is kept, and whom to ask: their notice
    (`access_lost_dm`) and `todo` say it alike."""
    who = f"{lost.decided_by}, a migration admin," if lost.decided_by else "A migration admin"
    ask = lost.decided_by or "the migration admins"
    return (
        f"{who} decided that you lose access to {lost.organization}. Your work items, commits and history"
        f" stay in the organization under your old name. {nothing} for you to do; if you still need access,"
        f" ask {ask}."
    )


def _items_changed(
    heading: str, why: str, items: Sequence[TodoEntry], what: str = "new or changed"
) -> Message:
    """A list that changed after it was sent: why, then the items that are new or changed (`what`), if
    any (a decision may only correct the account they were told, or take items off)."""
    if not items:
        return Message(heading, (Heading(heading), Text(why)))
    blocks: list[Block] = [
        Heading(heading),
        Text(f"{why} These items of your to-do list are {what}:"),
        *_items(items),
    ]
    return Message(heading, tuple(blocks))


def _items(items: Sequence[TodoEntry], *, live: bool = True) -> list[Block]:
    """`live`: with each open item's buttons; not on a list nobody follows any more (`closed_list`)."""
    blocks: list[Block] = []
    # The number in front is the item's place on the person's list, the one they type (`done 2`); the
    # buttons carry the item's id (`#id`), which stays right whichever list or message they are on.
    for item in items:
        mark = "✅" if item.done_at else bullet(item)
        optional = " (optional: only if it applies to you)" if item.key in OPTIONAL_ITEMS else ""
        blocks.append(Text(f"{mark} *{item.title}*{optional}\n{_body(item, live=live)}\nMore: {item.link}"))
        if not item.done_at and live:
            blocks.append(item_buttons(item))
    return blocks


def _body(item: TodoEntry, *, live: bool) -> str:
    """An item's steps, pointing to its *I need help* button only where it has one (open, on a `live` list),
    and to no step of the admins once nobody follows the list; an invitation's item, done, as behind them
    (`accepted`)."""
    if item.done_at and item.key in (ACCEPT_INVITATION, INVITATION_IN_DOUBT):
        seen = item.done_by == BOT.id  # ticked by the sign-ins' watch (`verification`), not by them
        return accepted(item.body, item.organization, seen=seen)
    if not live:
        return on_a_closed_list(item.body)
    return without_help_button(item.body) if item.done_at else item.body


def bullet(item: TodoEntry) -> str:
    return f"{item.number}." if item.number else "•"


def open_items(items: Sequence[TodoEntry]) -> list[Block]:
    """Each open item by its title with its buttons, then where the full steps are: a message about the
    list that is not the list."""
    blocks: list[Block] = []
    for item in items:
        blocks += [Text(f"{bullet(item)} *{item.title}*"), item_buttons(item)]
    return [*blocks, Text("Say `todo` for the full steps of each.")]


def item_buttons(item: TodoEntry) -> Actions:
    accept = (
        (Button("Accept the invitation", "accept-invitation", url=item.accept_url),)
        if item.accept_url
        else ()
    )
    # the accounts to choose from are read when it is pressed: a list's message carries only its items
    choosing = item.key == CHOOSING_ITEM
    choose = (Button("Choose my account", MY_ACCOUNT, item.organization),) if choosing else ()
    return Actions(
        (
            *accept,
            *choose,
            Button("Done", "done", f"{BY_ID}{item.id}", "primary"),
            Button("I need help", "need-help", f"{BY_ID}{item.id}"),
        )
    )


NO_OWN_LIST = "You have no to-do list of your own. As a migration admin, this is what you can do next:"
"""`todo` (or "what's left") from an admin with no list: their next steps stand in for it."""


def todo_list(entries: Sequence[TodoEntry], actor: Actor, *, lost: Sequence[AccessLost] = ()) -> Outgoing:
    """`lost`: where an admin decided they lose access, which is why they have no list there."""
    if not entries and lost:
        told = " ".join(_lost_access(each) for each in lost)
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
    return say(heading, Heading(heading), *_items(entries), private=True)


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
    return say(heading, Heading(heading), Text(text), *_items(entries, live=False), private=True)


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
        blocks.append(
            Text(
                f"{number}. *{title}* ({by})\nOpen Microsoft's invitation email from"
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
    heading = "Which one did you do? Say `done N` with its number, or press its Done button:"
    blocks: list[Block] = [Text(heading)]
    for item in open_items:
        typed = f": `done {item.number}`" if item.number else ""  # numbered lists only (`TodoEntry.number`)
        blocks.extend((Text(f"{bullet(item)} *{item.title}*{typed}"), item_buttons(item)))
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
        tick += f" {MAPPING_NOT_SEEN}"
    return say(tick, Text(tick), *todo_list(entries, actor).message.blocks, private=True, revises=True)


MAPPING_NOT_SEEN = (
    "But Azure DevOps still shows you on your Microsoft account: the migration admins have yet to map your"
    " old identity to your work account, and until they have it refuses your work account and your history"
    " is not yet with it. Ask them if it takes long (*I need help* on the item); I tick it as seen once you"
    " sign in after the mapping."
)
"""Someone mapped by hand who ticks signing in before Azure DevOps shows the mapping."""


def help_for_item(
    item: TodoEntry,
    answer: str | Sequence[Block],
    admins: Sequence[str],
    admins_told: bool,
    *,
    again: bool = False,
) -> list[Outgoing]:
    """The answer to "I need help", naming the `admins` told; `again` when they already were today."""
    said = (Text(answer),) if isinstance(answer, str) else tuple(answer)
    blocks: list[Block] = [Heading(f"Help with: {item.title}"), *said]
    named = f" ({', '.join(admins)})" if admins else ""
    if admins_told and again:
        blocks.append(Text(f"The migration admins{named} already know today that you need a hand with this."))
    elif admins_told:
        blocks.append(
            Text(
                f"I have also told the migration admins{named} that you need a hand; one of them will reach"
                " out."
            )
        )
    return [Outgoing(Message(f"Help with {item.title}", tuple(blocks), private=True))]


def help_request(
    *,
    name: str,
    email: str,
    title: str = "",
    key: str = "",
    question: str = "",
    chose: str = "",
    choosing: Choosing | None = None,
    withheld: str = "",
    sent_privately: bool = False,
) -> Message:
    """Tells the admins that someone needs help with an item of their list, asks them a question, or says
    which of the accounts that share their address is theirs (`chose`); `choosing`: those accounts, each
    with its `decide` button, which stays the admins' to press. `withheld` (in a channel: "chose" or
    "help"): the accounts go to each admin in a direct message (`sent_privately`), not here."""
    if withheld:
        return _accounts_withheld(
            name, email, title, chose=withheld == "chose", sent_privately=sent_privately
        )
    if chose:
        text = f"{name} ({email}) says {chose} is their account"
    elif question:
        asked = faq_views.excerpt(question)
        text = f"{name} ({email}) asks the migration admins: “{asked}”. Answer them at {email}."
    else:
        text = f"{name} ({email}) needs help with: {title}. Write to them at {email}."
    if key == "accept-invitation":
        text += (
            " If they cannot find the invitation email, send it again: Microsoft Entra admin center > Users >"
            f" All users > {email} > Overview > B2B collaboration > Resend invitation."
        )
    if choosing is None:
        return Message(text, (Text(text),))
    if chose:
        text += (
            f": several directory accounts share their address ({choosing.names}). Only you can record it:"
            f" press its button once you are sure it is theirs, or write to them at {email}."
        )
    else:
        text += (
            f" Several directory accounts share their address: {choosing.names}. Ask them which one they"
            " sign in with every day, then press its button."
        )
    buttons = plan_views.account_buttons(choosing.organization, choosing.person, choosing.accounts)
    return Message(text, (Text(text), Actions(tuple(buttons))))


def _accounts_withheld(name: str, email: str, title: str, *, chose: bool, sent_privately: bool) -> Message:
    """The channel's word about someone several directory accounts match: that they said which is theirs,
    or need a decision, without the accounts (people other than admins read the channel)."""
    if chose:
        text = f"{name} ({email}) says which of the directory accounts that share their address is theirs."
    else:
        text = (
            f"{name} ({email}) needs help with: {title}. Write to them at {email}. Several directory accounts"
            " share their address."
        )
    # said as they are queued: whether a direct message arrives is not known here, so `plan` is the way on
    if sent_privately:
        text += (
            " Each migration admin gets the accounts in a direct message, with a button for each: only you"
            " can record which one is theirs. If yours does not arrive, `plan` in a direct message with me"
            " shows them, with a button for each."
        )
    else:
        text += (
            " I know of no migration admin to send the accounts to in a direct message: `plan` in a direct"
            " message with me shows them, with a button for each."
        )
    return Message(text, (Text(text),))


def account_choices(choosing: Choosing, own_address: str, admins: Sequence[str]) -> list[Block]:
    """For someone several directory accounts match: each one, with a button to say it is theirs."""
    lines = [
        f"• {name}" + ("" if mailbox(name) else " (a guest account: you sign in to it with your own address)")
        for _, name in choosing.accounts
    ]
    text = (
        f"Several accounts in the directory share your address {own_address}. Which one do you sign in with"
        f" every day? Press it and I tell {the_admins(admins)}: only they can record it, and I tell you when"
        " they have.\n" + "\n".join(lines)
    )
    buttons = [
        Button(f"This one is mine: {name[:55]}", MY_ACCOUNT, f"{choosing.organization} {account}")
        for account, name in choosing.accounts[: plan_views.CANDIDATE_BUTTONS]
    ]
    return [Text(text), Actions(tuple(buttons))]


def choose_account(choosing: Choosing, own_address: str, admins: Sequence[str]) -> Outgoing:
    """*Choose my account* on their list, or `my-account` alone: the accounts to choose from."""
    heading = f"Which account is yours in {choosing.organization}?"
    return say(heading, Heading(heading), *account_choices(choosing, own_address, admins), private=True)


def choice_passed_on(account: str, admins: Sequence[str], *, admins_told: bool, again: bool) -> Outgoing:
    """Someone said which account is theirs: what happens now, the admins' decision still to come."""
    if not admins_told:
        text = (
            f"Thanks: you sign in with {account}. I found no migration admin to tell, so write to"
            f" {the_admins(admins)} yourself: only they can record which account is yours."
        )
    elif again:
        text = (
            f"I already told {the_admins(admins)} today that you sign in with {account}. I tell you as soon"
            " as they record it."
        )
    else:
        text = (
            f"Thanks: I told {the_admins(admins)} that you sign in with {account}. Only they can record it;"
            " I tell you as soon as they have, and your list then says what to do next."
        )
    return say(text, private=True)
