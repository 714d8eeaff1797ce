"""Approval rules: four eyes, N distinct approvers, expiry, and binding to the current plan."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from storage import Approval, ApprovalDecision, Database
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import DANA, LEE, OTHER_TENANT_ID, FakeClock, FakeMicrosoft
from tests.workflows.replays import replayed
from workflows.directory import OrgUser
from workflows.errors import PermissionDenied, WorkflowError
from workflows.results import Actor
from workflows.results_approving import Affected
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY

PAT = Actor(id="U-PAT", email="pat@fabrikam.com", name="Pat")


@pytest.fixture
def awaiting(
    request: pytest.FixtureRequest, service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> int:
    """Fabrikam started and invited, its approval requested: the request's id."""

    def steps() -> None:
        service.start("fabrikam", "fabrikam.com", dana)
        service.invite(None, dana)
        service.request_approval(None, dana)

    replayed(request, service, microsoft, steps)
    approval_id = service.status().pending_approval_id
    assert approval_id is not None
    return approval_id


def test_the_request_carries_the_plan_summary_and_expiry(
    service: MigrationService, clock: FakeClock, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval("fabrikam", dana, anyway=True)
    assert request.plan_fingerprint == service.plan().fingerprint
    assert request.counts["invite"] == 2
    assert (request.affected.uninvited.count, request.affected.keep.count) == (2, request.counts["auto"])
    assert request.affected == Affected.of(service.plan())
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
    make_service: ServiceFactory, microsoft: FakeMicrosoft, database: Database, dana: Actor, lee: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(dana.email, lee.email, PAT.email))
    service = make_service(approvers_required=2)
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana, anyway=True)
    assert request.approvers_required == 2
    first = service.decide(request.approval_id, lee, approve=True)
    assert (first.outcome, first.approvals, first.status.state) == ("recorded", 1, "awaiting_approval")
    with pytest.raises(WorkflowError, match="already decided"):
        service.decide(request.approval_id, lee, approve=True)
    second = service.decide(request.approval_id, PAT, approve=True)
    assert (second.outcome, second.approvals, second.status.state) == ("approved", 2, "connecting")
    with database.session() as session:
        assert len(session.exec(select(ApprovalDecision)).all()) == 2


@BOTH_BACKENDS
def test_a_connected_plan_dates_from_the_approval_that_let_it_connect(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(dana.email, lee.email, PAT.email))
    service = make_service(approvers_required=2)
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana, anyway=True)
    service.decide(request.approval_id, lee, approve=True)  # one of two: recorded, not yet connecting
    assert service.plan_made() is None
    service.decide(request.approval_id, PAT, approve=True)
    microsoft.connect(microsoft.tenant_info.id)
    service.check_connection(None)
    service.notify(None, dana)  # the trail goes on after it
    made = service.plan_made()
    assert made is not None
    assert (made.action, made.actor_email, made.state_after) == ("approve", PAT.email, "connecting")


def test_a_rejection_goes_back_to_planned(service: MigrationService, awaiting: int, lee: Actor) -> None:
    result = service.decide(awaiting, lee, approve=False, reason="Wait for the holidays")
    assert result.outcome == "rejected"
    assert result.status.state == "planned"
    assert "Wait for the holidays" in result.message
    assert result.status.pending_approval_id is None


