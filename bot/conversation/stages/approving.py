"""Approval and connecting: `request-approval`, the other admins' `approve` / `reject`, and
`check-connection` while the portal step is waited for."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import approval_views
from bot.conversation.commands import Command
from bot.conversation.desk import Handler, Stage, number
from bot.conversation.messages import Outgoing
from bot.conversation.unreached_views import missed_by_name
from workflows.errors import NotInvitedYet
from workflows.results import Actor
from workflows.results_approving import ConnectionResult


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
        shared = channel is not None
        answer = [Outgoing(approval_views.requested(request, shared=shared))]
        if shared and request.unreached:  # by name to the admin who asked alone: names are addresses
            answer.append(missed_by_name(request.organization, request.unreached, request.warnings))
        return [*answer, *self._desk.outbox.flush()]  # with the prompt's copies, recorded with the request

    def _decide(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        approval_id = approval_number(command)
        approve = command.word == "approve"
        reason = " ".join(command.args[1:])
        result = self._desk.service.decide(approval_id, actor, approve, reason)
        return [*approval_views.decision(result, actor), *self._desk.outbox.flush()]

    def _check_connection(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        result = self._desk.service.check_connection(command.arg(0))
        return connection_answer(result, self._desk.outbox.flush(), actor, channel)


def connection_answer(
    result: ConnectionResult, posted: list[Outgoing], actor: Actor, channel: str | None
) -> list[Outgoing]:
    """What an admin's look at the connection (`check-connection`, or a `recheck` that found it connected
    in the portal) answers, with the notices it `posted`."""
    answer = approval_views.connection(result)
    if channel is not None and result.noticed and result.status.channel_id == channel:
        # the notice of what this look found goes to the top of the channel it was asked in (now, or
        # from the outbox in a moment): the answer only reaches a thread of it, where it was asked
        return [*posted, replace(answer, in_thread_only=True)]
    asker = actor.email.casefold()
    if channel is None and asker in {admin.casefold() for admin in result.told_privately}:
        return posted  # their own copy of the notice, in this very chat, is the answer: once, not twice
    return [answer, *posted]


def approval_number(command: Command) -> int:
    """The approval an `approve N` / `reject N` (typed, or its button) decides."""
    return number(
        (command.arg(0) or "").lstrip("#"),
        f"Which approval? Say `{command.word} N` with the number on the approval prompt, or use its buttons.",
    )
