"""Help with an item of the to-do list: the answer to *I need help* and the admins' word of it, and
someone several directory accounts match saying which one is theirs (the accounts to choose from, the
choice passed on to the admins, who decide).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.conversation import faq_views, plan_views
from bot.conversation.messages import Actions, Block, Button, Heading, Message, Outgoing, Text, say
from bot.conversation.todo_item_views import MY_ACCOUNT
from workflows.identities import mailbox
from workflows.informing import the_admins
from workflows.plan import NO_ACCESS, PlannedUser
from workflows.results_todo_lists import TodoEntry


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


def help_for_item(
    item: TodoEntry,
    answer: str | Sequence[Block],
    admins: Sequence[str],
    admins_told: bool,
    *,
    again: bool = False,
) -> list[Outgoing]:
    """The answer to "I need help", naming the `admins` told; `again` when they already were today."""
    # an FAQ answer leaves the way to a person to the line below when the admins were told (its own line is
    # then empty: `faq.AskerContext.admins_told`)
    said = (Text(answer.rstrip()),) if isinstance(answer, str) else tuple(answer)
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
    name: str = "",
    email: str = "",
    reach: str = "",
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
    with its `decide` button, which stays the admins' to press. `withheld` (the channel's copy: what kind
    of word it was, `_withheld`): who spoke, and what, go to each admin in a direct message
    (`sent_privately`), not here. `reach`: the address chat reaches them at, when it is not `email`, the one
    Azure DevOps lists them under."""
    if withheld:
        return _withheld(withheld, title, sent_privately=sent_privately)
    write_to = _write_to(email, reach)
    if chose:
        text = f"{name} ({email}) says {chose} is their account"
    elif question:
        asked = faq_views.excerpt(question)
        text = f"{name} ({email}) asks the migration admins: “{asked}”. Answer them at {write_to}."
    else:
        text = f"{name} ({email}) needs help with: {title}. Write to them at {write_to}."
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
            f" press its button once you are sure it is theirs, or write to them at {write_to}."
        )
    else:
        text += (
            f" Several directory accounts share their address: {choosing.names}. Ask them which one they"
            " sign in with every day, then press its button."
        )
    buttons = plan_views.account_buttons(choosing.organization, choosing.person, choosing.accounts)
    return Message(text, (Text(text), Actions(tuple(buttons))))


def choice_settled(
    *, name: str, email: str, organization: str, person: str, account: str, decided_by: str, chose: str = ""
) -> Message:
    """An admin's card that offered a button per account of someone, once an admin decided for them: who
    decided what, what they had said, and how to change it on purpose (its buttons are gone)."""
    what = f"{account} is their account" if account else "they lose access"
    said = ""
    if chose:
        said = " They said so themselves." if chose == account else f" They had said {chose} is theirs."
    text = (
        f"{name} ({email}): {decided_by} decided that {what}.{said} To change it, type `decide {organization}"
        f" {person} ACCOUNT` (or `{NO_ACCESS}`)."
    )
    return Message(text, (Text(text),))


def _write_to(email: str, reach: str) -> str:
    """Where to write to someone: the address chat reaches them at now, saying which is which when Azure
    DevOps lists them under another (an old address, mapped to a work account since)."""
    if not reach:
        return email
    return f"{reach} (where I reach them now; Azure DevOps lists them as {email})"


