"""Lists handed out again after `notify` (an account decided, access kept after all, an invitation after
connecting): *Retry failed* sends them again, a crash right after one is delivered still leaves reminders
(and a look with nothing to recover stays cheap), reminders count from the list given back, and the newest
decision about someone's access wins over what still waits in the outbox or a notice being prepared."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event
from sqlmodel import col, select

from storage import AffectedUser, Database, OutboundMessage, Reminder
from storage.outbox import NOT_IN_CHAT, SENT_AGAIN_KEY
from storage.outbox_claims import claim_due, release_claims
from storage.outbox_sends import UNCONFIRMED, begin_send, mark_failed
from storage.outbox_threads import SUPERSEDED
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.storage.statements import statements
from tests.workflows.fakes import FakeClock, FakeMicrosoft, connect_and_notify
from tests.workflows.outbox import queued, tells_how_to_keep_benefits_as
from tests.workflows.replays import CHANNEL, notified_in_channel, replayed
from workflows._views import item_payload
from workflows.directory import DirectoryUser
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.tracking import Tracking

pytestmark = SQLITE_ONLY

HANA, HANA_AT_WORK = "hana@contoso.com", "hana.hart@fabrikam.com"
HANA_AS_GUEST = "hana_contoso.com#EXT#@fabrikam.com"
"""Two directory accounts carry her address: an admin decides which is hers, or that she loses access."""


@pytest.fixture
def with_hana(microsoft: FakeMicrosoft) -> FakeMicrosoft:
    """Fabrikam with Hana."""
    microsoft.users.append(replace(microsoft.users[2], id="e-hana", principal_name=HANA, mail_address=HANA))
    microsoft.directory += [
        DirectoryUser(id="g-guest", user_principal_name=HANA_AS_GUEST, mail=HANA),
        DirectoryUser(id="g-hart", user_principal_name=HANA_AT_WORK, other_mails=(HANA,)),
    ]
    return microsoft


@pytest.fixture
def hana_subscribes(with_hana: FakeMicrosoft) -> FakeMicrosoft:
    """Hana's access comes from a Visual Studio subscription, tied to hana@contoso.com."""
    hana = next(index for index, user in enumerate(with_hana.users) if user.id == "e-hana")
    with_hana.users[hana] = replace(with_hana.users[hana], licensing_source="msdn")
    return with_hana


@pytest.fixture
def hana_still_invited(with_hana: FakeMicrosoft) -> FakeMicrosoft:
    """Her `#EXT#` account is a guest who has not accepted its invitation yet: deciding it asks her to."""
    guest = next(index for index, user in enumerate(with_hana.directory) if user.id == "g-guest")
    with_hana.directory[guest] = replace(
        with_hana.directory[guest], user_type="Guest", external_user_state="PendingAcceptance"
    )
    return with_hana


HANA_ELSEWHERE = "hana.hart@research.fabrikam.com"


@pytest.fixture
def hana_thrice(with_hana: FakeMicrosoft) -> FakeMicrosoft:
    """A third directory account carries her address."""
    with_hana.directory.append(
        DirectoryUser(id="g-research", user_principal_name=HANA_ELSEWHERE, other_mails=(HANA,))
    )
    return with_hana


@pytest.fixture
def notified(
    request: pytest.FixtureRequest,
    service: MigrationService,
    with_hana: FakeMicrosoft,
    dana: Actor,
    lee: Actor,
) -> MigrationService:
    """Fabrikam with Hana, everyone invited who needs it, then `connect_and_notify`."""
    return notified_in_channel(request, service, with_hana, dana, lee, CHANNEL)


