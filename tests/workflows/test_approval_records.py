"""What each approval decision leaves behind: the approval row, the decisions and the audit trail, exactly.

The chat reads the outcome; an auditor reads these rows. Every path through the approval stage is here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from storage import Approval, ApprovalDecision, Database, Migration, OutboundMessage
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.storage.statements import statements
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import DANA, LEE, TENANT_ID, FakeClock, FakeMicrosoft
from tests.workflows.replays import replayed
from workflows import notices
from workflows._codec import decode
from workflows.errors import ConflictError, PermissionDenied, WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.stages import approval_lapse
from workflows.stages.unit import Unit

pytestmark = SQLITE_ONLY

PAT = Actor(id="U-PAT", email="pat@fabrikam.com", name="Pat")


def _approval(database: Database, approval_id: int) -> Approval:
    with database.session() as session:
        approval = session.get(Approval, approval_id)
        assert approval is not None
        return approval


def _decisions(database: Database) -> list[tuple[str, str, bool, str]]:
    with database.session() as session:
        rows = session.exec(select(ApprovalDecision).order_by(ApprovalDecision.id)).all()  # type: ignore[arg-type]
        return [(row.approver_id, row.approver_email, row.approve, row.reason) for row in rows]


def _trail(service: MigrationService, last: int) -> list[tuple[str, str | None, str, str, dict[str, Any]]]:
    return [
        (entry.actor_email, entry.state_before, entry.state_after, entry.action, entry.details)
        for entry in service.audit_trail("fabrikam")[-last:]
    ]


@pytest.fixture
def requested(
    request: pytest.FixtureRequest,
    service: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    dana: Actor,
) -> int:
    def steps() -> None:
        service.start("fabrikam", "fabrikam.com", dana)
        service.request_approval(None, dana, anyway=True)

    replayed(request, service, microsoft, steps)
    with database.session() as session:
        (approval_id,) = session.exec(select(Approval.id)).all()  # the one approval just asked for
    assert approval_id is not None
    return approval_id


def test_a_request_is_stored_bound_to_the_plan_and_audited(
    service: MigrationService, database: Database, clock: FakeClock, requested: int
) -> None:
    fingerprint = service.plan().fingerprint
    approval = _approval(database, requested)
    assert (approval.status, approval.plan_fingerprint, approval.approvals, approval.approvers_required) == (
        "pending",
        fingerprint,
        0,
        1,
    )
    assert (approval.requested_by_id, approval.requested_by_email, approval.requested_by_name) == (
        "U-DANA",
        DANA,
        "Dana",
    )
    assert (approval.created_at, approval.expires_at, approval.decided_at) == (
        clock.now,
        clock.now + timedelta(hours=24),
        None,
    )
    assert _trail(service, 1) == [
        (
            DANA,
            "planned",
            "awaiting_approval",
            "request_approval",
            {"fingerprint": fingerprint, "anyway": True},
        )
    ]


def test_an_approval_is_recorded_with_its_decider_and_connector(
    service: MigrationService, database: Database, clock: FakeClock, requested: int, lee: Actor
) -> None:
    clock.advance(minutes=5)
    result = service.decide(requested, lee, approve=True, reason="go")
    approval = _approval(database, requested)
    assert (approval.status, approval.approvals, approval.decided_at) == ("approved", 1, clock.now)
    assert _decisions(database) == [("U-LEE", LEE, True, "go")]
    assert (result.approval_id, result.approvals, result.approvers_required) == (requested, 1, 1)
    assert _trail(service, 1) == [
        (LEE, "awaiting_approval", "connecting", "approve", {"approval_id": requested, "connector": LEE})
    ]
    with database.session() as session:
        told = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()  # type: ignore[arg-type]
    deciders = {
        message.kind: decode(Actor, message.payload["decider"])
        for message in told
        if message.kind in (notices.APPROVAL_DECISION, notices.APPROVED)
    }
    assert deciders == {notices.APPROVAL_DECISION: lee, notices.APPROVED: lee}


def test_an_approval_queues_its_three_notices_in_order_after_one_look_up_of_their_keys(
    service: MigrationService, database: Database, requested: int, lee: Actor
) -> None:
    """The decision, the connector's portal steps and the channel's news: their keys are looked up together
    (a look-up each flushed the one before), and they go out in the order they were queued."""
    with statements(database) as seen:
        service.decide(requested, lee, approve=True)
    key_look_ups = [statement for statement in seen if "outbound_message.idempotency_key IN" in statement]
    assert len(key_look_ups) == 1, key_look_ups
    with database.session() as session:
        queued = session.exec(select(OutboundMessage.kind).order_by(OutboundMessage.id)).all()  # type: ignore[arg-type]
    # started outside a channel: each admin hears it is approved (`notices.every_admin`)
    assert list(dict.fromkeys(queued))[-3:] == [
        notices.APPROVAL_DECISION,
        notices.PORTAL_STEPS,
        notices.APPROVED,
    ]


def test_a_rejection_is_recorded_with_its_reason(
    service: MigrationService, database: Database, clock: FakeClock, requested: int, lee: Actor
) -> None:
    result = service.decide(requested, lee, approve=False, reason="After the holidays")
    approval = _approval(database, requested)
    assert (approval.status, approval.approvals, approval.decided_at) == ("rejected", 0, clock.now)
    assert _decisions(database) == [("U-LEE", LEE, False, "After the holidays")]
    assert result.message == "Reason: After the holidays"
    assert _trail(service, 1) == [
        (
            LEE,
            "awaiting_approval",
            "planned",
            "reject",
            {"approval_id": requested, "reason": "After the holidays"},
        )
    ]
    without_reason = service.request_approval(None, Actor(id="U-DANA", email=DANA, name="Dana"), anyway=True)
    assert service.decide(without_reason.approval_id, lee, approve=False).message == "No reason given."


def test_an_approval_short_of_approvers_is_recorded_and_waits(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, database: Database, dana: Actor, lee: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email))
    service = make_service(approvers_required=2)
    service.start("fabrikam", "fabrikam.com", dana)
    approval_id = service.request_approval(None, dana, anyway=True).approval_id
    first = service.decide(approval_id, lee, approve=True)
    assert (first.outcome, first.message, first.approvals) == (
        "recorded",
        "The portal steps to connect go out once they approve.",
        1,
    )
    approval = _approval(database, approval_id)
    assert (approval.status, approval.approvals, approval.decided_at) == ("pending", 1, None)
    assert _trail(service, 1) == [
        (LEE, "awaiting_approval", "awaiting_approval", "decision", {"approval_id": approval_id})
    ]


def test_an_expired_request_is_marked_when_decided(
    service: MigrationService, database: Database, clock: FakeClock, requested: int, lee: Actor
) -> None:
    expires = _approval(database, requested).expires_at
    clock.now = expires
    result = service.decide(requested, lee, approve=True)
    assert (result.outcome, result.status.state) == ("expired", "planned")
    assert result.message == (
        f"This approval request expired at {expires:%Y-%m-%d %H:%M} UTC;"
        " run `request-approval` for a fresh one."
    )
    assert _approval(database, requested).status == "expired"
    assert _decisions(database) == []
    assert _trail(service, 1) == [(LEE, "awaiting_approval", "planned", "expire", {"approval_id": requested})]


def test_one_minute_before_it_expires_a_request_still_counts(
    service: MigrationService, database: Database, clock: FakeClock, requested: int, lee: Actor
) -> None:
    clock.now = _approval(database, requested).expires_at - timedelta(minutes=1)
    assert service.decide(requested, lee, approve=True).outcome == "approved"


def test_a_lapsed_request_is_expired_by_whoever_looks_first(
    service: MigrationService, database: Database, clock: FakeClock, requested: int
) -> None:
    clock.advance(hours=24)
    assert service.status(None).state == "planned"
    assert _approval(database, requested).status == "expired"
    assert _trail(service, 1) == [("", "awaiting_approval", "planned", "expire", {"approval_id": requested})]


@BOTH_BACKENDS
def test_the_look_that_loses_the_race_to_expire_a_lapsed_request_ends_quietly(
    service: MigrationService,
    database: Database,
    clock: FakeClock,
    requested: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every replica's watch looks at each lapse. The loser's queries flush its UPDATEs before the commit, so
    the conflict surfaces there, and must not break the look (the connection watch, sign-ins, reminders)."""
    clock.advance(hours=24, minutes=1)
    _another_look_first(monkeypatch, service)
    service.expire_lapsed_approvals()
    assert _approval(database, requested).status == "expired"
    assert _told_of_lapse(database) == [(requested, "pending")]