def _withheld(kind: str, title: str, *, sent_privately: bool) -> Message:
    """The channel's word that someone said which of the directory accounts that share their address is
    theirs ("chose"), needs a decision between them ("help"), asked the admins a question ("question") or
    needs help with an item of their list ("item"): without who (their name is their address, and people
    other than admins read the channel), what they asked, or the accounts (walk39 b)."""
    if kind == "chose":
        text = "Someone says which of the directory accounts that share their address is theirs."
    elif kind == "question":
        text = "Someone asked the migration admins a question."
    else:
        text = f"Someone needs help with: {title}."
    # said as they are queued: whether a direct message arrives is not known here, so `plan` is the way on
    if not sent_privately:  # queued when a decision's request could go to the channel alone
        text += (
            " I know of no migration admin to tell who in a direct message: `plan` in a direct message with"
            " me shows whose account waits for a decision, with a button for each."
        )
    elif kind in ("chose", "help"):
        text += (
            " Each migration admin gets who, and the accounts, in a direct message, with a button for each:"
            " only you can record which one is theirs. If yours does not arrive, `plan` in a direct message"
            " with me shows them, with a button for each."
        )
    else:
        text += " Each migration admin gets who, and where to write to them, in a direct message."
    return Message(text, (Text(text),))


def account_choices(
    choosing: Choosing, own_address: str, admins: Sequence[str], *, list_to_come: bool = False
) -> list[Block]:
    """For someone several directory accounts match: each one, with a button to say it is theirs.
    `list_to_come`: their to-do list is not out yet, and the admins' decision reaches them with it."""
    lines = [
        f"• {name}" + ("" if mailbox(name) else " (a guest account: you sign in to it with your own address)")
        for _, name in choosing.accounts
    ]
    told = "`todo` shows it once they have" if list_to_come else "I tell you when they have"
    text = (
        f"Several accounts in the directory share your address {own_address}. Which one do you sign in with"
        f" every day? Press it and I tell {the_admins(admins)}: only they can record it, and {told}.\n"
        + "\n".join(lines)
    )
    buttons = [
        Button(f"This one is mine: {name[:55]}", MY_ACCOUNT, f"{choosing.organization} {account}")
        for account, name in choosing.accounts[: plan_views.CANDIDATE_BUTTONS]
    ]
    return [Text(text), Actions(tuple(buttons))]


def choose_account(
    choosing: Choosing, own_address: str, admins: Sequence[str], *, list_to_come: bool
) -> Outgoing:
    """*Choose my account* on their list (or under `todo` before it), or `my-account` alone: the accounts to
    choose from."""
    heading = f"Which account is yours in {choosing.organization}?"
    choices = account_choices(choosing, own_address, admins, list_to_come=list_to_come)
    return say(heading, Heading(heading), *choices, private=True)


def not_done_until_decided(choosing: Choosing, own_address: str, admins: Sequence[str]) -> Outgoing:
    """*Done* on the item that asks which account is theirs, no admin having decided: the admins' decision
    ends it, so the accounts to choose from instead."""
    heading = f"Which account is yours in {choosing.organization}?"
    why = Text(
        f"Not done yet: until {the_admins(admins)} record which account is yours, you cannot sign in. Once"
        " they have, this item becomes the one that has you sign in with it."
    )
    return say(heading, Heading(heading), why, *account_choices(choosing, own_address, admins), private=True)


def choice_passed_on(
    account: str, admins: Sequence[str], *, admins_told: bool, again: bool, list_to_come: bool
) -> Outgoing:
    """Someone said which account is theirs: what happens now, the admins' decision still to come; with
    their to-do list still to come (`list_to_come`), it is that list that tells them, not a message."""
    if not admins_told:
        text = (
            f"Thanks: you sign in with {account}. I found no migration admin to tell, so write to"
            f" {the_admins(admins)} yourself: only they can record which account is yours."
        )
    elif again:
        told = (
            "`todo` shows it once they record it" if list_to_come else "I tell you as soon as they record it"
        )
        text = f"I already told {the_admins(admins)} today that you sign in with {account}; {told}."
    elif list_to_come:
        text = (
            f"Thanks: I told {the_admins(admins)} that you sign in with {account}. Only they can record it;"
            " `todo` shows it once they have, and your own to-do list says what to do next when it comes"
            " by direct message."
        )
    else:
        text = (
            f"Thanks: I told {the_admins(admins)} that you sign in with {account}. Only they can record it;"
            " I tell you as soon as they have, and your list then says what to do next."
        )
    return say(text, private=True)
