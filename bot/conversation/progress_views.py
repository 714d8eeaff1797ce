"""The to-do lists as the admins see them: the lists `notify` queued, the live delivery report and
`progress`, and the retry of those that failed (the digest of who still has open items: `digest_views`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

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
from workflows.reach import OUT_OF_CHAT
from workflows.results import MigrationStatus
from workflows.results_preparing import Told
from workflows.results_todo_lists import NotifyResult
from workflows.todo import OPTIONAL_ITEMS


def progress_key(migration_id: int) -> str:
    """The live delivery report of a migration: one message, updated as the outbox drains."""
    return f"delivery:{migration_id}"


def queued(result: NotifyResult) -> list[Outgoing]:
    """The live report's first version, where `notify` was typed (a channel, as a rule): counts only; whoever
    already had a list, by name, to the admin who typed it alone (people's names are their addresses)."""
    status = result.status
    text = (
        f"Queued {to_do_lists(len(result.users))} for {status.organization}, sending now."
        " This message shows the progress; `progress` gives the details."
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


def losing_access_alone(deciders: Sequence[str]) -> str:
    """Those decided out of access when no count comes before them (a digest's line of its own)."""
    losing = sign_in_views.people_counted(len(deciders), "who loses", "who lose")
    return f"{losing} access ({_decided_by(deciders)})"


def _decided_by(deciders: Sequence[str]) -> str:
    return "decided by " + ", ".join(dict.fromkeys(by or "an admin" for by in deciders))


DELIVERY_WORDS = {
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

HEADER = ("user", "items done", "signed in", "to-do list", "reason")
FULL_LIST = "csv"
"""`progress ORG csv`: the live report's *Full list (CSV)* button, the CSV of everyone whatever the size."""


def people_done(report: Progress) -> str:
    """How many of the people who can tick items in chat are done, and how many more cannot: `progress` and
    `status` say it in these words, so that they agree (walk38: "1 of 10" beside "1 of 8")."""
    out_of_chat = sum(user.delivery in OUT_OF_CHAT for user in report.listed)
    users = len(report.listed) - out_of_chat
    are = "is" if out_of_chat == 1 else "are"
    outside = f" ({out_of_chat:,} more {are} not in chat and cannot tick items)" if out_of_chat else ""
    return f"{lists.of_people(report.users_done, users)} done{outside}"


def progress(report: Progress, *, live: bool = False, full_list: bool = False) -> Message:
    """Completion per item, per user and overall, and where each to-do list stands in delivery.

    Asked for, it is private (people's addresses) and attaches everyone as CSV when the list is cut or
    someone must be reached outside chat, or always with `full_list`. `live` is the channel's report,
    updated as lists go out: counts only, as people's names are their addresses, which are not for the
    whole channel, and no file (Slack cannot update a file in place); its *Refresh* and *Full list (CSV)*
    buttons send whichever admin presses them everyone by name, privately.
    """
    unreachable = report.with_delivery(*OUT_OF_CHAT)
    apart = losing_access_apart(report.deciders)
    overall = (
        f"{people_done(report)};{f' {apart};' if apart else ''}"
        f" {report.items_done:,} of {report.items_total:,} items done."
    )
    deliveries = ", ".join(
        f"{count:,} {DELIVERY_WORDS[state]}"
        for state in DELIVERY_WORDS
        if (count := len(report.lists_with_delivery(state)))
    )
    behind = sorted(report.users, key=_furthest_behind)
    rows = [
        (
            user.known_as,
            lost_access(user.lost_access_by) if user.outcome == NO_ACCESS else f"{user.done} of {user.total}",
            "verified" if user.signed_in else "not yet",
            DELIVERY_WORDS[user.delivery],
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
        *([Text(names_privately("*Refresh*"))] if live else lists.table(HEADER, rows)),
        *sign_in_views.still_personal_blocks(report.still_personal, report.organization, named=not live),
        *sign_in_views.mappings_blocks(report.mappings, report.organization, named=not live),
    ]
    if unreachable:
        where = "the attached list has" if with_csv else "*Full list (CSV)* sends you"
        marked = " or ".join(
            f"`{DELIVERY_WORDS[state]}`" for state in OUT_OF_CHAT if report.with_delivery(state)
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
            Text(may_have_arrived(len(maybe), named if not live else "*Refresh* names them to you"))
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
                        DELIVERY_WORDS[user.delivery],
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
        buttons.append(full_list_button(report.organization))
    if report.with_delivery("failed", "not-in-chat", "in-chat", "maybe-sent"):
        buttons.append(retry_failed_button(report.organization))
    blocks.append(Actions(tuple(buttons)))
    return Message(f"{report.organization}: {overall}", tuple(blocks), private=not live)


def retry_failed_button(organization: str) -> Button:
    return Button("Retry failed", "retry-failed", organization, "primary")


def advance_notice(status: MigrationStatus, told: Told, nobody: str, doubted: Sequence[str]) -> Message:
    """`progress` before anyone has a list (`nobody` says so), once users were told what is coming: how the
    advance notice goes, privately, as whom it could not reach are named; and who was told of their access
    since by a message that may not have reached them (`doubted`, their addresses), which *Retry failed*
    sends again."""
    reached = (
        f"Advance notice of {status.organization}: {lists.of_people(told.delivered, told.people)} reached"
    )
    if doubted:
        reached += f"; {_count(len(doubted), 'message')} of someone's access may not have arrived"
    blocks: list[Block] = [
        Heading(f"Progress of {status.organization}"),
        Text(nobody),
        *told_blocks(told, status),
        *([Text(access_news_may_have_arrived(doubted))] if doubted else []),
        Actions(
            (
                Button("Refresh", "progress", status.organization),
                *([retry_failed_button(status.organization)] if doubted else []),
            )
        ),
    ]
    return Message(reached, tuple(blocks), private=True)


def names_privately(button: str) -> str:
    """Where a channel's copy of the lists sends whoever wants the names: `button`, `progress`'s."""
    return (
        f"📬 Who is who: {button} shows you each person's list and *Full list (CSV)* sends you everyone, in"
        " a message only you see; people's names are their addresses, which are not for the whole channel."
    )


def full_list_button(organization: str) -> Button:
    return Button("Full list (CSV)", "progress", f"{organization} {FULL_LIST}")


def may_have_arrived(count: int, who: str) -> str:
    """Lists handed to the chat platform that it could not confirm (a stop, a timeout or a server error cut
    the request short) and the bot cannot look for (Teams keeps no history a bot can read; Slack's is
    unreadable without the app's history scopes), of `count` people, `who` they are (named as `progress`
    names them, or where to find them), with the button that sends them again (`retry-failed`): never on
    its own, as they could arrive twice. Either platform's, in one migration: someone out of its surface
    is reached on the other."""
    return (
        f"{to_do_lists(count)} may have reached {sign_in_views.count_of_people(count)} or not: {who}."
        " Each was handed to chat, which did not confirm it (the bot stopped, or chat's answer never came or"
        " was an error), and no history can be read to check it (Teams keeps none a bot can read; Slack's"
        " needs the app's history scopes), so it is not sent again on its own. *Retry failed* sends each"
        " again, saying it is sent again in case the first did not arrive."
    )


def access_news_may_have_arrived(who: Sequence[str]) -> str:
    """What people were told of their access before their lists (that they lose it, or keep it after all)
    that chat could not confirm, `who` they were: as `may_have_arrived` says it of lists."""
    return (
        f"{_count(len(who), 'message')} telling someone of their access may have reached them or not:"
        f" {', '.join(who)}. Chat did not confirm it, and no history can be read to check it, so it is not"
        " sent again on its own. *Retry failed* sends it again, saying it is sent again in case the first did"
        " not arrive."
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
            f"{to_do_lists(len(users))} waiting{since}:"
            f" {latest.delivery_error or 'no reason recorded'}{alike}."
        )
    if rest := kinds[WAITING_REASONS_SHOWN:]:
        kinds_left = _count(len(rest), "other kind")
        lines.append(f"And {to_do_lists(sum(map(len, rest)))} waiting for {kinds_left} of reason.")
    return [Text("\n".join(lines))] if lines else []


def to_do_lists(count: int) -> str:
    return _count(count, "to-do list")


def _count(count: int, thing: str) -> str:
    return f"{count} {thing}" if count == 1 else f"{count:,} {thing}s"


def _tried_again_at(user: UserProgress) -> datetime:
    return user.waiting_until or datetime.min.replace(tzinfo=UTC)


def _furthest_behind(user: UserProgress) -> tuple[int, float]:
    """Undelivered lists first, then the smallest share of items done."""
    undelivered = 0 if user.delivery in ("failed", *OUT_OF_CHAT, "in-chat", "waiting", "maybe-sent") else 1
    return undelivered, (user.done / user.total if user.total else 1.0)


def delivery_update(report: Progress) -> Outgoing:
    """The live progress message in the migration's channel, updated in place."""
    live = progress(report, live=True)
    return Outgoing(live, Channel(report.channel_id), updates=progress_key(report.migration_id))


def retried(organization: str, lists: int, news: int) -> Outgoing:
    """What *Retry failed* queued again: `lists` (to-do lists or their changes) and `news` (messages that
    told someone of their access)."""
    if not lists and not news:
        return say(f"No to-do list of {organization} failed or is in doubt: there is nothing to retry.")
    queued = [to_do_lists(lists)] if lists else []
    queued += (
        [f"{news} message of someone's access" if news == 1 else f"{news:,} messages of people's access"]
        if news
        else []
    )
    return say(
        f"Queued again {' and '.join(queued)} of {organization} that failed or may not have arrived;"
        " sending now."
    )
