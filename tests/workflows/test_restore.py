"""Killing the process between two steps loses nothing: a new service goes on from the stored state."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from storage import Database, Invitation
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft, ProcessKilled
from workflows.errors import WorkflowError
from workflows.results import Actor


def test_killed_while_inviting_resumes_without_inviting_anyone_twice(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, database: Database, dana: Actor
) -> None:
    make_service().start("fabrikam", "fabrikam.com", dana)
    microsoft.kill_after_invitations = 1
    with pytest.raises(ProcessKilled):
        make_service().invite(None, dana)
    microsoft.kill_after_invitations = None
    assert microsoft.invitations == ["bob@outlook.com"]

    restarted = make_service()
    status = restarted.status()
    assert status.state == "inviting"
    assert status.next_commands == ("resume", "cancel")
    with pytest.raises(WorkflowError, match="re-runs it from 09:10 UTC, when the step's lease ends"):
        restarted.resume(None, dana)  # too early to tell a crash from a slow step

    clock.advance(minutes=11)
    resumed = make_service().resume(None, dana)
    assert resumed.state == "planned"
    assert microsoft.invitations == ["bob@outlook.com", "cy@gmail.com"]
    with database.session() as session:
        rows = {row.email: (row.status, row.attempts) for row in session.exec(select(Invitation)).all()}
    assert rows == {"bob@outlook.com": ("sent", 1), "cy@gmail.com": ("sent", 2)}
    actions = [entry.action for entry in make_service().audit_trail()]
    assert actions.count("resume") == 1


def test_killed_while_checking_prerequisites_resumes(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    original = microsoft.snapshot

    def die(*args: object, **kwargs: object) -> None:
        raise ProcessKilled

    microsoft.snapshot = die  # type: ignore[method-assign,assignment]
    with pytest.raises(ProcessKilled):
        make_service().start("fabrikam", "fabrikam.com", dana)
    microsoft.snapshot = original  # type: ignore[method-assign]
    assert make_service().status().state == "checking_prerequisites"
    clock.advance(minutes=30)
    assert make_service().resume("fabrikam", dana).state == "planned"


def test_each_step_is_in_the_audit_trail_with_who_and_states(
    make_service: ServiceFactory, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    make_service().start("fabrikam", "fabrikam.com", dana)
    clock.advance(minutes=1)
    request = make_service().request_approval(None, dana, anyway=True)
    clock.advance(minutes=1)
    make_service().decide(request.approval_id, lee, approve=True, reason="looks right")
    trail = make_service().audit_trail()
    assert [(e.action, e.actor_name, e.state_before, e.state_after) for e in trail] == [
        ("start", "Dana", None, "draft"),
        ("check", "Dana", "draft", "checking_prerequisites"),
        ("prerequisites_passed", "Dana", "checking_prerequisites", "planned"),
        ("request_approval", "Dana", "planned", "awaiting_approval"),
        ("approve", "Lee", "awaiting_approval", "connecting"),
    ]
    assert trail[-1].at == clock.now
    assert trail[-1].details == {"approval_id": request.approval_id, "connector": lee.email}
    assert trail[2].details["fingerprint"] == make_service().plan().fingerprint


def test_killed_while_removing_resumes_with_the_users_not_removed_yet(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    make_service().start("fabrikam", "fabrikam.com", dana)
    remove = microsoft.remove_org_user

    def die_on_cy(organization: str, user_id: str) -> None:
        if user_id == "e-cy":
            raise ProcessKilled
        remove(organization, user_id)

    microsoft.remove_org_user = die_on_cy  # type: ignore[method-assign]
    with pytest.raises(ProcessKilled):
        make_service().remove_users(None, ["e-bob", "e-cy"], dana)
    microsoft.remove_org_user = remove  # type: ignore[method-assign]
    assert make_service().status().state == "removing"
    clock.advance(minutes=11)
    assert make_service().resume(None, dana).state == "planned"
    assert microsoft.removed == ["e-bob", "e-cy"]
    removals = [
        e.details["principal_name"] for e in make_service().audit_trail() if e.action == "remove_user"
    ]
    assert removals == ["bob@outlook.com", "cy@gmail.com"]


def test_killed_after_microsoft_created_a_re_invited_guest_resumes_without_a_third_invitation(
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_service().start("fabrikam", "fabrikam.com", dana)
    make_service().invite(None, dana)
    microsoft.directory = [user for user in microsoft.directory if user.mail != "cy@gmail.com"]
    make_service().recheck(None, dana)
    invite_guest = microsoft.invite_guest

    def killed_after_the_201(*args: Any, **kwargs: Any) -> Any:
        invite_guest(*args, **kwargs)
        raise ProcessKilled  # Microsoft created the guest; the process died before recording it

    monkeypatch.setattr(microsoft, "invite_guest", killed_after_the_201)
    with pytest.raises(ProcessKilled):
        make_service().invite(None, dana)
    monkeypatch.undo()
    clock.advance(minutes=11)
    assert make_service().resume(None, dana).state == "planned"
    assert microsoft.invitations == ["bob@outlook.com", "cy@gmail.com", "cy@gmail.com"]
