"""`/aad announce fabrikam-fiber tomorrow` in Slack: `tomorrow` is the day after the admin's own today, in the
time zone their Slack profile shows (`users.info`'s `tz`), not UTC's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox import Sandbox, parse_scenario
from storage import Database
from tests.fakes.runtimes import runtime_on
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import ServeBot
from tests.slack.test_slack_migration import ORGANIZATION, PEOPLE, Migration, Recording
from tests.workflows.fakes import FakeClock

THURSDAY_EVENING_IN_CALIFORNIA = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
"""Thursday 3 December 2026, 18:00 in Los Angeles: already Friday in UTC."""


@pytest.fixture
def migration(
    serve_bot: ServeBot, fake_slack: FakeSlack, sqlite_database: Database, fabrikam: dict[str, Any]
) -> Iterator[Migration]:
    """Slack's members, the bot served to them, on a sandbox of its own whose clock is the bot's."""
    clock = FakeClock(THURSDAY_EVENING_IN_CALIFORNIA)
    fake_slack.users.update(PEOPLE)
    with Sandbox(parse_scenario(fabrikam), clock=lambda: clock().timestamp()) as box:
        runtime = runtime_on(box, sqlite_database, clock=clock)
        recording = Recording(runtime.conversation)
        try:
            yield Migration(serve_bot(recording), runtime, recording)
        finally:
            runtime.close()


@pytest.mark.parametrize(
    ("profile_zone", "day", "counted_in"),
    [
        ("America/Los_Angeles", "Friday 4 December 2026", "your time zone, America/Los_Angeles"),
        ("Mars/Olympus_Mons", "Saturday 5 December 2026", "UTC"),  # no zone Python knows: UTC, silently
    ],
)
def test_tomorrow_is_the_day_after_the_admins_today_in_the_zone_their_slack_profile_shows(
    migration: Migration, caplog: pytest.LogCaptureFixture, profile_zone: str, day: str, counted_in: str
) -> None:
    fake = migration.slack.fake
    fake.time_zones["UDANA"] = profile_zone
    migration.command("UDANA", f"start {ORGANIZATION} fabrikam.com")

    answer = " ".join(migration.command("UDANA", f"announce {ORGANIZATION} tomorrow 14:00").split())

    assert f"what is coming for {day} 14:00 (you wrote “tomorrow 14:00”; I count days in {counted_in})" in (
        answer
    ), answer
    assert len(fake.calls_of("users.info")) == 1  # the zone came with who Dana is: no call of its own
    assert "Traceback" not in caplog.text


def test_a_day_it_cannot_read_is_refused_and_nobody_gets_a_notice(
    migration: Migration, caplog: pytest.LogCaptureFixture
) -> None:
    migration.command("UDANA", f"start {ORGANIZATION} fabrikam.com")

    answer = " ".join(migration.command("UDANA", f"announce {ORGANIZATION} next blursday").split())

    assert answer.startswith(
        "`next blursday` does not start with a day I can read, so I announced nothing: people would read"
        " “Coming next blursday” and not know when. Start with the day: a date (`2026-12-04`,"
    ), answer
    assert migration.runtime.service.told(migration.runtime.service.status(ORGANIZATION).id) is None
    assert "Traceback" not in caplog.text
