"""A process told to stop (SIGTERM) stops a long step between two people: the step is recorded
`interrupted` with how far it got, and `resume` carries on at once; nobody is invited or removed twice.
A process that dies without a word leaves the step busy, and `resume` says when its lease ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlmodel import select

from bot.console.render import render
from bot.conversation import status_views
from storage import Database, Invitation
from tests.storage.databases import SQLITE_ONLY
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from workflows.directory import Invitation as SentInvitation
from workflows.errors import WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY


@contextmanager
def _signalled_during(
    method: str, database: Database, microsoft: FakeMicrosoft, clock: FakeClock
) -> Iterator[MigrationService]:
    """A service whose process is told to stop (SIGTERM) while Microsoft answers its first `method` call."""
    stopping = threading.Event()
    original = getattr(microsoft, method)

    def signalled_meanwhile(*args: Any, **kwargs: Any) -> Any:
        stopping.set()
        return original(*args, **kwargs)

    setattr(microsoft, method, signalled_meanwhile)
    try:
        yield MigrationService(database, microsoft, clock=clock, stopping=stopping)
    finally:
        setattr(microsoft, method, original)


def test_a_stop_during_an_invitation_records_it_then_interrupts_and_resume_carries_on_at_once(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, database: Database, dana: Actor
) -> None:
    make_service().start("fabrikam", "fabrikam.com", dana)
    with _signalled_during("invite_guest", database, microsoft, clock) as stopped:
        result = stopped.invite(None, dana)

    assert microsoft.invitations == ["bob@outlook.com"]  # the one under way finished and was recorded
    assert result.status.state == "interrupted"
    assert result.message == (
        "The invitations were interrupted after 1 of 2 (the bot was stopping): `resume` carries on from"
        " there. This run: 1 invited."
    )
    assert result.status.next_commands == ("resume", "cancel")
    (entry,) = [e for e in stopped.audit_trail() if e.action == "interrupt"]
    assert (entry.state_before, entry.state_after) == ("inviting", "interrupted")
    assert entry.details == {"step": "invitations", "done": 1, "total": 2}

    resumed = make_service().resume(None, dana)  # at once: no lease to wait for
    assert resumed.state == "planned" and resumed.blocked_reason is None
    assert microsoft.invitations == ["bob@outlook.com", "cy@gmail.com"]
    with database.session() as session:
        rows = {row.email: (row.status, row.attempts) for row in session.exec(select(Invitation)).all()}
    assert rows == {"bob@outlook.com": ("sent", 1), "cy@gmail.com": ("sent", 1)}


def test_a_stop_during_a_removal_interrupts_before_the_next_and_resume_removes_the_rest(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, database: Database, clock: FakeClock, dana: Actor
) -> None:
    make_service().start("fabrikam", "fabrikam.com", dana)
    with _signalled_during("remove_org_user", database, microsoft, clock) as stopped:
        result = stopped.remove_users(None, ["e-bob", "e-cy"], dana)

    assert microsoft.removed == ["e-bob"]
    assert result.status.state == "interrupted"
    assert result.message.startswith("The removals were interrupted after 1 of 2 (the bot was stopping)")
    assert make_service().resume(None, dana).state == "planned"
    assert microsoft.removed == ["e-bob", "e-cy"]


def test_a_step_whose_process_died_says_when_resume_becomes_possible(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    make_service().start("fabrikam", "fabrikam.com", dana)
    invite = microsoft.invite_guest

    def died(tenant_id: str, **details: str) -> SentInvitation:
        raise SystemExit  # stands for kill -9: nothing is recorded after the claim

    microsoft.invite_guest = died  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        make_service().invite(None, dana)
    microsoft.invite_guest = invite  # type: ignore[method-assign]
    clock.advance(minutes=3)

    said = render(status_views.status(make_service().status(), admin=True).message)
    assert (
        "Sending B2B guest invitations. Should the bot have stopped without a word, `resume` re-runs the"
        " step from 09:10 UTC, when the step's lease ends."
    ) in " ".join(said.split())
    with pytest.raises(WorkflowError) as refused:
        make_service().resume(None, dana)
    assert str(refused.value) == (
        "`resume` is not possible yet: the step is still running, or its process ended without a word; if"
        " so, `resume` re-runs it from 09:10 UTC, when the step's lease ends."
    )
    clock.advance(minutes=7)
    assert make_service().resume(None, dana).state == "planned"


def test_an_invite_after_connecting_stopped_part_way_reads_as_a_pause_not_a_fault(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, database: Database, dana: Actor
) -> None:
    """rev45: back at its connected step, the stopped invite's status read "❌ ... Fix: `invite` carries
    on"."""
    microsoft.connect(microsoft.tenant_info.id)
    assert make_service().start("fabrikam", "fabrikam.com", dana).state == "connected"
    with _signalled_during("invite_guest", database, microsoft, clock) as stopped:
        result = stopped.invite(None, dana)

    assert result.status.state == "connected"
    said = " ".join(render(status_views.status(make_service().status(), admin=True).message).split())
    assert (
        "⏸️ The invitations were interrupted after 1 of 2 (the bot was stopping): `invite` carries on from"
        " there."
    ) in said
    assert "❌" not in said
