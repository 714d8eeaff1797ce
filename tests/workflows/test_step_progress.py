"""`invite` and `remove-users` report how far they got, paced for a chat message updated in place: at the
start, each tenth of the way or every `progress_every` (whichever comes first), and at the end; never once
a person, which for a few thousand people would be thousands of updates."""

from __future__ import annotations

import itertools
from datetime import timedelta

from tests.workflows.fakes import FakeClock, FakeMicrosoft
from workflows.directory import OrgUser
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.step_progress import Paced, StepProgress

EVERY = timedelta(seconds=10)
"""`WorkflowSettings.progress_every`'s default."""


def _paced(total: int, seconds_a_person: float) -> list[tuple[int, float]]:
    """What `Paced` reports of `total` people, each taking `seconds_a_person`: how many were done, when."""
    clock, reports = FakeClock(), []
    start = clock.now
    paced = Paced(
        lambda done, _: reports.append((done, (clock.now - start).total_seconds())), total, clock, EVERY
    )
    for done in range(1, total + 1):
        clock.advance(seconds=seconds_a_person)
        paced(done)
    return reports


def test_a_few_thousand_done_at_once_are_reported_each_tenth_of_the_way() -> None:
    assert [done for done, _ in _paced(3_000, 0.0)] == [300 * tenth for tenth in range(11)]


def test_a_few_thousand_done_slowly_are_reported_every_ten_seconds_and_each_tenth() -> None:
    reports = _paced(3_000, 0.5)  # 25 minutes

    assert reports[0] == (0, 0.0) and reports[-1] == (3_000, 1_500.0)
    for (done, at), (then_done, then) in itertools.pairwise(reports):
        a_tenth_on = then_done * 10 // 3_000 > done * 10 // 3_000
        assert then - at == EVERY.total_seconds() or a_tenth_on, (done, then_done)
    assert len(reports) <= 1_500 / EVERY.total_seconds() + 10 + 1


def test_a_step_that_stops_early_reports_no_end_it_did_not_reach() -> None:
    clock, reports = FakeClock(), []
    paced = Paced(lambda done, _: reports.append(done), 1_000, clock, EVERY)
    for done in range(1, 250):
        paced(done)
    assert reports == [0, 100, 200]


CROWD = 40


def _crowd(microsoft: FakeMicrosoft) -> list[str]:
    """`CROWD` more people on Microsoft accounts join Fabrikam, none in its directory: their ids."""
    people = [
        OrgUser(id=f"e-{n}", principal_name=f"p{n}@outlook.com", mail_address=f"p{n}@outlook.com")
        for n in range(CROWD)
    ]
    microsoft.users.extend(people)
    return [person.id for person in people]


def _each_tenth(total: int) -> list[int]:
    """How many are done when a report says so, each tenth of the way: the first past each tenth."""
    return [-(-total * tenth // 10) for tenth in range(11)]


def _heard(reports: list[tuple[int, int]]) -> StepProgress:
    return lambda done, total: reports.append((done, total))


def test_invite_reports_from_none_to_everyone(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    _crowd(microsoft)
    service.start("fabrikam", "fabrikam.com", dana)
    reports: list[tuple[int, int]] = []

    service.invite(None, dana, _heard(reports))

    total = CROWD + 2  # Bob and Cy of Fabrikam too
    assert reports == [(done, total) for done in _each_tenth(total)]


def test_a_refused_invitation_stops_the_reports_where_it_stopped(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    _crowd(microsoft)
    microsoft.deny_invites = True
    service.start("fabrikam", "fabrikam.com", dana)
    reports: list[tuple[int, int]] = []

    assert service.invite(None, dana, _heard(reports)).denied
    assert reports == [(0, CROWD + 2)]  # the first was refused, and nobody after it asked about


def test_remove_users_reports_from_none_to_everyone(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    leaving = _crowd(microsoft)
    service.start("fabrikam", "fabrikam.com", dana)
    reports: list[tuple[int, int]] = []

    assert len(service.remove_users(None, leaving, dana, _heard(reports)).removed) == CROWD
    assert reports == [(done, CROWD) for done in _each_tenth(CROWD)]
