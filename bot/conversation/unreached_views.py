"""Whom chat could not reach, said so that the admins reach them another way: the people the advance notice
missed (with how the notice went out, as `status`, a check's summary and the channel's report of it say it)
and the admins an approval prompt or the portal steps missed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from bot.conversation import lists, plan_views, sign_in_views
from bot.conversation.dates import day_and_time
from bot.conversation.messages import Block, Channel, Heading, Message, Outgoing, Text
from workflows.plan import Check
from workflows.results import MigrationStatus
from workflows.results_approving import AFFECTED_NAMES, AdminUnreached
from workflows.results_preparing import Told, Unreached


def told_blocks(told: Told | None, status: MigrationStatus, *, names: bool = True) -> list[Block]:
    """When users were told what is coming, and whom the notice reached (its delivery records), as the
    status of a cancelled migration says it of the "it is off" messages; `names`: whom it did not reach
    (addresses and what the plan does with them, like `plan`: for admins only), else how many."""
    if told is None:
        return []
    when = f" for {told.when}" if told.when else ""
    reached = [f"{lists.of_people(told.delivered, told.people)} reached"]
    if told.waiting:
        reached.append(f"{told.waiting:,} still on the way")
    if told.unreached:
        reached.append(f"{len(told.unreached):,} could not be reached")
    line = f"Users told what is coming{when} on {day_and_time(told.since)}: {', '.join(reached)}."
    if told.untold:
        joined = sign_in_views.people_counted(told.untold, "has", "have")
        # bare: it keeps the date as stored, which the date typed again may no longer pass (free text
        # announced before a day first was asked for)
        dated = ", with the same date" if told.when else ""
        line += f" {joined} joined the plan since: `announce {status.organization}` tells only them{dated}."
    if told.unreached and not names:
        line += " An admin's `status` in a direct message with me names them."
    if told.tried_again:
        tried = f"{len(told.tried_again):,} {'was' if len(told.tried_again) == 1 else 'were'} tried"
        line += (
            f"\nOf the {told.waiting:,} on the way, {tried} and wait for another try:"
            f" {counted_reasons(told.tried_again)}."
        )
    if told.unreached:
        why = counted_reasons([person.why for person in told.unreached])
        line += f"\nWhy {len(told.unreached):,} could not be reached: {why}."
    if not (told.unreached and names):
        return [Text(line)]
    return [
        Text(line),
        Text(unreached_lines(told.unreached, status.checks)),
        *unreached_csv(told.unreached, status.checks, status.organization),
    ]


REASON_KINDS_SHOWN = 5
"""Kinds of reason `counted_reasons` names, the most frequent first; the rest are counted together."""

_ADDRESSES = re.compile(r"[^\s():;,]+@[^\s():;,]+(?: or [^\s():;,]+@[^\s():;,]+)*")
"""A person's address, or their addresses joined by "or", in a delivery's reason ("no Slack account with
the email dana@fabrikam.com")."""


_NAMED_ADDRESS = re.compile(rf"\bthe (email|e-mail|address|sign-in name) {_ADDRESSES.pattern}")
"""An address after the word for it ("with the sign-in name dana@…"): said as theirs, "with their sign-in
name", not "with the sign-in name their address" (walk38)."""


def counted_reasons(reasons: Sequence[str]) -> str:
    """Reasons by kind, counted: each without the addresses it names, which are personal (this is read in
    channels) and would make every reason a kind of its own. One kind alone is not counted: the sentence
    before it says how many."""
    kinds = Counter(
        _ADDRESSES.sub("their address", _NAMED_ADDRESS.sub(r"their \1", why)) or "no reason given"
        for why in reasons
    )
    if len(kinds) == 1:
        return next(iter(kinds))
    shown = [f"{count:,} — {kind}" for kind, count in kinds.most_common(REASON_KINDS_SHOWN)]
    if rest := sum(count for _, count in kinds.most_common()[REASON_KINDS_SHOWN:]):
        shown.append(f"{rest:,} for other reasons")
    return "; ".join(shown)


def notice_missed(status: MigrationStatus, told: Told) -> Outgoing:
    """The advance notice's report in the migration's channel once chat could not reach someone, updated
    in place as the notice's deliveries settle: how many, as people's names are their addresses."""
    missed = len(told.unreached)
    summary = (
        f"{status.organization}: the advance notice could not reach {missed}"
        f" {'person' if missed == 1 else 'people'} in chat"
    )
    return Outgoing(
        Message(
            summary,
            (Heading(f"Advance notice of {status.organization}"), *told_blocks(told, status, names=False)),
        ),
        Channel(status.channel_id),
        updates=f"notice:{status.id}",
    )


def missed_by_name(organization: str, unreached: Sequence[Unreached], checks: Sequence[Check]) -> Outgoing:
    """Whom the advance notice missed, with the addresses to write to, for the admin who asked in a channel
    alone: the channel reads how many (people's names are their addresses)."""
    heading = f"Not reached by the advance notice of {organization}, by name"
    rest = "(`status` in a direct message with me attaches them all)"
    lines = unreached_lines(unreached, checks, rest=rest)
    return Outgoing(Message(heading, (Heading(heading), Text(lines)), private=True))


def admin_unreached_line(unreached: AdminUnreached) -> str:
    """Whom chat could not reach with what, why, and what to do instead (the channel's notice, `status`)."""
    who, number = unreached.email, unreached.approval_id
    if unreached.missed == "approval_prompt":
        return (
            f"⚠️ The approval prompt #{number} could not reach {who} in chat ({unreached.why}), so they have"
            f" not been asked. Tell them another way: they can type `approve {number}` (or `help`) to the bot"
            f"{_where(unreached.surfaces)}, or press *Approve* on the prompt in this channel."
        )
    return (
        f"⚠️ The portal steps could not reach {who}, who connects {unreached.organization}, in chat"
        f" ({unreached.why}). Tell them another way: https://dev.azure.com/{unreached.organization} >"
        f" Organization settings > Microsoft Entra ID > Connect directory > {unreached.directory} > Connect;"
        " I say here once it is connected."
    )


def _where(surfaces: Sequence[str]) -> str:
    """Where someone finds the bot, by the chat platforms it serves: only those ("in Slack or Teams" on a
    Slack-alone install sends them looking in Teams for nothing)."""
    if len(surfaces) > 1:
        return f" wherever they have it, in {' or '.join(surfaces)}"
    return f" in {surfaces[0]}" if surfaces else " wherever they have it"


def unreached_lines(
    unreached: Sequence[Unreached], checks: Sequence[Check], *, rest: str = "in the attached CSV"
) -> str:
    """Who the advance notice could not reach in chat, those it matters most for first, what happens to
    them (as the plan's `checks` have it now, like `plan`), why it could not (as its delivery found then:
    someone invited since had no directory account at the time), and how to reach them; past the first
    few, how many more and where they are (`rest`: `unreached_csv`'s file, where one is attached)."""
    first = _unreached_first(unreached)
    words = plan_views.outcome_words(checks)
    lines = [
        f"• {person.address} ({words[person.group][1]}) — when the notice went out:"
        f" {person.why or 'no reason given'}"
        for person in first[:AFFECTED_NAMES]
    ]
    if len(first) > AFFECTED_NAMES:
        lines.append(f"…and {len(first) - AFFECTED_NAMES:,} more {rest}")
    return "\n".join(
        [
            "⚠️ The advance notice could not reach them in chat, so they do not know what is coming; tell"
            " them another way, by email at these addresses:",
            *lines,
        ]
    )


def unreached_csv(unreached: Sequence[Unreached], checks: Sequence[Check], organization: str) -> list[Block]:
    """Everyone `unreached_lines` names, with their addresses to write to, when it cannot name them all: at
    20,000 people the notice missed 1,689 and the message showed ten, asking admins to email "these
    addresses"."""
    if len(unreached) <= AFFECTED_NAMES:
        return []
    words = plan_views.outcome_words(checks)
    return [
        lists.csv_file(
            f"not-reached-{organization}.csv",
            f"People the advance notice of {organization} could not reach in chat",
            ("email", "what happens to them", "why the notice could not reach them"),
            [
                (person.address, words[person.group][1], person.why or "no reason given")
                for person in _unreached_first(unreached)
            ],
            organization=organization,
        )
    ]


def _unreached_first(unreached: Sequence[Unreached]) -> list[Unreached]:
    return sorted(unreached, key=lambda person: not person.matters_most)
