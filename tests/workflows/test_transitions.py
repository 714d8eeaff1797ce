"""Which commands fit which state, the guards, and what a refusal says."""

from __future__ import annotations

import pytest

from storage import Database, Migration
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from workflows.errors import ConflictError, WorkflowError
from workflows.machine import STATES, next_commands
from workflows.results import Actor
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY


def test_every_state_but_the_final_ones_offers_a_way_on() -> None:
    for state in STATES:
        words = next_commands(state)
        assert bool(words) == (state not in ("completed", "cancelled")), state
    assert next_commands("planned")[:4] == ["announce", "recheck", "invite", "request-approval"]
    assert "check-connection" in next_commands("connecting")


def test_a_command_out_of_turn_names_the_state_and_what_comes_next(
    service: MigrationService, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    with pytest.raises(WorkflowError) as refused:
        service.notify("fabrikam", dana)
    message = str(refused.value)
    assert "the migration is planned" in message
    for word in ("`invite`", "`request-approval`", "`recheck`", "`cancel`"):
        assert word in message
    assert service.status("fabrikam").state == "planned"


def test_refused_commands_change_nothing_and_write_no_audit(service: MigrationService, dana: Actor) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    before = service.status()
    trail = len(service.audit_trail())
    for command in (service.complete, service.check_billing, service.resume):
        with pytest.raises(WorkflowError):
            command("fabrikam", dana)
    assert service.status().version == before.version
    assert len(service.audit_trail()) == trail


def test_a_failing_prerequisite_blocks_with_reason_and_fix_and_recheck_unblocks(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.directory = [user for user in microsoft.directory if user.user_principal_name != dana.email]
    blocked = service.start("fabrikam", "fabrikam.com", dana)
    assert blocked.state == "blocked"
    assert blocked.blocked_reason and dana.email in blocked.blocked_reason
    assert blocked.blocked_fix
    with pytest.raises(WorkflowError, match="the migration is blocked"):
        service.request_approval(None, dana)
    with pytest.raises(WorkflowError, match="the migration is blocked"):
        service.invite(None, dana)
    microsoft.add_directory_user(dana.email)
    assert service.recheck(None, dana).status.state == "planned"


def test_no_approval_request_while_a_stored_check_fails(
    service: MigrationService, database: Database, dana: Actor
) -> None:
    """The guard holds on its own, whatever state the row claims."""
    status = service.start("fabrikam", "fabrikam.com", dana)
    with database.session() as session:
        row = session.get(Migration, status.id)
        assert row is not None and row.plan is not None
        row.plan = {**row.plan, "checks": [{"code": "connector-admin", "status": "fail", "message": "no"}]}
        session.commit()
    with pytest.raises(WorkflowError, match="a prerequisite check fails"):
        service.request_approval("fabrikam", dana)
    assert service.status().state == "planned"


def test_bad_input_gets_a_message_with_the_fix(service: MigrationService, dana: Actor) -> None:
    with pytest.raises(WorkflowError, match="not an Azure DevOps organization name"):
        service.start("https://dev.azure.com/fabrikam", "fabrikam.com", dana)
    with pytest.raises(WorkflowError, match="not a tenant"):
        service.start("fabrikam", "fabrikam com", dana)
    with pytest.raises(WorkflowError, match="email address"):
        service.start("fabrikam", "fabrikam.com", Actor("U1", "", "Nobody"))
    with pytest.raises(WorkflowError, match="No migration is in progress"):
        service.status()
    with pytest.raises(WorkflowError, match="no migration of contoso"):
        service.status("contoso")


def test_one_active_migration_per_organization(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    service = make_service()
    service.start("fabrikam", "fabrikam.com", dana)
    with pytest.raises(WorkflowError, match="already in progress"):
        service.start("FABRIKAM", "fabrikam.com", lee)
    microsoft.org = microsoft.org.__class__(name="contoso", owner=dana.email)
    service.start("contoso", "fabrikam.com", dana)
    with pytest.raises(WorkflowError, match=r"Several migrations are in progress \(contoso, fabrikam\)"):
        service.status()
    service.cancel("fabrikam", dana, "wrong tenant")
    assert service.status().organization == "contoso"
    again = service.start("fabrikam", "fabrikam.com", dana)
    assert again.state == "planned"
    assert [status.organization for status in service.migrations()][:2] == ["fabrikam", "contoso"]


def test_cancel_voids_the_pending_approval_and_ends_the_migration(
    service: MigrationService, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana, anyway=True)
    cancelled = service.cancel(None, dana, "postponed").status
    assert cancelled.state == "cancelled" and not cancelled.active
    assert cancelled.pending_approval_id is None
    with pytest.raises(WorkflowError, match=r"cancelled\. What you can do next: nothing"):
        service.cancel("fabrikam", dana)
    # Moments later, Lee's click lost a race; much later it is simply too late.
    with pytest.raises(ConflictError, match="Dana just cancelled the migration"):
        service.decide(request.approval_id, lee, approve=True)
    clock.advance(minutes=10)
    with pytest.raises(WorkflowError, match="already void") as late:
        service.decide(request.approval_id, lee, approve=True)
    assert not isinstance(late.value, ConflictError)


def test_a_microsoft_failure_while_checking_fails_the_migration_and_resume_retries(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.broken.add("snapshot")
    failed = service.start("fabrikam", "fabrikam.com", dana)
    assert failed.state == "failed"
    assert failed.blocked_reason and "503" in failed.blocked_reason
    assert failed.next_commands == ("resume", "cancel")
    microsoft.broken.clear()
    assert service.resume(None, dana).state == "planned"


def test_once_connected_cancel_is_refused_with_what_can_be_done(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    for state in ("connected", "inviting_after_connecting", "users_notified", "billing_checked"):
        assert "cancel" not in next_commands(state), state
    service.start("fabrikam", "fabrikam.com", dana)
    service.decide(service.request_approval(None, dana, anyway=True).approval_id, lee, approve=True)
    microsoft.connect(service.status().tenant_id)
    service.check_connection()
    clock.advance(minutes=5)  # not a race with the watch's confirmation: simply too late
    with pytest.raises(WorkflowError) as refused:
        service.cancel(None, dana, "changed my mind")
    assert str(refused.value) == (
        "`cancel` does not fit now: the migration is connected. What you can do next: `notify`, `invite`."
    )
    assert service.status().state == "connected" and service.status().active


def test_an_unexpected_error_while_checking_fails_the_migration_with_the_reason(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    snapshot = microsoft.snapshot

    def malformed(*args: object, **kwargs: object) -> None:
        raise ValueError("Expecting value: line 1 column 1 (char 0)")

    microsoft.snapshot = malformed  # type: ignore[method-assign,assignment]
    with pytest.raises(ValueError):
        service.start("fabrikam", "fabrikam.com", dana)
    failed = service.status()
    assert failed.state == "failed"
    assert failed.blocked_reason == "The prerequisite checks stopped on an unexpected error (ValueError)."
    assert failed.blocked_fix and "`resume`" in failed.blocked_fix
    assert failed.next_commands == ("resume", "cancel")
    microsoft.snapshot = snapshot  # type: ignore[method-assign]
    assert service.resume(None, dana).state == "planned"


def test_an_unexpected_error_while_inviting_fails_the_migration_and_resume_goes_on(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    find = microsoft.find_directory_user

    def unreadable(tenant_id: str, email: str) -> None:
        raise KeyError("id")

    microsoft.find_directory_user = unreadable  # type: ignore[method-assign,assignment]
    with pytest.raises(KeyError):
        service.invite(None, dana)
    assert service.status().state == "failed"
    assert service.status().blocked_reason == "The invitations stopped on an unexpected error (KeyError)."
    microsoft.find_directory_user = find  # type: ignore[method-assign]
    assert service.resume(None, dana).state == "planned"
    assert sorted(microsoft.invitations) == ["bob@outlook.com", "cy@gmail.com"]


@BOTH_BACKENDS
def test_organization_names_and_approvals_resolve_without_decoding_plans(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    assert service.organizations() == [] and service.approval_organization(1) is None
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana, anyway=True)
    microsoft.org = microsoft.org.__class__(name="contoso", owner=dana.email, administrators=(dana.email,))
    service.start("contoso", "fabrikam.com", dana)
    assert service.organizations() == ["contoso", "fabrikam"]
    assert service.organizations(state="awaiting_approval") == ["fabrikam"]
    service.cancel("contoso", dana)
    assert service.organizations() == ["fabrikam"]
    assert service.organizations(include_finished=True) == ["contoso", "fabrikam"]
    service.decide(request.approval_id, lee, approve=False)
    assert service.approval_organization(request.approval_id) == "fabrikam"  # in any status
    assert service.approval_organization(request.approval_id + 1) is None


def test_start_on_a_connected_migration_names_only_commands_that_fit(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    with pytest.raises(WorkflowError, match=r"Use `status fabrikam`, or `cancel` it first\."):
        service.start("fabrikam", "fabrikam.com", lee)
    service.decide(service.request_approval(None, dana, anyway=True).approval_id, lee, approve=True)
    microsoft.connect(service.status().tenant_id)
    service.check_connection()
    with pytest.raises(WorkflowError) as refused:
        service.start("fabrikam", "fabrikam.com", lee)
    assert "`cancel`" not in str(refused.value)
    assert str(refused.value).endswith(
        "It can no longer be cancelled; go on with `notify`, `invite` (`status fabrikam` shows where it"
        " stands)."
    )
