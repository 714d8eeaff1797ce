"""After connecting: `notify` sends the to-do lists; each person's `todo`, `done` and `snooze`; the admins'
`progress`, `retry-failed` and `check-sign-ins`."""

from __future__ import annotations

from bot.conversation import (
    help_views,
    item_help_views,
    progress_views,
    reminder_views,
    sign_in_views,
    todo_item_views,
    todo_views,
)
from bot.conversation.commands import Command
from bot.conversation.desk import Desk, Handler, Stage, number
from bot.conversation.messages import Outgoing
from bot.conversation.understanding import STOP_REMINDERS
from workflows.errors import WorkflowError
from workflows.progress import NoListsYet
from workflows.results import Actor
from workflows.results_todo_lists import TodoEntry
from workflows.snoozing import NoMoreReminders
from workflows.stages.todo_lists import newest_list, not_on_list
from workflows.todo import CHOOSING_ITEM

ITEM_WORDS = frozenset({"done", "need-help", "snooze"})
"""Words whose buttons carry an id rather than the number the person sees."""


class AfterConnecting(Stage):
    """The to-do lists: sent, read, ticked off, put off, and followed by the admins."""

    def handlers(self) -> dict[str, Handler]:
        return {
            "notify": self._notify,
            "todo": self._todo,
            "done": self._done,
            "snooze": self._snooze,
            STOP_REMINDERS: self._stop_reminders,
            "progress": self._progress,
            "retry-failed": self._retry_failed,
            "check-sign-ins": self._check_sign_ins,
        }

    def _notify(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        result = self._desk.service.notify(command.arg(0), actor)
        return [*progress_views.queued(result), *self._desk.outbox.flush()]

    def _todo(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        entries = self._desk.service.todo_list(actor, shown=True)
        lost = () if entries else self._desk.service.access_lost(actor)
        if not entries and not lost and (held := self._desk.service.held_back(actor)):
            return [todo_views.held_back(held)]
        if not entries and not lost and (invitations := self._desk.service.invitations_to_accept(actor)):
            return [todo_views.before_the_switch(invitations)]
        if not entries and not lost:  # an admin asking "what's left": what they can do instead
            administered, approvable = self._desk.next_steps(actor)
            if administered:
                intro = todo_views.NO_OWN_LIST
                return [help_views.help_now(administered, (), approvable, intro=intro, channel=channel)]
            # what their advance notice asked of them, and when their list comes
            if ahead := self._desk.service.before_the_lists(actor):
                return [todo_views.before_the_list(ahead[0])]
        return [todo_views.todo_list(entries, actor, lost=lost)]

    def _done(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        if command.arg(0) is None:  # "I did it already": which one? Their open items, each with its `done N`
            entries = self._desk.service.todo_list(actor)
            if not entries:
                return self._todo(actor, command, channel)
            return [todo_views.which_done(newest_list(entries))]
        item = own_item(self._desk, actor, command.arg(0), "done")
        if item.key == CHOOSING_ITEM and not item.done_at:
            # ticked, it would hide *Choose my account* while she still has no way in (walk37 3): the admins'
            # decision ticks it, so Done offers what leads to it
            person = self._desk.service.awaiting_choice(item.organization, actor)
            if person is not None:
                choosing = item_help_views.Choosing.of(item.organization, person)
                admins = self._desk.admins(item.organization, actor)
                return [item_help_views.not_done_until_decided(choosing, person.address, admins)]
        result = self._desk.service.mark_done(item.id, actor)
        return [todo_views.marked_done(result, self._desk.service.todo_list(actor, shown=True), actor)]

    def _snooze(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`snooze 1d`, `snooze N 1w` with an item number of the list, or a reminder's button (`#ID 1d`);
        `snooze` alone ("remind me later"): when the next reminder comes, with a button for each span."""
        *which, span = command.args or ("",)
        if which and which[0].startswith(todo_item_views.BY_ID):
            reminder = number(which[0][1:], "Which reminder? Use the *Snooze* buttons on a reminder.")
            return [reminder_views.snoozed(self._desk.tracking.snooze(actor, span, reminder_id=reminder))]
        entries = self._own_list(actor, "snooze")
        if not command.args:
            upcoming = self._desk.tracking.next_reminder(actor, affected_user_id=entries[0].affected_user_id)
            return [reminder_views.snooze_choices(upcoming)]
        numbers = [entry.number for entry in entries]
        if which and which[0] not in [str(each) for each in numbers]:  # a mistake worth saying
            its_items = todo_views.item_numbers(numbers)
            raise WorkflowError(
                f"There is no item {which[0]} on your list (its items are {its_items})."
                " Say `snooze 1d` or `snooze 1w` to put off the reminders about your list."
            )
        snoozed = self._desk.tracking.snooze(actor, span, affected_user_id=entries[0].affected_user_id)
        return [reminder_views.snoozed(snoozed)]

    def _stop_reminders(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """ "Stop reminding me": no switch turns them off, so how they end, and the Snooze buttons while one
        is to come; a list that gets none any more (done, or its migration closed) is told just that."""
        entries = self._own_list(actor, "stop")
        try:
            upcoming = self._desk.tracking.next_reminder(actor, affected_user_id=entries[0].affected_user_id)
            not_yet = ""
        except WorkflowError as error:
            if isinstance(error, NoMoreReminders):
                raise
            upcoming, not_yet = None, str(error)  # none to put off yet: the list is on its way, or the first
        organization = entries[0].organization
        admins = self._desk.admins(organization, actor)
        return [reminder_views.reminders_stay(organization, upcoming, not_yet, admins)]

    def _own_list(self, actor: Actor, what: str) -> list[TodoEntry]:
        """The person's newest list, which their reminders are about; without one, nothing to `what`."""
        entries = newest_list(self._desk.service.todo_list(actor))
        if not entries:
            raise WorkflowError(f"Nothing to {what}: you have no to-do list, so no reminders come to you.")
        return entries

    def _progress(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        try:
            report = self._desk.tracking.progress(
                self._desk.known_organization(command, "reported on nothing")
            )
        except NoListsYet as nobody:
            # during an advance notice's wave (15 minutes and more at 20,000 people), how it goes
            told = self._desk.service.told(nobody.status.id)
            if told is None:
                raise
            doubted = self._desk.tracking.access_news_in_doubt(nobody.status)
            noticed = progress_views.advance_notice(nobody.status, told, str(nobody), doubted)
            return [Outgoing(noticed, revises=True)]
        full_list = command.arg(1) == progress_views.FULL_LIST
        # private (people's addresses); Refresh's answer is the clicked report as it now stands
        return [Outgoing(progress_views.progress(report, full_list=full_list), revises=not full_list)]

    def _retry_failed(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        named = self._desk.known_organization(command, "queued nothing again")
        organization = self._desk.service.status(named).organization
        queued = self._desk.tracking.retry_failed(organization)
        return [progress_views.retried(organization, queued.lists, queued.news), *self._desk.outbox.flush()]

    def _check_sign_ins(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        checked = self._desk.service.check_sign_ins(command.arg(0))
        return [sign_in_views.sign_ins_checked(checked, named=channel is None)]


def own_item(desk: Desk, actor: Actor, raw: str | None, word: str) -> TodoEntry:
    """`#ID` from a button, or the number in front of the item on the person's newest list."""
    entries = desk.service.todo_list(actor)
    newest = newest_list(entries)
    question = f"Which item? Say `{word} N` with the number on your list, or use its button."
    if raw and raw.startswith(todo_item_views.BY_ID):
        by_id = number(raw[1:], question)
        found = next((entry for entry in entries if entry.id == by_id), None)
    else:
        place = number(raw, question)
        found = next((entry for entry in newest if entry.number == place), None)
    if found is None:
        raise WorkflowError(not_on_list(raw or "", entries, word))
    return found
