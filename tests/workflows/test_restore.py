"""Killing the process between two steps loses nothing: a new service goes on from the stored state."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlmodel import select

from storage import Database, Invitation
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft, ProcessKilled, redeem_link
from workflows.directory import MicrosoftError, Unanswered
from workflows.errors import WorkflowError
from workflows.results import Actor

pytestmark = SQLITE_ONLY


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


@BOTH_BACKENDS
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
    _killed_after_the_201(make_service, microsoft, clock, dana, monkeypatch)
    assert microsoft.invitations == ["bob@outlook.com", "cy@gmail.com", "cy@gmail.com"]


def _killed_after_the_201(
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
    monkeypatch: pytest.MonkeyPatch,
    guest_state: str | None = None,
) -> None:
    """`invite` dies right after Microsoft's first answer (the guest in `guest_state`); then `resume`."""
    invite_guest = microsoft.invite_guest

    def killed_after_the_201(*args: Any, **kwargs: Any) -> Any:
        invite_guest(*args, **kwargs)
        guest = microsoft.directory.pop()
        microsoft.directory.append(replace(guest, external_user_state=guest_state))
        raise ProcessKilled  # Microsoft created the guest; the process died before recording it

    monkeypatch.setattr(microsoft, "invite_guest", killed_after_the_201)
    with pytest.raises(ProcessKilled):
        make_service().invite(None, dana)
    monkeypatch.undo()
    clock.advance(minutes=11)
    assert make_service().resume(None, dana).state == "planned"


@BOTH_BACKENDS
@pytest.mark.parametrize(
    ("state", "recorded"),
    [
        ("PendingAcceptance", ("sent", "invited before the interruption; link recovered", True)),
        ("Accepted", ("found", "already in the directory as bob_outlook.com#EXT#@fabrikam.com", False)),
    ],
)
def test_killed_after_microsoft_invited_someone_resumes_with_their_link_and_no_second_email(
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
    dana: Actor,
    monkeypatch: pytest.MonkeyPatch,
    state: str,
    recorded: tuple[str, str, bool],
) -> None:
    """walk32: Graph had the invitation, the database did not. One still to accept gets a new link without a
    second email; one who accepted meanwhile needs no link and is found in the directory."""
    make_service().start("fabrikam", "fabrikam.com", dana)
    _killed_after_the_201(make_service, microsoft, clock, dana, monkeypatch, state)  # Bob, his link lost

    assert microsoft.invitations == ["bob@outlook.com", "cy@gmail.com"]  # one email each
    recovered = state == "PendingAcceptance"
    assert microsoft.links_without_email == (["bob@outlook.com"] if recovered else [])
    with database.session() as session:
        bob = session.exec(select(Invitation).where(Invitation.email == "bob@outlook.com")).one()
    assert (bob.status, bob.result, bob.redeem_url is not None) == recorded
    links = {redeem_link(1), bob.redeem_url}
    assert bob.invited_user_id == "g-guest-bob@outlook.com" and (not recovered or len(links) == 2)
    told = [e.details for e in make_service().audit_trail() if e.action == "invitation_link_recovered"]
    assert told == ([{"email": "bob@outlook.com"}] if recovered else [])


@BOTH_BACKENDS
def test_a_refused_invitation_then_sent_by_another_admin_is_found_not_taken_for_ours(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    """rev45: Graph refused Bob (an answer, not a lost one), an admin invited him in the portal, and the next
    `invite` called the portal's invitation its own: "link recovered", "2 invited" for one."""
    make_service().start("fabrikam", "fabrikam.com", dana)
    microsoft.invite_refusal = MicrosoftError("Graph refused the invitation (400 BadRequest)")
    make_service().invite(None, dana)
    microsoft.invite_refusal = None
    portal = microsoft.invite_guest(
        "tenant", email="bob@outlook.com", display_name="Bob", message="", redirect_url="", inviter="lee"
    )
    microsoft.directory[-1] = replace(microsoft.directory[-1], external_user_state="PendingAcceptance")

    make_service().invite(None, dana)

    assert microsoft.links_without_email == []
    with database.session() as session:
        bob = session.exec(select(Invitation).where(Invitation.email == "bob@outlook.com")).one()
    assert (bob.status, bob.redeem_url) == ("found", None) and portal.redeem_url is not None
    assert not [e for e in make_service().audit_trail() if e.action == "invitation_link_recovered"]


def test_a_refused_invitation_whose_retry_went_unanswered_gets_its_link_on_the_next_invite_and_one_email(
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    database: Database,
    dana: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """fix64: Graph refused Bob (an answer), then the retry timed out after Graph had invited him: the next
    `invite` took the guest for someone else's ("already in the directory") and his link was lost."""
    make_service().start("fabrikam", "fabrikam.com", dana)
    microsoft.invite_refusal = MicrosoftError("Graph refused the invitation (400 BadRequest)")
    make_service().invite(None, dana)
    microsoft.invite_refusal = None
    invite_guest = microsoft.invite_guest

    def unanswered_for_bob(*args: Any, **kwargs: Any) -> Any:
        invitation = invite_guest(*args, **kwargs)
        if kwargs["email"] != "bob@outlook.com":
            return invitation
        microsoft.directory[-1] = replace(microsoft.directory[-1], external_user_state="PendingAcceptance")
        raise Unanswered(
            "Microsoft Graph did not answer POST graph.microsoft.com/v1.0/invitations (ReadTimeout)"
        )

    monkeypatch.setattr(microsoft, "invite_guest", unanswered_for_bob)
    said = make_service().invite(None, dana).message
    monkeypatch.undo()
    assert said == (
        "1 invited, 1 with no answer from Microsoft. No answer: bob@outlook.com: no answer came, so the"
        " invitation may have gone out (Microsoft Graph did not answer POST"
        " graph.microsoft.com/v1.0/invitations (ReadTimeout)); run `invite` again after 2026-11-02 09:10 UTC."
        " Microsoft's directory search may not show a new guest before then: `invite` then looks, and sends"
        " each their link with no second email, or their invitation if none went out. I tell you when that"
        " time comes."
    )

    make_service().invite(None, dana)

    assert microsoft.invitations == ["bob@outlook.com", "cy@gmail.com"]  # one email each
    assert microsoft.links_without_email == ["bob@outlook.com"]
    with database.session() as session:
        bob = session.exec(select(Invitation).where(Invitation.email == "bob@outlook.com")).one()
    assert (bob.status, bob.result, bob.redeem_url) == (
        "sent",
        "invited before the interruption; link recovered",
        redeem_link(3),
    )