@BOTH_BACKENDS
def test_a_look_that_lost_one_lapse_skips_the_others_the_winner_expired(
    service: MigrationService,
    database: Database,
    clock: FakeClock,
    microsoft: FakeMicrosoft,
    requested: int,
    dana: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the rollback the loser reloads its next request, already expired: telling of it again would
    supersede the winner's notice, so the channel would never hear."""
    microsoft.org = replace(microsoft.org, name="contoso")
    service.start("contoso", "fabrikam.com", dana)
    other = service.request_approval("contoso", dana, anyway=True).approval_id
    clock.advance(hours=24, minutes=1)
    _another_look_first(monkeypatch, service)
    service.expire_lapsed_approvals()
    assert [_approval(database, each).status for each in (requested, other)] == ["expired", "expired"]
    assert sorted(_told_of_lapse(database)) == [(requested, "pending"), (other, "pending")]


def _another_look_first(monkeypatch: pytest.MonkeyPatch, service: MigrationService) -> None:
    """Another replica's look expires every lapsed request just after this look has read them."""
    looked: list[bool] = []

    def unit_after_another_look(*args: Any, **kwargs: Any) -> Any:
        if not looked:
            looked.append(True)
            service.expire_lapsed_approvals()
        return Unit(*args, **kwargs)

    monkeypatch.setattr(approval_lapse, "Unit", unit_after_another_look)


def _told_of_lapse(database: Database) -> list[tuple[int, str]]:
    """(approval id, outbox status) of each notice telling the channel a request expired."""
    with database.session() as session:
        query = select(OutboundMessage).where(OutboundMessage.kind == notices.APPROVAL_DECISION)
        told = session.exec(query).all()
    return [
        (message.payload["result"]["approval_id"], message.status)
        for message in told
        if message.payload["result"]["outcome"] == "expired"
    ]


def test_a_request_not_yet_lapsed_is_left_pending_by_lookers(
    service: MigrationService, database: Database, clock: FakeClock, requested: int
) -> None:
    clock.advance(hours=23, minutes=59)
    assert service.status("fabrikam").state == "awaiting_approval"
    assert _approval(database, requested).status == "pending"


def test_a_recheck_that_finds_a_change_voids_the_pending_request_with_its_reason(
    service: MigrationService, database: Database, microsoft: FakeMicrosoft, requested: int, dana: Actor
) -> None:
    service.recheck(None, dana)  # nothing changed: it stands, and the trail says the re-check kept it
    assert _approval(database, requested).status == "pending"
    assert _trail(service, 1)[0] == (
        DANA,
        "awaiting_approval",
        "awaiting_approval",
        "recheck",
        {"approval_kept": requested},
    )
    microsoft.allow_invites = "none"
    service.recheck(None, dana)
    assert _approval(database, requested).status == "void"
    void = next(entry for entry in _trail(service, 4) if entry[3] == "void_approval")
    assert void == (
        DANA,
        "awaiting_approval",
        "awaiting_approval",
        "void_approval",
        {"approval_id": requested, "why": "the re-check found the plan or its checks changed"},
    )


def test_a_recheck_and_a_new_request_read_the_pending_requests_once(
    service: MigrationService, database: Database, microsoft: FakeMicrosoft, requested: int, dana: Actor
) -> None:
    """Each expires what lapsed, then voids the rest: the rows read to expire them are the ones it voids,
    not read again."""

    def pending_reads(seen: list[str]) -> int:
        """Reads of whole rows by their status: not of ids alone, whatever the order of the columns."""
        return sum(
            "approval.status" in columns and "approval.status" in where
            for columns, found, where in (statement.partition(" FROM approval WHERE ") for statement in seen)
            if found and columns.startswith("SELECT ")
        )

    microsoft.allow_invites = "none"
    with statements(database) as seen:
        service.recheck(None, dana)
    assert _approval(database, requested).status == "void" and pending_reads(seen) == 1
    with statements(database) as seen:
        again = service.request_approval(None, dana, anyway=True).approval_id
    assert _approval(database, again).status == "pending" and pending_reads(seen) == 1


@BOTH_BACKENDS
@pytest.mark.parametrize("changed", [False, True], ids=["same", "changed"])
def test_a_rival_approval_while_a_recheck_reads_microsoft_is_its_conflict(
    service: MigrationService,
    database: Database,
    microsoft: FakeMicrosoft,
    requested: int,
    dana: Actor,
    lee: Actor,
    changed: bool,
) -> None:
    """The recheck read the pending request before asking Microsoft: approved meanwhile, it is neither
    voided (a change found) nor reported kept as pending (none found), and the trail has no recheck."""
    snapshot = microsoft.snapshot

    def approved_meanwhile(organization: str, tenant: str, connector: str) -> Any:
        microsoft.snapshot = snapshot  # type: ignore[method-assign]  # the approval's own look, as usual
        assert service.decide(requested, lee, approve=True).outcome == "approved"
        if changed:
            microsoft.allow_invites = "none"
        return snapshot(organization, tenant, connector)

    microsoft.snapshot = approved_meanwhile  # type: ignore[method-assign]
    with pytest.raises(ConflictError) as refused:
        service.recheck(None, dana)
    assert str(refused.value) == (
        "Lee just approved the plan; the migration is now connecting. Next: `check-connection`, `cancel`."
    )
    assert _approval(database, requested).status == "approved"
    assert _trail(service, 1)[0][1:4] == ("awaiting_approval", "connecting", "approve")


def test_a_cancel_voids_the_pending_request_with_its_reason(
    service: MigrationService, database: Database, requested: int, lee: Actor
) -> None:
    service.cancel(None, lee)
    assert _approval(database, requested).status == "void"
    assert _trail(service, 2)[0] == (
        LEE,
        "awaiting_approval",
        "awaiting_approval",
        "void_approval",
        {"approval_id": requested, "why": "the migration was cancelled"},
    )


def test_a_stored_plan_that_moved_on_voids_the_request_and_goes_back_to_planned(
    service: MigrationService, database: Database, requested: int, lee: Actor
) -> None:
    with database.session() as session:
        row = session.exec(select(Migration)).one()
        row.plan_fingerprint = "another-plan"
        session.commit()
    result = service.decide(requested, lee, approve=True)
    assert (result.outcome, result.status.state) == ("void", "planned")
    assert result.message == "The plan changed since this request; run `request-approval` again."
    assert _approval(database, requested).status == "void"
    assert _decisions(database) == []
    assert _trail(service, 1) == [
        (
            LEE,
            "awaiting_approval",
            "planned",
            "void_approval",
            {"approval_id": requested, "why": "the plan changed"},
        )
    ]


def test_a_pending_request_of_a_migration_no_longer_awaiting_is_voided_in_place(
    service: MigrationService, database: Database, requested: int, lee: Actor
) -> None:
    with database.session() as session:
        row = session.exec(select(Migration)).one()
        row.state = "planned"  # as a rival process left it
        session.commit()
    result = service.decide(requested, lee, approve=True)
    assert (result.outcome, result.status.state) == ("void", "planned")
    assert _approval(database, requested).status == "void"
    assert _trail(service, 1) == [
        (LEE, "planned", "planned", "void_approval", {"approval_id": requested, "why": "the plan changed"})
    ]


def test_a_live_plan_that_changed_voids_the_approval_and_replans(
    service: MigrationService, database: Database, microsoft: FakeMicrosoft, requested: int, lee: Actor
) -> None:
    microsoft.add_directory_user("bob@outlook.com", user_type="Guest")
    result = service.decide(requested, lee, approve=True)
    counts = service.plan().counts
    assert (result.outcome, result.status.state) == ("void", "planned")
    assert result.message == (
        "The directory or the organization changed since the request, so the plan did too (now 4 auto,"
        " 1 invite). The approval is void; review `plan` and run `request-approval` again."
    )
    assert counts["invite"] == 1
    assert _approval(database, requested).status == "void"
    assert [entry[1:4] for entry in _trail(service, 2)] == [
        ("awaiting_approval", "checking_prerequisites", "recheck"),
        ("checking_prerequisites", "planned", "prerequisites_passed"),
    ]
    assert _trail(service, 2)[0][4] == {"approval_id": requested, "reason": "plan changed"}


def test_a_plan_left_without_users_says_so_when_it_voids_the_approval(
    service: MigrationService, microsoft: FakeMicrosoft, requested: int, lee: Actor
) -> None:
    microsoft.users = []
    result = service.decide(requested, lee, approve=True)
    assert (result.outcome, result.status.state) == ("void", "planned")
    assert result.message == (
        "The directory or the organization changed since the request, so the plan did too (now no users)."
        " The approval is void; review `plan` and run `request-approval` again."
    )


def test_a_check_failing_now_voids_the_approval_and_says_which(
    service: MigrationService, database: Database, microsoft: FakeMicrosoft, requested: int, lee: Actor
) -> None:
    microsoft.allow_invites = "none"
    result = service.decide(requested, lee, approve=True)
    assert (result.outcome, result.status.state) == ("void", "blocked")
    assert result.message.startswith(
        "A prerequisite fails now, so the approval is void: 2 users need a guest"
    )
    assert result.message.endswith(" Then run `recheck` and `request-approval` again.")
    assert _approval(database, requested).status == "void"


def test_a_microsoft_failure_while_verifying_records_nothing(
    service: MigrationService, database: Database, microsoft: FakeMicrosoft, requested: int, lee: Actor
) -> None:
    microsoft.broken.add("snapshot")
    with pytest.raises(WorkflowError) as refused:
        service.decide(requested, lee, approve=True)
    assert str(refused.value).startswith(
        "I could not verify the plan with Microsoft, so nothing was recorded:"
    )
    assert str(refused.value).endswith(" Try again.")
    assert _approval(database, requested).status == "pending"
    assert _decisions(database) == []
    assert service.status(None).state == "awaiting_approval"


@pytest.mark.parametrize(
    ("admins", "needed", "message"),
    [
        (
            (DANA,),
            1,
            "1 approver needed, only 0 other admins. Add a Project Collection Administrator to fabrikam"
            " (Organization settings > Permissions), or have the bot's operators lower the number of"
            " approvers.",
        ),
        (
            (DANA, LEE),
            2,
            "2 approvers needed, only 1 other admin: lee@fabrikam.com. Add a Project Collection Administrator"
            " to fabrikam (Organization settings > Permissions), or have the bot's operators lower the number"
            " of approvers.",
        ),
    ],
)
def test_a_request_nobody_could_approve_is_refused_and_says_how_to_fix_it(
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    database: Database,
    dana: Actor,
    admins: tuple[str, ...],
    needed: int,
    message: str,
) -> None:
    microsoft.org = replace(microsoft.org, administrators=admins)
    service = make_service(approvers_required=needed)
    service.start("fabrikam", "fabrikam.com", dana)
    with pytest.raises(WorkflowError) as refused:
        service.request_approval(None, dana)
    assert str(refused.value) == message
    assert service.status(None).state == "planned"
    with database.session() as session:
        assert session.exec(select(Approval)).all() == []


def test_exactly_enough_other_admins_may_request(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email))
    service = make_service(approvers_required=2)
    service.start("fabrikam", "fabrikam.com", dana)
    assert service.request_approval(None, dana, anyway=True).approvers_required == 2


