"""`announce fabrikam-fiber tomorrow` in Teams: `tomorrow` is the day after the admin's own today, in the
time zone their Teams client reports with the message (`localTimezone`), not UTC's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.teams.endpoint import time_zone_of
from sandbox import Sandbox
from storage import Database
from tests.teams.conftest import ORGANIZATION, Teams, teams_on
from tests.workflows.fakes import FakeClock

DANA = "dana@fabrikam.com"
SYDNEY_FRIDAY_MORNING = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
"""Friday 4 December 2026, 09:00 in Sydney: still Thursday in UTC."""
TOKYO_CLIENT = {"type": "clientInfo", "locale": "ja-JP", "timezone": "Asia/Tokyo"}


@pytest.fixture
def teams(fabrikam: dict[str, Any], served_box: Sandbox, sqlite_database: Database) -> Iterator[Teams]:
    """Dana's Teams in Sydney; the bot's clock stands still (Teams' sign-ins keep the real time)."""
    clock, zones = FakeClock(SYDNEY_FRIDAY_MORNING), {DANA: "Australia/Sydney"}
    with teams_on(served_box, sqlite_database, fabrikam, clock=clock, time_zones=zones) as teams:
        yield teams


def test_tomorrow_is_the_day_after_the_admins_today_in_the_zone_their_teams_client_reports(
    teams: Teams,
) -> None:
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")

    answer = " ".join(teams.said(DANA, f"announce {ORGANIZATION} tomorrow 14:00").split())

    assert (
        "what is coming for Saturday 5 December 2026 14:00 (you wrote “tomorrow 14:00”; I count days in your"
        " time zone, Australia/Sydney)" in answer
    ), answer


@pytest.mark.parametrize(
    ("activity", "zone"),
    [
        ({"localTimezone": "Australia/Sydney", "entities": [TOKYO_CLIENT]}, "Australia/Sydney"),
        ({"entities": [TOKYO_CLIENT]}, "Asia/Tokyo"),
        ({"localTimestamp": "2016-09-23T13:07:49.4714686-07:00"}, "-07:00"),  # the schema's example
        ({"localTimestamp": "Friday morning"}, None),
        ({}, None),
    ],
)
def test_the_zone_is_the_activitys_local_one_else_its_clients_else_its_local_clocks_offset(
    activity: dict[str, Any], zone: str | None
) -> None:
    assert time_zone_of(activity) == zone
