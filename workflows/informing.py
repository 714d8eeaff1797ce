"""What the move does to a person, told in sentences rather than items: before the change, their advance
notice and what `todo` says until their list comes (`BeforeTheList`, `what_happens`); after it, the notes
above their list that need no action (`todo_notes`). Who can act for them is named alike (`the_admins`).

The items of their list are `workflows.todo`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workflows.invitation_email import FROM, SUBJECT
from workflows.plan import PlannedUser
from workflows.plan_invitations import InvitationBar
from workflows.todo import candidates, person_tokens, signs_in_as, subscription_moves


@dataclass(frozen=True)
class BeforeTheList:
    """Someone the plan of a migration in progress names, before their to-do list goes out: what the move
    does to them and asks of them until then (`what_happens`), and when their list comes."""

    organization: str
    tenant: str
    outcome: str
    happens: str
    announced: str | None
    """The date the advance notice gave them (empty when it named none), else the one the admins last
    announced; None when nobody was told one."""
    connected: bool
    """Connected already: their list comes once the admins send the lists."""
    choosing: bool = False
    """Several directory accounts match them and no admin decided: they may say which one is theirs."""


def advance_notice(
    user: PlannedUser,
    *,
    organization: str,
    tenant: str,
    invited_as: str | None = None,
    unconfirmed: bool = False,
    case: str | None = "first",
    barred: InvitationBar = "",
    admins: Sequence[str] = (),
    taken_back: str = "",
) -> list[str]:
    """Before the change: what will happen to this person, and what they will have to do afterwards.
    `admins`: who can act for them (`the_admins`). `taken_back`: what takes back an earlier cancel's "ignore
    the invitation" (`workflows.stages.ignored_invitations`), said before the invitation it is about.

    `invited_as` is the address a B2B invitation went to, None if the bot sent none (`unconfirmed`: as
    `what_happens`); `case` is "switch"
    when the organization leaves another directory (`workflows.tokens.case_of`); `barred`: what keeps them
    from being invited, if anything (`workflows.plan_invitations.invitation_bar`).
    """
    today = "another directory's accounts" if case == "switch" else "Microsoft accounts"
    lines = [
        f"{organization} on Azure DevOps will soon sign in with {tenant} accounts instead of {today}. There"
        " is no downtime, and your work items, repositories and history stay where they are."
    ]
    if taken_back:
        lines.append(taken_back)
    if happens := what_happens(
        user, tenant=tenant, invited_as=invited_as, barred=barred, admins=admins, unconfirmed=unconfirmed
    ):
        lines.append(happens)
    tokens = person_tokens(user, invited_as, case=case)
    if tokens is not None and tokens.renew:
        lines.append(
            f"{tokens.reason}: personal access tokens you made before stop working and must be made again."
        )
    elif tokens is not None:
        lines.append(f"{tokens.reason} and your personal access tokens keep working.")
    lines.append(
        "After the change you get your own short to-do list from me (sign in again, clear the Git credential"
        " cache, and whatever applies to you). Questions? Just ask me here."
    )
    return lines


def what_happens(
    user: PlannedUser,
    *,
    tenant: str,
    invited_as: str | None = None,
    barred: InvitationBar = "",
    admins: Sequence[str] = (),
    unconfirmed: bool = False,
) -> str:
    """What the move does to this person, and what it asks of them before it, in a sentence or two (empty for
    an outcome it says nothing of): their advance notice's, and their `todo` until their list comes. Someone
    whose only account is disabled gets no notice (`announcing`), only the sentence here. `unconfirmed`: the
    bot asked Microsoft to invite them and its answer never came, so the email may have gone out
    (`workflows.results_standing.InvitationStanding.unconfirmed`)."""
    account = signs_in_as(user)
    match user.outcome:
        case "auto":
            return f"After the change you sign in as {account}."
        case "map":
            return (
                f"An admin maps your identity to {account} by hand after the change, so your history stays"
                " yours."
            )
        case "invite" if invited_as is not None:
            return (
                f"Microsoft sent an invitation email from {FROM} to {invited_as}, to join {tenant} as a"
                " guest. Accept it now, or you lose access after the change (your history is kept). After the"
                f" change you sign in as {invited_as}."
            )
        case "invite" if unconfirmed:
            return (
                f"You have no account in {tenant} yet, and your invitation email may have gone out: Microsoft"
                f" did not confirm it, and the migration admins are checking. Look for mail from {FROM},"
                f" subject {SUBJECT}, in junk or spam too, and accept it, or you lose access after the change"
                " (your history is kept). If none went out, the admins send it."
            )
        case "invite" if barred == "setting":
            return (
                f"You have no account in {tenant}, and its settings let nobody invite guests for now: unless"
                " they change, you lose access after the change (your history is kept). "
                f"{_capital(the_admins(admins))} know; ask them."
            )
        case "invite" if barred:
            return (
                f"You have no account in {tenant}, and the migration admins may not invite you as a guest for"
                " now: unless its invitation settings change or someone allowed to invite guests invites you,"
                " you lose access after the change (your history is kept). "
                f"{_capital(the_admins(admins))} know; ask them."
            )
        case "invite":
            return (
                f"You have no account in {tenant} yet: you will get an invitation email from {FROM}."
                " Accept it, or you lose access after the change (your history is kept)."
            )
        case "ambiguous":
            return (
                f"Several accounts in {tenant} match your address{candidates(user)}. Tell"
                f" {the_admins(admins)} which one you use, so they can map you to it."
            )
        case "disabled":
            return (
                f"Your address matches the account {account} in {tenant}, but that account is disabled, so"
                " you cannot sign in after the change. If you still need access, tell"
                f" {the_admins(admins)}: they have it enabled, or map you to another account. If you have"
                " left, there is nothing to do: your history is kept."
            )
    return ""


def todo_notes(
    user: PlannedUser,
    *,
    subscriber: bool = False,
    after_connecting: bool = False,
    invited_as: str | None = None,
) -> list[str]:
    """Reassuring facts for the user that need no action (`subscriber`: their Azure DevOps access comes
    from a Visual Studio subscription; `after_connecting`, `invited_as` as for `todo_items`)."""
    notes = ["There is no downtime: your work items, repositories and history stay where they are."]
    if subscriber and not subscription_moves(user, subscriber=subscriber):
        notes.append(
            "Your Visual Studio subscription benefits carry over: you keep signing in as"
            f" {signs_in_as(user)}, so if the subscription is assigned to that address there is nothing"
            " to do."
        )
    if after_connecting:
        return notes  # nothing carried over by itself: their items say what to do about their history
    tokens = person_tokens(user, invited_as)
    if tokens is not None and not tokens.renew:
        notes.append(
            f"{tokens.reason} and your personal access tokens keep working: no need to recreate them."
        )
    if user.outcome == "map":
        notes.append(
            "An admin maps your old identity to your work account by hand, so your history stays yours;"
            " personal access tokens made with the old identity stop working."
        )
    return notes


def the_admins(admins: Sequence[str]) -> str:
    """Who can act for someone, by name when Azure DevOps said (the owner and Project Collection
    Administrators)."""
    return f"the migration admins ({', '.join(admins)})" if admins else "the migration admins"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
