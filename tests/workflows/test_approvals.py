"""Approval rules: four eyes, N distinct approvers, expiry, and binding to the current plan."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage import Approval, ApprovalDecision, Database
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from workflows.errors import PermissionDenied, WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService

PAT = Actor(id="U-PAT", email="pat@fabrikam.com", name="Pat")


@pytest.fixture
def awaiting(service: MigrationService, dana: Actor) -> int:
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    return service.request_approval(None, dana).approval_id


def test_the_request_carries_the_plan_summary_and_expiry(
    service: MigrationService, clock: FakeClock, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval("fabrikam", dana)
    assert request.plan_fingerprint == service.plan().fingerprint
    assert request.counts["invite"] == 2
    assert request.expires_at == clock.now + service._settings.approval_ttl
    assert request.requested_by == dana
    assert request.status.pending_approval_id == request.approval_id


def test_the_requester_cannot_approve_their_own_request(
    service: MigrationService, awaiting: int, dana: Actor
) -> None:
    with pytest.raises(PermissionDenied, match="another admin must approve"):
        service.decide(awaiting, dana, approve=True)
    same_person_other_id = Actor(id="U-DANA-2", email="DANA@fabrikam.com", name="Dana")
    with pytest.raises(PermissionDenied):
        service.decide(awaiting, same_person_other_id, approve=True)
    assert service.status().state == "awaiting_approval"


def test_n_distinct_approvers_are_needed(
    make_service: ServiceFactory, database: Database, dana: Actor, lee: Actor
) -> None:
    service = make_service(approvers_required=2)
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana)
    assert request.approvers_required == 2
    first = service.decide(request.approval_id, lee, approve=True)
    assert (first.outcome, first.approvals, first.status.state) == ("recorded", 1, "awaiting_approval")
    with pytest.raises(WorkflowError, match="already decided"):
        service.decide(request.approval_id, lee, approve=True)
    second = service.decide(request.approval_id, PAT, approve=True)
    assert (second.outcome, second.approvals, second.status.state) == ("approved", 2, "connecting")
    with database.session() as session:
        assert len(session.exec(select(ApprovalDecision)).all()) == 2


def test_a_rejection_goes_back_to_planned(service: MigrationService, awaiting: int, lee: Actor) -> None:
    result = service.decide(awaiting, lee, approve=False, reason="Wait for the holidays")
    assert result.outcome == "rejected"
    assert result.status.state == "planned"
    assert "Wait for the holidays" in result.message
    assert result.status.pending_approval_id is None


def test_an_expired_request_cannot_be_approved(
    service: MigrationService, awaiting: int, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    clock.advance(hours=24)
    result = service.decide(awaiting, lee, approve=True)
    assert result.outcome == "expired"
    assert result.status.state == "planned"
    assert "request-approval" in result.message
    fresh = service.request_approval(None, dana)
    assert service.decide(fresh.approval_id, lee, approve=True).outcome == "approved"


def test_a_new_request_after_expiry_replaces_the_stale_one(
    service: MigrationService, awaiting: int, clock: FakeClock, database: Database, dana: Actor
) -> None:
    clock.advance(hours=25)
    fresh = service.request_approval(None, dana)
    with database.session() as session:
        old = session.get(Approval, awaiting)
        assert old is not None and old.status == "expired"
    assert fresh.status.pending_approval_id == fresh.approval_id


def test_a_plan_change_voids_the_approval(
    service: MigrationService, awaiting: int, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    before = service.plan().fingerprint
    microsoft.users = [user for user in microsoft.users if user.id != "e-ann"]  # someone left meanwhile
    result = service.decide(awaiting, lee, approve=True)
    assert result.outcome == "void"
    assert "plan did too" in result.message
    assert result.status.state == "planned"
    assert service.plan().fingerprint != before
    again = service.request_approval(None, dana)
    assert again.plan_fingerprint == service.plan().fingerprint
    assert service.decide(again.approval_id, lee, approve=True).status.state == "connecting"


def test_a_recheck_while_awaiting_voids_the_request(
    service: MigrationService, awaiting: int, dana: Actor, lee: Actor
) -> None:
    assert service.recheck(None, dana).state == "planned"
    assert service.status().pending_approval_id is None
    with pytest.raises(WorkflowError, match="already void"):
        service.decide(awaiting, Actor("U-X", "x@fabrikam.com", "X"), approve=True)


def test_connecting_needs_an_approval_bound_to_the_current_plan(
    service: MigrationService, awaiting: int, database: Database, lee: Actor
) -> None:
    """Even if the stored plan changes behind the service's back, the guard refuses."""
    with database.session() as session:
        approval = session.get(Approval, awaiting)
        assert approval is not None
        approval.plan_fingerprint = "0000000000000000"
        session.commit()
    result = service.decide(awaiting, lee, approve=True)
    assert result.outcome == "void"
    assert service.status().state == "awaiting_approval"


def test_unknown_approval(service: MigrationService, lee: Actor) -> None:
    with pytest.raises(WorkflowError, match="no approval request #42"):
        service.decide(42, lee, approve=True)