def test_the_approval_names_its_organization_in_any_status(
    service: MigrationService, requested: int, lee: Actor
) -> None:
    assert service.approval_organization(requested) == "fabrikam"
    service.decide(requested, lee, approve=False)
    assert service.approval_organization(requested) == "fabrikam"
    assert service.approval_organization(requested + 1000) is None


def test_the_live_check_asks_microsoft_about_this_organization_for_whoever_started_it(
    service: MigrationService, microsoft: FakeMicrosoft, requested: int, lee: Actor
) -> None:
    asked: list[tuple[str, str, str]] = []
    snapshot = microsoft.snapshot

    def recording(organization: str, tenant: str, connector: str) -> Any:
        asked.append((organization, tenant, connector))
        return snapshot(organization, tenant, connector)

    microsoft.snapshot = recording  # type: ignore[method-assign]
    service.decide(requested, lee, approve=True)
    assert asked == [("fabrikam", TENANT_ID, DANA)]


def test_an_approver_who_may_not_connect_hands_the_portal_step_to_the_requester_not_the_starter(
    service: MigrationService, microsoft: FakeMicrosoft, lee: Actor, dana: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email))
    service.start("fabrikam", "fabrikam.com", lee)
    request = service.request_approval(None, dana, anyway=True)
    result = service.decide(request.approval_id, PAT, approve=True)
    assert result.connector == dana
    assert result.connector_reason == (
        "Pat cannot make the connection (pat@fabrikam.com is not a user of Fabrikam), so Dana, who requested"
        " the approval, does."
    )


