"""Billing before and at the switch (walk 33, finding 12): connected on the last day of a month, billing
was "before the month ends (2026-11-30)" and then "overdue" two days later, with no word of it at approval.
Whoever approves, connects or reads the connection hears how long is left, what a late move costs (what
Microsoft's procedure says: purchases, not an outage), and who can move it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.conversation.billing_views import billing_ahead, time_left
from bot.conversation.messages import Channel, DirectMessage, Outgoing, Text
from sandbox import Sandbox
from storage import Database
from tests.bot.conftest import CONNECTED, DANA, LEE, ORG, Chat, chatted_at, started
from workflows.plan import Check

BILLING_WARNS = Check("billing-subscription", "warn", "Billing subscription s is in another directory.")
LATE = (
    f"Until billing moves, what {ORG} already pays for keeps working and renews each month, but nobody can"
    " buy or change its purchases."
)
WHO = (
    "Moving it takes a Project Collection Administrator who is also Owner or Contributor on the Azure"
    f" subscription; `check-billing {ORG}` gives the steps."
)


def test_time_left_names_the_last_day_and_says_when_only_hours_are_left() -> None:
    assert time_left(date(2026, 11, 30)) == "the month ends today (2026-11-30), so only hours are left"
    assert time_left(date(2026, 11, 29)) == "the month ends tomorrow (2026-11-30)"
    assert time_left(date(2026, 2, 3)) == "the month ends on 2026-02-28, in 25 days"


def test_approving_on_the_last_day_of_the_month_is_told_only_hours_would_be_left() -> None:
    last_day = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    (said,) = billing_ahead([BILLING_WARNS], ORG, "Fabrikam", last_day, connected=False)
    assert said == Text(
        f"💳 Billing is in another directory. Once {ORG} is connected, Microsoft asks to move it to Fabrikam"
        " before the end of that month: connected today, the month ends today (2026-11-30), so only hours"
        f" are left. Connecting on the 1st leaves the whole of next month. {LATE} {WHO}"
    )
    passing = Check("billing-subscription", "pass", "Billing subscription s is in the tenant.")
    assert billing_ahead([passing], ORG, "Fabrikam", last_day, connected=False) == []


def _billing_line(texts: list[str]) -> str:
    (line,) = [text for text in texts if text.startswith("💳")]
    return line


def test_the_prompt_the_portal_steps_and_the_connection_say_how_long_billing_has(chat: Chat) -> None:
    left = time_left(datetime.now(UTC).date())
    started(chat)
    chat.say(DANA, "invite")
    requested = chat.say(DANA, "request-approval")
    assert f"connected today, {left}." in _billing_line(_texts(requested, DirectMessage(LEE)))

    approving = chat.click(LEE, requested, "Approve")
    assert f"connected today, {left}." in _billing_line(_texts(approving, DirectMessage(LEE)))

    chat.portal_connect()
    announced = chat.runtime.conversation.watch()
    assert _billing_line(_texts(announced, Channel("#aad-migration"))) == (
        "💳 Billing is in another directory. Microsoft asks to move it to Fabrikam before the end of this"
        f" month: {left}. {LATE} {WHO}"
    )


def _texts(outgoing: list[Outgoing], to: DirectMessage | Channel) -> list[str]:
    return [
        block.markdown
        for m in outgoing
        if m.to == to
        for block in m.message.blocks
        if isinstance(block, Text)
    ]


def test_connected_on_the_last_day_of_the_month_the_channel_hears_only_hours_are_left(
    sqlite_database: Database, box: Sandbox
) -> None:
    """Walk 33's day: the organization connected on Monday 30 November, the month's last day."""
    said = chatted_at(datetime(2026, 11, 30, 10, 0, tzinfo=UTC), box, sqlite_database, CONNECTED[:-1])
    connected_at = said.index(f"{ORG} is now connected to Fabrikam")
    assert (
        "Microsoft asks to move it to Fabrikam before the end of this month: the month ends today"
        " (2026-11-30), so only hours are left."
    ) in said[connected_at:]
