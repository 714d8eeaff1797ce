"""During `announce` at 20,000 people the advance notice takes 15 minutes and more; `progress` only said
nobody had a to-do list yet, so the admin could not see how the notice was going (walk35). It now shows
the wave: how many were told, how many are on the way and why those tried wait for another try, how many
could not be reached and why, counted; names only privately. `status` counts the same."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import cast

from sqlmodel import col, select

from bot.conversation.messages import Outgoing, Text
from bot.conversation.unreached_views import told_blocks
from bot.slack.sender import LOOKUPS_LIMITED, LOOKUPS_LIMITED_REASON
from storage import OutboundMessage
from storage.outbox import NOT_IN_CHAT
from tests.bot.announced_days import A_FRIDAY
from tests.bot.conftest import ORG, Chat, started
from tests.bot.test_decisions import lines
from workflows.results import MigrationStatus
from workflows.results_preparing import Told

DANA = "dana@fabrikam.com"
NOT_IN_SLACK = ("ann@fabrikam.com", "hana@contoso.com")
LOOKUPS_HELD = ("erin.eng@gmail.com", "frank.f@outlook.com")
NOT_YET_TRIED = ("ivan@fabrikam.com",)


def mid_wave(chat: Chat) -> None:
    """The notice half-way: two people Slack does not list, two held by the look-ups' rate limit, one not
    tried yet; the other five reached."""
    with chat.runtime.database.session() as session:
        notices = session.exec(select(OutboundMessage).where(OutboundMessage.kind == "advance_notice"))
        for notice in notices:
            if notice.recipient in NOT_IN_SLACK:
                notice.status, notice.error_code = "failed", NOT_IN_CHAT
                notice.last_error = f"no Slack account with the email {notice.recipient}"
            elif notice.recipient in LOOKUPS_HELD:
                notice.status, notice.error_code = "pending", LOOKUPS_LIMITED
                notice.last_error, notice.sent_at = LOOKUPS_LIMITED_REASON, None
            elif notice.recipient in NOT_YET_TRIED:
                notice.status, notice.error_code, notice.last_error, notice.sent_at = (
                    "pending",
                    None,
                    None,
                    None,
                )
            else:
                continue
            session.add(notice)
        session.commit()
        left = session.exec(
            select(OutboundMessage.recipient).where(
                OutboundMessage.kind == "advance_notice", col(OutboundMessage.status) == "sent"
            )
        ).all()
    assert len(left) == 5, left


WAVE = [
    "Of the 3 on the way, 2 were tried and wait for another try: Slack is rate limiting the look-ups of"
    " people by email (users.lookupByEmail, about 50 a minute): sent once Slack allows more.",
    "Why 2 could not be reached: no Slack account with their email.",
]
"""Each reason said once, as a sentence (walk38: "2 — no directory user with the sign-in name their
address")."""


def the_wave(said: list[str]) -> list[str]:
    start = next(index for index, line in enumerate(said) if line.startswith("Users told what is coming"))
    return said[start : start + 3]


def everything_said(outgoing: list[Outgoing]) -> str:
    return "\n".join(lines(outgoing))


def test_progress_during_the_advance_notice_shows_the_wave_counted_and_names_privately(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    mid_wave(chat)

    asked = chat.say(DANA, "progress")
    assert [message.message.private for message in asked] == [True]
    said = lines(asked)
    assert said[0] == (
        f"Nobody in {ORG} has a to-do list yet; `notify` sends them once the organization is connected."
    )
    told = the_wave(said)
    assert re.match(f"Users told what is coming for {A_FRIDAY} 14:00 UTC on ", told[0]), told[0]
    assert told[0].endswith(" UTC: 5 of 10 people reached, 3 still on the way, 2 could not be reached.")
    assert told[1:] == WAVE
    assert (
        "• ann@fabrikam.com (keeps access (same identity)) — when the notice went out: no Slack account"
        in (everything_said(asked))
    )  # private: named, as `status` in a direct message names them

    in_channel = the_wave(lines(chat.say(DANA, "status")))
    assert in_channel[0].endswith(
        " UTC: 5 of 10 people reached, 3 still on the way, 2 could not be reached. An admin's `status` in a"
        " direct message with me names them."
    )
    assert in_channel[1:] == WAVE  # counted: nobody's address in the channel


def test_a_wave_of_20000_is_counted_with_thousands_separators_throughout() -> None:
    """walk36's `progress` half-way through a 20,000-person `announce` in Teams: "9,902 of 19,823 people
    reached, 9412 still on the way": the count on the way lacked the separator its neighbours have."""
    told = Told("2026-12-24", datetime(2026, 11, 30, 20, 47, tzinfo=UTC), 19_314, 9_902, 9_412, ())
    [line] = told_blocks(told, cast(MigrationStatus, None), names=False)
    assert isinstance(line, Text)
    assert line.markdown.endswith(": 9,902 of 19,314 people reached, 9,412 still on the way.")
