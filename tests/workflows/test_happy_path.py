"""A whole migration through the service, and a restart between every two steps."""

from __future__ import annotations

from tests.storage.databases import SQLITE_ONLY
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import TENANT_ID, FakeClock, FakeMicrosoft
from workflows.results import Actor

pytestmark = SQLITE_ONLY


def test_a_whole_migration_survives_a_restart_between_every_step(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    started = make_service().start("fabrikam", "fabrikam.com", dana, channel="C-MIGRATION")
    assert started.state == "planned", started.blocked_reason
    assert started.tenant_id == TENANT_ID
    assert started.counts == {
        "auto": 3,
        "to-accept": 0,
        "map": 0,
        "invite": 2,
        "disabled": 0,
        "ambiguous": 0,
        "no-access": 0,
    }

    invited = make_service().invite(None, dana)
    assert sorted(microsoft.invitations) == ["bob@outlook.com", "cy@gmail.com"]
    assert invited.status.state == "planned"
    assert invited.status.counts["invite"] == 0

    request = make_service().request_approval("fabrikam", dana)
    assert request.status.state == "awaiting_approval"
    clock.advance(minutes=5)
    decision = make_service().decide(request.approval_id, lee, approve=True)
    assert decision.outcome == "approved", decision.message
    assert decision.status.state == "connecting"

    assert make_service().check_connection().outcome == "waiting"
    microsoft.connect(TENANT_ID)
    assert make_service().check_connection("fabrikam").status.state == "connected"

    notified = make_service().notify("fabrikam", dana)
    assert notified.status.state == "users_notified"
    assert {user.email for user in notified.users} == {
        "dana@fabrikam.com",
        "lee@fabrikam.com",
        "ann@fabrikam.com",
        "bob@outlook.com",
        "cy@gmail.com",
    }
    bob_items = make_service().todo_list("Bob@Outlook.com")
    assert bob_items[0].key == "accept-invitation"

    billing = make_service().check_billing(None, dana)
    assert billing.ok and billing.status.state == "billing_checked"
    done = make_service().complete(None, dana, confirmed=True).status
    assert done.state == "completed" and not done.active

    trail = make_service().audit_trail("fabrikam")
    path = [entry.state_after for entry in trail if entry.state_before != entry.state_after]
    assert path == [
        "draft",
        "checking_prerequisites",
        "planned",
        "inviting",
        "checking_prerequisites",
        "planned",
        "awaiting_approval",
        "connecting",
        "connected",
        "users_notified",
        "billing_checked",
        "completed",
    ]
