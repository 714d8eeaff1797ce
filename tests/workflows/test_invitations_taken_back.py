"""A cancel told Bob he could ignore Microsoft's invitation; a later migration of the organization to the same
directory asks him to accept one after its lists went out: an admin's decision that his pending guest is his,
or an invitation sent after connecting. Each rebuilds his *Accept the invitation* item, which still takes
back "ignore it", as the item `notify` writes does (fix160)."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select

from storage import Database, OutboundMessage
from tests.workflows.fakes import FakeClock, FakeMicrosoft, connect_and_notify
from tests.workflows.outbox import delivered
from workflows.directory import PENDING_ACCEPTANCE, DirectoryUser
from workflows.notices import CALLED_OFF
from workflows.relative_days import month_day
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.todo import ACCEPT_INVITATION

BOB = Actor("U-BOB", "bob@outlook.com", "Bob")


def _called_off(service: MigrationService, database: Database, clock: FakeClock, dana: Actor) -> str:
    """The first migration invited Bob and Cy, then was cancelled, and that reached them; a day later: the
    words that open a take-back of that cancel's "ignore it"."""
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    service.cancel(None, dana, "not now")
    delivered(database, CALLED_OFF)
    cancelled_on = month_day(clock.now.date())
    clock.advance(days=1)
    return (
        f"When the move was called off on {cancelled_on}, I said you could ignore Microsoft's invitation to"
        " join Fabrikam: that no longer holds, now that the move is on again."
    )


def _accept_item(service: MigrationService) -> str:
    (accept,) = [entry for entry in service.todo_list(BOB) if entry.key == ACCEPT_INVITATION]
    return accept.body


def test_deciding_that_his_pending_guest_is_his_takes_back_ignoring_it(
    service: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    """By the second migration his address is on a work account too: his list asks him to choose until Lee
    decides for his guest, still pending, whose item then asks him to accept its invitation."""
    called_off = _called_off(service, database, clock, dana)
    guest = next(user for user in microsoft.directory if user.mail == BOB.email)
    microsoft.directory = [
        *(
            replace(user, external_user_state=PENDING_ACCEPTANCE) if user is guest else user
            for user in microsoft.directory
        ),
        DirectoryUser(id="g-bob-work", user_principal_name="bob.b@fabrikam.com", other_mails=(BOB.email,)),
    ]
    service.start("fabrikam", "fabrikam.com", dana)
    connect_and_notify(service, microsoft, dana, lee)
    assert not [entry for entry in service.todo_list(BOB) if entry.key == ACCEPT_INVITATION]

    service.decide_account(None, BOB.email, guest.user_principal_name, lee)

    assert _accept_item(service).startswith(
        f"{called_off} It is the same invitation, still waiting for you: accept it. "
    )


def test_an_invitation_sent_after_connecting_takes_back_ignoring_the_old_one(
    service: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    """The admins deleted the guests after the cancel; the second migration connected before inviting, so
    Bob's list asked him to ask for an account until `invite` sent him a new invitation."""
    called_off = _called_off(service, database, clock, dana)
    microsoft.directory = [user for user in microsoft.directory if user.user_type != "Guest"]
    service.start("fabrikam", "fabrikam.com", dana)
    connect_and_notify(service, microsoft, dana, lee)
    assert not [entry for entry in service.todo_list(BOB) if entry.key == ACCEPT_INVITATION]

    service.invite(None, dana)

    assert _accept_item(service).startswith(
        f"{called_off} A new invitation went out on {month_day(clock.now.date())}: accept that one. "
    )


def test_a_second_cancel_tells_a_guest_still_to_accept_the_first_ones_invitation_to_ignore_it(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, clock: FakeClock, dana: Actor
) -> None:
    """The second migration invited nobody: its notice asked Bob to accept the invitation the first one
    sent, still pending, so its cancel says he can ignore it again, and a third start takes that back."""
    _called_off(service, database, clock, dana)
    microsoft.directory = [
        replace(user, external_user_state=PENDING_ACCEPTANCE) if user.user_type == "Guest" else user
        for user in microsoft.directory
    ]
    service.start("fabrikam", "fabrikam.com", dana)
    service.announce(None, dana, "Friday 14:00 UTC")
    with database.session() as session:  # the notices went out
        for notice in session.exec(select(OutboundMessage).where(OutboundMessage.status == "pending")):
            notice.status = "sent"
        session.commit()
    clock.advance(days=1)

    again = service.cancel(None, dana, "not yet")
    delivered(database, CALLED_OFF)

    assert {person.email: person.invited for person in again.told}[BOB.email]
    second_cancel = month_day(clock.now.date())
    clock.advance(days=1)
    service.start("fabrikam", "fabrikam.com", dana)
    (bob,) = service.invitations_to_accept(BOB)
    assert bob.taken_back.startswith(f"When the move was called off on {second_cancel}, ")
