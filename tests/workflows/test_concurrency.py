"""Two people pulling one trigger at the same moment: exactly one wins, the other is told who did what."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from sqlalchemy.orm.exc import StaleDataError

from storage import AuditEntry, Database, Migration
from tests.workflows.fakes import FakeClock, FakeMicrosoft, connect_and_notify
from workflows.errors import ConflictError, WorkflowError
from workflows.machine import CONNECTED_OUTSIDE_APPROVAL
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.settings import WorkflowSettings
from workflows.stages import checking
from workflows.stages.unit import conflict_from, step

T = TypeVar("T")
PAT = Actor(id="U-PAT", email="pat@fabrikam.com", name="Pat")


class RendezvousClock:
    """Each thread's first look at the clock waits for the other: both have read the migration by then."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._barrier = threading.Barrier(2, timeout=10)
        self._seen = threading.local()

    def __call__(self) -> datetime:
        if not getattr(self._seen, "met", False):
            self._seen.met = True
            self._barrier.wait()
        return self._clock()


def race(first: Callable[[], T], second: Callable[[], T]) -> list[T | WorkflowError]:
    def attempt(call: Callable[[], T]) -> T | WorkflowError:
        try:
            return call()
        except WorkflowError as error:
            return error

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(attempt, first), pool.submit(attempt, second)]
        return [future.result(timeout=30) for future in futures]


def conflicts_in(results: list[T | WorkflowError]) -> list[ConflictError]:
    return [result for result in results if isinstance(result, ConflictError)]


def interleaved(
    database: Database, microsoft: FakeMicrosoft, clock: FakeClock, **settings: int
) -> MigrationService:
    return MigrationService(
        database, microsoft, clock=RendezvousClock(clock), settings=WorkflowSettings(**settings)
    )


