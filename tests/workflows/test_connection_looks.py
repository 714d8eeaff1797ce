"""The watch's looks short of the portal step, kept in the database (fix74 finding 1): replicas on one
database make one read a period between them, and a restarted process goes on from the last look instead of
reading every resting migration at once. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from storage import ConnectionLook, Database
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from workflows.results import Actor
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY

ORG = "fabrikam"


def _poll(service: MigrationService) -> None:
    """What the watch does short of the portal step at each poll (`Conversation.watch`)."""
    looks = service.connection_looks()
    for look in looks.short_of_it:
        if not service.look_early(look, looks.until):
            break


def _reads(microsoft: FakeMicrosoft) -> int:
    return microsoft.calls.get("organization_tenant_id", 0)


def _planned(service: MigrationService, microsoft: FakeMicrosoft, dana: Actor) -> None:
    service.start(ORG, "fabrikam.com", dana)
    assert service.status(ORG).state == "planned"
    microsoft.calls.clear()


def test_two_replicas_polling_every_minute_read_a_resting_migration_once_every_15_minutes_between_them(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    first, second = make_service(), make_service()
    _planned(first, microsoft, dana)
    for _ in range(60):  # an hour of polls a minute apart, each replica at its own
        _poll(first)
        clock.advance(seconds=20)
        _poll(second)
        clock.advance(seconds=40)
    assert _reads(microsoft) == 4


def test_of_two_replicas_finding_the_same_look_due_at_once_only_one_reads(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    first, second = make_service(), make_service()
    _planned(first, microsoft, dana)
    first_looks, second_looks = first.connection_looks(), second.connection_looks()
    assert first_looks.short_of_it == second_looks.short_of_it
    (look,) = first_looks.short_of_it
    first.look_early(look, first_looks.until)
    second.look_early(look, second_looks.until)  # its claim lost: no read
    assert _reads(microsoft) == 1
    assert second.connection_looks().short_of_it == []


@BOTH_BACKENDS
def test_a_restarted_process_reads_a_resting_migration_when_its_look_falls_due_not_at_once(
    make_service: ServiceFactory, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor, database: Database
) -> None:
    before = make_service()
    _planned(before, microsoft, dana)
    _poll(before)
    assert _reads(microsoft) == 1
    looked_at = clock.now
    clock.advance(minutes=1)
    restarted = make_service()
    _poll(restarted)
    assert _reads(microsoft) == 1
    assert restarted.connection_looks().short_of_it == []
    with database.session() as session:
        (kept,) = session.exec(select(ConnectionLook)).all()
        assert kept.looked_at == looked_at
    clock.advance(minutes=14)
    _poll(restarted)
    assert _reads(microsoft) == 2
