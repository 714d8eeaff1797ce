"""The start's summary is a notice recorded with the first prerequisite result, whichever step commits
that result; it is recorded once, however many checks follow."""

from __future__ import annotations

from sqlmodel import col, select

from storage import Database, OutboundMessage
from tests.storage.databases import SQLITE_ONLY
from tests.workflows.fakes import FakeMicrosoft
from workflows import notices
from workflows.results import Actor
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY


def summaries(database: Database) -> list[tuple[str, str]]:
    """Each recorded start summary: its recipient and the state it reports."""
    with database.session() as session:
        rows = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.kind == notices.STARTED)
            .order_by(col(OutboundMessage.id))
        ).all()
    return [(row.recipient, row.payload["status"]["state"]) for row in rows]


def test_the_summary_reports_the_check_it_was_committed_with(
    service: MigrationService, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana, channel="CMIGRATE")
    assert summaries(database) == [("channel:CMIGRATE", "planned")]
    service.recheck("fabrikam", dana)
    assert summaries(database) == [("channel:CMIGRATE", "planned")]  # a re-check starts nothing


def test_a_first_check_that_fails_is_the_one_told_and_the_resume_tells_nothing_more(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    microsoft.broken.add("snapshot")
    assert service.start("fabrikam", "fabrikam.com", dana).state == "failed"
    assert summaries(database) == [(dana.email, "failed")]  # no channel: the starter hears it
    microsoft.broken.discard("snapshot")
    assert service.resume("fabrikam", dana).state == "planned"
    assert summaries(database) == [(dana.email, "failed")]