@pytest.mark.parametrize(
    ("approver", "named"),
    [
        (Actor(id="U-PAT", email="pat@fabrikam.com", name=""), "pat@fabrikam.com"),
        (Actor(id="U-NOBODY", email="", name=""), "The approver"),
    ],
)
def test_an_approver_without_a_name_is_called_by_their_email_or_the_approver(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, approver: Actor, named: str
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email))
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana, anyway=True)
    result = service.decide(request.approval_id, approver, approve=True)
    assert result.connector == dana
    assert result.connector_reason.startswith(f"{named} cannot make the connection (")
    assert result.connector_reason.endswith("), so Dana, who requested the approval, does.")


def test_a_late_click_right_after_someone_approved_names_them_later_only_the_status(
    service: MigrationService, clock: FakeClock, requested: int, lee: Actor
) -> None:
    service.decide(requested, lee, approve=True)
    with pytest.raises(ConflictError) as conflict:
        service.decide(requested, PAT, approve=True)
    assert str(conflict.value) == (
        "Lee just approved the plan; the migration is now connecting. Next: `check-connection`, `cancel`."
    )
    clock.advance(minutes=3)
    with pytest.raises(WorkflowError) as late:
        service.decide(requested, PAT, approve=True)
    assert type(late.value) is WorkflowError
    assert str(late.value) == "This approval request is already approved; nothing to decide."


