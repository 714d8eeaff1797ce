"""The digest of who still has open to-do items, posted to the admins on its schedule: who is behind,
whose list failed or may not have arrived, who waits on the admins (with what they heard of it), who has
not signed in, and who is not counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.conversation import lists, sign_in_views
from bot.conversation.messages import Actions, Block, Button, Heading, Message, Text
from bot.conversation.progress_views import (
    DELIVERY_WORDS,
    full_list_button,
    losing_access_alone,
    lost_access,
    may_have_arrived,
    names_privately,
    retry_failed_button,
    to_do_lists,
)
from workflows.plan import NO_ACCESS
from workflows.stages.verification import StillPersonal
from workflows.todo import ASK_FOR_ACCESS, CHOOSING_ITEM, ENABLE_ACCOUNT, INVITATION_IN_DOUBT


class Waiting(NamedTuple):
    """Someone who can do nothing on their list until the admins act, as the digest lists them."""

    who: str
    """As `progress` names them."""
    name: str
    item: str
    """The item they wait on: `workflows.waiting.WAITING_ITEMS`."""
    address: str
    """The Azure DevOps address `decide` takes."""
    mailed: bool = False
    """Waiting on `INVITATION_IN_DOUBT`: the email is known to have gone out, its link lost
    (`workflows.stages.interrupted_invitations.mailed`)."""
    delivery: str = "sent"
    """Where their list stands, as `progress` has it (`workflows.reach.delivery_of`): only a list sent
    (or ticked in chat) told them of the wait."""


def straggler_digest(
    *,
    organization: str,
    users: int,
    stragglers: Sequence[tuple[str, str, int, int]],
    unreachable: int = 0,
    not_signed_in: Sequence[tuple[str, str]] = (),
    grace_working_days: int = 0,
    still_personal: Sequence[StillPersonal] = (),
    waiting: Sequence[Waiting] = (),
    lost: Sequence[tuple[str, str]] = (),
    finished: int | None = None,
    maybe_sent: Sequence[str] = (),
    failed: Sequence[str] = (),
    named: bool = True,
) -> Message:
    """`waiting`: who can do nothing until the admins act.
    `maybe_sent`: of `stragglers`, who have a list that may not have reached them (`progress`'s *may have
    arrived*).
    `failed`: of `stragglers`, whose list failed (`progress`'s *failed*).
    `lost`: (email, who decided) of everyone an admin decided loses access; they have nothing to do.
    `finished`: of the `users` counted, who have nothing left to do (None: a digest queued before it was
    counted, whose heading says the count alone).
    Not `named` (the copy for a channel): how many and the admins' steps, no name, no address, no file, as
    people's names are their addresses, which are not for the whole channel; `progress`'s buttons name them
    to whichever admin presses one, privately, as under the channel's live report."""
    verb = "has" if len(stragglers) == 1 else "have"
    heading = f"{lists.of_people(len(stragglers), users)} in {organization} still {verb} open to-do items"
    heading += _the_others(users - len(stragglers), finished, waiting)
    rows = [
        (email, lists.short(name), f"{total - left} of {total} done")
        for email, name, left, total in stragglers
    ]
    blocks: list[Block] = [
        Heading(heading),
        *(lists.table(("user", "name", "progress"), rows) if rows and named else []),
    ]
    if named and lists.is_cut(rows):
        blocks.append(
            lists.csv_file(
                f"open-items-{organization}.csv",
                f"Everyone in {organization} with open to-do items",
                ("email", "name", "items done", "items total"),
                [(email, name, str(total - left), str(total)) for email, name, left, total in stragglers],
                organization=organization,
            )
        )
    if rows:
        blocks.append(
            Text(
                "They get reminders in their working hours; a word from you may help. `progress` shows more."
            )
        )
    if failed:
        reached = f"{to_do_lists(len(failed))} failed to reach {sign_in_views.count_of_people(len(failed))}"
        if named:
            who, every = lists.names_and_csv(
                failed,
                f"failed-{organization}.csv",
                f"Whose to-do list failed in {organization}",
                organization=organization,
            )
            blocks += [Text(f"{reached}: {who}. *Retry failed* sends each again."), *every]
        else:
            blocks.append(Text(f"{reached}. *Retry failed* sends each again."))
    if maybe_sent and named:
        who, every = lists.names_and_csv(
            maybe_sent,
            f"may-have-arrived-{organization}.csv",
            f"Whose to-do list may have arrived in {organization}",
            organization=organization,
        )
        blocks += [Text(may_have_arrived(len(maybe_sent), who)), *every]
    elif maybe_sent:
        blocks.append(Text(may_have_arrived(len(maybe_sent), "*Progress* names them to you")))
    blocks += _waiting_blocks(waiting, organization, named=named)
    blocks += sign_in_views.not_signed_in_blocks(not_signed_in, grace_working_days, named=named)
    blocks += sign_in_views.still_personal_blocks(still_personal, organization, named=named)
    if lost and not named:
        blocks.append(
            Text(f"Not counted: {losing_access_alone([by for _, by in lost])}; nothing for them to do.")
        )
    elif lost:
        shown = [f"• {email}: {lost_access(by)}" for email, by in lost[: lists.ROW_LIMIT]]
        if len(lost) > lists.ROW_LIMIT:
            shown.append(f"…and {len(lost) - lists.ROW_LIMIT:,} more; `progress` lists everyone.")
        apart = losing_access_alone([by for _, by in lost])
        blocks.append(Text(f"Not counted: {apart}; nothing for them to do.\n" + "\n".join(shown)))
    if unreachable:
        blocks.append(
            Text(
                "Not counted: "
                + sign_in_views.people_counted(unreachable, "who is", "who are")
                + " not in chat and cannot tick items here;"
                " `progress` lists them to be reached another way."
            )
        )
    buttons: list[Button] = []
    if not named:
        deciding = any(each.item in (CHOOSING_ITEM, ENABLE_ACCOUNT) for each in waiting)
        blocks.append(Text(names_privately("*Progress*") + (_DECIDING_PRIVATELY if deciding else "")))
        buttons += [Button("Progress", "progress", organization), full_list_button(organization)]
    if failed or maybe_sent or any(each.delivery in _RETRY_SHOWN_FOR for each in waiting):
        buttons.append(retry_failed_button(organization))
    if buttons:
        blocks.append(Actions(tuple(buttons)))
    return Message(heading, tuple(blocks))


_DECIDING_PRIVATELY = " `plan` in a direct message with me names whom to decide for, with a button for each."


def _the_others(others: int, finished: int | None, waiting: Sequence[Waiting]) -> str:
    """Who the count of open lists leaves out: "10 of 11" alone reads as if one had finished, when the
    other may be waiting for the admins (`waiting`)."""
    if not others or finished is None or finished == others:
        return ""  # everyone else finished: "10 of 12 still have open items" says just that
    waits = others - finished
    verb = "waits" if waits == 1 else "wait"
    if not finished:
        other = "the other one" if others == 1 else f"the other {others}"
        return f"; nobody has finished yet: {_waiting_for(f'{other} {verb}', waiting)}"
    return f" ({finished} finished, {_waiting_for(f'{waits} {verb}', waiting)})"


@dataclass(frozen=True)
class _Wait:
    """A wait (`workflows.waiting.WAITING_ITEMS`) as the digest words it."""

    waits_for: str
    """In a few words, the admins' step that ends it."""
    step: str
    """That step in full, for someone whose Azure DevOps address is {email} in {organization}."""


_WAITS = {
    CHOOSING_ITEM: _Wait("your decision", f"`decide {{organization}} {{email}} ACCOUNT` (or `{NO_ACCESS}`)"),
    # their one account is disabled: there is no other ACCOUNT to decide for
    ENABLE_ACCOUNT: _Wait(
        "your decision",
        "enable their account and `recheck`, or `remove-users`, or"
        f" `decide {{organization}} {{email}} {NO_ACCESS}`",
    ),
    ASK_FOR_ACCESS: _Wait(
        "an invitation or a work account", "`invite` them, or have a work account made for them"
    ),
    INVITATION_IN_DOUBT: _Wait(
        "your next `invite`", "`invite`: it finds out whether their invitation went out, and sends it if not"
    ),
}
_LINK_STEP = "`invite`: it fetches their link, with no second email"
"""The step of someone waiting on `INVITATION_IN_DOUBT` whose email is known to have gone out."""


def _waiting_for(who_waits: str, waiting: Sequence[Waiting]) -> str:
    """`who_waits` ("the other 2 wait"), those of `waiting`, for what: "... for your decision", or by what
    each waits for, "... for you: 3 for your decision and 1 for your next `invite`"."""
    kinds = Counter(_WAITS[each.item].waits_for for each in waiting)
    if len(kinds) == 1:
        return f"{who_waits} for {next(iter(kinds))}"
    in_order = dict.fromkeys(wait.waits_for for wait in _WAITS.values())
    each = [f"{kinds[what]} for {what}" for what in in_order if kinds[what]]
    return f"{who_waits} for you: {', '.join(each[:-1])} and {each[-1]}"


def _waiting_blocks(waiting: Sequence[Waiting], organization: str, *, named: bool) -> list[Block]:
    """Who waits with nothing to do, then who waits with one thing theirs: looking for their invitation
    email, of which they hear once (`workflows.waiting.LOOK_ONCE`); each with what they heard of it, and,
    `named`, who they are with each one's step."""
    stuck = [each for each in waiting if each.item != INVITATION_IN_DOUBT]
    looking = [each for each in waiting if each.item == INVITATION_IN_DOUBT]
    blocks: list[Block] = []
    for group, meanwhile in ((stuck, _NOTHING_TO_DO), (looking, _LOOKING)):
        if group:
            who = _waiting_for(sign_in_views.people_counted(len(group), "waits", "wait"), group)
            said = f"{who}: {meanwhile.until}{_heard(group, meanwhile)}"
            blocks += [Text(said), *(_waiting_table(group, meanwhile, organization) if named else [])]
    return blocks


class _Meanwhile(NamedTuple):
    """What those who wait have to do until the admins act, and what chat told them of it."""

    until: str
    told_all: str
    """Everyone reached, after `until`."""
    told_some: tuple[str, str]
    """Of who were reached, how many and what they heard (one, many), when others were not."""
    csv: tuple[str, str]
    """The file of everyone in the group, past the table's rows: its name and title, of {organization}."""


_NOTHING_TO_DO = _Meanwhile(
    "they can do nothing on their list until you act",
    ". They heard so once and get no reminders until then.",
    ("heard so once and gets no reminders until then", "heard so once and get no reminders until then"),
    ("waiting-for-you-{organization}.csv", "Everyone in {organization} waiting for you, with your step"),
)
_LOOKING = _Meanwhile(
    "until you act, all their list asks of them is to look for their invitation email, in junk or spam too",
    ", and I remind them of that once.",
    ("gets one reminder of that", "get one reminder of that"),
    (
        "looking-for-their-invitation-{organization}.csv",
        "Everyone in {organization} looking for their invitation email, with your step",
    ),
)

_HEARD = ("sent", "in-chat")
"""Where a list stands once it told its person of the wait: sent, or ticked in chat all the same."""
_RETRY_SHOWN_FOR = ("failed", "maybe-sent")
"""Where a list stands that *Retry failed* sends again, of those the digest words apart."""


class _Unheard(NamedTuple):
    """Who has not (or may not have) heard of their wait, or cannot be reached in chat since they did, with
    their list in one of `states` (in `progress`'s words, `DELIVERY_WORDS`, as {state}): what that is."""

    states: tuple[str, ...]
    one: str
    """After "1 person", of some in the group."""
    many: str
    """After "3 people", of some in the group, or after "They", of all of a group of many."""
    alone: str
    """After "They", of a group of one."""


_UNHEARD = (
    _Unheard(
        ("queued", "waiting", "sending"),
        "has not heard yet: their to-do list is {state}",
        "have not heard yet: their to-do lists are {state}",
        "have not heard yet: their to-do list is {state}",
    ),
    _Unheard(
        ("failed",),
        "has not heard: their to-do list failed, and *Retry failed* sends it again",
        "have not heard: their to-do lists failed, and *Retry failed* sends them again",
        "have not heard: their to-do list failed, and *Retry failed* sends it again",
    ),
    _Unheard(
        ("maybe-sent",),
        "may not have heard: their to-do list may have arrived or not, and *Retry failed* sends it again",
        "may not have heard: their to-do lists may have arrived or not, and *Retry failed* sends them again",
        "may not have heard: their to-do list may have arrived or not, and *Retry failed* sends it again",
    ),
    _Unheard(
        ("not-in-chat",),
        "is not in chat and has not heard: tell them another way",
        "are not in chat and have not heard: tell them another way",
        "are not in chat and have not heard: tell them another way",
    ),
    _Unheard(
        ("left-chat",),
        "heard from their to-do list, but chat cannot reach them now: tell them another way",
        "heard from their to-do lists, but chat cannot reach them now: tell them another way",
        "heard from their to-do list, but chat cannot reach them now: tell them another way",
    ),
)


def _heard(group: Sequence[Waiting], meanwhile: _Meanwhile) -> str:
    """What they heard: those whose list reached them, what `meanwhile` says; the others, by where their list
    stands, what they have not heard and what the admins can do (the table's *to-do list* says who)."""
    heard = sum(each.delivery in _HEARD for each in group)
    if heard == len(group):
        return meanwhile.told_all
    said = [sign_in_views.people_counted(heard, *meanwhile.told_some)] if heard else []
    for states, one, many, alone in _UNHEARD:
        unheard = [each.delivery for each in group if each.delivery in states]
        if not unheard:
            continue
        *others, last = [DELIVERY_WORDS[each] for each in states if each in unheard]
        state = f"{', '.join(others)} or {last}" if others else last
        if len(unheard) < len(group):
            said.append(
                sign_in_views.people_counted(len(unheard), one.format(state=state), many.format(state=state))
            )
        else:
            said.append(f"They {(alone if len(group) == 1 else many).format(state=state)}")
    return ". " + "; ".join(said) + "."


def _waiting_table(waiting: Sequence[Waiting], meanwhile: _Meanwhile, organization: str) -> list[Block]:
    steps = [
        _LINK_STEP
        if each.mailed and each.item == INVITATION_IN_DOUBT
        else _WAITS[each.item].step.format(organization=organization, email=each.address)
        for each in waiting
    ]
    header = ("user", "name", "your step", "to-do list")
    csv_rows = [
        (each.who, each.name, step, DELIVERY_WORDS[each.delivery])
        for each, step in zip(waiting, steps, strict=True)
    ]
    # where each list stands, only when it tells them apart: the step is wide enough, and when all heard the
    # line above says so
    with_delivery = any(each.delivery not in _HEARD for each in waiting)
    shown: tuple[str, ...] = header if with_delivery else header[:-1]
    rows = [
        (who, lists.short(name), step, *([delivery] if with_delivery else []))
        for who, name, step, delivery in csv_rows
    ]
    filename, title = (part.format(organization=organization) for part in meanwhile.csv)
    csv = (filename, title, header, csv_rows)
    return lists.table_and_csv(shown, rows, csv, organization=organization)
