"""Everything a surface needs, wired once from the settings: database, Microsoft, workflow, FAQ, chat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from bot.conversation.desk import Outbox, Roles
from bot.conversation.handlers import Conversation
from bot.delivery.outboxes import BackgroundOutbox, InlineOutbox
from bot.delivery.tracked import starting_reminders
from bot.settings import Settings, SettingsError
from faq import FaqAnswerer, InMemoryUnansweredLog
from msapi import MicrosoftClients, MicrosoftError, from_environment
from storage import Database, StorageError, open_database
from storage.admin_gate import DatabaseAdminMemory
from storage.faq_feedback import SqlFeedbackStore
from workflows.service import MigrationService
from workflows.settings import WorkflowSettings
from workflows.tracking import Tracking

if TYPE_CHECKING:  # the emulator's web app and keys: imported only where AADBOT_SANDBOX asks for it
    from sandbox import Sandbox

Surface = Literal["console", "slack"]
"""Where the outbox goes: printed at once in the console, or sent by Slack's background worker."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    database: Database
    microsoft: MicrosoftClients
    service: MigrationService
    tracking: Tracking
    conversation: Conversation
    sandbox: Sandbox | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()


def build_runtime(
    settings: Settings,
    *,
    surface: Surface = "console",
    clock: Callable[[], datetime] = utc_now,
    database: Database | None = None,
) -> Runtime:
    """`AADBOT_SANDBOX` starts the emulator in-process; `AADBOT_SANDBOX_URL` uses a running one.

    `database`: one the caller opened and closes (the tests' engine of their process); without it the
    runtime opens `settings.database_url` and closes it with the rest."""
    closers: list[Callable[[], None]] = []
    sandbox = None
    environ: dict[str, str] = {}
    if settings.sandbox_scenario:
        from sandbox import Sandbox, ScenarioError

        try:
            # the emulator keeps the runtime's time: a rehearsal that moved its clock signs people in then
            sandbox = Sandbox(settings.sandbox_scenario, clock=lambda: clock().timestamp()).start()
        except ScenarioError as error:
            raise SettingsError(f"invalid scenario {settings.sandbox_scenario}: {error}") from None
        closers.append(sandbox.stop)
        environ = {"AADBOT_SANDBOX_URL": sandbox.url, "AZURE_TENANT_ID": sandbox.tenant_id}
    elif settings.sandbox_url:
        environ = {"AADBOT_SANDBOX_URL": settings.sandbox_url}
    try:
        microsoft = from_environment({**settings.microsoft_environment, **environ})
        closers.append(microsoft.close)
        if database is None:
            database = open_database(settings.database_url)
            closers.append(database.dispose)
    except BaseException as error:
        for close in reversed(closers):
            close()
        # credentials missing, a database URL that names nothing usable: settings to fix, not a crash
        if isinstance(error, MicrosoftError | StorageError):
            raise SettingsError(str(error)) from None
        raise
    service = MigrationService(
        database,
        microsoft,
        clock=clock,
        settings=WorkflowSettings(
            approvers_required=settings.approvers_required,
            approval_ttl=settings.approval_ttl,
            connection_watch_every=timedelta(seconds=settings.poll_seconds),
        ),
        gate_memory=DatabaseAdminMemory(database),  # the limits hold across replicas and restarts
    )
    tracking = Tracking(database, service, clock=clock)
    outbox: Outbox = BackgroundOutbox(database, clock=clock)
    if surface == "console":
        outbox = InlineOutbox(database, clock=clock, on_delivered=starting_reminders(tracking))
    answerer = FaqAnswerer(
        unanswered=InMemoryUnansweredLog(), feedback=SqlFeedbackStore(database), clock=clock
    )
    conversation = Conversation(
        service, answerer, Roles(settings.admin_ids), tracking=tracking, outbox=outbox
    )
    return Runtime(settings, database, microsoft, service, tracking, conversation, sandbox, closers)
