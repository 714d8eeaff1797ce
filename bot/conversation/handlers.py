"""One conversation for every surface: a command or click in, messages out (replies, DMs, announcements).

Listeners on Slack, the console and Teams stay thin: they turn their platform's event into an `Actor` and
words, call `Conversation`, and deliver the `Outgoing` messages it returns. The commands themselves are in
`bot.conversation.stages`, one module per stage of the procedure; this module reads the words, checks who
may run them, and turns a failure into a message.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from bot.conversation import account_choice, help_views, secret_views, status_views, todo_item_views
from bot.conversation.commands import USAGES, Command, parse
from bot.conversation.desk import Desk, Handler, Outbox, Roles, Stage
from bot.conversation.messages import Message, Outgoing, Text, tell_privately
from bot.conversation.stages import after_connecting, approving, closing, helping, preparing, starting
from bot.conversation.understanding import Reading, read
from faq import FaqAnswerer
from faq.redaction import leaked
from workflows.admin_memory import MemoryFailed
from workflows.arguments import organization_name, user_reference
from workflows.connection_watch import Looks
from workflows.directory import MicrosoftError
from workflows.errors import PermissionDenied, WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService, check_start_arguments
from workflows.tracking import Tracking

log = logging.getLogger(__name__)

ADMIN_WORDS = frozenset(usage.word for usage in USAGES if usage.admin)


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
        self._desk = Desk(service, answerer, roles or Roles(), tracking, outbox)
        self._handlers: dict[str, Handler] = {}
        stages: tuple[type[Stage], ...] = (
            helping.Helping,
            starting.Starting,
            preparing.Preparing,
            approving.Approving,
            after_connecting.AfterConnecting,
            closing.Closing,
        )
        for stage in stages:
            self._handlers.update(stage(self._desk).handlers())

    # ------------------------------------------------------------ entry points

    # `reply_to` in each: the conversation the person spoke in when it is not `channel` (a direct message,
    # Teams' personal chat), for a long step's progress line to show there (`Command.reply_to`)

    def command(
        self,
        actor: Actor,
        text: str,
        *,
        channel: str | None,
        seen_in_channel: bool = True,
        reply_to: str | None = None,
    ) -> list[Outgoing]:
        """`/aad WORDS`, a mention, or a line typed in the console: a command, a typo of one, a question.
        `seen_in_channel`: False for words only the bot received from a channel (Slack's `/aad`)."""
        reading = read(text, organizations=self._known_organizations)
        answered = self._answer(actor, reading, channel, reply_to or channel)
        return self._secret_noted(reading, channel if seen_in_channel else None) + answered

    def action(
        self, actor: Actor, action: str, value: str, *, channel: str | None, reply_to: str | None = None
    ) -> list[Outgoing]:
        """A button click: its action is a command word and its value the argument."""
        if action not in self._handlers:
            return [help_views.stale_button()]
        if action in after_connecting.ITEM_WORDS and value.partition(" ")[0].isdecimal():
            value = f"{todo_item_views.BY_ID}{value}"  # a button from before lists were numbered (not `1d`)
        return self._run(actor, parse(f"{action} {value}"), channel, reply_to or channel)

    def chat(self, actor: Actor, text: str, *, reply_to: str | None = None) -> list[Outgoing]:
        """A direct message to the bot: a command if it starts with one, a typo of one, else a question."""
        reading = read(text, in_direct_message=True, organizations=self._known_organizations)
        if reading.kind == "question":  # "the one I use is hana.hart@...": which account is theirs
            choice = account_choice.chosen_account(text, self._desk.service, actor)
            if choice is not None:
                return self._run(actor, choice, None, reply_to)
        return self._secret_noted(reading, None) + self._answer(actor, reading, None, reply_to)

    def _secret_noted(self, reading: Reading, channel: str | None) -> list[Outgoing]:
        """A private note first when a question's words give a secret away (`secret_views`); `channel`: the
        channel everyone in it read them in, None when only the bot did. A command's arguments are names,
        addresses and numbers, never read for one (rev78: `status contoso-2024-devops-prod1` was told to
        revoke it). The channel's migration read only for a note, for the organization a PAT's revoke page
        is in."""
        if reading.command.word != "ask":  # a question reads as `ask` too
            return []
        # the organizations read only for words that give something away: most questions give nothing
        kind = leaked(reading.command.text)
        if kind is not None:
            kind = leaked(reading.command.text, known=self._known_organizations())
        if kind is None:
            return []
        if channel is None:
            return [secret_views.posted_secret(kind, in_channel=False)]
        migration = next(
            (each for each in self._desk.service.migrations() if each.channel_id == channel and each.active),
            None,
        )
        organization = migration.organization if migration else None
        return [secret_views.posted_secret(kind, in_channel=True, organization=organization)]

    def home(self, actor: Actor) -> Message:
        """What the App Home shows this person: migrations for admins, their own list for everyone."""
        try:
            statuses = self._desk.service.migrations()
            visible = [status for status in statuses if self._desk.may_administer(status.organization, actor)]
            return status_views.home(visible, self._desk.service.todo_list(actor, shown=True))
        except (WorkflowError, MicrosoftError) as error:
            return Message("aadbot", (Text(str(error)),))

    def watch(self) -> list[Outgoing]:
        """One look: approvals that lapsed, old admin verdicts, every migration at the portal step, the
        sign-in checks and reminders that are due (`workflows.due` says when the next look has work), then
        the migrations short of the portal step whose look is due (a click in the portal may skip the
        approval; `workflows.connection_watch` says how often, and how long a poll spends on them).

        What the look finds is recorded as a notice with it; the outbox delivers it.
        """
        try:
            self._desk.service.expire_lapsed_approvals()
        except WorkflowError as error:
            log.warning("expiring lapsed approvals failed: %s", error)
        try:
            self._desk.service.forget_old_admin_verdicts()
        except MemoryFailed as error:  # the least of the look, never to cost the rest: the next forgets
            log.warning("forgetting old admin verdicts failed (%s)", error)
        looks = self._desk.service.connection_looks()
        for organization in looks.at_the_portal_step:
            try:
                self._desk.service.check_connection(organization)
            except (WorkflowError, MicrosoftError) as error:
                log.warning("connection watch of %s failed: %s", organization, error)
        outgoing = self.remind()
        # after the reminders and the outbox, which a slow read must not hold up; its notice goes out now
        return outgoing + self._look_early(looks) if looks.short_of_it else outgoing

    def _look_early(self, looks: Looks) -> list[Outgoing]:
        for look in looks.short_of_it:
            try:
                if not self._desk.service.look_early(look, looks.until):
                    break
            except (WorkflowError, MicrosoftError) as error:
                log.warning("connection watch of %s failed: %s", look.organization, error)
        return self._desk.outbox.flush()

    def remind(self) -> list[Outgoing]:
        """Queue the reminders that are due, then let the outbox deliver them."""
        try:
            self._desk.tracking.tick()
        except (WorkflowError, MicrosoftError) as error:
            log.warning("reminders failed: %s", error)
        return self._desk.outbox.flush()

    # ------------------------------------------------------------ dispatching

    def _known_organizations(self) -> list[str]:
        return self._desk.service.organizations(include_finished=True)

    def _answer(
        self, actor: Actor, reading: Reading, channel: str | None, reply_to: str | None
    ) -> list[Outgoing]:
        """Never the whole help for words that are not a command: a wall of words hides what was meant."""
        match reading.kind:
            case "typo":
                return [self._typo(actor, reading)]
            case "unknown":
                return [help_views.not_understood(reading.command.word)]
            case "extra":
                return [help_views.extra_words(reading.command)]
        return self._run(actor, reading.command, channel, reply_to)

    def _typo(self, actor: Actor, reading: Reading) -> Outgoing:
        """The commands a slip may have meant, as buttons; but a slip for `approve N` by whoever requested
        approval N offers what is left to them, withdrawing it: approving it would be refused (four eyes)."""
        meant = next((suggestion for suggestion in reading.meant if suggestion.word == "approve"), None)
        if meant is not None:
            try:
                approval_id = approving.approval_number(parse(meant.command))
            except WorkflowError:  # `aprove` with no number: no request to look at
                approval_id = None
            if approval_id is not None and self._desk.service.requested_by(approval_id, actor):
                return help_views.own_request(reading.command.word, meant, approval_id)
        return help_views.did_you_mean(reading.command.word, reading.meant)

    def _run(
        self, actor: Actor, command: Command, channel: str | None, reply_to: str | None
    ) -> list[Outgoing]:
        if command.problem:
            return [tell_privately(command.problem)]
        handler = self._handlers.get(command.word)
        if handler is None:
            return [help_views.not_understood(command.word)]
        try:
            if command.word in ADMIN_WORDS:
                self._require_admin(actor, command)
            return handler(actor, replace(command, reply_to=reply_to), channel)
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
        verdict = self._desk.admin_verdict(organization, actor)
        if not verdict.allowed:
            who = actor.name or actor.email
            held = self._held(organization, actor) if verdict.kind == "refused" else None
            raise PermissionDenied(help_views.admin_refusal(who, command.word, organization, verdict, held))

    def _held(self, organization: str | None, actor: Actor) -> help_views.HeldMigration | None:
        """The migration refused, if the bot holds it (`status` shows it to anyone): never a name it has
        no migration of, whose existence only Azure DevOps could tell."""
        service = self._desk.service
        if organization is not None and organization.casefold() not in {
            name.casefold() for name in service.organizations(include_finished=True)
        }:
            return None
        try:
            status = service.status(organization)
        except WorkflowError:  # no migration at all: nothing held
            return None
        try:
            admins = tuple(service.approver_emails(status.organization, exclude=actor))
        except WorkflowError:  # Azure DevOps failing: who started it is still known
            admins = ()
        return help_views.HeldMigration(status.organization, status.started_by.name, admins)

    def _organization_of(self, command: Command) -> str | None:
        if command.word in ("start", "doctor"):  # checked before the admin check asks Azure DevOps
            if len(command.args) != 2:
                raise WorkflowError(
                    starting.START_USAGE if command.word == "start" else starting.DOCTOR_USAGE
                )
            return check_start_arguments(*command.args)[0]
        if command.word in ("approve", "reject"):
            return self._desk.service.approval_organization(approving.approval_number(command))
        if command.word == "remove-users":
            if len(command.args) < 2:
                raise WorkflowError(preparing.REMOVE_USAGE)
            if command.args[1] != preparing.STALE_FLAG:  # the button names its list, not people
                for user in preparing.typed_user_ids(command):
                    user_reference(user)  # which user it is, is the plan's to say (`removal.removable`)
            return organization_name(command.args[0])
        if command.word == "cancel":
            return closing.cancel_target(self._desk, command).organization
        return self._desk.named_organization(command)
