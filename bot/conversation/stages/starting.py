"""Starting and checking: `start`, the preflight (`doctor`), `status`, `plan`, `recheck`, `resume`, and
`rehearse`, which shows how to play the whole migration in the sandbox first."""

from __future__ import annotations

from bot.conversation import closing_views, sign_in_views, starting_views, status_views
from bot.conversation.commands import Command
from bot.conversation.desk import Handler, Stage
from bot.conversation.messages import Outgoing, Text, say
from bot.conversation.progress_line import ProgressLine
from bot.conversation.stages.approving import connection_answer
from workflows.errors import WorkflowError
from workflows.machine import BEFORE_CONNECTING, CONNECTED_UNFINISHED
from workflows.results import Actor

START_USAGE = (
    "Say `start ORG TENANT`: the organization name from https://dev.azure.com/ORG and the directory's"
    " tenant id or verified domain, e.g. `start fabrikam-fiber fabrikam.com`."
)
DOCTOR_USAGE = "Say `doctor ORG TENANT`, e.g. `doctor fabrikam contoso.com`."
_NOTIFIED_STATES = frozenset({"users_notified", "billing_checked", "completed"})
_REJECTED_TO = frozenset(BEFORE_CONNECTING) - {"awaiting_approval"}
"""Where a migration may stand after a rejection, until the next request: `status` says who rejected."""


class Starting(Stage):
    """`start ORG TENANT` and the commands that read or re-check where a migration stands."""

    def handlers(self) -> dict[str, Handler]:
        return {
            "start": self._start,
            "doctor": self._doctor,
            "status": self._status,
            "plan": self._plan,
            "recheck": self._recheck,
            "resume": self._resume,
            "rehearse": self._rehearse,
            "move-here": self._move_here,
            "connect-as-me": self._connect_as_me,
        }

    def _connect_as_me(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        rechecked = self._desk.service.connect_as_me(command.arg(0), actor)
        if rechecked.connection is not None:  # the check found a click in the portal: the watch's alarm
            return connection_answer(rechecked.connection, self._desk.outbox.flush(), actor, channel)
        took = f"You are the one who connects {rechecked.status.organization} now: the checks are for you."
        told = self._desk.told(rechecked.status)
        in_channel = channel is not None
        checked = starting_views.checked(rechecked.status, told, rechecked, in_channel=in_channel)
        named = starting_views.checks_by_name(rechecked.status, in_channel=in_channel)
        return [say(took, Text(took), *checked.message.blocks), *named, *self._desk.outbox.flush()]

    def _move_here(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        status = self._desk.service.move_here(command.arg(0), actor, channel)
        return [say(f"From now on the notices of {status.organization} come to this channel.")]

    def _start(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        if len(command.args) != 2:
            raise WorkflowError(START_USAGE)
        status = self._desk.service.start(command.args[0], command.args[1], actor, channel=channel)
        # the summary, recorded with the check's result, reaches the starter; a channel's copy leaves out
        # whom the checks name, which the starter alone is sent
        named = starting_views.checks_by_name(status, in_channel=channel is not None)
        return [*self._desk.outbox.flush(), *named]

    def _doctor(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        if len(command.args) != 2:
            raise WorkflowError(DOCTOR_USAGE)
        checks = self._desk.service.doctor(command.args[0], command.args[1])
        return [say(starting_views.doctor(checks))]

    def _status(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        status = self._desk.service.status(command.arg(0), ended=True)
        report = None
        if status.state in _NOTIFIED_STATES:
            report = self._desk.tracking.progress_of(status)
        called_off = None
        if status.state == "cancelled":
            called_off = self._desk.service.called_off_delivery(status.id)
        admin = self._desk.may_administer(status.organization, actor)
        pending = status.pending_approval_id
        yours = admin and bool(pending) and self._desk.service.still_to_decide(pending or 0, actor)
        told = self._desk.told(status)
        unreached = self._desk.tracking.admins_unreached(status)
        rejected = None
        if status.state in _REJECTED_TO:
            rejected = self._desk.service.last_rejection(status.id)
        shown = status_views.status(
            status,
            report,
            called_off,
            told=told,
            yours=yours,
            admin=admin,
            unreached=unreached,
            rejected=rejected,
            in_channel=channel is not None,
        )
        if called_off is None or channel is None or not admin:
            return [shown]
        # the channel's copy counted whom "it is off" has not reached: their names go to this admin alone
        return [shown, *closing_views.called_off_named(status.organization, called_off)]

    def _plan(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        status = self._desk.service.status(command.arg(0))
        plan = self._desk.service.plan(status.organization)
        made = told = None
        if status.state not in CONNECTED_UNFINISHED | {"completed"}:
            told = self._desk.told(status)
        else:
            # the plan and its checks were made before connecting and never since: say so, not "still on MSA"
            made = self._desk.service.plan_made(status.organization)
        if channel is None:  # a direct message: all of it, to the admin alone
            return [starting_views.plan(plan, status, made=made, told=told)]
        return starting_views.shared_plan(plan, status, actor, made=made, told=told)

    def _recheck(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        rechecked = self._desk.service.recheck(command.arg(0), actor)
        if rechecked.connection is not None:  # connected in the portal meanwhile: the watch's alarm
            return connection_answer(rechecked.connection, self._desk.outbox.flush(), actor, channel)
        told = self._desk.told(rechecked.status)
        # the prompts of a voided approval lose their buttons now, recorded with the re-check
        in_channel = channel is not None
        shown = starting_views.checked(rechecked.status, told, rechecked, in_channel=in_channel)
        named = starting_views.checks_by_name(rechecked.status, in_channel=in_channel)
        return [shown, *named, *self._desk.outbox.flush()]

    def _resume(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        # an invite or removal resumed goes on with its line, where the admin asks to resume
        line = ProgressLine(self._desk.outbox, command.reply_to)
        resumed = self._desk.service.resume(command.arg(0), actor, line)
        # with what the step recorded for others: a click in the portal it found is every admin's alarm
        in_channel = channel is not None
        named = starting_views.checks_by_name(resumed, in_channel=in_channel)
        return [starting_views.checked(resumed, in_channel=in_channel), *named, *self._desk.outbox.flush()]

    def _rehearse(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        organization, tenant = command.arg(0), command.arg(1)
        if organization is None:
            try:
                status = self._desk.service.status(None)
                organization, tenant = status.organization, status.tenant_id
            except WorkflowError:
                pass  # no migration yet: the steps name ORG and TENANT
        return [sign_in_views.rehearse(organization, tenant, actor.email)]