def test_two_approval_requests_at_once_one_wins(
    service: MigrationService,
    database: Database,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    racing = interleaved(database, microsoft, clock)
    results = race(
        lambda: racing.request_approval(None, dana, anyway=True),
        lambda: racing.request_approval(None, lee, anyway=True),
    )
    conflicts = conflicts_in(results)
    winners = [result for result in results if not isinstance(result, WorkflowError)]
    assert len(conflicts) == 1 and len(winners) == 1, results
    winner = winners[0].requested_by  # type: ignore[union-attr]
    assert str(conflicts[0]).startswith(
        f"{winner.name} just requested approval; the migration is now awaiting"
    )
    status = service.status()
    assert status.state == "awaiting_approval"
    assert status.pending_approval_id == winners[0].approval_id  # type: ignore[union-attr]
    requests = [entry for entry in service.audit_trail() if entry.action == "request_approval"]
    assert len(requests) == 1


def test_two_approvers_deciding_at_once_conflict_on_the_approval_row(
    database: Database,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(dana.email, lee.email, PAT.email))
    settled = MigrationService(
        database, microsoft, clock=clock, settings=WorkflowSettings(approvers_required=2)
    )
    settled.start("fabrikam", "fabrikam.com", dana)
    request = settled.request_approval(None, dana, anyway=True)
    racing = interleaved(database, microsoft, clock, approvers_required=2)
    results = race(
        lambda: racing.decide(request.approval_id, lee, approve=True),
        lambda: racing.decide(request.approval_id, PAT, approve=True),
    )
    conflicts = conflicts_in(results)
    assert len(conflicts) == 1, results
    assert "just recorded an approval decision" in str(conflicts[0])
    loser = PAT if results[1] is conflicts[0] else lee
    final = settled.decide(request.approval_id, loser, approve=True)
    assert (final.outcome, final.approvals) == ("approved", 2)


def test_unsynchronised_threads_still_get_exactly_one_winner(
    service: MigrationService,
    database: Database,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    barrier = threading.Barrier(2, timeout=10)

    def cancel(actor: Actor) -> Callable[[], object]:
        def run() -> object:
            barrier.wait()
            return MigrationService(database, microsoft, clock=clock).cancel("fabrikam", actor)

        return run

    results = race(cancel(dana), cancel(lee))
    conflicts = conflicts_in(results)
    assert len(conflicts) == 1, results
    assert "just cancelled the migration" in str(conflicts[0])
    assert [entry.action for entry in service.audit_trail("fabrikam")].count("cancel") == 1


def test_two_starts_of_one_organization_at_once(
    database: Database, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    racing = interleaved(database, microsoft, clock)
    results = race(
        lambda: racing.start("fabrikam", "fabrikam.com", dana),
        lambda: racing.start("fabrikam", "fabrikam.com", lee),
    )
    refused = [result for result in results if isinstance(result, WorkflowError)]
    assert len(refused) == 1, results
    assert "already in progress" in str(refused[0])
    assert len(MigrationService(database, microsoft, clock=clock).migrations()) == 1


def test_a_double_click_on_done_marks_the_item_once(
    service: MigrationService,
    database: Database,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    connect_and_notify(service, microsoft, dana, lee)
    item = service.todo_list(lee.email)[0]
    racing = interleaved(database, microsoft, clock)
    results = race(lambda: racing.mark_done(item.id, lee), lambda: racing.mark_done(item.id, lee))
    conflicts = conflicts_in(results)
    assert len(conflicts) == 1, results
    assert [entry.action for entry in service.audit_trail()].count("todo_done") == 1
    assert service.mark_done(item.id, lee).already_done


@pytest.mark.parametrize("command", ["invite", "recheck"])
def test_racing_steps_that_call_microsoft_collide_on_the_busy_state(
    command: str,
    service: MigrationService,
    database: Database,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    # recheck's look at the connection first reads the clock outside any step: the threads would meet there
    # and then take their steps one after the other (the look has tests of its own)
    monkeypatch.setattr(checking, "_connected_in_the_portal", lambda ctx, organization: None)
    racing = interleaved(database, microsoft, clock)
    results = race(lambda: getattr(racing, command)(None, dana), lambda: getattr(racing, command)(None, lee))
    conflicts = conflicts_in(results)
    assert len(conflicts) == 1, results
    assert sorted(microsoft.invitations) == (
        ["bob@outlook.com", "cy@gmail.com"] if command == "invite" else []
    )


def test_a_conflict_with_a_click_in_the_portal_says_nobody_approved_it() -> None:
    # `check-connection` may find the click while another admin's command is under way: theirs is refused
    # with what happened, and that no approval let it happen.
    latest = AuditEntry(
        migration_id=7,
        at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        actor_id="U-DANA",
        actor_email="dana@fabrikam.com",
        actor_name="Dana",
        action=CONNECTED_OUTSIDE_APPROVAL,
        state_before="awaiting_approval",
        state_after="connected",
    )
    row = Migration(organization="fabrikam", tenant_id="t", state="connected")
    assert str(conflict_from(latest, row)) == (
        "Dana just found the organization connected in the portal outside the approval (nobody approved it);"
        " the migration is now connected. Next: `notify`, `invite`."
    )


@pytest.mark.parametrize(
    ("minutes_since", "said"),
    [
        (1, "Dana just finished the prerequisite checks; the migration is now planned."),
        (60, "Something changed this migration at the same moment, so I did nothing; trying again is safe."),
    ],
)
def test_a_conflict_names_the_latest_change_only_while_it_is_recent(
    service: MigrationService,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
    minutes_since: int,
    said: str,
) -> None:
    # A conflict over a message row (the delivery worker sending it meanwhile) follows no person's change:
    # Dana's checks an hour before must not read as if she had just acted, as `recent_change_or` rules.
    service.start("fabrikam", "fabrikam.com", dana)
    clock.advance(minutes=minutes_since)
    with (
        pytest.raises(ConflictError) as refused,
        database.session() as session,
        step(service._ctx, session, "fabrikam", lee, "request_approval"),
    ):
        raise StaleDataError("a message row changed under the step")
    assert str(refused.value).startswith(said)
