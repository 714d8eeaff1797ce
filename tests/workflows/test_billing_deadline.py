"""One billing deadline everywhere: the end of the calendar month, as the tutorial says ("before the end of
the month"). The reminders named the month's last working day while the approval prompt and "now connected"
named the month's end (fix68); in October 2026, which ends on a Saturday, they disagreed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.conversation.billing_views import time_left
from bot.conversation.reminder_views import billing_reminder
from storage import Database
from tests.workflows.fakes import OTHER_TENANT_ID, SUBSCRIPTION_ID, FakeClock, FakeMicrosoft
from tests.workflows.outbox import queued
from tests.workflows.replays import CHANNEL, notified_in_channel
from workflows.directory import Subscription
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.tracking import Tracking


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 10, 5, 9, 0, tzinfo=UTC))  # a Monday; October ends on Saturday the 31st


@pytest.fixture
def notified(
    request: pytest.FixtureRequest,
    service: MigrationService,
    microsoft: FakeMicrosoft,
    dana: Actor,
    lee: Actor,
) -> MigrationService:
    return notified_in_channel(request, service, microsoft, dana, lee, CHANNEL, name="connected in october")


@pytest.fixture
def tracking(notified: MigrationService, database: Database, clock: FakeClock) -> Tracking:
    return Tracking(database, notified, clock=clock)


def test_billing_reminders_give_the_calendar_month_end_as_the_deadline_as_the_other_messages_do(
    tracking: Tracking,
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
) -> None:
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=OTHER_TENANT_ID)
    tracking.tick()
    while (due := notified.next_due().by_clock) is not None and due < datetime(2026, 11, 4, tzinfo=UTC):
        clock.now = due
        tracking.tick()
    told = [
        (message.created_at.date(), message.payload["deadline"], message.payload["missed"])
        for message in queued(database, "billing_reminder")
    ]
    october = [(deadline, missed) for day, deadline, missed in told if day.month == 10]
    assert set(october) == {("2026-10-31", None)}  # not Friday the 30th, the month's last working day
    assert date(2026, 10, 30) in {day for day, _, _ in told}  # the last call is still a working day
    assert told[-1][1:] == ("2026-11-30", "2026-10-31")  # overdue only once October is over
    assert time_left(date(2026, 10, 5)) == "the month ends on 2026-10-31, in 26 days"  # the approval prompt
    reminder = billing_reminder(organization="fabrikam", message="", steps=(), deadline=october[0][0])
    assert reminder.summary == "Reminder: move the billing of fabrikam before the month ends (2026-10-31)"
