"""What the Teams surface keeps in the database about conversations, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.teams.store import CLICK_ANSWER_LIMIT, ConversationRef, TeamsStore
from storage import Database, TeamsSeenActivity
from tests.storage.databases import SQLITE_ONLY


def test_new_conversations_are_created_where_teams_last_wrote_from(database: Database) -> None:
    now = [datetime(2026, 11, 28, 9, 0, tzinfo=UTC)]
    store = TeamsStore(database, clock=lambda: now[0])
    assert store.any_service_url() is None  # nothing heard from Teams yet: the caller's default

    for number, url in enumerate(("https://smba.one/emea/", "https://smba.two/amer/", "https://smba.three/")):
        now[0] += timedelta(minutes=1)
        store.remember(ConversationRef(f"a:{number}", url, "tenant", "personal", f"user-{number}"))
    assert store.any_service_url() == "https://smba.three/"

    now[0] += timedelta(minutes=1)  # the first person writes again, from the service's new address
    store.remember(ConversationRef("a:0", "https://smba.one/moved/", "tenant", "personal", "user-0"))
    assert store.any_service_url() == "https://smba.one/moved/"


def test_a_click_unanswered_past_teams_wait_is_taken_over_once(database: Database) -> None:
    """rev39 finding 3: a replica that died after claiming a click left every redelivery for an hour told
    "still working". Past Teams' wait for the answer, one redelivery takes the click over."""
    now = [datetime(2026, 11, 28, 9, 0, tzinfo=UTC)]
    store = TeamsStore(database, clock=lambda: now[0])
    assert store.claim_activity("c|click", retake_after=CLICK_ANSWER_LIMIT)  # then the replica dies
    assert store.claim_activity("c|message")
    now[0] += CLICK_ANSWER_LIMIT
    assert not store.claim_activity("c|click", retake_after=CLICK_ANSWER_LIMIT)  # maybe still answering
    now[0] += timedelta(seconds=1)
    assert store.claim_activity("c|click", retake_after=CLICK_ANSWER_LIMIT)
    assert not store.claim_activity("c|click", retake_after=CLICK_ANSWER_LIMIT)  # one takes it over
    assert not store.claim_activity("c|message")  # a message is never acted on twice
    store.keep_answer("c|click", {"statusCode": 200})
    now[0] += timedelta(minutes=5)
    assert not store.claim_activity("c|click", retake_after=CLICK_ANSWER_LIMIT)  # answered: kept
    assert store.answer("c|click") == {"statusCode": 200}


@SQLITE_ONLY
def test_kept_answers_are_forgotten_after_an_hour_without_any_new_activity(database: Database) -> None:
    """rev39 finding 6: a kept answer (a private list card) stayed until the next activity was claimed."""
    now = [datetime(2026, 11, 28, 9, 0, tzinfo=UTC)]
    store = TeamsStore(database, clock=lambda: now[0])
    store.claim_activity("c|old")
    store.keep_answer("c|old", {"value": "Kim's list"})
    now[0] += timedelta(minutes=30)
    store.claim_activity("c|newer")
    store.keep_answer("c|newer", {"value": "Lee's list"})
    now[0] += timedelta(minutes=31)
    store.forget_old_activities()
    assert store.answer("c|old") is None
    assert store.answer("c|newer") == {"value": "Lee's list"}
    with database.session() as session:
        assert [row.activity_key for row in session.exec(select(TeamsSeenActivity)).all()] == ["c|newer"]