@BOTH_BACKENDS
@pytest.mark.parametrize("outcome", ["rejected", "expired"])
def test_a_lapsed_anyway_request_goes_back_to_blocked_while_invite_permission_fails(
    outcome: str,
    service: MigrationService,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    """Back in `planned`, the status would offer a plain request and `invite`, both refused (rev29 #1)."""
    microsoft.allow_invites = "none"
    assert service.start("fabrikam", "fabrikam.com", dana).state == "blocked"
    request = service.request_approval(None, dana, anyway=True)
    if outcome == "expired":
        clock.advance(hours=24)
    result = service.decide(request.approval_id, lee, approve=False)
    assert (result.outcome, result.status.state) == (outcome, "blocked")
    assert [check.code for check in result.status.checks if check.status == "fail"] == ["invite-permission"]
    assert service.request_approval(None, dana, anyway=True).status.state == "awaiting_approval"


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


def test_a_recheck_that_finds_nothing_changed_keeps_the_request_and_one_that_finds_a_change_voids_it(
    service: MigrationService, microsoft: FakeMicrosoft, awaiting: int, dana: Actor, lee: Actor
) -> None:
    same = service.recheck(None, dana)
    assert (same.kept, same.voided, same.status.state) == (awaiting, (), "awaiting_approval")
    assert same.status.pending_approval_id == awaiting
    microsoft.add_directory_user("newcomer@fabrikam.com")
    microsoft.users.append(OrgUser(id="e-new", principal_name="newcomer@fabrikam.com"))
    changed = service.recheck(None, dana)
    assert (changed.kept, changed.voided, changed.status.state) == (None, (awaiting,), "planned")
    assert service.status().pending_approval_id is None
    with pytest.raises(WorkflowError, match="already void"):
        service.decide(awaiting, lee, approve=True)


def test_a_recheck_microsoft_does_not_answer_says_so_reads_once_and_keeps_the_request(
    service: MigrationService, microsoft: FakeMicrosoft, awaiting: int, dana: Actor, lee: Actor
) -> None:
    microsoft.broken.add("snapshot")
    before = microsoft.calls.get("snapshot", 0)
    with pytest.raises(WorkflowError) as refused:
        service.recheck(None, dana)
    assert microsoft.calls["snapshot"] == before + 1
    assert str(refused.value) == (
        "I could not re-check with Microsoft, so nothing changed: Microsoft Graph kept answering 503 to"
        f" snapshot; try again later. Approval #{awaiting} still stands (approving checks the plan with"
        " Microsoft again); `recheck` once the service answers."
    )
    status = service.status()
    assert (status.state, status.pending_approval_id) == ("awaiting_approval", awaiting)
    microsoft.broken.clear()
    assert service.decide(awaiting, lee, approve=True).outcome == "approved"


@BOTH_BACKENDS
def test_a_recheck_that_keeps_the_request_stores_who_accepted_their_invitation_meanwhile(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    """Accepting changes no outcome, so not the fingerprint: the request stands, and the plan says so."""

    def guests(state: str) -> None:
        microsoft.directory = [
            replace(user, external_user_state=state) if user.user_type == "Guest" else user
            for user in microsoft.directory
        ]

    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    guests("PendingAcceptance")
    service.recheck(None, dana)
    requested = service.request_approval(None, dana).approval_id
    assert service.plan().groups["to-accept"] == 2
    guests("Accepted")
    kept = service.recheck(None, dana)
    assert (kept.kept, kept.status.state) == (requested, "awaiting_approval")
    assert service.plan().groups["to-accept"] == 0


def test_connecting_needs_an_approval_bound_to_the_current_plan(
    service: MigrationService, awaiting: int, database: Database, dana: Actor, lee: Actor
) -> None:
    """Even if the stored plan changes behind the service's back, the guard refuses."""
    with database.session() as session:
        approval = session.get(Approval, awaiting)
        assert approval is not None
        approval.plan_fingerprint = "0000000000000000"
        session.commit()
    result = service.decide(awaiting, lee, approve=True)
    assert result.outcome == "void"
    assert result.status.state == "planned" and result.status.pending_approval_id is None
    assert "request-approval" in result.message
    assert [e.action for e in service.audit_trail()][-1] == "void_approval"
    fresh = service.request_approval(None, dana)  # what the message says to do works
    assert service.decide(fresh.approval_id, lee, approve=True).outcome == "approved"


def test_unknown_approval(service: MigrationService, lee: Actor) -> None:
    with pytest.raises(WorkflowError, match="no approval request #42"):
        service.decide(42, lee, approve=True)


def test_an_approval_is_void_when_a_check_fails_by_the_time_of_the_last_approval(
    service: MigrationService, awaiting: int, microsoft: FakeMicrosoft, lee: Actor
) -> None:
    microsoft.connect(OTHER_TENANT_ID)  # someone connected the organization to another directory meanwhile
    result = service.decide(awaiting, lee, approve=True)
    assert result.outcome == "void" and result.connector is None
    assert "connected to another tenant" in result.message
    assert result.status.state == "blocked"
    assert result.status.blocked_reason and OTHER_TENANT_ID in result.status.blocked_reason


def test_an_approval_is_void_when_the_connector_lost_their_admin_rights(
    service: MigrationService, microsoft: FakeMicrosoft, lee: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email))
    service.start("fabrikam", "fabrikam.com", lee)
    request = service.request_approval(None, lee, anyway=True)
    microsoft.org = replace(microsoft.org, administrators=(DANA, PAT.email))
    result = service.decide(request.approval_id, Actor("U-DANA", DANA, "Dana"), approve=True)
    assert result.outcome == "void" and result.status.state == "blocked"
    assert "neither the owner nor a Project Collection Administrator" in result.message


def test_the_approver_who_may_connect_gets_the_portal_step(
    service: MigrationService, awaiting: int, lee: Actor
) -> None:
    result = service.decide(awaiting, lee, approve=True)
    assert (result.outcome, result.connector, result.connector_reason) == ("approved", lee, "")
    assert result.message.startswith("Lee connects it in the portal: https://dev.azure.com/fabrikam")
    assert not result.message.startswith("Approved")  # the chat says who approved


def test_an_approver_outside_the_tenant_leaves_the_portal_step_to_the_requester(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email))
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana, anyway=True)
    result = service.decide(request.approval_id, PAT, approve=True)  # an admin of the organization only
    assert result.outcome == "approved" and result.connector == dana
    assert "pat@fabrikam.com is not a user of Fabrikam" in result.connector_reason
    assert "Dana, who requested the approval, does" in result.connector_reason
    assert result.message.startswith("Dana connects it in the portal")
    approve = [entry for entry in service.audit_trail() if entry.action == "approve"]
    assert approve[0].details["connector"] == DANA


