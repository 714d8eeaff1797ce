"""`invite` and `remove-users` report how far they got, paced for a chat message updated in place: nothing
for a step over within `progress_every`, then each tenth of the way or every `progress_every` (whichever
comes first), never once a person; the end carries the step's real counts, and every report names the
step by the audit entry that began it, so a `resume` after the process died reports on the same line."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta

import pytest

from storage import Database
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft, ProcessKilled
from workflows.directory import Invitation, MicrosoftError, OrgUser
from workflows.errors import WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.step_progress import Paced, StepReport

pytestmark = SQLITE_ONLY

EVERY = timedelta(seconds=10)
"""`WorkflowSettings.progress_every`'s default."""


def _paced(total: int, seconds_a_person: float, *, stop_at: int | None = None) -> list[StepReport]:
    """What `Paced` reports of `total` people, each taking `seconds_a_person`, the step raising after
    `stop_at` of them if given."""
    clock, reports = FakeClock(), list[StepReport]()
    with (
        pytest.raises(RuntimeError) if stop_at else nullcontext(),
        Paced(reports.append, "s", "invite", total, clock=clock, every=EVERY, began=clock.now) as paced,
    ):
        for done in range(1, total + 1):
            clock.advance(seconds=seconds_a_person)
            paced(done, done - done // 100)  # one in a hundred fails
            if done == stop_at:
                raise RuntimeError("Microsoft broke off")
    return reports


def test_a_step_over_within_progress_every_reports_nothing() -> None:
    """A few people, or thousands at once: the reply comes before anyone would wonder; no extra message."""
    assert _paced(3, 2.0) == []
    assert _paced(3_000, 0.003) == []


def test_a_few_thousand_done_slowly_are_reported_every_ten_seconds_and_each_tenth() -> None:
    reports = _paced(3_000, 0.5)  # 25 minutes

    assert reports[0] == StepReport("s", "invite", 20, 3_000, 20)  # once ten seconds have passed
    assert reports[-1] == StepReport("s", "invite", 3_000, 3_000, 2_970, ended=True)
    assert [report.ended for report in reports] == [False] * (len(reports) - 1) + [True]
    for report, then in itertools.pairwise(reports[:-1]):
        a_tenth_on = then.done * 10 // 3_000 > report.done * 10 // 3_000
        assert then.done - report.done == 20 or a_tenth_on, (report, then)  # 20 people: ten seconds
    assert len(reports) <= 1_500 / EVERY.total_seconds() + 10 + 1


def test_a_long_step_done_at_once_after_a_while_is_reported_each_tenth() -> None:
    reports = _paced(3_000, 0.01)  # 30 seconds: the first report at ten, then each tenth

    assert [report.done for report in reports] == [1_000, *range(1_200, 3_000, 300), 3_000]


def test_a_step_that_breaks_off_ends_with_how_many_it_did_not_the_last_report() -> None:
    reports = _paced(1_000, 1.0, stop_at=249)

    assert [report.done for report in reports[:-1]] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120,
                                                        130, 140, 150, 160, 170, 180, 190, 200, 210, 220,
                                                        230, 240]  # fmt: skip
    assert reports[-1] == StepReport("s", "invite", 249, 1_000, 247, ended=True)


CROWD = 40


def _crowd(microsoft: FakeMicrosoft) -> list[str]:
    """`CROWD` more people on Microsoft accounts join Fabrikam, none in its directory: their ids."""
    people = [
        OrgUser(id=f"e-{n}", principal_name=f"p{n}@outlook.com", mail_address=f"p{n}@outlook.com")
        for n in range(CROWD)
    ]
    microsoft.users.extend(people)
    return [person.id for person in people]


def _slow(microsoft: FakeMicrosoft, clock: FakeClock, then: Callable[[int], None] = lambda n: None) -> None:
    """Each invitation and removal takes Microsoft a second; `then` hears how many were asked so far."""
    invite, remove, asked = microsoft.invite_guest, microsoft.remove_org_user, itertools.count(1)

    def invite_guest(tenant_id: str, **details: str) -> Invitation:
        clock.advance(seconds=1)
        then(next(asked))
        return invite(tenant_id, **details)

    def remove_org_user(organization: str, user_id: str) -> None:
        clock.advance(seconds=1)
        then(next(asked))
        remove(organization, user_id)

    microsoft.invite_guest = invite_guest  # type: ignore[method-assign]
    microsoft.remove_org_user = remove_org_user  # type: ignore[method-assign]


