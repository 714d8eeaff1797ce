"""An admin's decision for someone the plan cannot place, in words: which directory account is theirs or
that they lose access, what that means for connecting, what it changed of their list and whether they were
told; in a channel, only that a decision was recorded (who, and what it means, go to the admin alone)."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation.messages import Message, Outgoing, Text, for_you_alone
from bot.conversation.next_actions import everyone_told, with_next
from workflows.machine import CONNECTED_UNFINISHED
from workflows.mapping import map_by_hand
from workflows.results_preparing import AccountDecision, Told


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
                "The advance notice told them to get ready, so my message telling them now that they lose"
                " access is on its way; `notify` sends them nothing more."
            )
        if result.told_early == "stopped":
            lines.append(
                "Their advance notice had not gone out yet, so it never will; my message telling them now"
                " that they lose access is on its way, and `notify` sends them nothing more."
            )
    if result.told_early == "back":
        lines.append(
            'My message telling them that "you lose access" no longer holds is on its way; they get their'
            " list at `notify`."
        )
    if result.voided_approval is not None:
        lines.append(_voided(result.voided_approval))
    return Outgoing(
        Message(lines[0], with_next([Text(" ".join(lines))], status, everyone_told=everyone_told(told)))
    )


def _told_them(result: AccountDecision, what: str = "") -> str:
    """How a sentence on a changed list ends: that my message telling them (`what`) is on its way (queued
    with the decision, it has not reached them when the admin reads this), or, when chat could not reach
    them with my last message (`AccountDecision.out_of_chat`), that it waits but may never arrive."""
    if not result.out_of_chat:
        return f"; my message telling them {what or 'so'} is on its way."
    what = f" {what}" if what else ""
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
        f"Recorded your decision for 1 person of {organization}. {for_you_alone('Who, and what it means,')}"
    ]
    if result.voided_approval is not None:
        lines.append(_voided(result.voided_approval))
    counted = Outgoing(
        Message(
            lines[0], with_next([Text(" ".join(lines))], result.status, everyone_told=everyone_told(told))
        )
    )
    return [replace(answer, message=replace(answer.message, private=True)), counted]


def _voided(approval: int) -> str:
    return f"The plan changed, so approval request #{approval} no longer holds: run `request-approval` again."
