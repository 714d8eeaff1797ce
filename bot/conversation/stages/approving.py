"""Approval and connecting: `request-approval`, the other admins' `approve` / `reject`, and
`check-connection` while the portal step is waited for."""

from __future__ import annotations

from bot.conversation import approval_views
from bot.conversation.commands import Command
from bot.conversation.desk import Handler, Stage, number
from bot.conversation.messages import Outgoing
from workflows.errors import NotInvitedYet
from workflows.results import Actor


class Approving(Stage):
    """From the request to the connection: the four-eyes approval, then the watch on the portal step."""

    def handlers(self) -> dict[str, Handler]:
        return {
            "request-approval": self._request_approval,
            "approve": self._decide,
            "reject": self._decide,
            "check-connection": self._check_connection,
        }

    def _request_approval(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`request-approval [ORG] [anyway]`: refused, with *Invite missing users*, while people the plan
        says to invite never were; `anyway` asks all the same."""
        organization, anyway = self._desk.organization_and_word(
            command,
            approval_views.ANYWAY,
            "requested nothing",
            usage=f"request-approval ORG [{approval_views.ANYWAY}]",
        )
        try:
            request = self._desk.service.request_approval(organization, actor, anyway=anyway)
        except NotInvitedYet as refused:
            return [approval_views.not_invited_yet(refused)]
        return [
            Outgoing(approval_views.requested(request)),
            *self._desk.outbox.flush(),  # the prompt's copies, recorded with the request
        ]

    def _decide(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        approval_id = approval_number(command)
        approve = command.word == "approve"
        reason = " ".join(command.args[1:])
        result = self._desk.service.decide(approval_id, actor, approve, reason)
        return [*approval_views.decision(result, actor), *self._desk.outbox.flush()]

    def _check_connection(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        result = self._desk.service.check_connection(command.arg(0))
        posted = self._desk.outbox.flush()
        if channel is not None and result.noticed and result.status.channel_id == channel:
            # the notice of what this look found goes where it was asked (now, or from the outbox in a
            # moment when a worker delivers it): a reply would say it twice
            return posted
        return [approval_views.connection(result), *posted]


def approval_number(command: Command) -> int:
    """The approval an `approve N` / `reject N` (typed, or its button) decides."""
    return number(
        (command.arg(0) or "").lstrip("#"),
        f"Which approval? Say `{command.word} N` with the number on the approval prompt, or use its buttons.",
    )
