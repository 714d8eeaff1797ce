"""Sign-ins verified from Azure DevOps' data: ticked, audited, told once, read on a paced schedule."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from storage import Database, Migration, TodoItem
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.fakes import FakeClock, FakeMicrosoft, connect_and_notify
from tests.workflows.outbox import queued
from tests.workflows.replays import CHANNEL
from workflows.directory import OrgUser
from workflows.errors import WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.stages import verification
from workflows.tracking import Tracking

pytestmark = SQLITE_ONLY


def _item(service: MigrationService, email: str, key: str) -> int:
    return next(entry.id for entry in service.todo_list(email) if entry.key == key)


def test_a_sign_in_after_the_connection_ticks_the_item_audits_it_and_tells_the_user_once(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    clock.advance(hours=1)
    microsoft.sign_in("e-ann", clock.now)
    checks = notified.check_due_sign_ins()
    assert [check.verified for check in checks] == [("ann@fabrikam.com",)]

    entry = next(e for e in notified.todo_list("ann@fabrikam.com") if e.key == "sign-in-work-account")
    assert entry.done_at == clock.now and entry.done_by == "aadbot"
    with database.session() as session:
        item = session.get(TodoItem, entry.id)
        assert item is not None and item.verified_at == clock.now
    audited = [e for e in notified.audit_trail() if e.action == "sign_in_verified"]
    assert len(audited) == 1 and audited[0].actor_name == "aadbot"
    assert (
        audited[0].details["user"] == "ann@fabrikam.com"
        and audited[0].details["self_reported_before"] is False
    )
    told = queued(database, "sign_in_verified")
    assert [(m.recipient, m.payload["title"]) for m in told] == [
        ("ann@fabrikam.com", "Sign in with your work account")
    ]

    clock.advance(hours=1)
    microsoft.sign_in("e-ann", clock.now)  # signs in again the next day: nothing new to tell
    clock.advance(days=2)
    notified.check_due_sign_ins()
    assert len(queued(database, "sign_in_verified")) == 1
    assert len([e for e in notified.audit_trail() if e.action == "sign_in_verified"]) == 1


def test_a_read_of_the_sign_ins_that_ticks_an_item_loads_no_plan(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Reads come every 15 minutes, and the plan is the migration row's bulk (13 MB of JSON at 20,000
    people): ticking an item, auditing it and telling the person need the row's name and state only."""
    clock.advance(hours=1)
    microsoft.sign_in("e-ann", clock.now)
    plan_reads = 0

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        nonlocal plan_reads
        plan_reads += bool(re.search(r'\bmigration\."?plan\b', statement))  # not its fingerprint

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        checks = notified.check_due_sign_ins()
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert [check.verified for check in checks] == [("ann@fabrikam.com",)]
    assert [m.recipient for m in queued(database, "sign_in_verified")] == ["ann@fabrikam.com"]
    assert plan_reads == 0


