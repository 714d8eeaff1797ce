"""Billing ahead of the switch, in words: once connected, Microsoft asks for the subscription that pays for
Azure DevOps to move to the new directory before the end of that month, so whoever approves or connects
hears how long that leaves and what a late move costs (walk 33: a connection on the 30th was "overdue"
two days later, with no word of it before)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.conversation.messages import Text
from workflows.plan import Check
from workflows.stages.billing import WHO_MOVES_IT, while_unmoved
from workflows.working_hours import month_end

BILLING_CHECK = "billing-subscription"


def billing_ahead(
    checks: Sequence[Check], organization: str, target: str, moment: datetime, *, connected: bool
) -> list[Text]:
    """When the billing subscription is in another directory: by when it should move if the organization
    connects (or connected) on `moment`'s day, what waiting costs, and who can move it."""
    if not any(check.code == BILLING_CHECK and check.status != "pass" for check in checks):
        return []
    left = time_left(moment.date())
    if connected:
        when = f"Microsoft asks to move it to {target} before the end of this month: {left}."
    else:
        when = (
            f"Once {organization} is connected, Microsoft asks to move it to {target} before the end of that"
            f" month: connected today, {left}."
        )
        if month_end(moment.date()) == moment.date():
            when += " Connecting on the 1st leaves the whole of next month."
    return [
        Text(
            f"💳 Billing is in another directory. {when} {while_unmoved(organization)} Moving it takes"
            f" {WHO_MOVES_IT}; `check-billing {organization}` gives the steps."
        )
    ]


def time_left(day: date) -> str:
    """How long is left of `day`'s month, in words, with the date it ends."""
    end = month_end(day)
    days = (end - day).days
    if days == 0:
        return f"the month ends today ({end.isoformat()}), so only hours are left"
    if days == 1:
        return f"the month ends tomorrow ({end.isoformat()})"
    return f"the month ends on {end.isoformat()}, in {days} days"
