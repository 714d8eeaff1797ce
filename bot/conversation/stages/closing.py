"""The end: `check-billing` once billing has moved, `complete`, and `cancel` before the connection."""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation import closing_views
from bot.conversation.commands import Command
from bot.conversation.desk import Desk, Handler, Stage
from bot.conversation.messages import Message, Outgoing, say
from bot.conversation.quoting import untick
from workflows.errors import WorkflowError
from workflows.results import Actor, MigrationStatus

USAGE = "cancel ORG REASON"


class Closing(Stage):
    """The last steps, and calling a migration off."""

    def handlers(self) -> dict[str, Handler]:
        return {
            "check-billing": self._check_billing,
            "complete": self._complete,
            "cancel": self._cancel,
        }

    def _check_billing(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        return [closing_views.billing(self._desk.service.check_billing(command.arg(0), actor))]

    def _complete(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`complete [ORG] [confirm]`: while people would be left behind, it names them and asks first."""
        organization, confirmed = self._desk.organization_and_word(
            command,
            closing_views.CONFIRM,
            "completed nothing",
            usage=f"complete ORG [{closing_views.CONFIRM}]",
        )
        completion = self._desk.service.complete(organization, actor, confirmed=confirmed)
        billing = completion.billing
        if billing is not None and not billing.ok:
            return [closing_views.billing_first(billing)]
        looked = [say(f"I looked at billing first: {billing.message}")] if billing is not None else []
        if not completion.completed:
            return [*looked, closing_views.confirm_complete(completion)]
        status, left = completion.status, completion.left
        shared = channel is not None or bool(status.channel_id)
        done = closing_views.completed(status, left, shared_by=actor if channel is not None else None)
        # who was left behind, by name, for the admin who closed it: the channel's notice only counts them
        named = [closing_views.left_behind_named(status, left)] if shared and left and left.anyone else []
        return [*looked, *self._elsewhere(status, actor, done), *named, *self._desk.outbox.flush()]

    def _cancel(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`cancel [ORG] [REASON]`: a bare `cancel`, or a reason without the organization, only asks back,
        with a button that cancels."""
        target = cancel_target(self._desk, command)
        if target.organization is None or target.asked_back:
            status = self._desk.service.status(target.organization)
            return [closing_views.confirm_cancel(status, target.reason if target.asked_back else "")]
        result = self._desk.service.cancel(target.organization, actor, target.reason)
        status, told = result.status, result.told
        cancelled = closing_views.cancelled(status, actor, told, shared=channel is not None)
        # whom it told, by name, for the admin who cancelled: a channel's notice only counts them
        shared = channel is not None or bool(status.channel_id)
        named = [closing_views.cancelled_named(status, told)] if shared and told else []
        return [*self._elsewhere(status, actor, cancelled), *named, *self._desk.outbox.flush()]

    @staticmethod
    def _elsewhere(status: MigrationStatus, actor: Actor, message: Message) -> list[Outgoing]:
        """The reply to an admin the notice does not reach: it goes to the migration's channel, or to
        whoever started it when it has none."""
        if status.channel_id or actor.email.casefold() == status.started_by.email.casefold():
            return []
        return [Outgoing(message)]


@dataclass(frozen=True)
class CancelTarget:
    organization: str | None
    """None for a bare `cancel`: the migration in progress, if only one is."""
    reason: str
    asked_back: bool
    """The organization was left out before a reason: cancelling waits for the button."""


def cancel_target(desk: Desk, command: Command) -> CancelTarget:
    """What `cancel [ORG] [REASON]` means, read before the admin check: a first word that is no
    migration's name starts the reason when one migration is in progress (help shows the organization as
    optional), unless it is close to a name (a typo); with several in progress it names none of them."""
    named = desk.named_organization(command)
    if named is not None or not command.args:
        return CancelTarget(named, " ".join(command.args[1:]), asked_back=False)
    desk.refuse_misspelled(command, "cancelled nothing")
    reason = " ".join(command.args)
    in_progress = desk.service.organizations()
    if len(in_progress) == 1:
        return CancelTarget(in_progress[0], reason, asked_back=True)
    if not in_progress:
        raise WorkflowError("No migration is in progress, so there is nothing to cancel.")
    names = ", ".join(f"`{name}`" for name in in_progress)
    raise WorkflowError(
        f"Several migrations are in progress ({names}), so I cancelled nothing: `{untick(command.args[0])}`"
        f" is none of them. Say `{USAGE}`, e.g. `cancel {in_progress[0]} {untick(reason)}`."
    )
