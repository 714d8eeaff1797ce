"""What Slack said of each address, written by several `serve`s at once: the newest answer stands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage import Database, OutboundMessage
from storage.outbox import NOT_IN_CHAT, retry_failed
from storage.slack_people import Said, recall, recall_one, record, record_read
from tests.delivery.conftest import queue_lists

EARLIER = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
LATER = EARLIER + timedelta(minutes=5)
GUEST, OTHER, COLLEAGUE = "guest@outlook.com", "other@outlook.com", "colleague@fabrikam.com"
GUESTS_OTHER = "guest@contoso.com"


def test_an_older_answer_written_last_does_not_replace_a_newer_one(database: Database) -> None:
    record(database, [Said(GUEST, "UGUEST", "Europe/Paris")], at=LATER)  # found by one serve's look-up
    record(database, [Said(GUEST, None)], at=EARLIER)  # another's, asked earlier, committed after
    record_read(database, began_at=LATER)
    record_read(database, began_at=EARLIER)

    kept = recall_one(database, GUEST)
    assert kept is not None
    assert (kept.user_id, kept.time_zone, kept.seen_at) == ("UGUEST", "Europe/Paris", LATER)
    read_at, rows = recall(database, since=EARLIER)
    assert (read_at, [row.address for row in rows]) == (LATER, [GUEST])


def test_a_newer_answer_replaces_the_older_one(database: Database) -> None:
    record(database, [Said(GUEST, "UGUEST")], at=EARLIER)
    record(database, [Said(GUEST, "UGUEST", deactivated=True)], at=LATER)

    kept = recall_one(database, GUEST)
    assert kept is not None and kept.deactivated
    assert recall(database, since=LATER + timedelta(seconds=1)) == (None, [])


def test_retry_failed_forgets_that_slack_knew_no_one_by_the_addresses_it_queues_again(
    sqlite_database: Database,
) -> None:
    """An admin retries once someone joined Slack: the look-up is asked again, not answered from before."""
    also = {GUEST.upper(): [GUESTS_OTHER]}
    migration_id = queue_lists(sqlite_database, [GUEST.upper(), COLLEAGUE], EARLIER, also)
    with sqlite_database.session() as session:
        for message in session.exec(select(OutboundMessage)).all():
            message.status, message.error_code = "failed", NOT_IN_CHAT
            session.add(message)
        session.commit()
    record(sqlite_database, [Said(GUEST, None), Said(COLLEAGUE, "UCOLLEAGUE")], at=EARLIER)
    record(sqlite_database, [Said(GUESTS_OTHER, None), Said(OTHER, None)], at=EARLIER)

    record_read(sqlite_database, began_at=EARLIER)
    assert retry_failed(sqlite_database, migration_id, {"todo_list"}, now=LATER) == 2
    assert [row.address for row in recall(sqlite_database, since=EARLIER)[1]] == [COLLEAGUE, OTHER]


def test_no_answer_is_loaded_unless_the_member_list_was_read_after_the_callers_read(
    database: Database,
) -> None:
    record(database, [Said(COLLEAGUE, "UCOLLEAGUE")], at=EARLIER)
    assert recall(database, since=EARLIER) == (None, [])  # never read whole
    record_read(database, began_at=EARLIER)

    assert recall(database, since=EARLIER, read_after=EARLIER) == (None, [])
    read_at, rows = recall(database, since=EARLIER, read_after=EARLIER - timedelta(seconds=1))
    assert (read_at, [row.address for row in rows]) == (EARLIER, [COLLEAGUE])


def test_a_whole_read_forgets_the_answers_seen_before_the_bound_it_is_given(database: Database) -> None:
    """Nobody who left Slack's list stays in the table for good (20,000 rows and more each hour)."""
    record(database, [Said(GUEST, None)], at=EARLIER)
    record(database, [Said(OTHER, None)], at=LATER)
    record_read(database, began_at=LATER, forget_before=LATER - timedelta(seconds=1))

    assert [row.address for row in recall(database, since=EARLIER)[1]] == [OTHER]
