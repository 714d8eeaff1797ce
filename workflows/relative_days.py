"""Words naming a day from today (`tomorrow`, `Friday`, `in 3 days`), replaced by that day when an admin
announces: the notice, and every to-do list quoting it, is read days later, when `tomorrow` names another day.

Days are counted from the admin's own today, in the time zone their chat reports (UTC when it reports none):
people read an admin's `tomorrow` as the day after the admin's today. The day each word became is written out
in full, in the reply too (`announced`), for the admin to correct.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
"""A month, named in full or abbreviated, as a whole word: in `12 marbles` or `Friday 4 marathons` the word
after the number names no month."""
_DATE_AHEAD = (
    rf",?\s+(?:\d{{4}}-|\d{{1,2}}/\d{{1,2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}|{MONTH}\s+\d)"
)
"""What follows a weekday already given with its date (`Friday 6 November 2026`, `Fri, Nov 6`)."""
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
LEADING = r"^[\W_]*(?:(?:on|by|from|until|before|after)\s+)?"
"""Where the date an admin announces sits: at the start (`Friday 14:00`, `on 4/12`). Further on, the text is
theirs as typed: "I sat with IT today", "Mon-Fri support", "24/7" name no day of the change."""
WEEKDAY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|(?-i:Mon|Tues?|Wed|Thu(?:rs?)?|Fri|Sat|Sun))\b\.?"
)
"""A weekday, abbreviated only when capitalised: lower case, `sat`, `sun`, `wed` are ordinary words."""
_RELATIVE = re.compile(
    rf"(?P<lead>{LEADING})(?:(?P<after>(?:the\s+)?day\s+after\s+tomorrow)|(?P<tomorrow>tomorrow)|(?P<today>today)"
    r"|(?P<tonight>tonight)|this\s+(?P<part>afternoon|evening)"
    rf"|in\s+(?P<count>\d{{1,3}}|{'|'.join(_COUNTS)})\s+(?P<unit>day|week)s?"
    r"|(?P<which_week>this|next)\s+week"
    rf"|(?:(?P<which>this|coming|next)\s+)?(?P<weekday>{WEEKDAY})(?!{_DATE_AHEAD})"
    r")\b",
    re.IGNORECASE,
)


def fixed(value: str, today: date) -> str:
    """`value` with the words naming a day from `today` it starts with replaced by the day they name:
    `tomorrow 14:00` on 1 December 2026 is `Wednesday 2 December 2026 14:00`; `Friday` and `next Friday` are
    the first one after today, `this Friday` today on a Friday. Anything else (a date given in full too, any
    word further on) stays."""
    return _RELATIVE.sub(lambda found: found["lead"] + _day_words(found, today), value, count=1)


def long_date(day: date) -> str:
    """`Wednesday 2 December 2026`: a day nobody reads two ways."""
    return f"{_WEEKDAYS[day.weekday()].capitalize()} {month_day(day)}"


def month_day(day: date) -> str:
    """`2 December 2026`, as a slash date reads once its order is settled."""
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def _day_words(found: re.Match[str], today: date) -> str:
    if found["after"]:
        return long_date(today + timedelta(days=2))
    if found["tomorrow"]:
        return long_date(today + timedelta(days=1))
    if found["today"]:
        return long_date(today)
    if found["tonight"]:
        return f"the evening of {long_date(today)}"
    if found["part"]:
        return f"the {found['part'].lower()} of {long_date(today)}"
    if found["count"]:
        count = int(found["count"]) if found["count"].isdigit() else _COUNTS[found["count"].lower()]
        return long_date(today + timedelta(days=count * (7 if found["unit"].lower() == "week" else 1)))
    if found["which_week"]:
        monday = today - timedelta(days=today.weekday() - (7 if found["which_week"].lower() == "next" else 0))
        return f"the week of {long_date(monday)}"
    named = found["weekday"][:3].lower()
    weekday = next(index for index, name in enumerate(_WEEKDAYS) if name.startswith(named))
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and (found["which"] or "").lower() != "this":
        ahead = 7
    return long_date(today + timedelta(days=ahead))