def test_a_request_right_after_another_admins_names_theirs_later_only_the_state(
    service: MigrationService, clock: FakeClock, requested: int, lee: Actor
) -> None:
    with pytest.raises(ConflictError) as conflict:
        service.request_approval(None, lee)
    assert str(conflict.value) == (
        "Dana just requested approval; the migration is now awaiting approval."
        " Next: `announce`, `recheck`, `approve`, `reject`, `cancel`."
    )
    clock.advance(minutes=3)
    with pytest.raises(WorkflowError) as late:
        service.request_approval(None, lee)
    assert type(late.value) is WorkflowError


def test_the_requester_may_not_approve_under_any_of_their_identities(
    service: MigrationService, database: Database, requested: int
) -> None:
    for same in (
        Actor(id="U-DANA", email="dana.new@fabrikam.com", name="Dana"),  # same chat user, other email
        Actor(id="U-DANA-2", email="DANA@fabrikam.com", name="Dana"),  # other chat user, same email
    ):
        with pytest.raises(PermissionDenied) as refused:
            service.decide(requested, same, approve=True)
        assert str(refused.value) == (
            "You requested this approval, so another admin must approve it (four eyes). To withdraw it, say"
            f" `reject {requested}`; `cancel` stops the migration."
        )
    assert _decisions(database) == [] and _approval(database, requested).status == "pending"