def test_when_neither_approver_nor_requester_may_connect_the_starter_does(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    quinn = Actor("U-QUINN", "quinn@fabrikam.com", "Quinn")
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email, quinn.email))
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, PAT, anyway=True)
    result = service.decide(request.approval_id, quinn, approve=True)
    assert result.connector == dana
    assert "Dana, who started the migration, does" in result.connector_reason


def test_two_identities_of_one_person_are_one_approver(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email))
    service = make_service(approvers_required=2)
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana, anyway=True)
    service.decide(request.approval_id, lee, approve=True)
    lee_elsewhere = Actor(id="T-LEE", email="Lee@Fabrikam.com", name="Lee (Teams)")
    with pytest.raises(WorkflowError, match="already decided"):
        service.decide(request.approval_id, lee_elsewhere, approve=True)
    assert service.status().state == "awaiting_approval"


def test_an_approval_nobody_could_give_is_not_requested(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    service = make_service(approvers_required=2)
    service.start("fabrikam", "fabrikam.com", dana)
    with pytest.raises(WorkflowError, match=r"2 approvers needed, only 1 other admin: lee@fabrikam\.com"):
        service.request_approval(None, dana)
    microsoft.org = replace(microsoft.org, owner=DANA, administrators=(DANA,))
    with pytest.raises(WorkflowError, match="1 approver needed, only 0 other admins"):
        make_service().request_approval(None, dana)
    assert service.status().state == "planned" and service.status().pending_approval_id is None


def test_an_expired_request_is_not_shown_as_pending(
    service: MigrationService, awaiting: int, clock: FakeClock, database: Database, dana: Actor
) -> None:
    assert service.status().pending_approval_id == awaiting
    clock.advance(hours=24, seconds=1)
    listed = service.migrations()[0]
    assert (listed.state, listed.pending_approval_id) == ("planned", None)
    assert service.status().next_commands[:4] == ("announce", "recheck", "invite", "request-approval")
    expiries = [entry for entry in service.audit_trail() if entry.action == "expire"]
    assert [(entry.actor_name, entry.state_after) for entry in expiries] == [("aadbot", "planned")]
    with database.session() as session:
        approval = session.get(Approval, awaiting)
        assert approval is not None and approval.status == "expired"
    assert service.request_approval(None, dana).status.state == "awaiting_approval"
