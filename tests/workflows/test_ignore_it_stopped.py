"""A cancel's "you can ignore the invitation" to Bob that has not reached him when a new migration asks him to
accept it: nothing orders two messages to one person but their due times, so the new message stops it, and
takes back only what may have reached him, after it if it is being sent (rev84 on fix159). And what the
take-back says of dates: a new invitation only when Microsoft emailed one, days as his calendar has them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from storage import Database, Invitation, Migration, OutboundMessage
from tests.workflows.fakes import FakeClock, FakeMicrosoft, connect_and_notify
from tests.workflows.outbox import delivered
from workflows.directory import PENDING_ACCEPTANCE, Unanswered
from workflows.notices import CALLED_OFF
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.stages.announcing import ANNOUNCEMENT
from workflows.stages.interrupted_invitations import RECOVERED
from workflows.todo import INVITATION_IN_DOUBT

BOB = Actor("U-BOB", "bob@outlook.com", "Bob")
CY = Actor("U-CY", "cy@gmail.com", "Cy")
TAKES_BACK = "I said you could ignore Microsoft's invitation"


def _cancelled(service: MigrationService, microsoft: FakeMicrosoft, dana: Actor) -> None:
    """Bob and Cy invited, then the move called off: their guests stay, still to accept."""
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    service.cancel(None, dana, "not now")
    microsoft.directory = [
        replace(user, external_user_state=PENDING_ACCEPTANCE) if user.user_type == "Guest" else user
        for user in microsoft.directory
    ]


def _announced_again(
    service: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    **sending: object,
) -> tuple[OutboundMessage, OutboundMessage]:
    """The cancel's message to Bob left as `sending` says (fields of the outbox row), a minute later a new
    start and its announce: that message and the notice to Bob, as they stand."""
    _cancelled(service, microsoft, dana)
    with database.session() as session:
        off = session.exec(select(OutboundMessage).where(OutboundMessage.kind == CALLED_OFF)).all()
        (to_bob,) = [message for message in off if message.recipient == BOB.email]
        for field, value in sending.items():
            setattr(to_bob, field, value)
        session.commit()
    clock.advance(minutes=1)
    service.start("fabrikam", "fabrikam.com", dana)
    service.announce(None, dana, "Friday 14:00 UTC")
    with database.session() as session:
        to_him = session.exec(select(OutboundMessage).where(OutboundMessage.recipient == BOB.email)).all()
    (off_now,) = [message for message in to_him if message.kind == CALLED_OFF]
    (notice,) = [message for message in to_him if message.kind == ANNOUNCEMENT]
    return off_now, notice


def test_an_ignore_it_still_waiting_for_its_retry_is_stopped_and_never_taken_back(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, clock: FakeClock, dana: Actor
) -> None:
    """Its first try answered 502, due again in ten minutes: sent then, it would follow the notice."""
    due_again = clock.now + timedelta(minutes=10)
    retry = {"attempts": 1, "last_error": "Slack answered 502", "not_before": due_again}
    off, notice = _announced_again(service, microsoft, database, clock, dana, **retry)

    assert off.status == "superseded"
    assert not any(TAKES_BACK in line for line in notice.payload["lines"])
    assert "follows" not in notice.payload
    (bob,) = service.invitations_to_accept(BOB)
    assert bob.taken_back == ""


def test_one_being_sent_is_taken_back_by_a_notice_that_waits_for_its_send(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, clock: FakeClock, dana: Actor
) -> None:
    claim = {"claimed_by": "worker-1", "claimed_until": clock.now + timedelta(minutes=5)}
    off, notice = _announced_again(
        service, microsoft, database, clock, dana, in_flight=True, attempts=1, **claim
    )

    assert (off.status, off.claimed_by) == ("superseded", "worker-1")  # never tried again; its send goes on
    assert notice.payload["follows"] == [off.id]
    called_off = "When the move was called off on 2 November 2026, "
    assert notice.payload["lines"][1].startswith(called_off + TAKES_BACK)  # after the intro, before the rest


def test_one_whose_try_may_have_landed_is_taken_back_and_not_sent_again(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, clock: FakeClock, dana: Actor
) -> None:
    """A timeout: Slack may have posted it. Its retry, due later, would say it again after the notice."""
    retry = {"attempts": 1, "uncertain": True, "not_before": clock.now + timedelta(minutes=10)}
    off, notice = _announced_again(service, microsoft, database, clock, dana, **retry)

    assert off.status == "superseded"
    assert "follows" not in notice.payload
    assert TAKES_BACK in notice.payload["lines"][1]


def test_a_link_fetched_after_the_cancel_is_no_new_invitation(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, clock: FakeClock, dana: Actor
) -> None:
    """The new migration's `invite` fetched Bob's link after a lost answer (`RECOVERED`): Microsoft sent no
    email then, so the one to accept is the one the cancel told him to ignore."""
    _cancelled(service, microsoft, dana)
    delivered(database, CALLED_OFF)
    clock.advance(days=1)
    service.start("fabrikam", "fabrikam.com", dana)
    with database.session() as session:
        second = session.exec(select(Migration).order_by(col(Migration.id).desc())).first()
        (first,) = session.exec(select(Invitation).where(Invitation.email == BOB.email)).all()
        assert second is not None and second.id is not None
        fetched = Invitation(
            migration_id=second.id,
            email=first.email,
            entitlement_id=first.entitlement_id,
            status="sent",
            result=RECOVERED,
            redeem_url="https://login.example/redeem?fetched",
            created_at=clock.now,
            updated_at=clock.now,
        )
        session.add(fetched)
        session.commit()

    (bob,) = service.invitations_to_accept(BOB)
    assert bob.taken_back.endswith("It is the same invitation, still waiting for you: accept it.")


def test_the_days_are_those_of_his_calendar(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, clock: FakeClock, dana: Actor
) -> None:
    """Called off at 23:00 UTC on 2 November, noon on the 3rd in Auckland."""
    clock.advance(hours=14)
    _cancelled(service, microsoft, dana)
    delivered(database, CALLED_OFF)
    clock.advance(days=1)
    service.start("fabrikam", "fabrikam.com", dana)

    (utc,) = service.invitations_to_accept(BOB)
    (auckland,) = service.invitations_to_accept(replace(BOB, zone=ZoneInfo("Pacific/Auckland")))
    assert utc.taken_back.startswith("When the move was called off on 2 November 2026, ")
    assert auckland.taken_back.startswith("When the move was called off on 3 November 2026, ")


def test_a_list_asking_to_look_for_an_unconfirmed_invitation_takes_back_ignoring_it_too(
    service: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    """The guests deleted after the cancel, the new migration's invitations went unanswered: the lists ask
    Bob and Cy to look for theirs and accept it. Bob read the cancel's "ignore it"; Cy's still waited, and
    his list stops it."""
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    service.cancel(None, dana, "not now")
    with database.session() as session:
        off = session.exec(select(OutboundMessage).where(OutboundMessage.recipient == BOB.email)).one()
        off.status = "sent"
        session.commit()
    microsoft.directory = [user for user in microsoft.directory if user.user_type != "Guest"]
    clock.advance(days=1)
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.invite_refusal = Unanswered("timed out")
    service.invite(None, dana)
    microsoft.invite_refusal = None
    connect_and_notify(service, microsoft, dana, lee)

    (bobs,) = [entry for entry in service.todo_list(BOB) if entry.key == INVITATION_IN_DOUBT]
    assert bobs.body.startswith("When the move was called off on 2 November 2026, " + TAKES_BACK)
    (cys,) = [entry for entry in service.todo_list(CY) if entry.key == INVITATION_IN_DOUBT]
    assert TAKES_BACK not in cys.body
    with database.session() as session:
        to_cy = session.exec(select(OutboundMessage).where(OutboundMessage.kind == CALLED_OFF)).all()
    assert {message.recipient: message.status for message in to_cy}[CY.email] == "superseded"
