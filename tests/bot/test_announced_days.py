"""`announce fabrikam-fiber tomorrow 14:00`: the notice, the reply and everyone's `todo` name the day it
meant, read days later (walk37 #4); a slash date over, or read two ways, is refused naming the fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from storage import Database
from tests.bot.conftest import DANA, ORG, Chat, started_on_clock, text_of
from tests.workflows.fakes import FakeClock

ANN = "ann@fabrikam.com"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 30, 18, 0, tzinfo=UTC))  # a Monday evening


@pytest.fixture
def chat(fabrikam: dict[str, Any], sqlite_database: Database, clock: FakeClock) -> Iterator[Chat]:
    """Dana's migration started, on a sandbox of its own whose clock is the bot's."""
    with started_on_clock(fabrikam, sqlite_database, clock) as talk:
        yield talk


def flat(text: str) -> str:
    return " ".join(text.split())


def test_tomorrow_is_announced_as_the_day_it_names_and_todo_names_that_day_days_later(
    chat: Chat, clock: FakeClock
) -> None:
    reply = flat(text_of(chat.say(DANA, f"announce {ORG} tomorrow 14:00")))
    assert reply.startswith(
        "Telling all 10 people what is coming for Tuesday 1 December 2026 14:00 (you wrote “tomorrow"
        " 14:00”; I count days in UTC), by direct message."
    ), reply
    clock.advance(days=3)
    todo = flat(text_of(chat.say(ANN, "todo")))
    assert "moves to Fabrikam accounts (announced for Tuesday 1 December 2026 14:00)." in todo, todo


def test_a_day_month_date_over_everywhere_is_refused_like_any_other_past_date(
    chat: Chat, clock: FakeClock
) -> None:
    clock.advance(days=1)  # Tuesday 1 December, 18:00 UTC: 30 November is over at UTC-12 too
    refused = flat(text_of(chat.say(DANA, f"announce {ORG} 30/11")))
    assert refused == (
        "`30/11` has passed this year, so I announced nothing: people would read “Coming 30/11”. Give the day"
        f" of the change, e.g. `announce {ORG} Friday 14:00 UTC`; if you mean next year, add it: `announce"
        f" {ORG} 30/11/2027`."
    )
    assert chat.runtime.service.told(chat.runtime.service.status(ORG).id) is None


UNREADABLE = (
    "`next blursday` does not start with a day I can read, so I announced nothing: people would read “Coming"
    " next blursday” and not know when. Start with the day: a date (`2026-12-04`, `4 December`, `Dec 4`,"
    " `4/12/2026`), a weekday (`Friday`, `next Friday`), `today`, `tonight`, `this afternoon`, `tomorrow`,"
    " `the day after tomorrow`, `in 3 days`, `in 2 weeks`, `this week` or `next week`; a time or a note may"
    f" follow, e.g. `announce {ORG} Friday 14:00 UTC`. To tell them without a date, say `announce {ORG}`"
    " alone."
)
"""walk: `announce ORG next blursday` sent ten notices headed “COMING NEXT BLURSDAY”."""


def test_a_day_it_cannot_read_is_refused_with_the_forms_it_reads_and_nobody_is_told(chat: Chat) -> None:
    refused = chat.say(DANA, f"announce {ORG} next blursday")
    assert flat(text_of(refused)) == UNREADABLE
    assert chat.runtime.service.told(chat.runtime.service.status(ORG).id) is None
    assert not [m for m in chat.runtime.conversation.watch() if "COMING" in text_of([m])]
    told = chat.say(DANA, f"announce {ORG} next Friday, after the standup")  # the day first, then their words
    assert flat(text_of(told)).startswith(
        "Telling all 10 people what is coming for Friday 4 December 2026, after the standup (you wrote"
    )


def test_a_range_of_weekdays_or_a_word_that_only_begins_like_a_month_is_no_day_and_nobody_is_told(
    chat: Chat,
) -> None:
    """walk: `announce ORG Mon-Fri` told everyone “Coming Monday 7 December 2026-Fri”, and `12 marbles`
    passed for a date (its “mar” as March)."""
    ranged = flat(text_of(chat.say(DANA, f"announce {ORG} Mon-Fri")))
    assert ranged == (
        "`Mon-Fri` is a range of days, so I announced nothing: people would read “Coming Mon-Fri” and not"
        f" know on which day the change comes. Start with that one day, e.g. `announce {ORG} Friday 14:00"
        f" UTC`; the range may follow it: `announce {ORG} Monday 14:00 UTC, support desk open Mon-Fri`."
    )
    marbles = flat(text_of(chat.say(DANA, f"announce {ORG} 12 marbles")))
    assert marbles.startswith("`12 marbles` does not start with a day I can read, so I announced nothing")
    assert chat.runtime.service.told(chat.runtime.service.status(ORG).id) is None
    told = chat.say(DANA, f"announce {ORG} Monday 14:00 UTC, support desk open Mon-Fri")
    assert flat(text_of(told)).startswith(
        "Telling all 10 people what is coming for Monday 7 December 2026 14:00 UTC, support desk open Mon-Fri"
    )