@pytest.fixture
def delivered(
    request: pytest.FixtureRequest,
    service: MigrationService,
    with_hana: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> MigrationService:
    """`notified`, then every list sent and its delivery reported, as the outbox worker does."""

    def steps() -> None:
        notified_in_channel(request, service, with_hana, dana, lee, CHANNEL, name="notified")
        _deliver(Tracking(database, service, clock=clock), database, clock)

    replayed(request, service, with_hana, steps)
    return service


@pytest.fixture
def decided_out_before_notify(
    request: pytest.FixtureRequest,
    service: MigrationService,
    with_hana: FakeMicrosoft,
    dana: Actor,
    lee: Actor,
) -> MigrationService:
    """Hana decided out of access before `notify`: she gets no list, only "you lose access"."""

    def steps() -> None:
        service.start("fabrikam", "fabrikam.com", dana, channel=CHANNEL)
        service.invite(None, dana)
        service.decide_account(None, HANA, "no-access", lee)
        connect_and_notify(service, with_hana, dana, lee)

    replayed(request, service, with_hana, steps)
    return service


def test_a_decision_reads_the_pending_approval_it_voids_once(
    service: MigrationService, with_hana: FakeMicrosoft, database: Database, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana, channel=CHANNEL)
    service.invite(None, dana)
    requested = service.request_approval(None, dana)
    with statements(database) as seen:
        decided = service.decide_account(None, HANA, HANA_AT_WORK, lee)
    assert decided.voided_approval == requested.approval_id
    assert service.status(None).pending_approval_id is None
    assert sum(statement.startswith("SELECT approval.version, ") for statement in seen) == 1


@pytest.fixture
def tracking(service: MigrationService, database: Database, clock: FakeClock) -> Tracking:
    return Tracking(database, service, clock=clock)


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


def decided_in_turn(
    accounts: Sequence[str],
    service: MigrationService,
    tracking: Tracking,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> list[dict[str, Any]]:
    """Each account decided for Hana in turn, each message delivered: what her decision messages said."""
    for account in accounts:
        clock.advance(minutes=1)
        service.decide_account(None, HANA, account, lee)
        _deliver(tracking, database, clock)
    return [message.payload for message in _hanas(database) if message.kind == "account_decided"]


def fail_pending(database: Database) -> None:
    """The worker could not reach anyone it tried."""
    with database.session() as session:
        for message in session.exec(select(OutboundMessage).where(OutboundMessage.status == "pending")).all():
            message.status, message.error_code, message.attempts = "failed", NOT_IN_CHAT, 1
        session.commit()


def _hanas(database: Database, status: str = "sent") -> list[OutboundMessage]:
    """Hana's own messages of a `status`, oldest first."""
    with database.session() as session:
        messages = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
    hana = next(m.payload["affected_user_id"] for m in messages if m.payload.get("email") == HANA)
    return [m for m in messages if m.payload.get("affected_user_id") == hana and m.status == status]


def _news(service: MigrationService, heard: list[OutboundMessage]) -> list[dict[str, object]]:
    """The items of Hana's list as it is now that differ from what the messages she `heard` told her."""
    told = {item["id"]: item for message in heard for item in message.payload["items"]}
    now = [item_payload(entry) for entry in service.todo_list(int(heard[0].payload["affected_user_id"]))]
    return [item for item in now if told.get(item["id"]) != item]


def _schedule_of(database: Database, affected_user_id: int) -> Reminder | None:
    with database.session() as session:
        return session.exec(select(Reminder).where(Reminder.affected_user_id == affected_user_id)).first()


def _hanas_schedule(database: Database) -> Reminder | None:
    with database.session() as session:
        reminders = session.exec(select(Reminder).where(Reminder.kind == "todo")).all()
        payloads = [m.payload for m in queued(database, "todo_list")]
    hana = next(int(p["affected_user_id"]) for p in payloads if p["email"] == HANA)
    return next((reminder for reminder in reminders if reminder.affected_user_id == hana), None)


@BOTH_BACKENDS
def test_retry_failed_sends_again_every_failed_message_that_hands_someone_their_list(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)  # her list asked which account is hers
    fail_pending(database)
    assert tracking.retry_failed(None).total == 1
    (decided,) = queued(database, "account_decided")
    assert (decided.status, decided.error_code) == ("pending", None)

    _deliver(tracking, database, clock)
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, "no-access", lee)
    fail_pending(database)
    assert tracking.retry_failed(None).total == 1
    assert [m.status for m in queued(database, "access_lost")] == ["pending"]

    _deliver(tracking, database, clock)
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    fail_pending(database)
    assert tracking.retry_failed(None).total == 1
    assert [m.status for m in queued(database, "access_kept")] == ["pending"]


@pytest.mark.parametrize("first_decision", ["waiting", "failed"])
def test_an_account_changed_before_the_first_decision_reached_her_tells_her_only_the_newest(
    first_decision: str,
    tracking: Tracking,
    delivered: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    first_list = _hanas(database)
    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)
    if first_decision == "failed":
        fail_pending(database)
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    tracking.retry_failed(None)
    _deliver(tracking, database, clock)

    heard = _hanas(database)
    assert [(m.kind, m.payload.get("account")) for m in heard] == [
        ("todo_list", None),
        ("account_decided", HANA_AT_WORK),
    ]
    assert heard[1].payload["corrects"] is None
    assert heard[1].payload["items"] == _news(delivered, first_list)
    assert heard[1].payload["items"][0]["key"] == "sign-in-work-account"


def test_a_decision_before_her_list_went_out_is_on_that_list_and_in_no_message_after_it(
    tracking: Tracking, notified: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    with database.session() as session:  # a worker has claimed her list, and is about to send it
        for message in session.exec(select(OutboundMessage).where(OutboundMessage.kind == "todo_list")):
            message.claimed_by, message.claimed_until = "worker-1", clock.now + timedelta(minutes=5)
        session.commit()
    notified.decide_account(None, HANA, HANA_AS_GUEST, lee)
    clock.advance(minutes=5)
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    (old_list,) = _hanas(database, "pending")
    assert old_list.id is not None  # what the worker read of it is not her list any more: it must not send
    assert not begin_send(database, old_list.id, worker="worker-1", now=clock.now, lease=timedelta(minutes=5))
    _deliver(tracking, database, clock)

    heard = _only_her_list_as_it_is_now(notified, database)
    assert heard.payload["items"][0]["key"] == "sign-in-work-account"
    assert HANA_AT_WORK in heard.payload["items"][0]["body"]


@pytest.mark.parametrize("her_list", ["waiting", "delivered"])
def test_a_subscriber_decided_onto_another_address_is_told_how_to_keep_her_benefits(
    her_list: str,
    hana_subscribes: FakeMicrosoft,
    tracking: Tracking,
    notified: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    if her_list == "delivered":
        _deliver(tracking, database, clock)
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)

    heard = _hanas(database)
    tells_how_to_keep_benefits_as(HANA_AT_WORK, [item for m in heard for item in m.payload["items"]])
    assert not any("benefits carry over" in note for note in heard[-1].payload.get("notes", []))


@BOTH_BACKENDS
def test_a_subscriber_decided_out_before_notify_then_given_another_address_is_told_how_to_keep_her_benefits(
    hana_subscribes: FakeMicrosoft,
    decided_out_before_notify: MigrationService,
    database: Database,
    lee: Actor,
) -> None:
    decided_out_before_notify.decide_account(None, HANA, HANA_AT_WORK, lee)

    (kept,) = _hanas(database, "pending")
    assert kept.kind == "access_kept"
    tells_how_to_keep_benefits_as(HANA_AT_WORK, kept.payload["items"])


def test_an_account_changed_after_the_first_decision_reached_her_corrects_it(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)
    _deliver(tracking, database, clock)
    before = _hanas(database)
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)

    heard = _hanas(database)
    assert [(m.kind, m.payload.get("account")) for m in heard] == [
        ("todo_list", None),
        ("account_decided", HANA_AS_GUEST),
        ("account_decided", HANA_AT_WORK),
    ]
    assert heard[2].payload["corrects"] == HANA_AS_GUEST
    assert heard[2].payload["items"] == _news(delivered, before)
    # the first told her to clear the Git cache for her guest account: now it is for her work account
    assert [item["key"] for item in heard[2].payload["items"]] == [
        "sign-in-work-account",
        "clear-git-credentials",
    ]


@BOTH_BACKENDS
def test_each_decision_after_her_list_reached_her_reads_her_messages_once_and_locked(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """Whether she subscribes, what to withdraw, which list has not reached her and which account she was
    told all come from one read of her messages, locked as the list it may rewrite must be."""
    her_messages = " FROM outbound_message WHERE outbound_message.migration_id IN "
    reads = []
    for account in (HANA_AS_GUEST, HANA_AT_WORK, "no-access", HANA_AT_WORK):
        with statements(database) as seen:
            delivered.decide_account(None, HANA, account, lee)
        reads.append([statement for statement in seen if her_messages in statement])
        _deliver(tracking, database, clock)
        clock.advance(minutes=5)

    assert [(m.kind, m.payload.get("corrects")) for m in _hanas(database)] == [
        ("todo_list", None),
        ("account_decided", None),
        ("account_decided", HANA_AS_GUEST),
        ("access_lost", None),
        ("access_kept", True),
    ]
    assert [len(each) for each in reads] == [1, 1, 1, 1]
    if database.engine.dialect.name == "postgresql":
        assert all(statement.endswith(" FOR UPDATE") for each in reads for statement in each)


def test_an_account_decided_again_after_another_tells_her_again(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    for account in (HANA_AT_WORK, HANA_AS_GUEST, HANA_AT_WORK):
        delivered.decide_account(None, HANA, account, lee)
        _deliver(tracking, database, clock)
        clock.advance(minutes=5)

    decided = [m.payload["account"] for m in _hanas(database) if m.kind == "account_decided"]
    assert decided == [HANA_AT_WORK, HANA_AS_GUEST, HANA_AT_WORK]


def _her_list_now(service: MigrationService, message: OutboundMessage) -> list[dict[str, object]]:
    """The list of the person `message` is to, as a message handing it over carries it: done items ticked,
    with who ticked them, and those a sign-in showed."""
    return [
        item_payload(entry)
        | ({"done_at": entry.done_at.isoformat(), "done_by": entry.done_by} if entry.done_at else {})
        | ({"verified": True} if entry.verified else {})
        for entry in service.todo_list(int(message.payload["affected_user_id"]))
    ]


def _only_her_list_as_it_is_now(service: MigrationService, database: Database) -> OutboundMessage:
    """The one message Hana heard: her list, as it is now."""
    (heard,) = _hanas(database)
    assert heard.kind == "todo_list"
    assert heard.payload["items"] == _her_list_now(service, heard)
    return heard


@pytest.mark.parametrize("decision", ["failed", "waiting"])
def test_retry_failed_sends_her_list_as_it_is_now_and_no_change_that_list_already_holds(
    decision: str,
    tracking: Tracking,
    notified: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    fail_pending(database)  # her list could not reach her
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    if decision == "failed":
        fail_pending(database)  # nor could "your work account is ..."
    tracking.retry_failed(None)
    _deliver(tracking, database, clock)

    heard = _only_her_list_as_it_is_now(notified, database)
    assert heard.payload["items"][0]["key"] == "sign-in-work-account"
    assert _hanas(database, "failed") == _hanas(database, "pending") == []
    (progress,) = [user for user in tracking.progress(None).users if user.email == HANA]
    assert progress.delivery == "sent"  # her list reached her; the change it holds never went


@BOTH_BACKENDS
@pytest.mark.parametrize("change", ["sent", "failed"])
def test_a_change_after_a_list_teams_could_not_confirm_leaves_it_in_doubt_and_retry_sends_the_list_as_now(
    change: str,
    tracking: Tracking,
    delivered: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    """All she may have had is "your work account is ...": her whole list goes again, holding it."""
    (first_list,) = _hanas(database)
    with database.session() as session:  # handed to Teams, which could not confirm it
        row = session.get(OutboundMessage, first_list.id)
        assert row is not None
        row.error_code = UNCONFIRMED
        session.commit()
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    if change == "sent":
        _deliver(tracking, database, clock)
    else:
        fail_pending(database)
    (hers,) = [user for user in tracking.progress(None).users if user.email == HANA]
    assert hers.delivery == "maybe-sent"

    assert tracking.retry_failed(None).total == 1
    (again,) = _hanas(database, "pending")
    assert (again.id, again.payload[SENT_AGAIN_KEY]) == (first_list.id, True)
    assert again.payload["items"] == _her_list_now(delivered, again)
    assert again.payload["items"][0]["key"] == "sign-in-work-account"
    _deliver(tracking, database, clock)
    (hers,) = [user for user in tracking.progress(None).users if user.email == HANA]
    assert hers.delivery == "sent"
    assert tracking.retry_failed(None).total == 0


@BOTH_BACKENDS
def test_a_change_teams_could_not_confirm_stays_in_doubt_after_a_later_change_and_retry_sends_it_as_now(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """The work account's message lists only what differs from the guest's, as if that had arrived: all
    she may have had is her first list, so the guest's goes again, with what only it told her."""
    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)
    _deliver(tracking, database, clock)
    (as_guest,) = [message for message in _hanas(database) if message.kind == "account_decided"]
    assert [item["key"] for item in as_guest.payload["items"]] == [
        "sign-in-work-account",
        "clear-git-credentials",
        "recreate-pats",
    ]
    with database.session() as session:  # handed to Teams, which could not confirm it
        row = session.get(OutboundMessage, as_guest.id)
        assert row is not None
        row.error_code = UNCONFIRMED
        session.commit()
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    assert "recreate-pats" not in [item["key"] for item in _hanas(database)[-1].payload["items"]]
    (hers,) = [user for user in tracking.progress(None).users if user.email == HANA]
    assert hers.delivery == "maybe-sent"

    assert tracking.retry_failed(None).total == 1
    (again,) = _hanas(database, "pending")
    assert (again.id, again.payload[SENT_AGAIN_KEY]) == (as_guest.id, True)
    assert "recreate-pats" in [item["key"] for item in again.payload["items"]]
    _deliver(tracking, database, clock)
    (hers,) = [user for user in tracking.progress(None).users if user.email == HANA]
    assert hers.delivery == "sent"
    assert tracking.retry_failed(None).total == 0


def test_retry_failed_sends_a_change_to_a_list_that_reached_her_as_it_is_now(
    tracking: Tracking,
    delivered: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    first_list = _hanas(database)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    fail_pending(database)
    clock.advance(hours=1)
    microsoft.sign_in("e-hana", clock.now)  # she heard of it elsewhere, and signed in
    delivered.check_due_sign_ins()
    tracking.retry_failed(None)
    _deliver(tracking, database, clock)

    heard = [m for m in _hanas(database) if m.kind != "sign_in_verified"]
    assert [m.kind for m in heard] == ["todo_list", "account_decided"]
    changed = {item["id"] for item in _news(delivered, first_list)}
    now = [item for item in _her_list_now(delivered, heard[1]) if item["id"] in changed]
    assert heard[1].payload["items"] == now
    assert "done_at" in now[0]  # the sign-in, verified since


@BOTH_BACKENDS
@pytest.mark.parametrize(
    ("her_list", "heard"),
    [
        ("first", ["todo_list", "sign_in_verified"]),
        ("given back", ["todo_list", "access_lost", "access_kept", "sign_in_verified"]),
    ],
)
def test_a_list_sent_again_once_she_signs_in_is_her_list_as_it_is_now(
    her_list: str,
    heard: list[str],
    tracking: Tracking,
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    if her_list == "given back":  # decided out of access, then given it back with "you keep access"
        _deliver(tracking, database, clock)
        notified.decide_account(None, HANA, "no-access", lee)
        _deliver(tracking, database, clock)
    fail_pending(database)  # not in chat: she has not signed in with her work account yet
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    fail_pending(database)
    clock.advance(hours=1)
    microsoft.sign_in("e-hana", clock.now)
    notified.check_due_sign_ins()
    _deliver(tracking, database, clock)

    assert [m.kind for m in _hanas(database)] == heard
    (given,) = [m for m in _hanas(database) if m.kind == heard[-2]]
    assert given.payload["items"] == _her_list_now(notified, given)
    assert "done_at" in given.payload["items"][0]  # the sign-in just verified
    assert _hanas(database, "failed") == _hanas(database, "pending") == []


def test_a_failed_message_the_newest_decision_contradicts_is_never_sent_again(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    delivered.decide_account(None, HANA, "no-access", lee)
    fail_pending(database)  # "you lose access" did not reach her
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    (kept,) = queued(database, "access_kept")
    assert kept.payload["corrects"] is False  # nothing to take back: she never heard it
    fail_pending(database)  # nor did "your account is ..."
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, "no-access", lee)

    assert [m.status for m in queued(database, "access_kept")] == [SUPERSEDED]
    assert [m.status for m in queued(database, "access_lost")] == [SUPERSEDED, "pending"]
    assert tracking.retry_failed(None).total == 0


def test_a_crash_right_after_her_list_is_given_back_still_leaves_her_reminders(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    delivered.decide_account(None, HANA, "no-access", lee)
    _deliver(tracking, database, clock)
    clock.advance(days=2)
    tracking.tick()  # her withdrawn list's schedule ends
    ended = _hanas_schedule(database)
    assert ended is not None and ended.status == "done"

    clock.advance(hours=1)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock, callback=False)  # the process died before `delivered`
    tracking.tick()
    restarted = _hanas_schedule(database)
    assert restarted is not None and restarted.status == "active"
    before = len(queued(database, "todo_reminder"))
    clock.advance(days=2)
    tracking.tick()
    reminded = queued(database, "todo_reminder")[before:]
    assert restarted.affected_user_id in [m.payload["affected_user_id"] for m in reminded]
    assert tracking.tick() == 0  # and the recovery does not start it once more


def test_someone_decided_out_before_notify_still_gets_reminders_after_a_crash_once_given_an_account(
    decided_out_before_notify: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    service = decided_out_before_notify
    tracking = Tracking(database, service, clock=clock)
    _deliver(tracking, database, clock)
    service.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock, callback=False)  # the process died before `delivered`
    (kept,) = queued(database, "access_kept")

    tracking.tick()
    opened = _schedule_of(database, kept.payload["affected_user_id"])
    assert opened is not None and opened.status == "active"
    assert opened.next_at - clock.now < timedelta(days=3)


def test_a_failed_lost_access_notice_is_not_sent_again_once_the_person_was_given_access_back(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """Records written before deciding someone back in withdrew "you lose access": their outcome was set
    back, and the failed notice was left in place for *Retry failed* to send."""
    delivered.decide_account(None, HANA, "no-access", lee)
    fail_pending(database)
    (lost,) = queued(database, "access_lost")
    with database.session() as session:
        hana = session.get(AffectedUser, lost.payload["affected_user_id"])
        assert hana is not None
        hana.outcome = "map"  # decided back in by the older code
        session.commit()

    assert tracking.retry_failed(None).total == 0
    assert [m.status for m in queued(database, "access_lost")] == [SUPERSEDED]


def test_reminders_count_from_a_list_given_back_before_the_withdrawn_lists_next_round(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    clock.advance(days=2)
    assert tracking.tick() >= 1  # her first reminder: her schedule has been sent from
    withdrawn = _hanas_schedule(database)
    assert withdrawn is not None and withdrawn.sent == 1
    clock.advance(days=1)  # her schedule is still active: its next round is tomorrow
    delivered.decide_account(None, HANA, "no-access", lee)
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    (kept,) = queued(database, "access_kept")

    before = len(queued(database, "todo_reminder"))
    clock.now = withdrawn.next_at  # a day after her whole list came back
    tracking.tick()
    reminded = [m.payload.get("affected_user_id") for m in queued(database, "todo_reminder")[before:]]
    assert kept.payload["affected_user_id"] not in reminded
    given_back = _hanas_schedule(database)
    assert given_back is not None and given_back.status == "active"
    assert given_back.next_at - (kept.sent_at or clock.now) >= timedelta(days=2)


def _rows_loaded_by_a_look(tracking: Tracking) -> int:
    loaded = 0

    def count(target: object, context: object) -> None:
        nonlocal loaded
        loaded += 1

    for model in (Reminder, OutboundMessage):
        event.listen(model, "load", count)
    try:
        tracking.tick()
    finally:
        for model in (Reminder, OutboundMessage):
            event.remove(model, "load", count)
    return loaded


def test_a_look_with_nothing_to_recover_loads_no_schedule_nor_message_once_a_list_was_given_back(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """Every replica looks every minute: finding no schedule missing must not read every schedule and
    every list of the migration (20,000 of each at 20,000 people), even after lists were given back."""
    tracking.tick()
    assert _rows_loaded_by_a_look(tracking) == 0

    delivered.decide_account(None, HANA, "no-access", lee)
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)  # delivered normally: `delivered` restarted her schedule
    tracking.tick()
    assert len(queued(database, "access_kept")) == 1
    assert _rows_loaded_by_a_look(tracking) == 0


def test_a_schedule_a_crash_left_unopened_is_recovered_though_a_list_given_back_opened_another(
    decided_out_before_notify: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """Someone decided out before `notify` and then given an account has a schedule but no first list:
    counting first lists against schedules would let hers hide the one a crash left unopened."""
    service = decided_out_before_notify
    tracking = Tracking(database, service, clock=clock)
    _deliver(tracking, database, clock, callback=False)
    lists = queued(database, "todo_list")
    for message in lists[1:]:  # the process died right after sending the first one
        tracking.delivered(message.kind, message.payload, None)
    service.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)  # her access_kept, delivered normally

    tracking.tick()
    opened = _schedule_of(database, lists[0].payload["affected_user_id"])
    assert opened is not None and opened.status == "active"


def test_no_waiting_notice_goes_out_after_the_decision_that_ended_the_wait(
    tracking: Tracking,
    delivered: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The notice names the admins, asked of Azure DevOps between two transactions (seconds when its
    cache is cold): an admin deciding meanwhile has told her what to do, and "it waits for the admins"
    must not follow."""
    asked = tracking._reminders._admins

    def admins_while_an_admin_decides(organization: str, person: str) -> list[str]:
        if person == HANA:
            delivered.decide_account(None, HANA, HANA_AT_WORK, lee)  # meanwhile, elsewhere
        return asked(organization, person)

    monkeypatch.setattr(tracking._reminders, "_admins", admins_while_an_admin_decides)
    _as_queued_before_lists_named_the_wait(database)
    for _ in range(10):
        clock.advance(days=1)
        tracking.tick()
        if queued(database, "account_decided"):
            break
    (decided,) = queued(database, "account_decided")
    notices = [m for m in queued(database, "todo_reminder") if m.payload.get("waiting_item")]
    assert [m for m in notices if m.payload["email"] == HANA] == []
    assert decided.payload["email"] == HANA


def _as_queued_before_lists_named_the_wait(database: Database) -> None:
    """Hana's list as `notify` queued it before lists said whom they wait on: a notice says it then."""
    with database.session() as session:
        for message in session.exec(select(OutboundMessage).where(OutboundMessage.kind == "todo_list")):
            if message.payload.get("email") == HANA:
                message.payload = {
                    k: v for k, v in message.payload.items() if k not in ("waiting_item", "admins")
                }
                session.add(message)
        session.commit()


def test_a_waiting_list_names_whom_it_waits_on_so_no_notice_follows_but_after_an_older_list(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock
) -> None:
    (listed,) = [m for m in queued(database, "todo_list") if m.payload["email"] == HANA]
    assert listed.payload["waiting_item"] == "choose-work-account"
    assert listed.payload["admins"] == ["dana@fabrikam.com", "lee@fabrikam.com"]

    def notices() -> list[OutboundMessage]:
        return [m for m in queued(database, "todo_reminder") if m.payload.get("waiting_item")]

    for _ in range(5):
        clock.advance(days=1)
        tracking.tick()
    assert notices() == []  # her list said it
    _as_queued_before_lists_named_the_wait(database)
    for _ in range(5):
        clock.advance(days=1)
        tracking.tick()
    (notice,) = notices()  # once, as before
    assert notice.payload["email"] == HANA and notice.payload["admins"] == [
        "dana@fabrikam.com",
        "lee@fabrikam.com",
    ]


def _decided_again(
    service: MigrationService, tracking: Tracking, database: Database, clock: FakeClock, lee: Actor
) -> list[tuple[object, object]]:
    """Once a whole list that names HANA_AT_WORK reached Hana, her guest account decided: what each
    "your work account is ..." to her says (the account, and the one it corrects)."""
    (whole,) = [m for m in _hanas(database) if m.kind != "account_decided" and m.payload.get("items")][-1:]
    assert HANA_AT_WORK in whole.payload["items"][0]["body"]
    clock.advance(minutes=5)
    service.decide_account(None, HANA, HANA_AS_GUEST, lee)
    _deliver(tracking, database, clock)
    return [
        (m.payload["account"], m.payload["corrects"]) for m in _hanas(database) if m.kind == "account_decided"
    ]


@pytest.mark.parametrize("list_given", ["first", "again", "back"])
def test_an_account_that_reached_her_on_a_whole_list_is_corrected_when_another_is_decided(
    list_given: str,
    tracking: Tracking,
    notified: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    if list_given == "again":  # her list could not reach her, nor could the decision: retried as it is now
        fail_pending(database)
    elif list_given == "back":  # decided out of access, then given it back with her list
        _deliver(tracking, database, clock)
        notified.decide_account(None, HANA, "no-access", lee)
        _deliver(tracking, database, clock)
        clock.advance(minutes=5)
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)  # on the list that has not reached her yet
    if list_given == "again":
        fail_pending(database)
        tracking.retry_failed(None)
    _deliver(tracking, database, clock)

    assert _decided_again(notified, tracking, database, clock, lee) == [(HANA_AS_GUEST, HANA_AT_WORK)]


@BOTH_BACKENDS
@pytest.mark.parametrize("second_decision", ["before it went out", "after it failed"])
def test_her_list_given_back_names_the_account_decided_after_it_was_queued(
    second_decision: str,
    tracking: Tracking,
    delivered: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    delivered.decide_account(None, HANA, "no-access", lee)
    _deliver(tracking, database, clock)
    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)  # "you keep access with ..." is queued
    if second_decision == "after it failed":
        fail_pending(database)
    clock.advance(minutes=5)
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    if second_decision == "after it failed":
        fail_pending(database)
        tracking.retry_failed(None)
    _deliver(tracking, database, clock)

    (kept,) = [m for m in _hanas(database) if m.kind in ("access_kept", "account_decided")]
    assert kept.kind == "access_kept"
    assert HANA_AT_WORK in kept.payload["items"][0]["body"]
    assert kept.payload["account"] == HANA_AT_WORK


def test_an_account_decided_before_notify_is_corrected_when_another_is_decided_after_her_list(
    service: MigrationService,
    with_hana: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    service.start("fabrikam", "fabrikam.com", dana, channel=CHANNEL)
    service.invite(None, dana)
    service.decide_account(None, HANA, HANA_AT_WORK, lee)
    connect_and_notify(service, with_hana, dana, lee)
    tracking = Tracking(database, service, clock=clock)
    _deliver(tracking, database, clock)

    assert _decided_again(service, tracking, database, clock, lee) == [(HANA_AS_GUEST, HANA_AT_WORK)]


NO_DOWNTIME = "There is no downtime: your work items, repositories and history stay where they are."
MAPPED = (
    "An admin maps your old identity to your work account by hand, so your history stays yours; personal"
    " access tokens made with the old identity stop working."
)


@BOTH_BACKENDS
@pytest.mark.parametrize("her_list", ["waiting", "failed", "failed while being sent"])
def test_her_list_has_the_notes_of_the_account_decided_after_it_was_queued(
    her_list: str,
    tracking: Tracking,
    notified: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    (pending,) = _hanas(database, "pending")
    assert pending.id is not None and pending.payload["notes"] == [NO_DOWNTIME]  # nothing decided yet
    if her_list == "failed":
        fail_pending(database)
    if her_list == "failed while being sent":  # too late to rewrite: "your work account is ..." follows
        with database.session() as session:
            claimed = session.get_one(OutboundMessage, pending.id)
            claimed.claimed_by, claimed.claimed_until = "worker-1", clock.now + timedelta(minutes=5)
            session.commit()
        assert begin_send(database, pending.id, worker="worker-1", now=clock.now, lease=timedelta(minutes=5))
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    if her_list == "failed while being sent":
        failed = mark_failed(
            database,
            pending.id,
            worker="worker-1",
            now=clock.now,
            error="not in chat",
            retry_after=timedelta(),
            code=NOT_IN_CHAT,
            permanent=True,
        )
        assert failed == "failed"
        fail_pending(database)
    if her_list != "waiting":
        tracking.retry_failed(None)
    _deliver(tracking, database, clock)

    (heard,) = _hanas(database)
    assert heard.kind == "todo_list"
    assert heard.payload["items"][0]["key"] == "sign-in-work-account"
    assert heard.payload["notes"] == [NO_DOWNTIME, MAPPED]  # as on a list written after the decision


def _versions(database: Database) -> dict[str, int]:
    """Every message's version, by key: how many times it was written."""
    with database.session() as session:
        return dict(session.exec(select(OutboundMessage.idempotency_key, OutboundMessage.version)).all())


@contextmanager
def _sqlite_binding_at_most(database: Database, parameters: int) -> Iterator[None]:
    """SQLite refusing a statement of more than `parameters` parameters, as it refuses one of more than
    32,766: a big organization in a small test. (PostgreSQL's 65,535 cannot be lowered.)"""
    limited: dict[sqlite3.Connection, int] = {}

    def limit(conn: Connection, *_: object) -> None:
        raw = conn.connection.dbapi_connection
        if isinstance(raw, sqlite3.Connection) and raw not in limited:
            limited[raw] = raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, parameters)

    event.listen(database.engine, "before_cursor_execute", limit)
    try:
        yield
    finally:
        event.remove(database.engine, "before_cursor_execute", limit)
        for raw, before in limited.items():
            raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


def test_retry_failed_sends_again_the_lists_of_more_people_than_one_statement_can_name(
    tracking: Tracking,
    notified: MigrationService,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fail_pending(database)
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    fail_pending(database)  # nor could "your work account is ...", which her list now holds
    ticked = notified.mark_done(notified.todo_list(dana)[0].id, dana).item  # on a list read first
    lists = queued(database, "todo_list")
    assert len(lists) == 6
    monkeypatch.setattr("storage.database.IN_LIST_AT_MOST", 2)
    before = _versions(database)
    # two people's ids and a query's other parameters fit (an update of a message binds 9), six do not
    with _sqlite_binding_at_most(database, 10):
        assert tracking.retry_failed(None).total == len(lists)
    # each written once: rewritten and queued again together, not flushed by the next people's reads first
    assert {version - before[key] for key, version in _versions(database).items()} == {0, 1}
    _deliver(tracking, database, clock)

    (danas,) = [m for m in queued(database, "todo_list") if m.payload["email"] == dana.email]
    assert ticked.done_at is not None and danas.payload["items"][0]["done_at"] == ticked.done_at.isoformat()
    _only_her_list_as_it_is_now(notified, database)  # not the change it holds
    assert [m.status for m in queued(database, "todo_list")] == ["sent"] * len(lists)


def _her_items_all_done(service: MigrationService, database: Database) -> int:
    """Hana ticks every item of her list: her id."""
    schedule = _hanas_schedule(database)
    assert schedule is not None
    hana = Actor(id="hana", email=HANA_AT_WORK, name="Hana")
    for entry in service.todo_list(schedule.affected_user_id):
        service.mark_done(entry.id, hana)
    return schedule.affected_user_id


def _remind_for(days: int, tracking: Tracking, database: Database, clock: FakeClock) -> None:
    for _ in range(days // 2):
        clock.advance(days=2)
        tracking.tick()
        _deliver(tracking, database, clock)


@BOTH_BACKENDS
def test_reminders_start_again_when_a_decision_reopens_items_she_had_all_done(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    hana = _her_items_all_done(delivered, database)
    _remind_for(12, tracking, database, clock)
    ended = _hanas_schedule(database)
    assert ended is not None and ended.status == "done"

    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)  # signing in and Git open again
    _deliver(tracking, database, clock)
    assert [entry.key for entry in delivered.todo_list(hana) if not entry.done_at][:2] == [
        "sign-in-work-account",
        "clear-git-credentials",
    ]
    _remind_for(4, tracking, database, clock)
    schedule = _hanas_schedule(database)
    assert schedule is not None and schedule.status == "active" and schedule.sent > ended.sent


def test_a_change_that_reopens_only_an_optional_item_starts_no_reminders(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock
) -> None:
    hana = _her_items_all_done(delivered, database)
    _remind_for(12, tracking, database, clock)
    ssh = next(entry for entry in delivered.todo_list(hana) if entry.key == "re-add-ssh-keys")
    tracking.delivered("account_decided", {"affected_user_id": hana, "items": [item_payload(ssh)]}, None)
    schedule = _hanas_schedule(database)
    assert schedule is not None and schedule.status == "done"


def _told_early(database: Database) -> list[tuple[str, str]]:
    """Hana's "you lose access" and "that no longer holds" before any list, oldest first, with status."""
    told = [*queued(database, "access_lost"), *queued(database, "access_lost_taken_back")]
    return [(m.kind, m.status) for m in sorted(told, key=lambda m: m.id or 0) if m.recipient == HANA]


def _hanas_record(database: Database) -> AffectedUser:
    """The record `notify` wrote for Hana."""
    with database.session() as session:
        return session.exec(select(AffectedUser).where(AffectedUser.email == HANA)).one()


@pytest.fixture
def announced(
    request: pytest.FixtureRequest,
    service: MigrationService,
    with_hana: FakeMicrosoft,
    database: Database,
    dana: Actor,
) -> MigrationService:
    """Fabrikam with Hana, everyone invited and told what is coming: the notices wait to be sent."""

    def steps() -> None:
        service.start("fabrikam", "fabrikam.com", dana, channel=CHANNEL)
        service.invite(None, dana)
        service.announce(None, dana, "Friday 14:00 UTC")

    replayed(request, service, with_hana, steps)
    assert {m.status for m in queued(database, "advance_notice")} == {"pending"}
    return service


def test_hana_decided_out_after_the_notice_reached_her_is_told_then_and_not_again_at_notify(
    announced: MigrationService, with_hana: FakeMicrosoft, database: Database, dana: Actor, lee: Actor
) -> None:
    """The notice told her to get ready and promised a list: "you lose access" cannot wait for `notify`,
    which then sends her nothing more, and her record holds that notice."""
    announced.decide_account(None, HANA, "no-access", lee)
    assert _told_early(database) == [("access_lost", "pending")]
    (lost,) = queued(database, "access_lost")
    assert (lost.payload["decided_by"], lost.payload["case"], lost.payload["told_early"]) == (
        "Lee",
        "ambiguous",
        True,
    )
    connect_and_notify(announced, with_hana, dana, lee)
    assert _told_early(database) == [("access_lost", "pending")]
    (held,) = queued(database, "access_lost")
    hana = _hanas_record(database)
    assert (held.payload["affected_user_id"], hana.outcome) == (hana.id, "no-access")
    assert not [m for m in queued(database, "todo_list") if m.payload["email"] == HANA]


def test_hana_told_she_loses_access_then_given_an_account_before_notify_hears_it_no_longer_holds_once(
    announced: MigrationService,
    with_hana: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    announced.decide_account(None, HANA, "no-access", lee)
    _deliver(Tracking(database, announced, clock=clock), database, clock)
    clock.advance(minutes=1)
    announced.decide_account(None, HANA, HANA_AT_WORK, lee)
    assert _told_early(database) == [("access_lost", "sent"), ("access_lost_taken_back", "pending")]
    (back,) = queued(database, "access_lost_taken_back")
    assert back.payload["account"] == HANA_AT_WORK
    clock.advance(minutes=1)
    announced.decide_account(None, HANA, "no-access", lee)  # before "no longer holds" went: nothing new
    assert _told_early(database) == [("access_lost", "sent"), ("access_lost_taken_back", "superseded")]
    clock.advance(minutes=1)
    announced.decide_account(None, HANA, HANA_AT_WORK, lee)
    assert _told_early(database) == [
        ("access_lost", "sent"),
        ("access_lost_taken_back", "superseded"),
        ("access_lost_taken_back", "pending"),
    ]
    connect_and_notify(announced, with_hana, dana, lee)
    (her_list,) = [m for m in queued(database, "todo_list") if m.payload["email"] == HANA]
    assert her_list.payload["account"] == HANA_AT_WORK


def test_a_lost_access_notice_not_sent_yet_is_stopped_when_she_is_given_an_account_before_notify(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    announced.decide_account(None, HANA, "no-access", lee)
    clock.advance(minutes=1)
    announced.decide_account(None, HANA, HANA_AT_WORK, lee)
    assert _told_early(database) == [("access_lost", "superseded")]


def test_someone_decided_out_before_any_notice_hears_nothing_until_notify_tells_them(
    service: MigrationService, with_hana: FakeMicrosoft, database: Database, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana, channel=CHANNEL)
    service.invite(None, dana)
    service.decide_account(None, HANA, "no-access", lee)
    assert _told_early(database) == []
    connect_and_notify(service, with_hana, dana, lee)
    (lost,) = queued(database, "access_lost")
    assert (lost.recipient, "told_early" in lost.payload) == (HANA, False)


def _fail_hanas(
    database: Database, clock: FakeClock, kind: str, *, permanent: bool, timed_out: bool = False
) -> None:
    """The worker's attempt at Hana's message of `kind` fails: for good, or to be tried again later; one
    that `timed_out` was being sent and may have got through."""
    (message,) = [m for m in queued(database, kind) if m.recipient == HANA and m.status == "pending"]
    assert message.id is not None
    claimed = claim_due(database, worker="w", now=clock.now, lease=timedelta(minutes=5), limit=100)
    assert message.id in {m.id for m in claimed}
    if timed_out:
        assert begin_send(database, message.id, worker="w", now=clock.now, lease=timedelta(minutes=5))
    mark_failed(
        database,
        message.id,
        worker="w",
        now=clock.now,
        error="boom",
        retry_after=timedelta(minutes=10),
        permanent=permanent,
        maybe_delivered=timed_out,
    )
    release_claims(database, [m.id for m in claimed if m.id != message.id], worker="w")


def test_a_cancel_stops_what_she_was_told_early_and_not_sent_yet(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor, dana: Actor
) -> None:
    """Her notice never went, so neither "you lose access" nor "called off" goes: she heard of nothing."""
    announced.decide_account(None, HANA, "no-access", lee)
    clock.advance(minutes=1)
    announced.cancel(None, dana, "budget")
    assert _told_early(database) == [("access_lost", "superseded")]
    assert HANA not in {m.recipient for m in queued(database, "migration_called_off")}


def test_a_cancel_tells_her_it_is_off_when_what_she_was_told_early_may_have_reached_her(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor, dana: Actor
) -> None:
    """Her notice was stopped by the decision, and "you lose access" went: that is what she heard of it."""
    announced.decide_account(None, HANA, "no-access", lee)
    _deliver(Tracking(database, announced, clock=clock), database, clock)
    clock.advance(minutes=1)
    announced.decide_account(None, HANA, HANA_AT_WORK, lee)
    clock.advance(minutes=1)
    announced.cancel(None, dana, "budget")
    assert _told_early(database) == [("access_lost", "sent"), ("access_lost_taken_back", "superseded")]
    assert HANA in {m.recipient for m in queued(database, "migration_called_off")}


@pytest.mark.parametrize("waiting", ["queued", "to be tried again"])
def test_a_notice_not_sent_yet_is_stopped_and_her_lost_access_says_only_the_decision(
    waiting: str, announced: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """Sent after it, the notice would say to get ready for what no longer holds."""
    if waiting != "queued":
        _fail_hanas(database, clock, "advance_notice", permanent=False)
    announced.decide_account(None, HANA, "no-access", lee)
    (notice,) = [m for m in queued(database, "advance_notice") if m.recipient == HANA]
    (lost,) = queued(database, "access_lost")
    assert (notice.status, lost.payload["takes_back"]) == (SUPERSEDED, False)


def test_a_notice_that_timed_out_is_not_tried_again_after_her_lost_access_which_takes_it_back(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """The attempt may have landed, so "you lose access" takes it back; tried again, the notice could
    say "get ready, your list follows" after it."""
    _fail_hanas(database, clock, "advance_notice", permanent=False, timed_out=True)
    announced.decide_account(None, HANA, "no-access", lee)
    clock.advance(minutes=30)  # well past the retry
    due = claim_due(database, worker="w2", now=clock.now, lease=timedelta(minutes=5), limit=100)
    assert [m.kind for m in due if m.recipient == HANA] == ["access_lost"]
    (lost,) = queued(database, "access_lost")
    assert lost.payload["takes_back"] is True


@BOTH_BACKENDS
@pytest.mark.parametrize("decided", [True, False], ids=["decided out", "not decided"])
def test_a_cancel_tells_her_it_is_off_when_her_stopped_notice_may_have_reached_her(
    decided: bool, announced: MigrationService, database: Database, clock: FakeClock, lee: Actor, dana: Actor
) -> None:
    """The timed-out attempt may have landed: stopping its retry (or her "you lose access") does not make
    the move she may have heard of any less off."""
    _fail_hanas(database, clock, "advance_notice", permanent=False, timed_out=True)
    if decided:
        announced.decide_account(None, HANA, "no-access", lee)
    clock.advance(minutes=1)
    announced.cancel(None, dana, "budget")
    assert [m.status for m in queued(database, "advance_notice") if m.recipient == HANA] == [SUPERSEDED]
    (off,) = [m for m in queued(database, "migration_called_off") if m.recipient == HANA]
    assert off.payload["person"]["announced_for"] == "Friday 6 November 2026 14:00 UTC"


def test_a_new_date_is_not_announced_to_her_while_she_loses_access_and_is_once_she_keeps_it(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor, dana: Actor
) -> None:
    tracking = Tracking(database, announced, clock=clock)
    _deliver(tracking, database, clock)
    announced.decide_account(None, HANA, "no-access", lee)
    _deliver(tracking, database, clock)
    clock.advance(minutes=5)
    result = announced.announce(None, dana, "Monday 14:00 UTC")
    assert [m.status for m in queued(database, "advance_notice") if m.recipient == HANA] == ["sent"]
    assert (result.queued, result.users) == (result.users, len(announced.plan(None).users) - 1)
    told = announced.told(announced.status().id)
    assert told is not None and (told.people, told.untold) == (result.users, 0)
    announced.decide_account(None, HANA, HANA_AT_WORK, lee)  # given an account after all: the date is hers
    told = announced.told(announced.status().id)
    assert told is not None and told.untold == 1
    assert announced.announce(None, dana, "Monday 14:00 UTC").queued == 1
    hers = [m.status for m in queued(database, "advance_notice") if m.recipient == HANA]
    assert hers == ["sent", "pending"]


def test_a_notice_that_reached_her_is_taken_back_by_her_lost_access(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    _deliver(Tracking(database, announced, clock=clock), database, clock)
    announced.decide_account(None, HANA, "no-access", lee)
    (lost,) = queued(database, "access_lost")
    assert lost.payload["takes_back"] is True


def test_a_lost_access_told_early_that_failed_for_good_is_sent_anew_at_notify(
    announced: MigrationService,
    with_hana: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    announced.decide_account(None, HANA, "no-access", lee)
    _fail_hanas(database, clock, "access_lost", permanent=True)
    connect_and_notify(announced, with_hana, dana, lee)
    hana = _hanas_record(database)
    told = [(m.status, m.payload.get("affected_user_id")) for m in queued(database, "access_lost")]
    assert (told, hana.outcome) == ([(SUPERSEDED, None), ("pending", hana.id)], "no-access")


@BOTH_BACKENDS
def test_retry_failed_sends_again_a_failed_word_that_she_keeps_access_after_all(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    tracking = Tracking(database, announced, clock=clock)
    announced.decide_account(None, HANA, "no-access", lee)
    _deliver(tracking, database, clock)
    clock.advance(minutes=1)
    announced.decide_account(None, HANA, HANA_AT_WORK, lee)
    _fail_hanas(database, clock, "access_lost_taken_back", permanent=True)
    assert tracking.retry_failed(None).total == 1
    assert _told_early(database) == [("access_lost", "sent"), ("access_lost_taken_back", "pending")]


def test_a_decision_reaching_her_while_her_reminders_run_leaves_their_next_round_where_it_was(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    running = _hanas_schedule(database)
    assert running is not None and (running.status, running.sent) == ("active", 0)
    clock.advance(days=1)

    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)  # signing in is asked of her: required
    _deliver(tracking, database, clock)

    schedule = _hanas_schedule(database)
    assert schedule is not None and (schedule.status, schedule.next_at) == ("active", running.next_at)


def test_what_she_did_while_asked_to_choose_her_account_stays_done_after_the_first_decision(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """Git and SSH are done again for another account only once an account was decided: while she was
    asked to choose, she did them for none in particular."""
    hana = int(_hanas(database)[0].payload["affected_user_id"])
    for entry in delivered.todo_list(hana):
        if entry.key in {"clear-git-credentials", "re-add-ssh-keys"}:
            delivered.mark_done(entry.id, Actor(id="hana", email=HANA, name="Hana"))

    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)

    assert [(entry.key, entry.done_at is not None) for entry in delivered.todo_list(hana)] == [
        ("sign-in-work-account", False),
        ("clear-git-credentials", True),
        ("re-add-ssh-keys", True),
        ("recreate-pats", False),
    ]
    (told,) = _hanas(database, "pending")
    assert [item["key"] for item in told.payload["items"]] == ["sign-in-work-account", "recreate-pats"]


def test_a_pending_guest_decided_back_after_her_work_account_is_told_to_accept_the_invitation_again(
    hana_still_invited: FakeMicrosoft,
    tracking: Tracking,
    delivered: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    """The work account's message put *Sign in* first where *Accept the invitation* was: what she was told
    is her messages replayed in order, so the decision back lists the invitation again."""
    decided = decided_in_turn(
        (HANA_AS_GUEST, HANA_AT_WORK, HANA_AS_GUEST), delivered, tracking, database, clock, lee
    )

    assert [payload["items"][0]["key"] for payload in decided] == [
        "accept-invitation",
        "sign-in-work-account",
        "accept-invitation",
    ]
    assert [item["key"] for item in decided[2]["items"]] == ["accept-invitation", "clear-git-credentials"]
    assert [item["key"] for item in decided[2]["dropped"]] == ["recreate-pats"]


def test_an_account_she_read_only_in_a_reminder_is_told_as_the_correction_of_the_one_she_was_told(
    hana_thrice: FakeMicrosoft,
    tracking: Tracking,
    delivered: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> None:
    """A reminder listed her items in her guest account's words while the decision naming it waited; the
    list she now gets is in those words, but no message took back "hana.hart is your work account"."""
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    clock.advance(minutes=1)
    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)  # waits
    clock.advance(days=2)
    tracking.tick()
    hana = _hanas(database)[0].payload["affected_user_id"]
    with database.session() as session:
        for message in session.exec(select(OutboundMessage).where(OutboundMessage.kind == "todo_reminder")):
            if message.payload["affected_user_id"] == hana:
                message.status = "sent"  # the reminder got through before the decision
        session.commit()
    clock.advance(minutes=1)
    delivered.decide_account(None, HANA, HANA_ELSEWHERE, lee)  # waits too
    clock.advance(minutes=1)

    decided = delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)

    assert not decided.as_told
    (told,) = _hanas(database, "pending")
    assert (told.payload["account"], told.payload["corrects"], told.payload["items"]) == (
        HANA_AS_GUEST,
        HANA_AT_WORK,
        [],
    )
