"""Working hours: when a person may be reminded, in the time zone of their chat profile.

A reminder lands inside the recipient's working hours (Monday to Friday, local), and "every two working days"
counts from the working period a moment falls in.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<hours>\d{2}):(?P<minutes>\d{2})$")


def zone(name: str | None) -> tzinfo:
    """A chat profile's time zone: an IANA name or a `+HH:MM` offset; UTC when unknown or unusable."""
    if not name:
        return UTC
    offset = _OFFSET.match(name)
    try:
        if offset:
            delta = timedelta(hours=int(offset["hours"]), minutes=int(offset["minutes"]))
            return timezone(-delta if offset["sign"] == "-" else delta)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: a name no zone has, an offset of a day or more
        return UTC


def offset_name(seconds: int) -> str:
    """Slack's `tz_offset` (seconds east of UTC) as the `+HH:MM` form `zone` reads."""
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def next_working_moment(moment: datetime, where: tzinfo, hours: tuple[int, int] = (9, 17)) -> datetime:
    """`moment` itself if it falls in working hours there, else the start of the next working period."""
    local = moment.astimezone(where)
    start, end = hours
    if local.weekday() < 5 and start <= local.hour < end:
        return moment.astimezone(UTC)
    day = local.date() if local.weekday() < 5 and local.hour < start else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(start), where).astimezone(UTC)


def after_working_days(
    moment: datetime, days: int, where: tzinfo, hours: tuple[int, int] = (9, 17)
) -> datetime:
    """`days` working days (Monday to Friday) after `moment`, counted from the working hours it falls in.

    A moment outside working hours counts from the next working morning: a list delivered on Saturday
    gives its reader two full working days, not one and a bit.
    """
    local = next_working_moment(moment, where, hours).astimezone(where)
    day = local.date()
    for _ in range(days):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    later = datetime.combine(day, local.timetz().replace(tzinfo=None), where)
    return next_working_moment(later, where, hours)


def month_end(of: date) -> date:
    """The billing deadline: Microsoft asks to move billing "before the end of the month", a calendar one."""
    return of.replace(day=calendar.monthrange(of.year, of.month)[1])


def last_working_day(of: date) -> date:
    """The last day of `of`'s month when the admins are reminded: the deadline itself may be a weekend."""
    day = month_end(of)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day