def test_a_guest_is_thanked_for_signing_in_with_their_guest_account_not_a_work_account(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    clock.advance(hours=1)
    microsoft.sign_in("e-cy", clock.now)  # invited as a guest under cy@gmail.com
    microsoft.sign_in("e-ann", clock.now)
    notified.check_due_sign_ins()
    told = {m.recipient: m.payload["account"] for m in queued(database, "sign_in_verified")}
    assert told == {"cy@gmail.com": "guest account", "ann@fabrikam.com": "work account"}


def test_a_sign_in_before_the_connection_or_with_the_microsoft_account_verifies_nothing(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    microsoft.sign_in("e-dana", clock.now - timedelta(days=1))  # before the connection
    microsoft.users = [
        user if user.id != "e-dana" else user.__class__(**{**user.__dict__, "origin": "aad"})
        for user in microsoft.users
    ]
    clock.advance(minutes=5)
    assert notified.check_due_sign_ins()[0].verified == ()
    assert queued(database, "sign_in_verified") == []


@BOTH_BACKENDS
def test_self_reported_then_verified_is_recorded_without_a_second_message(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database, lee: Actor
) -> None:
    notified.mark_done(_item(notified, "lee@fabrikam.com", "sign-in-work-account"), lee)
    clock.advance(hours=2)
    microsoft.sign_in("e-lee", clock.now)
    notified.check_due_sign_ins()
    audited = [e for e in notified.audit_trail() if e.action == "sign_in_verified"]
    assert [e.details["self_reported_before"] for e in audited] == [True]
    assert queued(database, "sign_in_verified") == []


def test_reads_are_paced_and_incremental_with_a_daily_full_read(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock
) -> None:
    notified.check_due_sign_ins()  # the first read is a full one
    assert microsoft.sign_ins_since == [None]
    clock.advance(minutes=5)
    assert notified.check_due_sign_ins() == []  # not due: nothing asked
    assert len(microsoft.sign_ins_since) == 1
    clock.advance(minutes=11)
    microsoft.sign_in("e-ann", clock.now)
    assert notified.check_due_sign_ins()[0].full is False
    connected = notified.audit_trail()
    confirmed = next(e.at for e in connected if e.action == "connection_confirmed")
    assert microsoft.sign_ins_since[1] == confirmed  # nobody had signed in since: back to the connection
    clock.advance(minutes=16)
    notified.check_due_sign_ins()
    assert microsoft.sign_ins_since[2] == clock.now - timedelta(minutes=16)  # back to Ann's sign-in only
    clock.advance(hours=24)
    assert notified.check_due_sign_ins()[0].full is True
    assert microsoft.sign_ins_since[3] is None


def test_reads_keep_to_their_grid_and_the_full_read_to_its_day_whoever_looks_late(
    notified: MigrationService, clock: FakeClock
) -> None:
    notified.check_due_sign_ins()  # the watch opens with a full read
    confirmed = next(e.at for e in notified.audit_trail() if e.action == "connection_confirmed")
    grid = timedelta(minutes=15)
    clock.advance(minutes=40)  # late: a rehearsal's walk skips the reads between
    swept = clock.now
    assert notified.check_sign_ins(None).full  # an admin's read, off the grid
    (read,) = notified.next_due().reads
    # where it would have been had every read come on time, not 15 minutes after this one
    assert read == confirmed + grid * ((clock.now - confirmed) // grid + 1) and read - clock.now < grid

    day_later = swept + timedelta(days=1)
    assert (day_later - confirmed) % grid, "the full read must fall due between two reads"
    clock.now = confirmed + grid * ((day_later - confirmed) // grid)  # the last read before it
    assert [check.full for check in notified.check_due_sign_ins()] == [False]
    clock.now = day_later
    assert [check.full for check in notified.check_due_sign_ins()] == [True]  # on time, not at the next read


@BOTH_BACKENDS
def test_an_outage_backs_off_and_the_next_read_catches_up(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock
) -> None:
    microsoft.broken.add("sign_ins")
    assert notified.check_due_sign_ins() == []
    clock.advance(minutes=16)
    assert notified.check_due_sign_ins() == []  # 30 minutes after one failure
    assert microsoft.calls["sign_ins"] == 1
    microsoft.broken.clear()
    microsoft.sign_in("e-ann", clock.now)
    clock.advance(minutes=15)
    assert notified.check_due_sign_ins()[0].verified == ("ann@fabrikam.com",)


def test_while_one_look_makes_the_daily_full_read_another_look_does_not_make_it_again(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock
) -> None:
    """Every replica looks every minute, and a full read of a big organization takes long: the look that
    makes it claims it in the commit that claims the read, or the others would read everyone again."""
    notified.check_due_sign_ins()  # the watch opens with a full read
    clock.advance(days=1)  # the daily full read is due
    reads = microsoft.calls["sign_ins"]
    real = microsoft.sign_ins
    another_look: list[list[verification.SignInCheck]] = []

    def slow_full_read(organization: str, since: datetime | None) -> list[OrgUser]:
        if not another_look:  # while this look reads, another replica's look
            another_look.append(notified.check_due_sign_ins())
        return real(organization, since)

    microsoft.sign_ins = slow_full_read  # type: ignore[method-assign]
    assert [check.full for check in notified.check_due_sign_ins()] == [True]
    assert another_look == [[]] and microsoft.calls["sign_ins"] - reads == 1


@BOTH_BACKENDS
def test_a_failed_full_read_gives_its_claim_back_and_the_retry_reads_everyone(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock
) -> None:
    notified.check_due_sign_ins()
    clock.advance(days=1)
    microsoft.broken.add("sign_ins")
    assert notified.check_due_sign_ins() == []
    microsoft.broken.clear()
    clock.advance(minutes=30)  # the back-off after one failure
    assert [check.full for check in notified.check_due_sign_ins()] == [True]
    assert microsoft.sign_ins_since[-1] is None


def test_a_full_read_whose_reader_died_falls_due_again_an_hour_after_it_started(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock
) -> None:
    notified.check_due_sign_ins()
    clock.advance(days=1)
    started = clock.now
    real = microsoft.sign_ins

    def process_dies(organization: str, since: datetime | None) -> list[OrgUser]:
        raise KeyboardInterrupt  # nothing after the claim runs: neither the back-off nor the apply

    microsoft.sign_ins = process_dies  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        notified.check_due_sign_ins()
    microsoft.sign_ins = real  # type: ignore[method-assign]
    clock.advance(minutes=15)
    assert [check.full for check in notified.check_due_sign_ins()] == [False]  # still claimed
    clock.now = started + timedelta(hours=1)
    assert [check.full for check in notified.check_due_sign_ins()] == [True]


def test_progress_tells_verified_self_reported_and_open_apart(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database, lee: Actor
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    notified.mark_done(_item(notified, "lee@fabrikam.com", "clear-git-credentials"), lee)
    clock.advance(hours=1)
    microsoft.sign_in("e-ann", clock.now)
    tracking.tick()  # the watch reads sign-ins with the reminders
    report = tracking.progress(None)
    sign_in = next(item for item in report.items if item.key == "sign-in-work-account")
    git = next(item for item in report.items if item.key == "clear-git-credentials")
    assert (sign_in.verified, sign_in.self_reported, sign_in.total - sign_in.done) == (
        1,
        0,
        sign_in.total - 1,
    )
    assert (git.verified, git.self_reported) == (0, 1)
    assert (report.items_verified, report.items_done) == (1, 2)
    assert [user.email for user in report.users if user.signed_in] == ["ann@fabrikam.com"]
    assert report.connected_at is not None


def test_people_still_on_their_microsoft_account_are_listed_with_the_next_step(
    service: MigrationService,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
    dana: Actor,
    lee: Actor,
) -> None:
    service.start("fabrikam", "fabrikam.com", dana, channel=CHANNEL)  # nobody invited: Bob and Cy
    connect_and_notify(service, microsoft, dana, lee)
    microsoft.sign_in("e-dana", clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    tracking = Tracking(database, service, clock=clock)
    tracking.tick()
    report = tracking.progress(None)
    # Ann and Lee have not signed in yet, but their identities carry over by themselves: not listed.
    assert [(p.principal_name, p.outcome, p.next_step) for p in report.still_personal] == [
        ("bob@outlook.com", "invite", "invite"),
        ("cy@gmail.com", "invite", "invite"),
    ]


def test_the_digest_names_who_has_not_signed_in_after_the_grace_days(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    tracking = Tracking(database, notified, clock=clock)
    microsoft.sign_in("e-ann", clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    tracking.tick()
    for _ in range(12):  # a week and a half of ticks, twice a day
        clock.advance(hours=12)
        tracking.tick()
    digests = queued(database, "straggler_digest")
    assert digests, "the digest went out"
    last = digests[-1].payload
    assert last["grace_working_days"] == 3
    named = {email for email, _ in last["not_signed_in"]}
    assert "ann@fabrikam.com" not in named and {"dana@fabrikam.com", "lee@fabrikam.com"} <= named
    early = [d.payload for d in digests if d.payload["not_signed_in"]]
    assert (
        early and digests[0].payload["not_signed_in"] == []
    )  # the first digest comes before the grace days end


def test_checking_now_needs_a_connected_migration_with_lists(service: MigrationService, dana: Actor) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    with pytest.raises(WorkflowError, match="once fabrikam is connected"):
        service.check_sign_ins(None)


def test_checking_now_reads_everyone(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock
) -> None:
    notified.check_due_sign_ins()
    clock.advance(minutes=1)
    microsoft.sign_in("e-lee", clock.now)
    result = notified.check_sign_ins("fabrikam")
    assert result.full and result.verified == ("lee@fabrikam.com",)
    assert microsoft.sign_ins_since == [None, None]


@BOTH_BACKENDS  # two connections: the server decides the race
def test_checking_now_when_an_item_is_ticked_meanwhile_says_to_check_again_not_that_another_check_runs(
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
    lee: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lee ticks his item himself while the check verifies it: its commit fails, and nothing else ran."""
    clock.advance(minutes=1)
    microsoft.sign_in("e-lee", clock.now)
    verifying = verification._verify

    def after_lee_ticks_it(session: Session, row: Migration, item: TodoItem, *rest: Any) -> None:
        monkeypatch.setattr(verification, "_verify", verifying)
        assert item.id is not None
        notified.mark_done(item.id, lee)
        verifying(session, row, item, *rest)

    monkeypatch.setattr(verification, "_verify", after_lee_ticks_it)
    with pytest.raises(WorkflowError) as raised:
        notified.check_sign_ins("fabrikam")
    assert str(raised.value) == (
        "Something changed in fabrikam while I read its sign-ins, so I recorded nothing; "
        "try `check-sign-ins` again."
    )
    assert notified.check_sign_ins("fabrikam").verified == ("lee@fabrikam.com",)


@BOTH_BACKENDS
def test_a_full_read_of_a_big_organization_verifies_only_who_signed_in(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verification, "IN_LIST_AT_MOST", 1)  # as if thousands had signed in at once
    monkeypatch.setattr("storage.database.IN_LIST_AT_MOST", 1)  # and so many at a time everywhere
    clock.advance(minutes=1)
    microsoft.sign_in("e-lee", clock.now)
    microsoft.sign_in("e-ann", clock.now)
    assert sorted(notified.check_sign_ins(None).verified) == ["ann@fabrikam.com", "lee@fabrikam.com"]


def _found_at_the_start(service: MigrationService, microsoft: FakeMicrosoft, dana: Actor) -> None:
    microsoft.connect(microsoft.tenant_info.id)
    service.start("fabrikam", "fabrikam.com", dana)


def _found_by_the_watch(service: MigrationService, microsoft: FakeMicrosoft, dana: Actor) -> None:
    """Planned, then connected in the portal: the watch records it as connected outside the approval."""
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.connect(microsoft.tenant_info.id)
    assert service.check_connection().outcome == "connected"


@pytest.mark.parametrize("found", [_found_at_the_start, _found_by_the_watch])
def test_an_organization_found_connected_is_watched_from_when_the_bot_found_it(
    service: MigrationService,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
    dana: Actor,
    found: Callable[[MigrationService, FakeMicrosoft, Actor], None],
) -> None:
    """rev48: found by the watch, it was watched from the lists' sending, two hours later: whoever signed in
    with their new account meanwhile was not counted until they signed in again."""
    found(service, microsoft, dana)
    found_at = clock.now
    clock.advance(hours=2)
    service.notify(None, dana)
    tracking = Tracking(database, service, clock=clock)
    tracking.tick()  # opens the watch
    assert tracking.progress(None).connected_at == found_at
