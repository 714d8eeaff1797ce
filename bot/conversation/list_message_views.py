"""The messages that bring a person their to-do list or its changes: the list as it first arrives, the
items a late invitation or an admin's decision of their account changed, and losing access instead (or
keeping it after all).

The list as `todo` shows it is `todo_views`'s, each item `todo_item_views`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation.messages import Block, Heading, Message, Text
from bot.conversation.todo_item_views import item_blocks
from bot.conversation.todo_views import WAITING_FOR, you_lost_access
from workflows.identities import mailbox
from workflows.informing import the_admins
from workflows.item_rewording import link_fetched
from workflows.results_todo_lists import AccessLost, TodoEntry
from workflows.todo import INVITATION_IN_DOUBT


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
    blocks.extend(item_blocks(items))
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
        *item_blocks(items),
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
    text = f"Hi {name}, {change}, and {why}. {you_lost_access(AccessLost(organization, decided_by), nothing)}"
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
        *item_blocks(items),
    ]
    return Message(heading, tuple(blocks))
