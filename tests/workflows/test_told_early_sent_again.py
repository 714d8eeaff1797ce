"""What Hana was told before the lists, queued again by *Retry failed* after chat could not confirm it and
not sent yet when the migration is cancelled: the copy never goes, and as the first may have reached her,
she hears that the move is off."""

from __future__ import annotations

from sqlmodel import select

from storage import Database, OutboundMessage
from storage.outbox_sends import UNCONFIRMED
from tests.storage.databases import SQLITE_ONLY
from tests.workflows import test_lists_given_again as given_again
from tests.workflows.fakes import FakeClock
from tests.workflows.outbox import queued
from tests.workflows.test_lists_given_again import HANA, _deliver, _told_early
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.tracking import Tracking

pytestmark = SQLITE_ONLY

with_hana, announced = given_again.with_hana, given_again.announced
"""`test_lists_given_again`'s: Fabrikam with Hana, everyone told what is coming, the notices not sent yet."""


def test_a_cancel_tells_her_it_is_off_when_the_first_copy_of_what_is_sent_again_may_have_reached_her(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor, dana: Actor
) -> None:
    """Her notice was stopped by the decision, so only "you lose access" may have told her of the move."""
    tracking = Tracking(database, announced, clock=clock)
    announced.decide_account(None, HANA, "no-access", lee)
    _deliver(tracking, database, clock)
    with database.session() as session:
        told = session.exec(select(OutboundMessage).where(OutboundMessage.kind == "access_lost")).one()
        told.error_code = UNCONFIRMED
        session.commit()
    assert tracking.retry_failed(None).news == 1
    clock.advance(minutes=1)

    announced.cancel(None, dana, "budget")
    assert _told_early(database) == [("access_lost", "superseded")]
    assert HANA in {m.recipient for m in queued(database, "migration_called_off")}
