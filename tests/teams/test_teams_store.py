"""What the Teams surface keeps in the database about conversations, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.teams.store import ConversationRef, TeamsStore
from storage import Database


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
