"""Decisions about one person in the same instant (two admins clicking together, a clock that does not move
between them) each tell her their own news: a message is told apart by its decision, not by the moment it
was made. The same decision made again still tells her nothing."""

from __future__ import annotations

from storage import Database
from tests.storage.databases import SQLITE_ONLY
from tests.workflows import test_lists_given_again as given_again
from tests.workflows.fakes import FakeClock
from tests.workflows.test_lists_given_again import (
    HANA,
    HANA_AS_GUEST,
    HANA_AT_WORK,
    _deliver,
    _hanas,
    _told_early,
)
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.tracking import Tracking

pytestmark = SQLITE_ONLY

with_hana, tracking, delivered, announced = (
    given_again.with_hana,
    given_again.tracking,
    given_again.delivered,
    given_again.announced,
)
"""`test_lists_given_again`'s: Fabrikam with Hana, whose address two directory accounts carry."""


def _decided_in_one_instant(
    choices: tuple[str, ...],
    service: MigrationService,
    tracking: Tracking,
    database: Database,
    clock: FakeClock,
    lee: Actor,
) -> list[tuple[str, str]]:
    """Each choice decided for Hana in turn, the clock standing still, each message delivered: the kind of
    each message she got since her list, with the account it names."""
    before = len(_hanas(database))
    for choice in choices:
        service.decide_account(None, HANA, choice, lee)
        _deliver(tracking, database, clock)
    return [(m.kind, str(m.payload.get("account", ""))) for m in _hanas(database)[before:]]


def test_accounts_decided_back_and_forth_in_one_instant_each_tell_her_so(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    told = _decided_in_one_instant(
        (HANA_AT_WORK, HANA_AS_GUEST, HANA_AT_WORK), delivered, tracking, database, clock, lee
    )

    assert told == [
        ("account_decided", HANA_AT_WORK),
        ("account_decided", HANA_AS_GUEST),
        ("account_decided", HANA_AT_WORK),
    ]


def test_access_taken_given_and_taken_again_in_one_instant_each_tell_her_so(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    told = _decided_in_one_instant(
        ("no-access", HANA_AT_WORK, "no-access", HANA_AT_WORK), delivered, tracking, database, clock, lee
    )

    assert told == [
        ("access_lost", ""),
        ("access_kept", HANA_AT_WORK),
        ("access_lost", ""),
        ("access_kept", HANA_AT_WORK),
    ]


def test_the_same_decision_made_again_in_the_same_instant_tells_her_nothing_more(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    told = _decided_in_one_instant((HANA_AT_WORK, HANA_AT_WORK), delivered, tracking, database, clock, lee)

    assert told == [("account_decided", HANA_AT_WORK)]


def test_told_early_she_loses_access_twice_in_one_instant_she_hears_each(
    announced: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """Before `notify`, the advance notice having reached her: out, back in, out again."""
    tracking = Tracking(database, announced, clock=clock)
    _deliver(tracking, database, clock)
    for choice in ("no-access", HANA_AT_WORK, "no-access"):
        announced.decide_account(None, HANA, choice, lee)
        _deliver(tracking, database, clock)

    assert _told_early(database) == [
        ("access_lost", "sent"),
        ("access_lost_taken_back", "sent"),
        ("access_lost", "sent"),
    ]
