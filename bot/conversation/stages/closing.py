"""The end: `check-billing` once billing has moved, `complete`, and `cancel` before the connection."""

from __future__ import annotations

from bot.conversation import closing_views
from bot.conversation.commands import Command
from bot.conversation.desk import Handler, Stage
from bot.conversation.messages import Message, Outgoing, say
from workflows.results import Actor, MigrationStatus


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
        status = completion.status
        done = closing_views.completed(status, completion.left)
        return [*looked, *self._elsewhere(status, actor, done), *self._desk.outbox.flush()]

    def _cancel(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`cancel [ORG [REASON]]`: a reason needs the organization first, so a typo never cancels another;
        a bare `cancel` only asks which migration, with a button that cancels it."""
        organization = self._desk.known_organization(
            command, "cancelled nothing", usage="cancel ORG [reason]"
        )
        if organization is None:
            return [closing_views.confirm_cancel(self._desk.service.status(None))]
        status = self._desk.service.cancel(organization, actor, " ".join(command.args[1:]))
        cancelled = closing_views.cancelled(status, actor)
        return [*self._elsewhere(status, actor, cancelled), *self._desk.outbox.flush()]

    @staticmethod
    def _elsewhere(status: MigrationStatus, actor: Actor, message: Message) -> list[Outgoing]:
        """The reply to an admin the notice does not reach: it goes to the migration's channel, or to
        whoever started it when it has none."""
        if status.channel_id or actor.email.casefold() == status.started_by.email.casefold():
            return []
        return [Outgoing(message)]
