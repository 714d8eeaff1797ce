"""The advance notice in words: the direct message telling someone what is coming, and `announce`'s answer
(how many it tells, and who it does not tell and why)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation import dates, lists, plan_views
from bot.conversation.messages import Heading, Message, Outgoing, Text, for_you_alone, say
from bot.conversation.next_actions import with_next
from workflows.plan_shared_account import SHARED_ACCOUNT
from workflows.results_preparing import AnnounceResult


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
        days_in = "UTC" if result.days_in == "UTC" else f"your time zone, {result.days_in}"
        when += f" (you wrote “{result.typed}”; I count days in {days_in})"
    since = dates.day_and_time(result.since)
    if result.queued:
        text = (
            f"Telling {_whom(result.queued, result.users)} what is coming{when}, by direct message"
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
            f" {for_you_alone('Who, and what to do,')}"
        )
    elif named:
        text += f" {named}"
    answer = Outgoing(Message(text, with_next([Text(text)], status, everyone_told=True)))
    if not (shared and named):
        return [answer]
    heading = f"Not told about {status.organization}, by name"
    return [answer, say(heading, Heading(heading), Text(named), private=True)]


def _whom(queued: int, users: int) -> str:
    """Everyone, when nobody was told before ("all 10 people"): "10 of 10" read as whom it reached."""
    if queued == users:
        return f"all {queued:,} people" if queued > 1 else "the one person"
    return lists.of_people(queued, users)


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
