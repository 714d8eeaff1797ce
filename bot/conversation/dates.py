"""Dates and times as the bot writes them: every moment is UTC, which a message says beside it (`day_and_time`
says it itself)."""

from __future__ import annotations

from datetime import datetime


def day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def clock_time(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def day_and_time(moment: datetime) -> str:
    return f"{day(moment)} {clock_time(moment)} UTC"
