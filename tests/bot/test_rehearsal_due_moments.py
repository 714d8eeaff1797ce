"""`:later` goes from one moment the background look has work to the next: it misses nothing that a walk
looking every hour would show."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.console.chat import run_chat
from bot.console.rehearsal import RehearsalClock
from sandbox import Sandbox, parse_scenario
from storage import Database
from tests.fakes.runtimes import runtime_on
from tests.storage.databases import replace_sqlite_file

FRIDAY_AFTERNOON = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
TYPED = [
    "start fabrikam-fiber fabrikam.com",
    "invite",
    "request-approval",
    ":later 25h",  # nobody approves: the request lapses on Saturday at 15:00
    "request-approval",
    ":as lee@fabrikam.com",
    "approve 2",
    ":connect",
    ":later 5m",
    ":as dana@fabrikam.com",
    "notify",
    ":signin ann@fabrikam.com",
    ":later 4d",  # reminders, a digest, the billing reminder, the sign-in checks and their daily full read
    ":signin lee@fabrikam.com",
    ":signin carol@fabrikam.com",  # mapped by hand: the full read no longer finds her on a Microsoft account
    ":later 3d",
]


def _rehearse(
    box: Sandbox, clocks: list[RehearsalClock], database: Database, template: Path, stride: timedelta | None
) -> str:
    """The whole chat, as printed, from a fresh database and emulator."""
    replace_sqlite_file(database, template)
    box.reset()
    clocks.append(RehearsalClock(real=lambda: FRIDAY_AFTERNOON))
    runtime = runtime_on(box, database, clock=clocks[-1])
    out = io.StringIO()
    try:
        typed = io.StringIO("\n".join(TYPED) + "\n")
        assert run_chat(runtime, "dana@fabrikam.com", typed, out, clock=clocks[-1], stride=stride) == 0
    finally:
        runtime.close()
    return out.getvalue()


def test_walking_by_due_moments_shows_what_walking_by_the_hour_shows(
    fabrikam: dict[str, Any], sqlite_database: Database, sqlite_template: Path
) -> None:
    clocks: list[RehearsalClock] = []  # the emulator keeps the rehearsal's time, as `--scenario` wires it
    with Sandbox(parse_scenario(fabrikam), clock=lambda: clocks[-1]().timestamp()) as box:
        hourly = _rehearse(box, clocks, sqlite_database, sqlite_template, timedelta(hours=1))
        by_due_moments = _rehearse(box, clocks, sqlite_database, sqlite_template, None)

    # the rehearsal has every kind of background duty in it
    lapsed = hourly[hourly.index("── Saturday 28 November, 15:00 UTC ──") :]
    assert (
        "⌛ Expired. This approval request expired at 2026-11-28 15:00 UTC"
        in lapsed[: lapsed.index("(it is")]
    )
    for shown in (
        "I can see you signed in to fabrikam-fiber with your work account",
        "REMINDER: ",
        "STILL HAVE OPEN TO-DO ITEMS",
        "REMINDER: MOVE THE BILLING OF FABRIKAM-FIBER",
    ):
        assert shown in hourly
    assert hourly.count("I can see you signed in") == 3  # Ann's, then Lee's and Carol's
    # every message, to whom, under the same time
    assert _as_shown(by_due_moments) == _as_shown(hourly)


def _as_shown(transcript: str) -> list[str | list[str]]:
    """The chat's lines in order, with the messages that arrive together (one delivery sends them at once,
    as the Slack worker does, in no set order) as a sorted list between them; what that order decides
    (which copy of a prompt is the update, the numbers of reminder schedules) is left out."""
    shown: list[str | list[str]] = []
    together: list[str] = []
    for part in _MESSAGE.split(transcript):
        if part.startswith("aadbot → "):
            together.append(_REDEEM.sub("REDEEM-LINK", _SNOOZE.sub("snooze #N", part.replace(_UPDATE, ""))))
        elif part.strip():
            counts = _COUNTS.sub(lambda m: "(" + ", ".join(sorted(m[1].split(", "))) + ")", part)
            shown += [sorted(together), counts]
            together = []
    return [*shown, sorted(together)]


_MESSAGE = re.compile(r"^(aadbot → .*\n(?:  .*\n)*)", re.MULTILINE)
_UPDATE = "  (updates every copy of this message)"
_SNOOZE = re.compile(r"snooze #\d+")
_REDEEM = re.compile(r"https://\S+/redeem\?rd=[\w-]+")
"""An invitation's own link to accept it: each run's invitations get new ones."""
_COUNTS = re.compile(r"(?<=messages )\(([^()]*)\)")
"""After `:later`, who got how many: in the order of delivery where the counts tie."""
