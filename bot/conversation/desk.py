"""What every command handler works with: the workflow's service, the reminders, the outbox and the FAQ,
and the look-ups every stage shares (who administers a migration, which migration a command names)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.conversation.commands import Command, too_long
from bot.conversation.messages import Outgoing
from bot.conversation.quoting import untick
from faq import FaqAnswerer
from workflows.admin_gate import AdminVerdict
from workflows.directory import MicrosoftError
from workflows.errors import WorkflowError
from workflows.results import Actor, MigrationStatus
from workflows.results_preparing import Told
from workflows.service import MigrationService
from workflows.tracking import Tracking

Handler = Callable[[Actor, Command, "str | None"], list[Outgoing]]
MAX_ID = 2**63 - 1


class Outbox(Protocol):
    """How queued messages leave: drained at once for the console, or by a background worker."""

    def flush(self) -> list[Outgoing]:
        """Deliver what is due if this surface delivers inline; what the surface should show."""
        ...

    def show(self, outgoing: Outgoing) -> None:
        """Send `outgoing` (to a `Channel`) while the turn goes on: a long step's progress line, each new
        version in place of the one before it (`updates`)."""
        ...


@dataclass(frozen=True)
class Roles:
    """Chat user ids that may run admin commands whatever the organization says (`AADBOT_ADMINS`)."""

    extra_admin_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Desk:
    service: MigrationService
    answerer: FaqAnswerer
    roles: Roles
    tracking: Tracking
    outbox: Outbox

    def may_administer(self, organization: str | None, actor: Actor) -> bool:
        """For replies that only tailor what they show (help, an FAQ answer, the App Home): a check that
        could not be made (Azure DevOps or the gate's database failing) answers as for a non-admin."""
        return self.admin_verdict(organization, actor).allowed

    def admin_verdict(self, organization: str | None, actor: Actor) -> AdminVerdict:
        return self.service.admin_verdict(organization, actor, tuple(self.roles.extra_admin_ids))

    def next_steps(self, actor: Actor) -> tuple[list[MigrationStatus], list[int]]:
        """The migrations in progress `actor` administers, and the pending approvals among them they may
        still decide (not their own): what `help` offers them."""
        administered = []
        for status in self.service.migrations():
            if not status.active:
                continue
            try:
                if self.may_administer(status.organization, actor):
                    administered.append(status)
            except (WorkflowError, MicrosoftError):
                continue  # help must not depend on Azure DevOps being up
        approvable = [
            status.pending_approval_id
            for status in administered
            if status.pending_approval_id and self.service.still_to_decide(status.pending_approval_id, actor)
        ]
        return administered, approvable

    def admins(self, organization: str, actor: Actor) -> tuple[str, ...]:
        """The migration's other admins' addresses to name to a person; none when Azure DevOps cannot say."""
        try:
            return tuple(self.service.approver_emails(organization, exclude=actor))
        except (WorkflowError, MicrosoftError):
            return ()

    def told(self, status: MigrationStatus) -> Told | None:
        """How the advance notice went out, while it still may (before connecting): whether *Tell users
        what is coming* would reach anyone."""
        return self.service.told(status.id) if "announce" in status.next_commands else None

    def known_organization(self, command: Command, nothing_done: str, *, usage: str = "") -> str | None:
        """The organization named first; an unknown name is refused, so a typo never acts on another."""
        return self._known(command, self.named_organization(command), nothing_done, usage)

    def organization_and_word(
        self, command: Command, word: str, nothing_done: str, *, usage: str
    ) -> tuple[str | None, bool]:
        """`request-approval [ORG] [anyway]`, `complete [ORG] [confirm]`: the organization, if named, and
        whether the closing word was said; with one migration in progress people leave the name out."""
        named = self.named_organization(command)
        if command.arg(0) == word and named is None:
            return None, True
        return self._known(command, named, nothing_done, usage), command.arg(1) == word

    def refuse_misspelled(self, command: Command, nothing_done: str) -> None:
        """`announce fabrikam-fibre Monday`: a first word close to a migration's name is a typo, not a
        date or a reason."""
        first = command.args[0]
        known = {name.casefold(): name for name in self.service.organizations()}
        close = difflib.get_close_matches(first.casefold(), list(known), n=1, cutoff=0.75)
        if close:
            meant = " ".join([command.word, known[close[0]], *command.args[1:]])
            raise WorkflowError(
                f"I know no migration called `{untick(first)}`, so I {nothing_done}."
                f" Did you mean `{untick(meant)}`?"
            )

    def _known(self, command: Command, named: str | None, nothing_done: str, usage: str) -> str | None:
        if command.args and named is None:
            active = ", ".join(f"`{name}`" for name in self.service.organizations()) or "none"
            raise WorkflowError(
                f"I know no migration called `{untick(command.args[0])}`, so I {nothing_done}. Say"
                f" `{usage or command.word + ' ORG'}` with one of the migrations in progress: {active}."
            )
        return named

    def named_organization(self, command: Command) -> str | None:
        """`cancel [ORG] [REASON]`: the first word is an organization only if a migration has that name."""
        first = command.arg(0)
        if first is None:
            return None
        known = {name.casefold(): name for name in self.service.organizations(include_finished=True)}
        return known.get(first.casefold())


class Stage:
    """The commands of one stage of the procedure (`bot.conversation.stages`), over the shared desk."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def handlers(self) -> dict[str, Handler]:
        """Each word of this stage, and what answers it."""
        raise NotImplementedError


def number(raw: str | None, question: str, *, maximum: int = MAX_ID) -> int:
    """A number typed in chat or carried by a button; anything else gets `question` back."""
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if raw is None or not raw.isdecimal():
        raise WorkflowError(question)
    if len(raw) > len(str(maximum)) or int(raw) > maximum:
        raise WorkflowError(too_long(raw) or f"{raw} is too large; give a number up to {maximum}.")
    return int(raw)