def test_invite_reports_on_one_step_and_ends_with_everyone_invited(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    _crowd(microsoft)
    _slow(microsoft, clock)
    service.start("fabrikam", "fabrikam.com", dana)
    reports: list[StepReport] = []

    service.invite(None, dana, reports.append)

    total = CROWD + 2  # Bob and Cy of Fabrikam too
    # ten seconds in, then each tenth of the way (4.2 people), then the end
    assert [(r.done, r.succeeded, r.ended) for r in reports] == [
        *((done, done, False) for done in (10, 13, 17, 21, 26, 30, 34, 38)),
        (42, 42, True),
    ]
    assert {(r.step, r.action, r.total) for r in reports} == {(reports[0].step, "invite", total)}
    invite_entry = next(e for e in service.audit_trail() if e.action == "invite")
    assert reports[0].step.endswith(f"-step-{invite_entry.id}")


@BOTH_BACKENDS
def test_a_refused_invitation_ends_the_reports_where_it_stopped(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    _crowd(microsoft)

    def refused_after_twenty(asked: int) -> None:
        microsoft.deny_invites = asked > 20

    _slow(microsoft, clock, refused_after_twenty)
    service.start("fabrikam", "fabrikam.com", dana)
    reports: list[StepReport] = []

    assert service.invite(None, dana, reports.append).denied
    assert [(r.done, r.succeeded, r.ended) for r in reports] == [
        *((done, done, False) for done in (10, 13, 17)),
        (21, 20, False),
        (21, 20, True),
    ]  # the 21st was refused: asked, not invited


def test_a_removal_microsoft_refuses_ends_with_nobody_removed(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    leaving = _crowd(microsoft)
    _slow(microsoft, clock)
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.broken.add("remove_org_user")
    reports: list[StepReport] = []

    result = service.remove_users(None, leaving[:20], dana, reports.append)

    assert result.removed == () and len(result.failed) == 20
    assert reports[-1] == StepReport(reports[0].step, "remove", 20, 20, 0, ended=True)


def _invite_killed_after_25(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> list[StepReport]:
    """`invite`, its process killed (SIGKILL) as Microsoft is asked for the 26th invitation: what its
    progress line heard while the process lived."""
    heard: list[StepReport] = []
    alive = True

    def killed_after_25(asked: int) -> None:
        nonlocal alive
        if asked == 26 and alive:
            alive = False
            raise ProcessKilled

    _slow(microsoft, clock, killed_after_25)

    def heard_while_alive(report: StepReport) -> None:
        if alive:  # a process killed by SIGKILL says nothing more, however its code was meant to end
            heard.append(report)

    with pytest.raises(ProcessKilled):
        make_service().invite(None, dana, heard_while_alive)
    return heard


def test_a_resume_after_the_process_died_goes_on_with_the_same_step_and_ends_it(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    """kill -9 runs nothing: the first run's last report says "… done so far", and only the resume can
    end it, by naming the same step."""
    _crowd(microsoft)
    make_service().start("fabrikam", "fabrikam.com", dana)
    heard = _invite_killed_after_25(make_service, microsoft, clock, dana)
    assert heard[-1].ended is False  # what the dead process left: "20 done so far…"
    with pytest.raises(WorkflowError, match="when the step's lease ends"):
        make_service().resume(None, dana, heard.append)  # too early to tell a crash from a slow step

    clock.advance(minutes=11)
    make_service().resume(None, dana, heard.append)

    assert {report.step for report in heard} == {heard[0].step}
    assert heard[-1].ended and heard[-1].done == heard[-1].total == heard[-1].succeeded
    assert len(microsoft.invitations) == CROWD + 2


def test_an_invitation_that_failed_is_not_counted_as_invited(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    _crowd(microsoft)

    def broken_once(asked: int) -> None:
        if asked == 16:
            raise MicrosoftError("Microsoft Graph kept answering 503")

    _slow(microsoft, clock, broken_once)
    service.start("fabrikam", "fabrikam.com", dana)
    reports: list[StepReport] = []

    service.invite(None, dana, reports.append)

    assert reports[-1] == StepReport(reports[0].step, "invite", CROWD + 2, CROWD + 2, CROWD + 1, ended=True)


def test_a_resume_after_a_failure_goes_on_with_the_line_the_failure_ended(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    """The resume's own audit entry does not begin a step: it goes on with the one that failed, in its
    counts (fix64: it ended "removed 5 of 5", of those left)."""
    leaving = _crowd(microsoft)

    def fails_at_the_sixteenth(asked: int) -> None:
        if asked == 16:
            raise RuntimeError("the database went away")

    _slow(microsoft, clock, fails_at_the_sixteenth)
    service.start("fabrikam", "fabrikam.com", dana)
    reports: list[StepReport] = []

    service.remove_users(None, leaving[:20], dana, reports.append)
    assert service.status().state == "failed"
    assert reports[-1] == StepReport(reports[0].step, "remove", 15, 20, 15, ended=True)
    service.resume(None, dana, reports.append)

    assert {report.step for report in reports} == {reports[0].step}
    assert reports[-1] == StepReport(reports[0].step, "remove", 20, 20, 20, ended=True)


def _stopping_at(
    asked_then: int, database: Database, microsoft: FakeMicrosoft, clock: FakeClock
) -> tuple[MigrationService, threading.Event]:
    """A service whose process is told to stop (SIGTERM) while Microsoft answers its `asked_then`th call."""
    stopping = threading.Event()

    def signalled(asked: int) -> None:
        if asked == asked_then:
            stopping.set()

    _slow(microsoft, clock, signalled)
    return MigrationService(database, microsoft, clock=clock, stopping=stopping), stopping


def test_a_resumed_invite_counts_on_from_where_the_step_stopped_not_from_zero(
    make_service: ServiceFactory, database: Database, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    """fix64: the resume's line went back to "1 done so far…" of the 42, and looked up each one invited
    before the stop again."""
    _crowd(microsoft)
    stopped, stopping = _stopping_at(30, database, microsoft, clock)
    make_service().start("fabrikam", "fabrikam.com", dana)
    reports: list[StepReport] = []
    stopped.invite(None, dana, reports.append)
    first_run = len(reports)
    assert reports[-1] == StepReport(reports[0].step, "invite", 30, CROWD + 2, 30, ended=True)
    stopping.clear()
    looked_up = microsoft.calls["find_directory_user"]

    make_service().resume(None, dana, reports.append)

    resumed = reports[first_run:]
    assert [(r.done, r.succeeded) for r in resumed] == [(31, 31), (34, 34), (38, 38), (42, 42)]
    assert {(r.step, r.total) for r in resumed} == {(reports[0].step, CROWD + 2)} and resumed[-1].ended
    assert microsoft.calls["find_directory_user"] - looked_up == CROWD + 2 - 30  # only those left
    assert len(microsoft.invitations) == CROWD + 2


def test_a_resumed_invite_stopped_again_says_how_far_the_whole_step_got(
    make_service: ServiceFactory, database: Database, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    _crowd(microsoft)
    stopped, stopping = _stopping_at(30, database, microsoft, clock)
    make_service().start("fabrikam", "fabrikam.com", dana)
    stopped.invite(None, dana)
    stopping.clear()
    _slow(microsoft, clock, lambda asked: stopping.set() if asked == 5 else None)

    stopped.resume(None, dana)  # stops after 5 more: 35 of the 42

    assert stopped.status().blocked_reason == (
        "The invitations were interrupted after 35 of 42 (the bot was stopping)"
    )


def test_a_resumed_invite_after_connecting_counts_the_whole_step(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    """After connecting the resume reads who is still without an account: the 25 invited before the process
    died are not among them, yet they are the step's."""
    _crowd(microsoft)
    microsoft.connect(microsoft.tenant_info.id)
    assert make_service().start("fabrikam", "fabrikam.com", dana).state == "connected"
    heard = _invite_killed_after_25(make_service, microsoft, clock, dana)
    first_run = len(heard)
    clock.advance(minutes=11)

    make_service().resume(None, dana, heard.append)

    resumed = heard[first_run:]
    assert {(r.step, r.total) for r in heard} == {(heard[0].step, CROWD + 2)}
    assert resumed[0].done > 25 and resumed[-1] == StepReport(heard[0].step, "invite", 42, 42, 42, ended=True)


@BOTH_BACKENDS
def test_a_resumed_removal_stopped_again_says_how_far_the_whole_removal_got(
    make_service: ServiceFactory, database: Database, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    """fix64: `status` said "after 15 of 20", then the resume's stop "after 2 of 5", of those left."""
    leaving = _crowd(microsoft)
    stopped, stopping = _stopping_at(15, database, microsoft, clock)
    make_service().start("fabrikam", "fabrikam.com", dana)
    stopped.remove_users(None, leaving[:20], dana)
    assert (
        stopped.status().blocked_reason
        == "The removals were interrupted after 15 of 20 (the bot was stopping)"
    )
    stopping.clear()
    _slow(microsoft, clock, lambda asked: stopping.set() if asked == 2 else None)
    reports: list[StepReport] = []

    stopped.resume(None, dana, reports.append)

    assert (
        stopped.status().blocked_reason
        == "The removals were interrupted after 17 of 20 (the bot was stopping)"
    )
    assert reports[-1] == StepReport(reports[0].step, "remove", 17, 20, 17, ended=True)
    make_service().resume(None, dana, reports.append)
    assert reports[-1] == StepReport(reports[0].step, "remove", 20, 20, 20, ended=True)
    assert microsoft.removed == leaving[:20]
