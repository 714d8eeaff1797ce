"""One conversation for every surface: a command or click in, messages out (replies, DMs, announcements).

Listeners on Slack, the console and later Teams stay thin: they turn their platform's event into an
`Actor` and words, call `Conversation`, and deliver the `Outgoing` messages it returns.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.conversation import closing_views, faq_views, help_views, sign_in_views, todo_views, views
from bot.conversation.commands import USAGE_OF, USAGES, Command, parse
from bot.conversation.faq_review import FaqReview
from bot.conversation.messages import Message, Outgoing, Text, say, tell_privately
from bot.conversation.understanding import Reading, Suggestion, read, reads_like_question, suggestions
from bot.delivery.render import CHANNEL_PREFIX
from faq import HOW_TO_REACH_A_PERSON, AskerContext, FaqAnswerer
from workflows.arguments import organization_name, user_id
from workflows.directory import MicrosoftError, OrgUser
from workflows.errors import NotInvitedYet, PermissionDenied, WorkflowError
from workflows.machine import CONNECTED_UNFINISHED
from workflows.plan import Check
from workflows.reminders import Tracking
from workflows.results import BOT, Actor, MigrationStatus, TodoEntry
from workflows.service import MigrationService, check_start_arguments
from workflows.stages.todo_lists import newest_list, not_on_list

log = logging.getLogger(__name__)

ADMIN_WORDS = frozenset(usage.word for usage in USAGES if usage.admin)
START_USAGE = (
    "Say `start ORG TENANT`: the organization name from https://dev.azure.com/ORG and the directory's"
    " tenant id or verified domain, e.g. `start fabrikam-fiber fabrikam.com`."
)
ITEM_TOPICS = {
    "sign-in-work-account": "identity-picker-sign-in",
    "clear-git-credentials": "git-credential-cache",
    "re-add-ssh-keys": "ssh-keys",
    "recreate-pats": "regenerate-pat",
    "rename-microsoft-account": "account-picker-prompt",
    "visual-studio-subscription": "vs-subscription",
    "ask-for-access": "email-not-found",
    "enable-directory-account": "email-not-found",
    "choose-work-account": "disconnected-users-matching-identity",
}
"""The FAQ topic that answers "I need help" on each kind of to-do item (accepting the invitation has its own
help: by then the invitation is out, and the person needs to find it or have it sent again)."""
_NOTIFIED_STATES = frozenset({"users_notified", "billing_checked", "completed"})
Handler = Callable[[Actor, Command, "str | None"], list[Outgoing]]


class Outbox(Protocol):
    """How queued messages leave: drained at once for the console, or by a background worker."""

    def flush(self) -> list[Outgoing]:
        """Deliver what is due if this surface delivers inline; what the surface should show."""
        ...


@dataclass(frozen=True)
class Roles:
    """Chat user ids that may run admin commands whatever the organization says (`AADBOT_ADMINS`)."""

    extra_admin_ids: frozenset[str] = frozenset()


class Conversation:
    def __init__(
        self,
        service: MigrationService,
        answerer: FaqAnswerer,
        roles: Roles | None = None,
        *,
        tracking: Tracking,
        outbox: Outbox,
    ) -> None:
        self._service = service
        self._answerer = answerer
        self._roles = roles or Roles()
        self._tracking = tracking
        self._outbox = outbox
        self._handlers: dict[str, Handler] = {
            "help": self._help,
            "ask": self._ask,
            "start": self._start,
            "doctor": self._doctor,
            "status": self._status,
            "plan": self._plan,
            "recheck": self._recheck,
            "invite": self._invite,
            "request-approval": self._request_approval,
            "approve": self._decide,
            "reject": self._decide,
            "check-connection": self._check_connection,
            "announce": self._announce,
            "notify": self._notify,
            "check-billing": self._check_billing,
            "complete": self._complete,
            "stale-users": self._stale_users,
            "remove-users": self._remove_users,
            "decide": self._decide_account,
            "resume": self._resume,
            "cancel": self._cancel,
            "todo": self._todo,
            "done": self._done,
            "need-help": self._need_help,
            "progress": self._progress,
            "rehearse": self._rehearse,
            "check-sign-ins": self._check_sign_ins,
            "retry-failed": self._retry_failed,
            "snooze": self._snooze,
            faq_views.ASK_ADMIN: self._ask_admin,
        }
        self._review = FaqReview(answerer, self._asker_context)
        self._handlers.update(self._review.handlers())

    # ------------------------------------------------------------ entry points

    def command(self, actor: Actor, text: str, *, channel: str | None) -> list[Outgoing]:
        """`/aad WORDS`, a mention, or a line typed in the console: a command, a typo of one, a question."""
        return self._answer(actor, read(text), channel)

    def action(self, actor: Actor, action: str, value: str, *, channel: str | None) -> list[Outgoing]:
        """A button click: its action is a command word and its value the argument."""
        if action not in self._handlers:
            return [help_views.stale_button()]
        if action in _ITEM_WORDS and value[:1].isdigit():  # a button from before lists were numbered
            value = f"{todo_views.BY_ID}{value}"
        return self._run(actor, parse(f"{action} {value}"), channel)

    def chat(self, actor: Actor, text: str) -> list[Outgoing]:
        """A direct message to the bot: a command if it starts with one, a typo of one, else a question."""
        return self._answer(actor, read(text, in_direct_message=True), None)

    def home(self, actor: Actor) -> Message:
        """What the App Home shows this person: migrations for admins, their own list for everyone."""
        try:
            statuses = self._service.migrations()
            visible = [status for status in statuses if self._may_administer(status.organization, actor)]
            return views.home(visible, self._service.todo_list(actor))
        except (WorkflowError, MicrosoftError) as error:
            return Message("aadbot", (Text(str(error)),))

    def watch(self) -> list[Outgoing]:
        """One look at every migration waiting for the portal step, then the reminders that are due.

        What the look finds is recorded as a notice with it; the outbox delivers it with the reminders.
        """
        for organization in self._service.organizations(state="connecting"):
            try:
                self._service.check_connection(organization)
            except (WorkflowError, MicrosoftError) as error:
                log.warning("connection watch of %s failed: %s", organization, error)
        return self.remind()

    def remind(self) -> list[Outgoing]:
        """Queue the reminders that are due, then let the outbox deliver them."""
        try:
            self._tracking.tick()
        except (WorkflowError, MicrosoftError) as error:
            log.warning("reminders failed: %s", error)
        return self._outbox.flush()

    # ------------------------------------------------------------ dispatching

    def _answer(self, actor: Actor, reading: Reading, channel: str | None) -> list[Outgoing]:
        """Never the whole help for words that are not a command: a wall of words hides what was meant."""
        match reading.kind:
            case "typo":
                return [help_views.did_you_mean(reading.command.word, reading.meant)]
            case "unknown":
                return [help_views.not_understood(reading.command.word)]
        return self._run(actor, reading.command, channel)

    def _run(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        if command.problem:
            return [tell_privately(command.problem)]
        handler = self._handlers.get(command.word)
        if handler is None:
            return [help_views.not_understood(command.word)]
        try:
            if command.word in ADMIN_WORDS:
                self._require_admin(actor, command)
            return handler(actor, command, channel)
        except (WorkflowError, MicrosoftError) as error:
            return [tell_privately(str(error))]
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("command %r failed (reference %s)", command.word, reference)
            return [
                tell_privately(
                    f"Something went wrong on my side (reference {reference}); the bot's operators can find"
                    " it in the log under that reference. Every step is saved as it completes, so check"
                    " `status` to see where the migration stands before trying again."
                )
            ]

    def _require_admin(self, actor: Actor, command: Command) -> None:
        organization = self._organization_of(command)
        if not self._may_administer(organization, actor):
            where = f" of {organization}" if organization else ""
            raise PermissionDenied(
                f"Sorry {actor.name or actor.email}, `{command.word}` is for the organization's admins: the"
                f" owner and the Project Collection Administrators{where}. Nothing was changed. If you are"
                " one, I could not confirm it just now: try again in a few minutes. Otherwise ask one of"
                " them, or ask the bot's operators to add you to AADBOT_ADMINS."
            )

    def _may_administer(self, organization: str | None, actor: Actor) -> bool:
        return self._service.is_admin(organization, actor, tuple(self._roles.extra_admin_ids))

    def _organization_of(self, command: Command) -> str | None:
        if command.word in ("start", "doctor"):  # checked before the admin check asks Azure DevOps
            if len(command.args) != 2:
                raise WorkflowError(START_USAGE if command.word == "start" else _DOCTOR_USAGE)
            return check_start_arguments(*command.args)[0]
        if command.word in ("approve", "reject"):
            return self._service.approval_organization(self._approval_id(command))
        if command.word == "remove-users":
            if len(command.args) < 2:
                raise WorkflowError(_REMOVE_USAGE)
            if command.args[1] != STALE_FLAG:  # the button names its list, not ids
                for user in command.args[1:]:
                    user_id(user)
            return organization_name(command.args[0])
        return self._named_organization(command)

    def _known_organization(self, command: Command, nothing_done: str, *, usage: str = "") -> str | None:
        """The organization named first; an unknown name is refused, so a typo never acts on another."""
        organization = self._named_organization(command)
        if command.args and organization is None:
            active = ", ".join(f"`{name}`" for name in self._service.organizations()) or "none"
            raise WorkflowError(
                f"I know no migration called `{command.args[0]}`, so I {nothing_done}. Say"
                f" `{usage or command.word + ' ORG'}` with one of the migrations in progress: {active}."
            )
        return organization

    def _refuse_misspelled(self, command: Command) -> None:
        """`announce fabrikam-fibre Monday`: a first word close to an organization is a typo, not a date."""
        first = command.args[0]
        known = {name.casefold(): name for name in self._service.organizations()}
        close = difflib.get_close_matches(first.casefold(), list(known), n=1, cutoff=0.75)
        if close:
            meant = " ".join(["announce", known[close[0]], *command.args[1:]])
            raise WorkflowError(
                f"I know no migration called `{first}`, so I announced nothing. Did you mean `{meant}`?"
            )

    def _named_organization(self, command: Command) -> str | None:
        """`cancel [ORG] [REASON]`: the first word is an organization only if a migration has that name."""
        first = command.arg(0)
        if first is None:
            return None
        known = {name.casefold(): name for name in self._service.organizations(include_finished=True)}
        return known.get(first.casefold())

    # ------------------------------------------------------------ everyone

    def _help(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`help`: this person's next steps; `help all`: every word; `help WORD`: one word in detail."""
        topic = (command.arg(0) or "").casefold()
        if not topic:
            return [self._help_now(actor)]
        if topic == "all":
            return [help_views.help_all()]
        if topic in USAGE_OF:
            return [help_views.help_word(USAGE_OF[topic])]
        if reads_like_question(command.text):  # "help, my pipelines stopped"
            return self._ask(actor, Command("ask", command.args, command.text), channel)
        meant = suggestions(Command(topic, (), ""), [usage.word for usage in USAGES])
        if meant:
            return [help_views.did_you_mean(f"help {topic}", [Suggestion("help", s.word) for s in meant])]
        return [help_views.not_understood(topic)]

    def _help_now(self, actor: Actor) -> Outgoing:
        administered = []
        for status in self._service.migrations():
            if not status.active:
                continue
            try:
                if self._may_administer(status.organization, actor):
                    administered.append(status)
            except (WorkflowError, MicrosoftError):
                continue  # help must not depend on Azure DevOps being up
        return help_views.help_now(administered, self._service.todo_list(actor))

    def _ask(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        context = self._asker_context(actor, channel)
        topic = command.text.strip()
        if self._answerer.knows(topic, context.organization):  # a suggested topic's button
            answer = self._answerer.explain(topic, context)
        else:
            answer = self._answerer.answer(command.text, context)
        question = command.text if context.admins else None
        return [faq_views.answer(self._review.answered(actor, answer), question=question)]

    def _ask_admin(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """*Ask an admin* under an answer: the question goes where need-help goes, with an address to write
        back to."""
        question = command.text.strip()
        if not question:
            raise WorkflowError("Ask your question first; then *Ask an admin* under my answer passes it on.")
        try:
            migration, inside = self._migration_of(actor, channel)
        except WorkflowError:
            migration, inside = None, False
        if migration is None or not (inside or self._service.standing_of(migration.organization, actor)[0]):
            raise WorkflowError(
                "I don't know which migration you are part of, so I can't pass your question on."
                f" {HOW_TO_REACH_A_PERSON}"
            )
        entries = newest_list(self._service.todo_list(actor))
        email = entries[0].email if entries else actor.email
        fresh = self._tracking.ask_admins(
            migration, actor, email, question, self._recipients(migration, actor)
        )
        admins = self._admins(migration.organization, actor)
        return [faq_views.passed_on(migration.organization, admins, again=not fresh), *self._outbox.flush()]

    def _recipients(self, migration: MigrationStatus, actor: Actor) -> list[str]:
        """Where a request for help goes: the migration's channel, or each admin when it was started from a
        direct message."""
        if migration.channel_id:
            return [f"{CHANNEL_PREFIX}{migration.channel_id}"]
        return self._service.approver_emails(migration.organization, exclude=actor)

    def _admins(self, organization: str, actor: Actor) -> tuple[str, ...]:
        """The migration's other admins' addresses to name to a person; none when Azure DevOps cannot say."""
        try:
            return tuple(self._service.approver_emails(organization, exclude=actor))
        except (WorkflowError, MicrosoftError):
            return ()

    def _asker_context(self, actor: Actor, channel: str | None = None) -> AskerContext:
        try:
            status, inside = self._migration_of(actor, channel)
        except WorkflowError:
            return AskerContext()
        outcome, guest = self._service.standing_of(status.organization, actor)
        try:
            is_admin = self._may_administer(status.organization, actor)
        except (WorkflowError, MicrosoftError):
            is_admin = False  # an answer must not depend on Azure DevOps being up
        # someone of the migration (in its channel, on its plan) can have a question passed to its admins
        admins = self._admins(status.organization, actor) if inside or outcome else ()
        return AskerContext(
            outcome=outcome,
            guest=guest,
            stage=status.state,
            organization=status.organization,
            is_admin=is_admin,
            case=_case_of(status.checks),
            migration=status.organization if inside or admins else None,
            admins=admins,
        )

    def _migration_of(self, actor: Actor, channel: str | None) -> tuple[MigrationStatus, bool]:
        """The migration a question is asked within (its channel, or the asker's to-do list), and whether it
        is; otherwise the current one, for the stage and the case only."""
        if channel:
            for status in self._service.migrations():
                if status.channel_id == channel and status.active:
                    return status, True
        entries = self._service.todo_list(actor)
        if entries:
            return self._service.status(entries[0].organization), True
        return self._service.status(None), False

    def _status(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        status = self._service.status(command.arg(0), ended=True)
        report = None
        if status.state in _NOTIFIED_STATES:
            report = self._tracking.progress(status.organization)
        return [views.status(status, report)]

    def _todo(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return [todo_views.todo_list(self._service.todo_list(actor), actor)]

    def _done(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        item = self._own_item(actor, command.arg(0), "done")
        result = self._service.mark_done(item.id, actor)
        return [todo_views.marked_done(result), todo_views.todo_list(self._service.todo_list(actor), actor)]

    def _own_item(self, actor: Actor, raw: str | None, word: str) -> TodoEntry:
        """`#ID` from a button, or the number in front of the item on the person's newest list."""
        entries = self._service.todo_list(actor)
        newest = newest_list(entries)
        question = f"Which item? Say `{word} N` with the number on your list, or use its button."
        if raw and raw.startswith(todo_views.BY_ID):
            by_id = _number(raw[1:], question)
            found = next((entry for entry in entries if entry.id == by_id), None)
        else:
            number = _number(raw, question)
            found = next((entry for entry in newest if entry.number == number), None)
        if found is None:
            raise WorkflowError(not_on_list(raw or "", entries, word))
        return found

    def _need_help(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        item = self._own_item(actor, command.arg(0), "need-help")
        if item.key == "accept-invitation":
            text = todo_views.finding_the_invitation(item)
        else:
            context = self._asker_context(actor)
            topic = ITEM_TOPICS.get(item.key)
            found = (
                self._answerer.explain(topic, context)
                if topic
                else self._answerer.answer(item.title, context)
            )
            text = found.answer
        migration = self._service.status(item.organization)
        recipients = self._recipients(migration, actor)
        fresh = self._tracking.ask_for_help(item, actor, recipients)
        admins = self._admins(item.organization, actor)
        told = todo_views.help_for_item(item, text, admins, admins_told=bool(recipients), again=not fresh)
        return [*told, *self._outbox.flush()]

    # ------------------------------------------------------------ admins

    def _start(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        if len(command.args) != 2:
            raise WorkflowError(START_USAGE)
        self._service.start(command.args[0], command.args[1], actor, channel=channel)
        return self._outbox.flush()  # the summary, recorded with the check's result, reaches the starter

    def _plan(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        status = self._service.status(command.arg(0))
        plan = self._service.plan(status.organization)
        if status.state not in CONNECTED_UNFINISHED | {"completed"}:
            return [views.plan(plan, status)]
        # the plan and its checks were made before connecting and never since: say so, not "still on MSA"
        made = [
            entry
            for entry in self._service.audit_trail(status.organization)
            if (entry.action, entry.state_after)
            in (("approve", "connecting"), ("found_connected", "connected"))
        ]
        return [views.plan(plan, status, made=made[-1] if made else None)]

    def _recheck(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return [views.checked(self._service.recheck(command.arg(0), actor))]

    def _resume(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return [views.checked(self._service.resume(command.arg(0), actor))]

    def _invite(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return [views.invited(self._service.invite(command.arg(0), actor))]

    def _request_approval(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`request-approval [ORG [anyway]]`: refused, with *Invite missing users*, while people the plan
        says to invite never were; `anyway` asks all the same."""
        organization = self._known_organization(
            command, "requested nothing", usage=f"request-approval ORG [{views.ANYWAY}]"
        )
        anyway = command.arg(1) == views.ANYWAY
        try:
            request = self._service.request_approval(organization, actor, anyway=anyway)
        except NotInvitedYet as refused:
            return [views.not_invited_yet(refused)]
        return [
            say(f"Approval requested (#{request.approval_id}); the other admins have the prompt."),
            *self._outbox.flush(),  # the prompt's copies, recorded with the request
        ]

    def _decide(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        approval_id = self._approval_id(command)
        approve = command.word == "approve"
        reason = " ".join(command.args[1:])
        result = self._service.decide(approval_id, actor, approve, reason)
        return [*views.decision(result, actor), *self._outbox.flush()]

    def _decide_account(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`decide [ORG] PERSON ACCOUNT`, typed or a button under `plan`."""
        if len(command.args) not in (2, 3):
            raise WorkflowError(_DECIDE_USAGE)
        organization = command.args[0] if len(command.args) == 3 else None
        person, choice = command.args[-2:]
        result = self._service.decide_account(organization, person, choice, actor)
        return [views.account_decided(result), *self._outbox.flush()]

    def _approval_id(self, command: Command) -> int:
        return _number(
            (command.arg(0) or "").lstrip("#"),
            f"Which approval? Say `{command.word} N` with the number on the approval prompt, or use its"
            " buttons.",
        )

    def _rehearse(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        organization, tenant = command.arg(0), command.arg(1)
        if organization is None:
            try:
                status = self._service.status(None)
                organization, tenant = status.organization, status.tenant_id
            except WorkflowError:
                pass  # no migration yet: the steps name ORG and TENANT
        return [sign_in_views.rehearse(organization, tenant, actor.email)]

    def _check_sign_ins(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return [sign_in_views.sign_ins_checked(self._service.check_sign_ins(command.arg(0)))]

    def _check_connection(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return [views.connection(self._service.check_connection(command.arg(0))), *self._outbox.flush()]

    def _announce(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        organization = self._named_organization(command)
        if organization is None and command.args:
            self._refuse_misspelled(command)
        when = command.args[1:] if organization else command.args
        result = self._service.announce(organization, actor, " ".join(when))
        return [views.announced(result), *self._outbox.flush()]

    def _notify(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        result = self._service.notify(command.arg(0), actor)
        return [views.queued(result), *self._outbox.flush()]

    def _progress(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        report = self._tracking.progress(self._known_organization(command, "reported on nothing"))
        full_list = command.arg(1) == todo_views.FULL_LIST
        return [Outgoing(todo_views.progress(report, full_list=full_list))]  # private: people's addresses

    def _retry_failed(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        named = self._known_organization(command, "queued nothing again")
        organization = self._service.status(named).organization
        count = self._tracking.retry_failed(organization)
        return [todo_views.retried(organization, count), *self._outbox.flush()]

    def _snooze(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`snooze 1d`, `snooze N 1w` with an item number of the list, or a reminder's button (`#ID 1d`)."""
        *which, span = command.args or ("",)
        if which and which[0].startswith(todo_views.BY_ID):
            reminder = _number(which[0][1:], "Which reminder? Use the *Snooze* buttons on a reminder.")
            return [todo_views.snoozed(self._tracking.snooze(actor, span, reminder_id=reminder))]
        entries = newest_list(self._service.todo_list(actor))
        if not entries:
            raise WorkflowError("Nothing to snooze: you have no to-do list, so no reminders come to you.")
        numbers = [str(entry.number) for entry in entries]
        if which and which[0] not in numbers:  # a number not on the list is a mistake worth saying
            raise WorkflowError(
                f"There is no item {which[0]} on your list (its items are {numbers[0]} to {numbers[-1]})."
                " Say `snooze 1d` or `snooze 1w` to put off the reminders about your list."
            )
        snoozed = self._tracking.snooze(actor, span, affected_user_id=entries[0].affected_user_id)
        return [todo_views.snoozed(snoozed)]

    def _check_billing(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return [views.billing(self._service.check_billing(command.arg(0), actor))]

    def _complete(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`complete [ORG [confirm]]`: while people would be left behind, it names them and asks first."""
        organization = self._known_organization(
            command, "completed nothing", usage=f"complete ORG [{closing_views.CONFIRM}]"
        )
        confirmed = command.arg(1) == closing_views.CONFIRM
        completion = self._service.complete(organization, actor, confirmed=confirmed)
        if not completion.completed:
            return [closing_views.confirm_complete(completion)]
        status = completion.status
        done = closing_views.completed(status, completion.left)
        return [*self._elsewhere(status, actor, done), *self._outbox.flush()]

    def _cancel(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`cancel [ORG [REASON]]`: a reason needs the organization first, so a typo never cancels another;
        a bare `cancel` only asks which migration, with a button that cancels it."""
        organization = self._known_organization(command, "cancelled nothing", usage="cancel ORG [reason]")
        if organization is None:
            return [closing_views.confirm_cancel(self._service.status(None))]
        status = self._service.cancel(organization, actor, " ".join(command.args[1:]))
        cancelled = closing_views.cancelled(status, actor)
        return [*self._elsewhere(status, actor, cancelled), *self._outbox.flush()]

    @staticmethod
    def _elsewhere(status: MigrationStatus, actor: Actor, message: Message) -> list[Outgoing]:
        """The reply to an admin the notice does not reach: it goes to the migration's channel, or to
        whoever started it when it has none."""
        if status.channel_id or actor.email.casefold() == status.started_by.email.casefold():
            return []
        return [Outgoing(message)]

    def _stale_users(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        organization, days = None, None
        for arg in command.args:
            if arg.isdigit():
                days = _number(arg, "", maximum=MAX_DAYS)
            else:
                organization = arg
        status = self._service.status(organization)
        users = self._removable_stale_users(status.organization, days)
        return [views.stale_users(status, users, days, list_fingerprint(users))]

    def _removable_stale_users(self, organization: str, days: int | None) -> list[OrgUser]:
        """Stale users but the owner and administrators, whom a removal never touches."""
        admins = set(self._service.approver_emails(organization, exclude=BOT))
        return [
            user
            for user in self._service.stale_users(organization, days)
            if not {user.principal_name.casefold(), user.mail_address.casefold()} & admins
        ]

    def _doctor(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        if len(command.args) != 2:
            raise WorkflowError(_DOCTOR_USAGE)
        checks = self._service.doctor(command.args[0], command.args[1])
        return [say(views.doctor(checks))]

    def _remove_users(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`remove-users ORG ID...` typed, or the button under `stale-users`: that very list, unchanged."""
        if len(command.args) < 2:
            raise WorkflowError(_REMOVE_USAGE)
        organization, *rest = command.args
        if rest[0] != STALE_FLAG:
            return [views.removed(self._service.remove_users(organization, rest, actor))]
        if len(rest) != 4 or rest[2] != LIST_FLAG or not rest[1].isdigit():
            raise WorkflowError("Use the *Remove* button under `stale-users`, or `remove-users ORG ID...`.")
        days = _number(rest[1], "", maximum=MAX_DAYS)
        status = self._service.status(organization)
        users = self._removable_stale_users(status.organization, days)
        fingerprint = list_fingerprint(users)
        if fingerprint != rest[3]:
            changed = tell_privately(
                "The list changed since it was shown (someone signed in, or was removed), so I removed"
                " nobody. Here it is as it stands now."
            )
            return [changed, views.stale_users(status, users, days, fingerprint)]
        ids = [user.id for user in users]
        return [views.removed(self._service.remove_users(status.organization, ids, actor))]


_ITEM_WORDS = frozenset({"done", "need-help", "snooze"})
"""Words whose buttons carry an id rather than the number the person sees."""


STALE_FLAG = "--stale"
LIST_FLAG = "--list"


_DECIDE_USAGE = (
    "Say `decide [ORG] PERSON ACCOUNT`: their Azure DevOps address and the sign-in name of the account that"
    " is theirs (or `no-access`), e.g. `decide hana@contoso.com hana.hart@fabrikam.com`; `plan` lists them."
)
_DOCTOR_USAGE = "Say `doctor ORG TENANT`, e.g. `doctor fabrikam contoso.com`."
_REMOVE_USAGE = "Say `remove-users ORG USER_ID...` with the ids listed by `stale-users`."
MAX_ID = 2**63 - 1
MAX_DAYS = 36_500


def list_fingerprint(users: Sequence[OrgUser]) -> str:
    """Stands for exactly these users: a button carries it instead of thousands of ids."""
    joined = "\n".join(sorted(user.id for user in users))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def _case_of(checks: tuple[Check, ...]) -> str | None:
    """A first connection from Microsoft accounts, or a switch from another directory.

    An organization found already connected to the tenant ("warn") counts as a first connection: the bot
    never connects from another directory (that check blocks until it is disconnected), and the notices and
    to-do lists it sends there are a first connection's, which the FAQ must not contradict.
    """
    for check in checks:
        if check.code == "org-connection":
            return {"pass": "first", "warn": "first", "fail": "switch"}.get(check.status)
    return None


def _number(raw: str | None, question: str, *, maximum: int = MAX_ID) -> int:
    """A number typed in chat or carried by a button; anything else gets `question` back."""
    if raw is None or not raw.isdigit() or int(raw) > maximum:
        if raw and raw.isdigit():
            raise WorkflowError(f"{raw} is too large; give a number up to {maximum}.")
        raise WorkflowError(question)
    return int(raw)
