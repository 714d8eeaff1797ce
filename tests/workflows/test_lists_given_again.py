"""Lists handed out again after `notify` (an account decided, access kept after all, an invitation after
connecting): *Retry failed* sends them again, a crash right after one is delivered still leaves reminders,
and the newest decision about someone's access wins over what still waits in the outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import col, select

from storage import Database, OutboundMessage, Reminder
from storage.outbox import NOT_IN_CHAT, SUPERSEDED
from tests.workflows.fakes import FakeClock, FakeMicrosoft, connect_and_notify
from workflows.directory import DirectoryUser
from workflows.reminders import Tracking
from workflows.results import Actor
from workflows.service import MigrationService

HANA, HANA_AT_WORK = "hana@contoso.com", "hana.hart@fabrikam.com"
"""Two directory accounts carry her address: an admin decides which is hers, or that she loses access."""


@pytest.fixture
def started(service: MigrationService, microsoft: FakeMicrosoft, dana: Actor) -> MigrationService:
    """Fabrikam with Hana, everyone invited who needs it; not connected yet."""
    microsoft.users.append(replace(microsoft.users[2], id="e-hana", principal_name=HANA, mail_address=HANA))
    microsoft.directory += [
        DirectoryUser(id="g-guest", user_principal_name="hana_contoso.com#EXT#@fabrikam.com", mail=HANA),
        DirectoryUser(id="g-hart", user_principal_name=HANA_AT_WORK, other_mails=(HANA,)),
    ]
    service.start("fabrikam", "fabrikam.com", dana, channel="CMIGRATE")
    service.invite(None, dana)
    return service


@pytest.fixture
def notified(
    started: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> MigrationService:
    connect_and_notify(started, microsoft, dana, lee)
    return started


@pytest.fixture
def tracking(notified: MigrationService, database: Database, clock: FakeClock) -> Tracking:
    return Tracking(database, notified, clock=clock)


def _messages(database: Database, kind: str) -> list[OutboundMessage]:
    with database.session() as session:
        query = select(OutboundMessage).where(OutboundMessage.kind == kind)
        return list(session.exec(query.order_by(col(OutboundMessage.id))).all())


def _deliver(tracking: Tracking, database: Database, clock: FakeClock, *, callback: bool = True) -> None:
    """What the outbox worker does with everything pending: sends it, then reports each delivery (unless
    the process dies first: no `callback`)."""
    with database.session() as session:
        pending = session.exec(select(OutboundMessage).where(OutboundMessage.status == "pending")).all()
        for message in pending:
            message.status, message.sent_at = "sent", clock.now
        session.commit()
    for message in pending if callback else []:
        tracking.delivered(message.kind, message.payload, None)


def _fail_pending(database: Database) -> None:
    """The worker could not reach anyone it tried."""
    with database.session() as session:
        for message in session.exec(select(OutboundMessage).where(OutboundMessage.status == "pending")).all():
            message.status, message.error_code, message.attempts = "failed", NOT_IN_CHAT, 1
        session.commit()


def _hanas_schedule(database: Database) -> Reminder | None:
    with database.session() as session:
        reminders = session.exec(select(Reminder).where(Reminder.kind == "todo")).all()
        payloads = [m.payload for m in _messages(database, "todo_list")]
    hana = next(int(p["affected_user_id"]) for p in payloads if p["email"] == HANA)
    return next((reminder for reminder in reminders if reminder.affected_user_id == hana), None)


def test_retry_failed_sends_again_every_failed_message_that_hands_someone_their_list(
    tracking: Tracking, notified: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    _deliver(tracking, database, clock)
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)  # her list asked which account is hers
    _fail_pending(database)
    assert tracking.retry_failed(None) == 1
    (decided,) = _messages(database, "account_decided")
    assert (decided.status, decided.error_code) == ("pending", None)

    _deliver(tracking, database, clock)
    clock.advance(minutes=5)
    notified.decide_account(None, HANA, "no-access", lee)
    _fail_pending(database)
    assert tracking.retry_failed(None) == 1
    assert [m.status for m in _messages(database, "access_lost")] == ["pending"]

    _deliver(tracking, database, clock)
    clock.advance(minutes=5)
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    _fail_pending(database)
    assert tracking.retry_failed(None) == 1
    assert [m.status for m in _messages(database, "access_kept")] == ["pending"]


def test_a_failed_message_the_newest_decision_contradicts_is_never_sent_again(
    tracking: Tracking, notified: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    _deliver(tracking, database, clock)
    notified.decide_account(None, HANA, "no-access", lee)
    _fail_pending(database)  # "you lose access" did not reach her
    clock.advance(minutes=5)
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    (kept,) = _messages(database, "access_kept")
    assert kept.payload["corrects"] is False  # nothing to take back: she never heard it
    _fail_pending(database)  # nor did "your account is ..."
    clock.advance(minutes=5)
    notified.decide_account(None, HANA, "no-access", lee)

    assert [m.status for m in _messages(database, "access_kept")] == [SUPERSEDED]
    assert [m.status for m in _messages(database, "access_lost")] == [SUPERSEDED, "pending"]
    assert tracking.retry_failed(None) == 0


def test_a_crash_right_after_her_list_is_given_back_still_leaves_her_reminders(
    tracking: Tracking, notified: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    _deliver(tracking, database, clock)
    notified.decide_account(None, HANA, "no-access", lee)
    _deliver(tracking, database, clock)
    clock.advance(days=2)
    tracking.tick()  # her withdrawn list's schedule ends
    ended = _hanas_schedule(database)
    assert ended is not None and ended.status == "done"

    clock.advance(hours=1)
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock, callback=False)  # the process died before `delivered`
    tracking.tick()
    restarted = _hanas_schedule(database)
    assert restarted is not None and restarted.status == "active"
    before = len(_messages(database, "todo_reminder"))
    clock.advance(days=2)
    tracking.tick()
    reminded = _messages(database, "todo_reminder")[before:]
    assert restarted.affected_user_id in [m.payload["affected_user_id"] for m in reminded]
    assert tracking.tick() == 0  # and the recovery does not start it once more


def test_someone_decided_out_before_notify_still_gets_reminders_after_a_crash_once_given_an_account(
    started: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    service = started
    service.decide_account(None, HANA, "no-access", lee)
    connect_and_notify(service, microsoft, dana, lee)  # she gets no list: "you lose access"
    tracking = Tracking(database, service, clock=clock)
    _deliver(tracking, database, clock)
    service.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock, callback=False)  # the process died before `delivered`
    (kept,) = _messages(database, "access_kept")

    tracking.tick()
    with database.session() as session:
        opened = session.exec(
            select(Reminder).where(Reminder.affected_user_id == kept.payload["affected_user_id"])
        ).first()
    assert opened is not None and opened.status == "active"
    assert opened.next_at - clock.now < timedelta(days=3)