def test_an_approver_may_not_decide_twice_under_any_of_their_identities(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email))
    service = make_service(approvers_required=2)
    service.start("fabrikam", "fabrikam.com", dana)
    approval_id = service.request_approval(None, dana, anyway=True).approval_id
    service.decide(approval_id, lee, approve=True)
    for same in (
        Actor(id="U-LEE", email="lee.new@fabrikam.com", name="Lee"),
        Actor(id="U-LEE-2", email="LEE@fabrikam.com", name="Lee"),
    ):
        with pytest.raises(WorkflowError) as refused:
            service.decide(approval_id, same, approve=True)
        assert str(refused.value) == "You already decided on this request; another admin has to approve it."


def test_only_an_approval_names_a_connector(
    service: MigrationService, clock: FakeClock, requested: int, dana: Actor, lee: Actor
) -> None:
    rejected = service.decide(requested, lee, approve=False)
    again = service.request_approval(None, dana, anyway=True).approval_id
    clock.advance(hours=25)
    expired = service.decide(again, lee, approve=True)
    for result in (rejected, expired):
        assert (result.connector, result.connector_reason) == (None, "")
    assert (rejected.approval_id, expired.approval_id) == (requested, again)


def test_the_request_tells_where_and_what_it_is_about(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.subscriptions = {
        sub: replace(subscription, tenant_id="another-tenant")
        for sub, subscription in microsoft.subscriptions.items()
    }
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval("fabrikam", dana, anyway=True)
    assert (request.organization, request.tenant_id, request.tenant_name) == (
        "fabrikam",
        TENANT_ID,
        "Fabrikam",
    )
    assert [check.code for check in request.warnings] == ["billing-subscription"]
    with pytest.raises(WorkflowError) as refused:
        service.request_approval("fabrikam", dana)
    assert str(refused.value).startswith(
        "`request-approval` does not fit now: the migration is awaiting approval. What you can do next:"
    )


def test_a_request_expiring_this_very_minute_is_replaced_by_a_new_one(
    service: MigrationService, database: Database, clock: FakeClock, requested: int, dana: Actor
) -> None:
    clock.now = _approval(database, requested).expires_at
    fresh = service.request_approval("fabrikam", dana, anyway=True)
    assert _approval(database, requested).status == "expired"
    assert _approval(database, fresh.approval_id).status == "pending"


def test_several_other_admins_are_all_named_when_too_few(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.org = replace(microsoft.org, administrators=(DANA, LEE, PAT.email))
    service = make_service(approvers_required=3)
    service.start("fabrikam", "fabrikam.com", dana)
    with pytest.raises(WorkflowError) as refused:
        service.request_approval(None, dana)
    assert str(refused.value).startswith(
        "3 approvers needed, only 2 other admins: lee@fabrikam.com, pat@fabrikam.com. Add a Project"
    )


def test_the_approved_message_gives_the_portal_steps_in_full(
    service: MigrationService, requested: int, lee: Actor
) -> None:
    result = service.decide(requested, lee, approve=True)
    assert result.message == (
        "Lee connects it in the portal: https://dev.azure.com/fabrikam > Organization settings > Microsoft"
        " Entra ID > Connect directory > Fabrikam > Connect. I watch the organization and confirm once it is"
        " connected."
    )


def test_every_check_failing_at_the_decision_is_named(
    service: MigrationService, microsoft: FakeMicrosoft, requested: int, lee: Actor
) -> None:
    microsoft.allow_invites = "none"
    microsoft.connect("9a9a9a9a-0000-4000-8000-0000000000ff")
    result = service.decide(requested, lee, approve=True)
    failing = [check.message for check in result.status.checks if check.status == "fail"]
    assert len(failing) == 2
    assert result.message == (
        f"A prerequisite fails now, so the approval is void: {' '.join(failing)} Then run `recheck` and"
        " `request-approval` again."
    )
