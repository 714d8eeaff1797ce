"""A person mapped to a directory account with another address is reached, and known, by either address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from storage import Database, OutboundMessage
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.fakes import FakeClock, FakeMicrosoft, connect_and_notify
from tests.workflows.replays import replayed
from workflows.directory import DirectoryUser, OrgUser
from workflows.errors import PermissionDenied, WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.todo import required
from workflows.tracking import Tracking

pytestmark = SQLITE_ONLY

OLD, WORK, KIM_ID = "kim@fabrikam-old.com", "kim@fabrikam.com", "g-kim"


@pytest.fixture
def notified(
    request: pytest.FixtureRequest,
    service: MigrationService,
    microsoft: FakeMicrosoft,
    dana: Actor,
    lee: Actor,
) -> MigrationService:
    """Kim is `kim@fabrikam-old.com` in Azure DevOps; the plan maps her to the work account with her old
    address among its other mails."""
    microsoft.users.append(OrgUser(id="e-kim", principal_name=OLD, mail_address=OLD, display_name="Kim"))
    microsoft.directory.append(
        DirectoryUser(id=KIM_ID, user_principal_name=WORK, mail=WORK, other_mails=(OLD,), display_name="Kim")
    )

    def steps() -> None:
        service.start("fabrikam", "fabrikam.com", dana)
        assert service.plan().users[-1].outcome == "map"
        connect_and_notify(service, microsoft, dana, lee)

    replayed(request, service, microsoft, steps)
    return service


def _to_kim(database: Database, kind: str) -> OutboundMessage:
    with database.session() as session:
        query = select(OutboundMessage).where(OutboundMessage.kind == kind).order_by(col(OutboundMessage.id))
        return next(m for m in session.exec(query).all() if m.payload.get("email") == OLD)


def test_her_list_goes_to_her_work_account_first_then_her_old_address(
    notified: MigrationService, database: Database
) -> None:
    message = _to_kim(database, "todo_list")
    assert message.recipient == WORK
    assert (message.payload["also"], message.payload["directory_id"]) == ([OLD], KIM_ID)


@pytest.mark.parametrize(
    "kim",
    [
        Actor(id="U-KIM", email=WORK, name="Kim"),  # Slack, her profile on the work account
        Actor(id="U-KIM", email=OLD, name="Kim"),  # Slack, her profile still on the old address
        Actor(id=KIM_ID, email="Kim@Fabrikam.com", name="Kim"),  # Teams: her aadObjectId
    ],
)
def test_she_reads_and_ticks_her_list_by_either_address_or_her_directory_id(
    notified: MigrationService, kim: Actor
) -> None:
    items = notified.todo_list(kim)
    assert [item.key for item in items][-1] == "recreate-pats"
    assert notified.mark_done(items[0].id, kim).remaining == len(required(items)) - 1


@BOTH_BACKENDS
def test_nobody_else_reads_or_ticks_her_list(notified: MigrationService, dana: Actor) -> None:
    (first, *_) = notified.todo_list(Actor(id="U-KIM", email=WORK, name="Kim"))
    for stranger in (dana, Actor(id="U-X", email="", name="No email"), Actor(id="", email="", name="")):
        assert all(item.affected_user_id != first.affected_user_id for item in notified.todo_list(stranger))
        with pytest.raises(WorkflowError, match="That item is not on your list"):
            notified.mark_done(first.id, stranger)


@BOTH_BACKENDS
def test_her_reminders_reach_her_the_same_way_and_she_snoozes_them_as_herself(
    notified: MigrationService, database: Database, clock: FakeClock, dana: Actor
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    listed = _to_kim(database, "todo_list")
    tracking.delivered(listed.kind, listed.payload, None)
    clock.advance(days=3)
    tracking.tick()
    reminder = _to_kim(database, "todo_reminder")
    assert (reminder.recipient, reminder.payload["also"]) == (WORK, [OLD])
    with pytest.raises(PermissionDenied):
        tracking.snooze(dana, "1d", reminder_id=reminder.payload["reminder_id"])
    snoozed = tracking.snooze(
        Actor(id=KIM_ID, email=WORK, name="Kim"), "1d", reminder_id=reminder.payload["reminder_id"]
    )
    assert snoozed.until >= clock.now + timedelta(days=1)
