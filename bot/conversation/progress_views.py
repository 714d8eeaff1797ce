"""The to-do lists as the admins see them: the lists `notify` queued, the live delivery report and
`progress`, the retry of those that failed, and the digest of who still has open items."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from bot.conversation import lists, sign_in_views
from bot.conversation.messages import (
    Actions,
    Block,
    Button,
    Channel,
    Heading,
    Message,
    Outgoing,
    Table,
    Text,
    say,
)
from bot.conversation.next_actions import with_next
from bot.conversation.unreached_views import told_blocks
from workflows.plan import NO_ACCESS
from workflows.progress import Progress, UserProgress
from workflows.results import MigrationStatus, NotifyResult, Told
from workflows.stages.verification import StillPersonal
from workflows.todo import ASK_FOR_ACCESS, CHOOSING_ITEM, ENABLE_ACCOUNT, INVITATION_IN_DOUBT, OPTIONAL_ITEMS


def progress_key(migration_id: int) -> str:
    """The live delivery report of a migration: one message, updated as the outbox drains."""
    return f"delivery:{migration_id}"


def queued(result: NotifyResult) -> list[Outgoing]:
    """The live report's first version, where `notify` was typed (a channel, as a rule): counts only; whoever
    already had a list, by name, to the admin who typed it alone (people's names are their addresses)."""
    status = result.status
    text = (
        f"Queued {_lists(len(result.users))} for {status.organization}, sending now. This message shows the"
        " progress; `progress` gives the details."
    )
    blocks: list[Block] = [Heading(f"To-do lists for {status.organization}"), Text(text)]
    had = sign_in_views.people_counted(len(result.listed_before), "has", "have")
    already = f"{had} their list from an earlier migration of {status.organization} already"
    if result.listed_before:
        blocks.append(Text(f"{already}, so they get none again; I told you who, privately."))
    report = Outgoing(
        Message(f"Queued {len(result.users):,}, sending", with_next(blocks, status)),
        updates=progress_key(status.id),
    )
    if not result.listed_before:
        return [report]
    return [
        report,
        say(f"{already}, so they get none again: {lists.names(result.listed_before)}.", private=True),
    ]


def lost_access(decided_by: str) -> str:
    """How admins see someone an admin decided loses access, in `progress` and the digest."""
    return f"lose access (decided by {decided_by or 'an admin'})"


def losing_access_apart(deciders: Sequence[str]) -> str:
    """Beside a count of people with a list: those decided out of access (`deciders`: who decided, one per
    person), who have nothing to do and are no open work. Empty when there are none."""
    if not deciders:
        return ""
    verb = "loses" if len(deciders) == 1 else "lose"
    return f"{len(deciders):,} more {verb} access ({_decided_by(deciders)})"


def _losing_access_alone(deciders: Sequence[str]) -> str:
    """Those decided out of access when no count comes before them (a digest's line of its own)."""
    losing = sign_in_views.people_counted(len(deciders), "who loses", "who lose")
    return f"{losing} access ({_decided_by(deciders)})"


def _decided_by(deciders: Sequence[str]) -> str:
    return "decided by " + ", ".join(dict.fromkeys(by or "an admin" for by in deciders))


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
    """Where their list stands, as `progress` has it (`workflows.progress.delivery_of`): only a list sent
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
) -> Message:
    """`waiting`: who can do nothing until the admins act.
    `maybe_sent`: of `stragglers`, who have a list that may not have reached them (`progress`'s *may have
    arrived*).
    `failed`: of `stragglers`, whose list failed (`progress`'s *failed*).
    `lost`: (email, who decided) of everyone an admin decided loses access; they have nothing to do.
    `finished`: of the `users` counted, who have nothing left to do (None: a digest queued before it was
    counted, whose heading says the count alone)."""
    verb = "has" if len(stragglers) == 1 else "have"
    heading = f"{lists.of_people(len(stragglers), users)} in {organization} still {verb} open to-do items"
    heading += _the_others(users - len(stragglers), finished, waiting)
    rows = [
        (email, lists.short(name), f"{total - left} of {total} done")
        for email, name, left, total in stragglers
    ]
    blocks: list[Block] = [
        Heading(heading),
        *(lists.table(("user", "name", "progress"), rows) if rows else []),
    ]
    if lists.is_cut(rows):
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
        who, every = lists.names_and_csv(
            failed,
            f"failed-{organization}.csv",
            f"Whose to-do list failed in {organization}",
            organization=organization,
        )
        reached = f"{_lists(len(failed))} failed to reach {_people(len(failed))}"
        blocks += [Text(f"{reached}: {who}. *Retry failed* sends each again."), *every]
    if maybe_sent:
        who, every = lists.names_and_csv(
            maybe_sent,
            f"may-have-arrived-{organization}.csv",
            f"Whose to-do list may have arrived in {organization}",
            organization=organization,
        )
        blocks += [Text(_may_have_arrived(len(maybe_sent), who)), *every]
    blocks += _waiting_blocks(waiting, organization)
    blocks += sign_in_views.not_signed_in_blocks(not_signed_in, grace_working_days)
    blocks += sign_in_views.still_personal_blocks(still_personal, organization)
    if lost:
        shown = [f"• {email}: {lost_access(by)}" for email, by in lost[: lists.ROW_LIMIT]]
        if len(lost) > lists.ROW_LIMIT:
            shown.append(f"…and {len(lost) - lists.ROW_LIMIT:,} more; `progress` lists everyone.")
        apart = _losing_access_alone([by for _, by in lost])
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
    if failed or maybe_sent or any(each.delivery in _RETRIED for each in waiting):
        blocks.append(Actions((_retry_failed(organization),)))
    return Message(heading, tuple(blocks))


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


def _waiting_blocks(waiting: Sequence[Waiting], organization: str) -> list[Block]:
    """Who waits with nothing to do, then who waits with one thing theirs: looking for their invitation
    email, of which they hear once (`workflows.waiting.LOOK_ONCE`); each with what they heard of it."""
    stuck = [each for each in waiting if each.item != INVITATION_IN_DOUBT]
    looking = [each for each in waiting if each.item == INVITATION_IN_DOUBT]
    blocks: list[Block] = []
    for group, meanwhile in ((stuck, _NOTHING_TO_DO), (looking, _LOOKING)):
        if group:
            who = _waiting_for(sign_in_views.people_counted(len(group), "waits", "wait"), group)
            said = f"{who}: {meanwhile.until}{_heard(group, meanwhile)}"
            blocks += [Text(said), *_waiting_table(group, meanwhile, organization)]
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
_RETRIED = ("failed", "maybe-sent")
"""Where a list stands that *Retry failed* sends again, of those the digest words apart."""
_UNHEARD = (
    (
        ("queued", "waiting", "sending"),
        "has not heard yet: their to-do list is {state}",
        "have not heard yet: their to-do lists are {state}",
    ),
    (
        ("failed",),
        "has not heard: their to-do list failed, and *Retry failed* sends it again",
        "have not heard: their to-do lists failed, and *Retry failed* sends them again",
    ),
    (
        ("maybe-sent",),
        "may not have heard: their to-do list may have arrived or not, and *Retry failed* sends it again",
        "may not have heard: their to-do lists may have arrived or not, and *Retry failed* sends them again",
    ),
    (
        ("not-in-chat",),
        "is not in chat and has not heard: tell them another way",
        "are not in chat and have not heard: tell them another way",
    ),
    (
        ("left-chat",),
        "heard from their to-do list, but chat cannot reach them now: tell them another way",
        "heard from their to-do lists, but chat cannot reach them now: tell them another way",
    ),
)
"""Who has not (or may not have) heard of their wait, or cannot be reached in chat since they did, by where
their list stands (each group of states in `progress`'s words, `_DELIVERY_WORDS`): what that is, for one and
for many."""


def _heard(group: Sequence[Waiting], meanwhile: _Meanwhile) -> str:
    """What they heard: those whose list reached them, what `meanwhile` says; the others, by where their list
    stands, what they have not heard and what the admins can do (the table's *to-do list* says who)."""
    heard = sum(each.delivery in _HEARD for each in group)
    if heard == len(group):
        return meanwhile.told_all
    said = [sign_in_views.people_counted(heard, *meanwhile.told_some)] if heard else []
    for states, one, many in _UNHEARD:
        unheard = [each.delivery for each in group if each.delivery in states]
        if not unheard:
            continue
        *others, last = [_DELIVERY_WORDS[each] for each in states if each in unheard]
        state = f"{', '.join(others)} or {last}" if others else last
        one, many = one.format(state=state), many.format(state=state)
        said.append(
            f"They {many}"
            if len(unheard) == len(group)
            else sign_in_views.people_counted(len(unheard), one, many)
        )
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
        (each.who, each.name, step, _DELIVERY_WORDS[each.delivery])
        for each, step in zip(waiting, steps, strict=True)
    ]
    # where each list stands, only when it tells them apart: the step is wide enough, and when all heard the
    # line above says so
    shown = 4 if any(each.delivery not in _HEARD for each in waiting) else 3
    rows = [(row[0], lists.short(row[1]), *row[2:shown]) for row in csv_rows]
    filename, title = (part.format(organization=organization) for part in meanwhile.csv)
    csv = (filename, title, header, csv_rows)
    return lists.table_and_csv(header[:shown], rows, csv, organization=organization)


_DELIVERY_WORDS = {
    "sent": "sent",
    "maybe-sent": "may have arrived",
    "queued": "queued",
    "waiting": "waiting",
    "sending": "sending",
    "failed": "failed",
    "not-in-chat": "not in chat",
    "left-chat": "sent, not in chat now",
    "in-chat": "not delivered, ticks items in chat",
}


_OUT_OF_CHAT = ("not-in-chat", "left-chat")
"""Where a list stands of someone chat cannot reach: never, or no more since their list reached them."""

HEADER = ("user", "items done", "signed in", "to-do list", "reason")
FULL_LIST = "csv"
"""`progress ORG csv`: the live report's *Full list (CSV)* button, the CSV of everyone whatever the size."""


def progress(report: Progress, *, live: bool = False, full_list: bool = False) -> Message:
    """Completion per item, per user and overall, and where each to-do list stands in delivery.

    Asked for, it is private (people's addresses) and attaches everyone as CSV when the list is cut or
    someone must be reached outside chat, or always with `full_list`. `live` is the channel's report,
    updated as lists go out: counts only, as people's names are their addresses, which are not for the
    whole channel, and no file (Slack cannot update a file in place); its *Refresh* and *Full list (CSV)*
    buttons send whichever admin presses them everyone by name, privately.
    """
    unreachable = report.with_delivery(*_OUT_OF_CHAT)
    out_of_chat = sum(user.delivery in _OUT_OF_CHAT for user in report.listed)
    users = len(report.listed) - out_of_chat
    are = "is" if out_of_chat == 1 else "are"
    outside = f" ({out_of_chat:,} more {are} not in chat and cannot tick items)" if out_of_chat else ""
    apart = losing_access_apart(report.deciders)
    overall = (
        f"{lists.of_people(report.users_done, users)} done{outside};{f' {apart};' if apart else ''}"
        f" {report.items_done:,} of {report.items_total:,} items done."
    )
    deliveries = ", ".join(
        f"{count:,} {_DELIVERY_WORDS[state]}"
        for state in _DELIVERY_WORDS
        if (count := len(report.with_delivery(state)))
    )
    behind = sorted(report.users, key=_furthest_behind)
    rows = [
        (
            user.known_as,
            lost_access(user.lost_access_by) if user.outcome == NO_ACCESS else f"{user.done} of {user.total}",
            "verified" if user.signed_in else "not yet",
            _DELIVERY_WORDS[user.delivery],
            user.delivery_error or "",
        )
        for user in behind
    ]
    with_csv = not live and (full_list or lists.is_cut(rows) or bool(unreachable))
    blocks: list[Block] = [
        Heading(f"Progress of {report.organization}"),
        Text(f"{overall}\nTo-do lists: {deliveries}.{sign_in_views.sign_ins_line(report)}"),
        *_waiting_lists(report.with_delivery("waiting")),
        Table(
            ("item", "done", "verified", "self-reported", "open"),
            tuple(
                (
                    f"{item.title} (optional)" if item.key in OPTIONAL_ITEMS else item.title,
                    f"{item.done} of {item.total}",
                    str(item.verified),
                    str(item.self_reported),
                    str(item.total - item.done),
                )
                for item in report.items
            ),
        ),
        *([Text(_names_privately())] if live else lists.table(HEADER, rows)),
        *sign_in_views.still_personal_blocks(report.still_personal, report.organization, named=not live),
        *sign_in_views.mappings_blocks(report.mappings, report.organization, named=not live),
    ]
    if unreachable:
        where = "the attached list has" if with_csv else "*Full list (CSV)* sends you"
        marked = " or ".join(
            f"`{_DELIVERY_WORDS[state]}`" for state in _OUT_OF_CHAT if report.with_delivery(state)
        )
        blocks.append(
            Text(
                sign_in_views.people_counted(len(unreachable), "cannot", "cannot")
                + " be reached in chat (the reason says why); reach them another way"
                + f" ({where} their addresses, marked {marked})."
            )
        )
    if maybe := report.with_delivery("maybe-sent"):
        # named, past `lists.NAME_LIMIT` they are more than `lists.ROW_LIMIT` rows: the CSV is attached
        named = lists.names([user.known_as for user in maybe], rest=" in the attached CSV")
        blocks.append(
            Text(_may_have_arrived(len(maybe), named if not live else "*Refresh* names them to you"))
        )
    if with_csv:
        blocks.append(
            lists.csv_file(
                f"progress-{report.organization}.csv",
                f"To-do progress of everyone in {report.organization}",
                (
                    "email",
                    "name",
                    "case",
                    "items done",
                    "signed in",
                    "items total",
                    "to-do list",
                    "reason",
                    "work account",
                ),
                [
                    (
                        user.email,
                        user.display_name,
                        user.outcome,
                        str(user.done),
                        "verified" if user.signed_in else "not yet",
                        str(user.total),
                        _DELIVERY_WORDS[user.delivery],
                        user.delivery_error or "",
                        user.directory_account or "",
                    )
                    for user in behind
                ],
                organization=report.organization,
            )
        )
    buttons = [Button("Refresh", "progress", report.organization)]
    if live:
        buttons.append(Button("Full list (CSV)", "progress", f"{report.organization} {FULL_LIST}"))
    if report.with_delivery("failed", "not-in-chat", "in-chat", "maybe-sent"):
        buttons.append(_retry_failed(report.organization))
    blocks.append(Actions(tuple(buttons)))
    return Message(f"{report.organization}: {overall}", tuple(blocks), private=not live)


def _retry_failed(organization: str) -> Button:
    return Button("Retry failed", "retry-failed", organization, "primary")


def advance_notice(status: MigrationStatus, told: Told, nobody: str) -> Message:
    """`progress` before anyone has a list (`nobody` says so), once users were told what is coming: how the
    advance notice goes, privately, as whom it could not reach are named."""
    reached = (
        f"Advance notice of {status.organization}: {lists.of_people(told.delivered, told.people)} reached"
    )
    blocks: list[Block] = [
        Heading(f"Progress of {status.organization}"),
        Text(nobody),
        *told_blocks(told, status),
        Actions((Button("Refresh", "progress", status.organization),)),
    ]
    return Message(reached, tuple(blocks), private=True)


def _names_privately() -> str:
    return (
        "📬 Who is who: *Refresh* shows you each person's list and *Full list (CSV)* sends you everyone, in"
        " a message only you see; people's names are their addresses, which are not for the whole channel."
    )


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count:,} people"


def _may_have_arrived(count: int, who: str) -> str:
    """Lists handed to the chat platform that it could not confirm (a stop or a timeout cut the request
    short), of `count` people, `who` they are (named as `progress` names them, or where to find them), with
    the button that sends them again (`retry-failed`): never on its own, as they could arrive twice."""
    return (
        f"{_lists(count)} may have reached {_people(count)} or not: {who}. Each was handed to Teams, which"
        " did not confirm it (the bot stopped or Teams did not answer in time) and keeps no history to check,"
        " so it is not sent again on its own. *Retry failed* sends each again, saying it is sent again in"
        " case the first did not arrive."
    )


WAITING_REASONS_SHOWN = 5
"""Why lists wait, one line per kind of reason at most this many: the rest are counted in one line."""


def _waiting_lists(waiting: Sequence[UserProgress]) -> list[Block]:
    """Lists that were tried and wait to be tried again, by the kind of reason (Slack's member list
    unreadable, a 429): how many, since when, and one reason of the kind, which names the fix when there
    is one. Reasons of one kind may differ (an internal error's log reference, a fix found since): the
    table and the CSV show each list's; the line shows that of the list held longest, as a rule its
    sender's latest answer (Slack holds its DMs until its next read try: the fix it names once a read
    failed outlasts its earlier "waiting to be read again", however many of those are still held)."""
    by_kind: dict[str, list[UserProgress]] = {}
    for user in waiting:
        by_kind.setdefault(user.waiting_for or user.delivery_error or "", []).append(user)
    kinds = sorted(by_kind.values(), key=len, reverse=True)
    lines = []
    for users in kinds[:WAITING_REASONS_SHOWN]:
        oldest = min((user.queued_at for user in users if user.queued_at), default=None)
        since = f", the oldest queued {oldest:%Y-%m-%d %H:%M} UTC" if oldest else ""
        latest = max(users, key=_tried_again_at)
        others = len({user.delivery_error for user in users} - {latest.delivery_error})
        alike = f" (and {_count(others, 'more reason')} of this kind)" if others else ""
        lines.append(
            f"{_lists(len(users))} waiting{since}: {latest.delivery_error or 'no reason recorded'}{alike}."
        )
    if rest := kinds[WAITING_REASONS_SHOWN:]:
        kinds_left = _count(len(rest), "other kind")
        lines.append(f"And {_lists(sum(map(len, rest)))} waiting for {kinds_left} of reason.")
    return [Text("\n".join(lines))] if lines else []


def _lists(count: int) -> str:
    return _count(count, "to-do list")


def _count(count: int, thing: str) -> str:
    return f"{count} {thing}" if count == 1 else f"{count:,} {thing}s"


def _tried_again_at(user: UserProgress) -> datetime:
    return user.waiting_until or datetime.min.replace(tzinfo=UTC)


def _furthest_behind(user: UserProgress) -> tuple[int, float]:
    """Undelivered lists first, then the smallest share of items done."""
    undelivered = 0 if user.delivery in ("failed", *_OUT_OF_CHAT, "in-chat", "waiting", "maybe-sent") else 1
    return undelivered, (user.done / user.total if user.total else 1.0)


def delivery_update(report: Progress) -> Outgoing:
    """The live progress message in the migration's channel, updated in place."""
    live = progress(report, live=True)
    return Outgoing(live, Channel(report.channel_id), updates=progress_key(report.migration_id))


def retried(organization: str, count: int) -> Outgoing:
    if not count:
        return say(f"No to-do list of {organization} failed or is in doubt: there is nothing to retry.")
    return say(
        f"Queued again {_lists(count)} of {organization} that failed or may not have arrived; sending now."
    )
