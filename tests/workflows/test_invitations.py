"""Invitations: nobody invited twice, late arrivals skipped, the 403 path, and what a person's standing says
of theirs."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from storage import AffectedUser, Database, Invitation, OutboundMessage
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.fakes import TENANT_ID, FakeClock, FakeMicrosoft, connect_and_notify, redeem_link
from tests.workflows.outbox import delivered
from workflows import notices
from workflows.directory import PENDING_ACCEPTANCE, DirectoryUser, Unanswered
from workflows.errors import WorkflowError
from workflows.relative_days import month_day
from workflows.results import Actor
from workflows.results_standing import InvitationStanding
from workflows.service import MigrationService
from workflows.stages import redeem_links
from workflows.todo import ACCEPT_INVITATION

pytestmark = SQLITE_ONLY


def test_invite_twice_never_invites_anyone_twice(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    first = service.invite(None, dana)
    assert sorted(o.email for o in first.with_status("sent")) == ["bob@outlook.com", "cy@gmail.com"]
    assert first.message.startswith("2 invited.")
    microsoft.users.append(
        microsoft.users[0].__class__(id="e-dee", principal_name="dee@yahoo.com", mail_address="dee@yahoo.com")
    )
    service.recheck(None, dana)
    second = service.invite(None, dana)
    assert microsoft.invitations == ["bob@outlook.com", "cy@gmail.com", "dee@yahoo.com"]
    assert [o.email for o in second.outcomes] == ["dee@yahoo.com"]
    with database.session() as session:
        rows = session.exec(select(Invitation).order_by(Invitation.email)).all()
        assert [(row.email, row.status, row.attempts) for row in rows] == [
            ("bob@outlook.com", "sent", 1),
            ("cy@gmail.com", "sent", 1),
            ("dee@yahoo.com", "sent", 1),
        ]


def test_users_who_appeared_in_the_directory_meanwhile_are_skipped(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.add_directory_user("bob@outlook.com", user_type="Guest")  # an admin invited Bob by hand
    result = service.invite(None, dana)
    assert microsoft.invitations == ["cy@gmail.com"]
    assert [o.email for o in result.with_status("found")] == ["bob@outlook.com"]
    with database.session() as session:
        bob = session.exec(select(Invitation).where(Invitation.email == "bob@outlook.com")).one()
        assert bob.status == "found" and bob.attempts == 0


@BOTH_BACKENDS
def test_a_403_waits_for_the_invite_settings_then_invite_again_works(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.deny_invites = True
    result = service.invite(None, dana)
    assert result.denied
    assert result.status.state == "waiting_for_invite_settings"
    assert result.status.invite_recheck_at == clock.now.replace(minute=15)
    assert "15-60 minutes" in result.message and "External collaboration" in result.message
    assert result.status.blocked_fix and "Guest Inviter" in result.status.blocked_fix
    assert microsoft.invitations == []
    with pytest.raises(WorkflowError, match="waiting for invite settings"):
        service.request_approval(None, dana)

    clock.advance(minutes=20)
    microsoft.deny_invites = False
    again = service.invite(None, dana)
    assert not again.denied
    assert sorted(microsoft.invitations) == ["bob@outlook.com", "cy@gmail.com"]
    assert again.status.state == "planned"
    assert again.status.invite_recheck_at is None


def test_a_failed_invitation_is_reported_and_retried_next_time(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.broken.add("invite_guest")
    result = service.invite(None, dana)
    assert len(result.with_status("failed")) == 2
    assert "Run `invite` again" in result.message
    assert result.status.state == "planned"
    microsoft.broken.clear()
    retried = service.invite(None, dana)
    assert len(retried.with_status("sent")) == 2
    with database.session() as session:
        assert {row.attempts for row in session.exec(select(Invitation)).all()} == {2}


def test_invite_with_nobody_to_invite_just_replans(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.users = [user for user in microsoft.users if user.id in ("e-dana", "e-ann")]
    service.start("fabrikam", "fabrikam.com", dana)
    result = service.invite(None, dana)
    assert result.outcomes == ()
    assert result.message == "Nobody needs an invitation."
    assert microsoft.calls.get("invite_guest") is None


@BOTH_BACKENDS
def test_a_guest_gone_from_the_directory_is_invited_again_and_the_audit_says_so(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    microsoft.directory = [user for user in microsoft.directory if user.mail != "cy@gmail.com"]
    service.recheck(None, dana)  # the plan, read from the directory, needs Cy invited again

    again = service.invite(None, dana)

    assert microsoft.invitations == ["bob@outlook.com", "cy@gmail.com", "cy@gmail.com"]
    assert [(o.email, o.status) for o in again.outcomes] == [("cy@gmail.com", "re-invited")]
    assert "invited again" in again.message
    missing = [entry for entry in service.audit_trail() if entry.action == "guest_missing"]
    assert [entry.details["email"] for entry in missing] == ["cy@gmail.com"]
    with database.session() as session:
        cy = session.exec(select(Invitation).where(Invitation.email == "cy@gmail.com")).one()
        assert (cy.status, cy.attempts) == ("sent", 2)
        assert cy.redeem_url == redeem_link(3)  # the newest invitation's link only


def test_a_guest_back_in_the_directory_before_invite_runs_is_not_invited_again(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    guest = next(user for user in microsoft.directory if user.mail == "cy@gmail.com")
    microsoft.directory.remove(guest)
    service.recheck(None, dana)
    microsoft.directory.append(guest)  # the plan is now older than the directory

    again = service.invite(None, dana)

    assert microsoft.invitations == ["bob@outlook.com", "cy@gmail.com"]
    assert [(o.email, o.status) for o in again.outcomes] == [("cy@gmail.com", "already-invited")]


@BOTH_BACKENDS
def test_an_invited_persons_standing_says_when_and_where_the_invitation_went_and_whether_accepted(
    service: MigrationService, clock: FakeClock, dana: Actor, lee: Actor, microsoft: FakeMicrosoft
) -> None:
    bob = Actor(id="U-BOB", email="bob@outlook.com", name="Bob")
    service.start("fabrikam", "fabrikam.com", dana)
    waiting = service.standing_of(None, bob).invitation
    assert waiting is not None and not waiting.sent and waiting.sent_at is None
    assert waiting.address == "bob@outlook.com" and waiting.directory == "Fabrikam"
    sent_at = clock.now
    service.invite(None, dana)
    clock.advance(days=1)
    assert service.standing_of(None, bob).invitation == InvitationStanding(
        address="bob@outlook.com",
        directory="Fabrikam",
        tenant_id=TENANT_ID,
        sent=True,
        sent_at=sent_at,
        redeem_url=redeem_link(microsoft.invitations.index("bob@outlook.com") + 1),
        read_at=clock.now,
    )
    assert service.standing_of(None, dana).invitation is None  # her work account needs none
    connect_and_notify(service, microsoft, dana, lee)
    (accept,) = [entry for entry in service.todo_list(bob) if entry.key == "accept-invitation"]
    listed = service.standing_of(None, bob).invitation
    assert listed is not None and not listed.accepted
    service.mark_done(accept.id, bob)
    accepted = service.standing_of(None, bob).invitation
    assert accepted is not None and accepted.accepted and accepted.sent_at == sent_at
    assert not accepted.verified  # her own word: no sign-in seen yet


def test_one_lost_answer_known_to_have_mailed_them_is_an_email_that_went_out(
    service: MigrationService, database: Database, clock: FakeClock, dana: Actor, microsoft: FakeMicrosoft
) -> None:
    """Bob's invitation was asked for at two addresses and both answers were lost; the directory showed the
    guest of one still to accept. That email went out: his standing says so (as his list and reminder do),
    whatever became of the other."""
    bob = Actor(id="U-BOB", email="bob@outlook.com", name="Bob")
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.invite_refusal = Unanswered("timed out")
    service.invite(None, dana)
    with database.session() as session:
        claim = session.exec(select(Invitation).where(Invitation.email == bob.email)).one()
        claim.result = "invited before the interruption; its link could not be fetched"
        other = Invitation(
            migration_id=claim.migration_id,
            email="bob.b@outlook.com",
            entitlement_id=claim.entitlement_id,
            status="pending",
            created_at=clock.now,
            updated_at=clock.now,
        )
        session.add_all([claim, other])
        session.commit()
    standing = service.standing_of(None, bob).invitation
    assert standing is not None and standing.unconfirmed and standing.mailed


def test_removing_an_invited_user_forgets_their_link_to_accept(
    service: MigrationService, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    service.remove_users(None, ["e-bob"], dana)
    with database.session() as session:
        links = {row.email: row.redeem_url for row in session.exec(select(Invitation)).all()}
    assert links["bob@outlook.com"] is None
    assert links["cy@gmail.com"] is not None  # still in the organization, still to accept it


def test_someone_removed_from_the_organization_by_hand_loses_their_link_when_the_plan_is_remade(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    microsoft.remove_org_user("fabrikam", "e-bob")  # in the portal, not with `remove-users`
    service.recheck(None, dana)
    with database.session() as session:
        links = {row.email: row.redeem_url for row in session.exec(select(Invitation)).all()}
    assert links["bob@outlook.com"] is None
    assert links["cy@gmail.com"] == redeem_link(microsoft.invitations.index("cy@gmail.com") + 1)


def test_someone_removed_by_hand_after_connecting_loses_their_link_at_the_next_full_read_of_sign_ins(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock
) -> None:
    """After connecting the plan is never remade: the daily full read is what shows who is still there."""
    bob, cy = (
        Actor(id=f"U-{email}", email=email, name=email) for email in ("bob@outlook.com", "cy@gmail.com")
    )

    def link_of(who: Actor) -> str | None:
        invitation = notified.standing_of(None, who).invitation
        assert invitation is not None
        return invitation.redeem_url

    assert notified.check_due_sign_ins()[0].full  # the first read is a full one, with everyone still there
    cy_link = redeem_link(microsoft.invitations.index("cy@gmail.com") + 1)
    assert link_of(bob) is not None and link_of(cy) == cy_link
    microsoft.remove_org_user("fabrikam", "e-bob")  # in the portal, not with `remove-users`
    clock.advance(minutes=16)
    assert not notified.check_due_sign_ins()[0].full  # names only who signed in since: nobody
    assert link_of(bob) is not None and link_of(cy) == cy_link
    clock.advance(days=1)
    assert notified.check_due_sign_ins()[0].full
    assert link_of(bob) is None and link_of(cy) == cy_link


def test_a_list_offers_the_link_of_the_persons_newest_invitation(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    connect_and_notify(service, microsoft, dana, lee)
    with database.session() as session:
        first = session.exec(select(Invitation).where(Invitation.email == "bob@outlook.com")).one()
        bob = session.exec(select(AffectedUser).where(AffectedUser.entitlement_id == "e-bob")).one()
        newer = Invitation.model_validate(  # his address changed, and the new one was invited later
            first.model_dump(exclude={"id", "version"})
            | {
                "email": "bob@new.example",
                "redeem_url": "https://newer",
                "updated_at": first.updated_at + timedelta(1),
            }
        )
        session.add(newer)
        session.commit()
        payload = {"affected_user_id": bob.id, "items": [{"key": ACCEPT_INVITATION}]}
    assert redeem_links.for_list(database, payload) == "https://newer"
    # offered only to the person, while the item is open: no query for a channel, a done item, another message
    assert redeem_links.offered(bob.email, payload)
    assert not redeem_links.offered(f"{notices.CHANNEL_PREFIX}C1", payload)
    assert not redeem_links.offered(
        bob.email, {**payload, "items": [{"key": ACCEPT_INVITATION, "done_at": "x"}]}
    )
    assert not redeem_links.offered(bob.email, {"affected_user_id": bob.id})


def test_someone_ambiguous_since_between_their_pending_guest_and_another_account_keeps_their_link(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    """Bob, invited by a cancelled migration and still to accept it, has his address on a work account too
    by the next one: until an admin chooses, the guest may be his, and his list would offer that link."""
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    service.cancel(None, dana, "not now")
    guest = next(user for user in microsoft.directory if user.mail == "bob@outlook.com")
    microsoft.directory = [
        *(
            replace(user, external_user_state=PENDING_ACCEPTANCE) if user is guest else user
            for user in microsoft.directory
        ),
        DirectoryUser(
            id="g-bob-work", user_principal_name="bob.b@fabrikam.com", other_mails=("bob@outlook.com",)
        ),
    ]
    service.start("fabrikam", "fabrikam.com", dana)
    bob = next(user for user in service.plan("fabrikam").users if user.id == "e-bob")
    assert (bob.group, bob.pending_candidates) == ("ambiguous", (guest.id,))
    with database.session() as session:
        links = {row.email: row.redeem_url for row in session.exec(select(Invitation)).all()}
    assert links["bob@outlook.com"] == redeem_link(microsoft.invitations.index("bob@outlook.com") + 1)


def test_a_403_when_the_bots_app_invites_says_the_directory_refused_the_app(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    """The app invites with its own permission (`invites_as_app`): each person's result names the app the
    directory refused, not Dana, who invited nobody herself (rev72 9)."""
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.deny_invites, microsoft.invites_as_app = True, True
    result = service.invite(None, dana)
    assert [(o.status, o.detail) for o in result.outcomes] == [
        ("denied", "403 Forbidden: the directory refused the bot's app")
    ]


@BOTH_BACKENDS
def test_a_guest_a_cancel_told_to_ignore_her_invitation_reads_that_it_no_longer_holds(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, clock: FakeClock, dana: Actor
) -> None:
    """What the cancel told her is read from its message's JSON, on both databases; Cy's cancel notice never
    reached him (failed for good), so there is nothing to take back."""
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    service.cancel(None, dana, "not now")
    microsoft.directory = [
        replace(user, external_user_state=PENDING_ACCEPTANCE) if user.user_type == "Guest" else user
        for user in microsoft.directory
    ]
    delivered(database, notices.CALLED_OFF)
    with database.session() as session:
        (to_cy,) = session.exec(
            select(OutboundMessage).where(OutboundMessage.recipient == "cy@gmail.com")
        ).all()
        to_cy.status = "failed"
        session.commit()
    clock.advance(days=1)
    service.start("fabrikam", "fabrikam.com", dana)

    (bob,) = service.invitations_to_accept(Actor("U-BOB", "bob@outlook.com", "Bob"))
    cancelled_on = month_day((clock.now - timedelta(days=1)).date())
    assert bob.taken_back == (
        f"When the move was called off on {cancelled_on}, I said you could ignore Microsoft's invitation to"
        " join Fabrikam: that no longer holds, now that the move is on again. It is the same invitation,"
        " still waiting for you: accept it."
    )
    (cy,) = service.invitations_to_accept(Actor("U-CY", "cy@gmail.com", "Cy"))
    assert cy.taken_back == ""
