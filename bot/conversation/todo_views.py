"""After connecting: the lists `notify` queues, each person's to-do list, its reminders, help with an item,
and how far everyone is."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation import faq_views, lists, sign_in_views
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
from workflows.plan import NO_ACCESS
from workflows.progress import Progress, UserProgress
from workflows.reminders import Snoozed
from workflows.results import Actor, MarkDoneResult, NotifyResult, TodoEntry
from workflows.stages.verification import StillPersonal
from workflows.working_hours import zone

BY_ID = "#"
"""In front of the id a button carries (`done #57`), where a typed number is a place on the list."""


def progress_key(migration_id: int) -> str:
    """The live delivery report of a migration: one message, updated as the outbox drains."""
    return f"delivery:{migration_id}"


def queued(result: NotifyResult) -> Outgoing:
    status = result.status
    text = (
        f"Queued {len(result.users)} to-do lists for {status.organization}, sending now. This message shows"
        " the progress; `progress` gives the details."
    )
    blocks: list[Block] = [Heading(f"To-do lists for {status.organization}"), Text(text)]
    if result.listed_before:
        had = sign_in_views.people_counted(len(result.listed_before), "has", "have")
        blocks.append(
            Text(
                f"{had} their list from an earlier migration of {status.organization} already, so they"
                f" get none again: {lists.names(result.listed_before)}."
            )
        )
    return Outgoing(
        Message(f"Queued {len(result.users)}, sending", with_next(blocks, status)),
        updates=progress_key(status.id),
    )


def todo_list_dm(
    *, organization: str, tenant: str, name: str, notes: Sequence[str], items: Sequence[TodoEntry]
) -> Message:
    target = tenant or "your company's directory"
    blocks: list[Block] = [
        Heading(f"Your to-do list: {organization} now signs in with {target}"),
        Text(
            f"Hi {name}, {organization} on Azure DevOps now uses {target} accounts."
            " Here is what *you* need to do; press Done as you go."
        ),
    ]
    if notes:
        blocks.append(Text("\n".join(f"• {note}" for note in notes)))
    blocks.extend(_items(items))
    return Message(f"Your to-do list for {organization}", tuple(blocks))


def invited_after_connecting_dm(
    *, organization: str, tenant: str, name: str, items: Sequence[TodoEntry], invited: bool = True
) -> Message:
    """Someone whose list said to ask for an account has a way in now (invited as a guest, or found in
    the directory): the items that replaced that one or joined it."""
    target = tenant or "your company's directory"
    if invited:
        heading = f"You are invited to {target}: {organization} is open to you again"
        how = f"the migration admins invited you as a guest of {target}"
    else:
        heading = f"You have an account in {target}: {organization} is open to you again"
        how = f"you have an account in {target} now"
    return _items_changed(heading, f"Hi {name}, {how}, so you can sign in to {organization} again.", items)


def account_decided_dm(
    *, organization: str, name: str, account: str, items: Sequence[TodoEntry], corrects: str = ""
) -> Message:
    """Someone whose list asked which work account is theirs: the admins decided, and their list says so.
    `corrects`: the account an earlier decision named, which they may have been told; this one wins."""
    heading = f"Your work account for {organization} is {account}"
    why = (
        f"the migration admins recorded {account} as your account and map your identity to it, so your"
        " history stays yours."
    )
    if corrects:
        heading += f", not {corrects}"
        why = f"I told you that {corrects} is your work account. That no longer holds: {why}"
    return _items_changed(heading, f"Hi {name}, {why}", items)


def access_kept_dm(
    *, organization: str, name: str, account: str, corrects: bool, items: Sequence[TodoEntry]
) -> Message:
    """Someone decided out of access, then given an account: their whole list; `corrects` when they may
    have heard that they lose access, which it takes back."""
    kept = (
        f"the migration admins recorded {account} as your work account and map your identity to it, so"
        " you keep access and your history stays yours."
    )
    if corrects:
        heading = f"You keep access to {organization} after all"
        why = f"Hi {name}, I told you that you lose access to {organization}. That no longer holds: {kept}"
    else:
        heading = f"Your work account for {organization} is {account}"
        why = f"Hi {name}, {kept}"
    blocks: list[Block] = [
        Heading(heading),
        Text(f"{why} Here is what *you* need to do; press Done as you go."),
        *_items(items),
    ]
    return Message(heading, tuple(blocks))


def lost_access(decided_by: str) -> str:
    """How admins see someone an admin decided loses access, in `progress` and the digest."""
    return f"lose access (decided by {decided_by or 'an admin'})"


def losing_access_apart(deciders: Sequence[str]) -> str:
    """Beside a count of people with a list: those decided out of access (`deciders`: who decided, one per
    person), who have nothing to do and are no open work. Empty when there are none."""
    if not deciders:
        return ""
    verb = "loses" if len(deciders) == 1 else "lose"
    return f"{len(deciders)} more {verb} access ({_decided_by(deciders)})"


def _losing_access_alone(deciders: Sequence[str]) -> str:
    """Those decided out of access when no count comes before them (a digest's line of its own)."""
    losing = sign_in_views.people_counted(len(deciders), "who loses", "who lose")
    return f"{losing} access ({_decided_by(deciders)})"


def _decided_by(deciders: Sequence[str]) -> str:
    return "decided by " + ", ".join(dict.fromkeys(by or "an admin" for by in deciders))


def access_lost_dm(
    *, organization: str, tenant: str, name: str, decided_by: str, case: str, withdraws: bool = False
) -> Message:
    """Someone an admin decided loses access: told once, plainly, why and by whom; nothing to do.
    `withdraws` when a list of theirs may have reached them: it no longer holds."""
    target = tenant or "your company's directory"
    why = (
        f"your only account in {target} is disabled"
        if case == "disabled"
        else f"none of the accounts in {target} that carry your address is yours"
    )
    heading = f"You no longer have access to {organization}"
    nothing = "The to-do list I sent you no longer holds: nothing" if withdraws else "Nothing"
    text = (
        f"Hi {name}, {organization} on Azure DevOps now signs in with {target} accounts, and {why}."
        f" {decided_by}, a migration admin, decided that you lose access to {organization}. Your work items,"
        f" commits and history stay in the organization under your old name. {nothing} for you to do; if you"
        f" still need access, ask {decided_by}."
    )
    return Message(heading, (Heading(heading), Text(text)))


def _items_changed(heading: str, why: str, items: Sequence[TodoEntry]) -> Message:
    """A list that changed after it was sent: why, then the items that are new or changed."""
    blocks: list[Block] = [
        Heading(heading),
        Text(f"{why} These items of your to-do list are new or changed:"),
        *_items(items),
    ]
    return Message(heading, tuple(blocks))


def todo_reminder(
    *,
    organization: str,
    name: str,
    items: Sequence[TodoEntry],
    total: int,
    reminder_id: int,
    sender: str = "",
) -> Message:
    """Short: who asks, the open items by number and title with their buttons; `todo` has the steps (the
    first list gave them in full, and repeating them every other day buries what is left)."""
    heading = f"Reminder: {len(items)} of {total} items left on your {organization} list"
    asked = f"{sender}, who runs the move of {organization}, asked me to remind you: " if sender else ""
    blocks: list[Block] = [
        Heading(heading),
        Text(f"Hi {name}, {asked}these are still open. Press Done on each one you have finished."),
    ]
    for item in items:
        blocks += [
            Text(f"{_bullet(item)} *{item.title}*"),
            _item_buttons(item),
        ]
    blocks += [
        Text("Say `todo` for the full steps of each."),
        Actions(
            (
                Button("Snooze 1 day", "snooze", f"{BY_ID}{reminder_id} 1d"),
                Button("Snooze 1 week", "snooze", f"{BY_ID}{reminder_id} 1w"),
            )
        ),
    ]
    return Message(heading, tuple(blocks))


_WAITING_FOR = {
    "choose-work-account": "to decide which of the directory accounts that share your address is yours",
    "enable-directory-account": "to have your disabled directory account enabled, or to choose another one",
    "ask-for-access": "to give you a way in: an invitation to the directory as a guest, or a work account",
}
"""What the admins must do first, by the item that stands for the wait (`workflows.waiting`)."""


def waiting_reminder(
    *, organization: str, name: str, sender: str, waiting_item: str, admins: Sequence[str] = ()
) -> Message:
    """Instead of a reminder of tasks they cannot do yet: whom they wait on (`admins`, everyone who can act;
    without them, `sender`, who runs the migration), and what happens next."""
    heading = f"Your {organization} list waits on the migration admins"
    who = lists.names(admins) if admins else sender
    waits_for = f"the migration admins ({who})" if who else "the migration admins"
    why = _WAITING_FOR.get(waiting_item, "to act on your account")
    blocks: list[Block] = [
        Heading(heading),
        Text(
            f"Hi {name}, nothing on your {organization} list can be done yet: it waits for {waits_for} {why}."
            " As soon as they have, I send you the steps that follow, and reminders only come again then."
            " Something they should know, or in a hurry? Say `todo` and press *I need help* on that item."
        ),
    ]
    return Message(heading, tuple(blocks))


def straggler_digest(
    *,
    organization: str,
    users: int,
    stragglers: Sequence[tuple[str, str, int, int]],
    unreachable: int = 0,
    not_signed_in: Sequence[tuple[str, str]] = (),
    grace_working_days: int = 0,
    still_personal: Sequence[StillPersonal] = (),
    waiting: Sequence[tuple[str, str, str]] = (),
    lost: Sequence[tuple[str, str]] = (),
) -> Message:
    """`waiting`: (email, name, what the admins do: `decide` or `invite`) of who can do nothing until then.
    `lost`: (email, who decided) of everyone an admin decided loses access; they have nothing to do."""
    verb = "has" if len(stragglers) == 1 else "have"
    heading = f"{lists.of_people(len(stragglers), users)} in {organization} still {verb} open to-do items"
    rows = [(email, name, f"{total - left} of {total} done") for email, name, left, total in stragglers]
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
    blocks += _waiting_blocks(waiting, organization)
    blocks += sign_in_views.not_signed_in_blocks(not_signed_in, grace_working_days)
    blocks += sign_in_views.still_personal_blocks(still_personal, organization)
    if lost:
        shown = [f"• {email}: {lost_access(by)}" for email, by in lost[: lists.ROW_LIMIT]]
        if len(lost) > lists.ROW_LIMIT:
            shown.append(f"…and {len(lost) - lists.ROW_LIMIT} more; `progress` lists everyone.")
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
    return Message(heading, tuple(blocks))


def _waiting_blocks(waiting: Sequence[tuple[str, str, str]], organization: str) -> list[Block]:
    if not waiting:
        return []
    steps = {
        "decide": f"`decide {organization} {{email}} ACCOUNT` (or `no-access`)",
        "invite": "`invite` them, or have a work account made for them",
    }
    rows = [(email, name, steps[step].format(email=email)) for email, name, step in waiting]
    return [
        Text(
            sign_in_views.people_counted(len(waiting), "waits", "wait")
            + " for your decision: they can do nothing on their list until you act. They heard so once"
            " and get no reminders until then."
        ),
        *lists.table(("user", "name", "your step"), rows),
    ]


def billing_moved(*, organization: str, message: str) -> Message:
    """The billing reminder's check found the subscription in the new directory."""
    heading = f"Billing of {organization} has moved"
    blocks: list[Block] = [
        Heading(heading),
        Text(f"{message} No more billing reminders. Next: `complete` once everyone is done."),
        Actions((Button("Complete", "complete", organization, "primary"),)),
    ]
    return Message(heading, tuple(blocks))


def billing_reminder(
    *, organization: str, message: str, steps: Sequence[str], deadline: str, missed: str | None = None
) -> Message:
    """`missed`: the end of the month of the connection, when it passed with billing unmoved."""
    if missed is None:
        heading = f"Reminder: move the billing of {organization} before the month ends ({deadline})"
        blocks: list[Block] = [Heading(heading), Text(message)]
    else:
        heading = f"Overdue: the billing of {organization} has not moved"
        overdue = (
            f"Microsoft asks to move billing before the end of the month the organization was connected in;"
            f" that was {missed}. Move it now; until it moves I remind you, next before {deadline}."
        )
        blocks = [Heading(heading), Text(f"{overdue}\n{message}")]
    if steps:
        blocks.append(Text("\n".join(f"{number}. {step}" for number, step in enumerate(steps, start=1))))
    blocks.append(Actions((Button("Check billing", "check-billing", organization, "primary"),)))
    return Message(heading, tuple(blocks))


_DELIVERY_WORDS = {
    "sent": "sent",
    "queued": "queued",
    "sending": "sending",
    "failed": "failed",
    "not-in-chat": "not in chat",
}


FULL_LIST = "csv"
"""`progress ORG csv`: the live report's *Full list (CSV)* button, the CSV of everyone whatever the size."""


def progress(report: Progress, *, live: bool = False, full_list: bool = False) -> Message:
    """Completion per item, per user and overall, and where each to-do list stands in delivery.

    Asked for, it is private (people's addresses) and attaches everyone as CSV when the list is cut or
    someone must be reached outside chat, or always with `full_list`. `live` is the channel's report,
    updated as lists go out: it carries no file (Slack cannot update a file in place, and the channel is
    not the place for everyone's addresses); its *Full list (CSV)* button sends the current list, then,
    privately to whichever admin asks.
    """
    unreachable = report.with_delivery("not-in-chat")
    out_of_chat = sum(user.delivery == "not-in-chat" for user in report.listed)
    users = len(report.listed) - out_of_chat
    are = "is" if out_of_chat == 1 else "are"
    outside = f" ({out_of_chat} more {are} not in chat and cannot tick items)" if out_of_chat else ""
    apart = losing_access_apart(report.deciders)
    overall = (
        f"{lists.of_people(report.users_done, users)} done{outside};{f' {apart};' if apart else ''}"
        f" {report.items_done} of {report.items_total} items done."
    )
    deliveries = ", ".join(
        f"{count} {_DELIVERY_WORDS[state]}"
        for state in _DELIVERY_WORDS
        if (count := len(report.with_delivery(state)))
    )
    behind = sorted(report.users, key=_furthest_behind)
    rows = [
        (
            _known_as(user),
            lost_access(user.lost_access_by) if user.outcome == NO_ACCESS else f"{user.done} of {user.total}",
            "verified" if user.signed_in else "not yet",
            _DELIVERY_WORDS[user.delivery],
            user.delivery_error or "",
        )
        for user in behind
    ]
    with_csv = not live and (full_list or lists.is_cut(rows) or bool(unreachable))
    rest = "in the attached CSV" if with_csv else "in the CSV that *Full list (CSV)* sends you"
    blocks: list[Block] = [
        Heading(f"Progress of {report.organization}"),
        Text(f"{overall}\nTo-do lists: {deliveries}.{sign_in_views.sign_ins_line(report)}"),
        Table(
            ("item", "done", "verified", "self-reported", "open"),
            tuple(
                (
                    item.title,
                    f"{item.done} of {item.total}",
                    str(item.verified),
                    str(item.self_reported),
                    str(item.total - item.done),
                )
                for item in report.items
            ),
        ),
        *lists.table(("user", "items done", "signed in", "to-do list", "reason"), rows, rest=rest),
        *sign_in_views.still_personal_blocks(report.still_personal, report.organization, with_csv=not live),
    ]
    if unreachable:
        where = "the attached list has" if with_csv else "*Full list (CSV)* sends you"
        blocks.append(
            Text(
                sign_in_views.people_counted(len(unreachable), "cannot", "cannot")
                + " be reached in chat (the reason says why); reach them another way"
                + f" ({where} their addresses, marked `not in chat`)."
            )
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
    if report.with_delivery("failed", "not-in-chat"):
        buttons.append(Button("Retry failed", "retry-failed", report.organization, "primary"))
    blocks.append(Actions(tuple(buttons)))
    return Message(f"{report.organization}: {overall}", tuple(blocks), private=not live)


def _known_as(user: UserProgress) -> str:
    """Their work account once the plan gives one, with the Azure DevOps address they were listed under."""
    return f"{user.directory_account} (was {user.email})" if user.directory_account else user.email


def _furthest_behind(user: UserProgress) -> tuple[int, float]:
    """Undelivered lists first, then the smallest share of items done."""
    undelivered = 0 if user.delivery in ("failed", "not-in-chat") else 1
    return undelivered, (user.done / user.total if user.total else 1.0)


def delivery_update(report: Progress) -> Outgoing:
    """The live progress message in the migration's channel, updated in place."""
    live = progress(report, live=True)
    return Outgoing(live, Channel(report.channel_id), updates=progress_key(report.migration_id))


def retried(organization: str, count: int) -> Outgoing:
    if not count:
        return say(f"No to-do list of {organization} failed to arrive: there is nothing to retry.")
    return say(f"Queued {count} undelivered to-do lists of {organization} again; sending now.")


def snoozed(snooze: Snoozed) -> Outgoing:
    """When the next reminder actually comes, and whether the snooze changed it."""
    local = snooze.until.astimezone(zone(snooze.time_zone))
    when = f"{local:%A} {local.day} {local:%B at %H:%M} ({snooze.time_zone or 'UTC'})"
    if not snooze.moved:
        return say(
            f"Your next reminder comes on {when} anyway, after the time you asked for: nothing to put off."
            " Snooze again after it comes if you need more time.",
            private=True,
        )
    return say(f"😴 Snoozed: your next reminder comes on {when}.", private=True)


def _items(items: Sequence[TodoEntry]) -> list[Block]:
    blocks: list[Block] = []
    # The number in front is the item's place on the person's list, the one they type (`done 2`); the
    # buttons carry the item's id (`#id`), which stays right whichever list or message they are on.
    for item in items:
        mark = "✅" if item.done_at else _bullet(item)
        blocks.append(Text(f"{mark} *{item.title}*\n{item.body}\nMore: {item.link}"))
        if not item.done_at:
            blocks.append(_item_buttons(item))
    return blocks


def _bullet(item: TodoEntry) -> str:
    return f"{item.number}." if item.number else "•"


def _item_buttons(item: TodoEntry) -> Actions:
    return Actions(
        (
            Button("Done", "done", f"{BY_ID}{item.id}", "primary"),
            Button("I need help", "need-help", f"{BY_ID}{item.id}"),
        )
    )


def todo_list(entries: Sequence[TodoEntry], actor: Actor) -> Outgoing:
    if not entries:
        return say("You have no to-do items: nothing for you to do in any migration right now.", private=True)
    open_items = [entry for entry in entries if not entry.done_at]
    heading = f"Your to-do list for {entries[0].organization}: {len(open_items)} of {len(entries)} open"
    return say(heading, Heading(heading), *_items(entries), private=True)


def marked_done(result: MarkDoneResult) -> Outgoing:
    if result.already_done:
        return say(f"*{result.item.title}* was already done.", private=True)
    tail = (
        "That was the last one: all done, thank you!"
        if result.remaining == 0
        else f"{result.remaining} to go."
    )
    return say(f"✅ *{result.item.title}* done. {tail}", private=True)


def help_for_item(
    item: TodoEntry, answer: str, admins: Sequence[str], admins_told: bool, *, again: bool = False
) -> list[Outgoing]:
    """The answer to "I need help", naming the `admins` told; `again` when they already were today."""
    blocks: list[Block] = [Heading(f"Help with: {item.title}"), Text(answer)]
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


def finding_the_invitation(item: TodoEntry) -> str:
    """Help with accepting the invitation, once it was sent: where it is, and who can send it again."""
    return (
        f"The invitation is an email from Microsoft Invitations (invites@microsoft.com) sent to {item.email}."
        " Search that mailbox for invites@microsoft.com, including the spam or junk folder, open the email"
        f" and select *Accept invitation*; then sign in to https://dev.azure.com/{item.organization} as"
        f" {item.email}. Already accepted it? Just sign in there. If the email is nowhere, the migration"
        " admins can send it again."
    )


def help_request(*, name: str, email: str, title: str = "", key: str = "", question: str = "") -> Message:
    """Tells the admins that someone needs help with an item of their list, or asks them a question."""
    if question:
        asked = faq_views.excerpt(question)
        text = f"{name} ({email}) asks the migration admins: “{asked}”. Answer them at {email}."
    else:
        text = f"{name} ({email}) needs help with: {title}. Write to them at {email}."
    if key == "accept-invitation":
        text += (
            " If they cannot find the invitation email, send it again: Microsoft Entra admin center > Users >"
            f" All users > {email} > Overview > B2B collaboration > Resend invitation."
        )
    return Message(text, (Text(text),))
