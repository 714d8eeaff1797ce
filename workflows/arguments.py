"""Arguments typed in chat or on the command line, validated before anything asks Microsoft about them.

Nothing a user types reaches a Microsoft URL unchecked: an organization name follows Azure DevOps'
rules, a tenant is a GUID or a domain, a user id is a GUID. So `..` never becomes a path segment, and
a stranger cannot use the bot to ask Azure DevOps about arbitrary names.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, tzinfo

from workflows import relative_days
from workflows.errors import WorkflowError

_ORGANIZATION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?")
"""Azure DevOps: 1-50 letters, digits and hyphens, starting and ending with a letter or digit."""
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"(?=.{3,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MENTION = re.compile(r"<[!@#]|<at>|(?<![\w.])@(?:here|channel|everyone)\b", re.IGNORECASE)
"""Slack's `<!channel>`, `<@U123>`, `<#C123>`, Teams' `<at>`, and a typed `@here`, `@channel`, `@everyone`."""
_ISO_END = r"(?:\b|(?=T\d))"
"""Where an ISO 8601 date's day ends: at a word's end, or at the `T` of `2026-12-04T14:00Z`."""
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_WORD = relative_days.MONTH
_MONTH = rf"(?P<month>{_MONTH_WORD})"
_DATES = (
    re.compile(rf"\b(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}}){_ISO_END}"),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I),
)
"""2026-12-04, 4 December 2026, Dec 4th, 2026: dates with a year, the ones that can be in the past."""
_SLASH = re.compile(r"(?<![\d/])(?P<first>\d{1,2})/(?P<second>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?(?![\d/])")
"""04/12/2026, 4/12: day/month in most of the world, month/day in the US, so both readings count."""
_BEFORE_SLASH = re.compile(rf"{relative_days.LEADING}(?:{relative_days.WEEKDAY},?\s+)?", re.I)
"""What may come before the slash date an announcement starts with (`on Friday 4/12`, `Fri, 4/12`); one
further on is the admin's text (`24/7`, `1/2 an hour`, `50/50`)."""
_DAY_FIRST = re.compile(
    rf"{relative_days.LEADING}(?:the\s+(?:week|afternoon|evening)\s+of\s+)?(?:{relative_days.WEEKDAY},?\s+)?"
    rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}{_ISO_END}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_WORD}"
    rf"|{_MONTH_WORD}\s+\d{{1,2}}(?:st|nd|rd|th)?\b)",
    re.I,
)
"""A day people can read, first: a date, as given or as `relative_days` and the slash dates wrote it
(`Friday 4 December 2026`, `the week of Monday 7 December 2026`); a time or a note may follow."""
_WEEKDAY_RANGE = re.compile(
    rf"{relative_days.LEADING}(?P<days>(?:(?:this|coming|next)\s+)?{relative_days.WEEKDAY}\s*(?:-|–|—|to\b"
    rf"|through\b|thru\b|till\b|until\b)\s*{relative_days.WEEKDAY})",
    re.I,
)
"""`Mon-Fri`, `Monday to Friday` first: days of the week, not the one the organization is connected on."""
_YEARLESS = (
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?!,?\s+\d{{4}}\b)\b", re.I),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?!,?\s+\d{{4}}\b)", re.I),
)
"""`Nov 27`, `27th of November`: the year is the one that puts the day nearest today, as people mean it
(on 28 November `Nov 27` is yesterday, `Jan 5` is in five weeks)."""
_PAST_WORDS = re.compile(
    r"\b(?:yesterday|ago|this\s+morning|earlier\s+today|last\s+(?:night|week|month|year|mon|tue|wed|thu|fri"
    r"|sat|sun)[a-z]*)\b",
    re.I,
)


class ArgumentError(WorkflowError):
    """An argument that cannot mean what it stands for; the message says what to type instead."""


def organization_name(value: str) -> str:
    name = value.strip()
    if not _ORGANIZATION.fullmatch(name):
        raise ArgumentError(
            f"`{name}` is not an Azure DevOps organization name: use the name from "
            "https://dev.azure.com/NAME "
            "(1-50 letters, digits and hyphens, starting and ending with a letter or digit)."
        )
    return name


def tenant_name(value: str) -> str:
    tenant = value.strip()
    if not (_GUID.fullmatch(tenant) or _DOMAIN.fullmatch(tenant)):
        raise ArgumentError(
            # not echoed: what lands here is as often a pasted secret (a PAT, a client secret) as a typo
            "That is not a tenant: give the directory's tenant id (a GUID) or one of its verified "
            "domains (with a dot), e.g. contoso.com."
        )
    return tenant


def user_reference(value: str) -> str:
    """Who `remove-users` names: an Azure DevOps user id (a GUID, as `stale-users` lists them), an address
    or a display name, which the plan resolves (`removal.removable`); never a piece of a path (`..`, `a/b`),
    refused before anything asks Azure DevOps."""
    text = value.strip()
    if not text.strip(".") or any(character in text for character in "/\\?#%"):
        raise ArgumentError(
            f"`{text}` names no user: give the id `stale-users` lists, their address or their display name."
        )
    return text


def is_email(value: str) -> bool:
    """Shaped like an address (`ann@fabrikam.com`): who someone is in the console chat."""
    return _EMAIL.fullmatch(value) is not None


MAX_WHEN = 200
"""The longest `announce` date: it heads every person's notice, in capitals."""


class PastDate(ArgumentError):
    """An `announce` date over everywhere on Earth."""


def announcement_when(value: str, *, now: datetime, usage: str, zone: tzinfo = UTC) -> str:
    """When the change happens, as admins word it (`Friday 14:00 UTC`); it heads every person's notice.

    Refused: a mention, which would ping people from inside the notice; a day already over everywhere on
    Earth (a date counts as past only once it is over at UTC-12 too, wherever the admin is); a slash date
    it starts with that reads as two days still to come (`4/12`: 4 December, or 12 April). Returned with the
    words naming a day from today it starts with (`tomorrow`, `Friday`) or its leading slash date replaced by
    the day they name, counted on the admin's calendar (`zone`: `tomorrow` at 18:00 in California is the
    next day there, whatever day it is in UTC), as `relative_days` writes it: people read the notice days
    later; the rest is the admin's text (`24/7`, "I sat with IT"). `usage` is the command to show in the
    examples, e.g. `announce fabrikam-fiber`.
    """
    example = f"`{usage} Friday 14:00 UTC`"
    if len(value) > MAX_WHEN:
        raise ArgumentError(
            f"The date you gave has {len(value):,} characters, so I announced nothing: it heads every"
            f" person's notice: keep it to {MAX_WHEN} or fewer, e.g. {example}."
        )
    if _MENTION.search(value):
        raise ArgumentError(
            "The date you gave mentions a channel or a person, so I announced nothing: it would go as"
            f" written into every affected user's message and ping them. Give only when, e.g. {example}."
        )
    over_everywhere = (now.astimezone(UTC) - timedelta(hours=12)).date()
    later = f"`{usage} {over_everywhere + timedelta(days=7)}`"
    past = _PAST_WORDS.search(value)
    for pattern in _DATES:
        for found in pattern.finditer(value):
            readings = _readings(found)
            if not readings:
                raise ArgumentError(
                    f"`{found[0]}` is not a date, so I announced nothing. Write it as YYYY-MM-DD, e.g."
                    f" {later}, or in words, e.g. {example}."
                )
            past = past or (found if max(readings) < over_everywhere else None)
    if past:
        raise PastDate(
            f"`{past[0]}` is in the past, so I announced nothing: people would read “Coming {value}”. Give"
            f" the day of the change, e.g. {example} or {later}."
        )
    for pattern in _YEARLESS:
        for found in pattern.finditer(value):
            day = _nearest(found, over_everywhere)
            if day is not None and day < over_everywhere:
                raise _passed_this_year(found[0], value, day, usage)
    leading = (opening := _BEFORE_SLASH.match(value)) and _SLASH.match(value, opening.end())
    if leading:
        named = _slash_date(leading, value, over_everywhere, usage)
        value = value[: leading.start()] + named + value[leading.end() :]
    if week_days := _WEEKDAY_RANGE.match(value):
        days = week_days["days"]
        raise ArgumentError(
            f"`{days}` is a range of days, so I announced nothing: people would read “Coming {value}” and not"
            f" know on which day the change comes. Start with that one day, e.g. {example}; the range may"
            f" follow it: `{usage} Monday 14:00 UTC, support desk open {days}`."
        )
    day_named = relative_days.fixed(value, now.astimezone(zone).date())
    if value and not _DAY_FIRST.match(day_named):
        raise ArgumentError(
            f"`{value}` does not start with a day I can read, so I announced nothing: people would read"
            f" “Coming {value}” and not know when. Start with the day: a date (`2026-12-04`, `4 December`,"
            " `Dec 4`, `4/12/2026`), a weekday (`Friday`, `next Friday`), `today`, `tonight`, `this"
            " afternoon`, `tomorrow`, `the day after tomorrow`, `in 3 days`, `in 2 weeks`, `this week` or"
            f" `next week`; a time or a note may follow, e.g. {example}. To tell them without a date, say"
            f" `{usage}` alone."
        )
    return day_named


def passed(value: str, *, now: datetime) -> bool:
    """Whether an announced `value` names a day now over everywhere on Earth, as `announcement_when` reads
    it (which refused it when announced; words like "Friday" name no day to judge)."""
    try:
        announcement_when(value, now=now, usage="announce")
    except PastDate:
        return True
    except ArgumentError:
        return False  # announced before such dates were refused (`4/12`, two days to come): no day to judge
    return False


def _slash_date(found: re.Match[str], value: str, over_everywhere: date, usage: str) -> str:
    """A slash date (`30/11`, `11/30/2026`) as the one day it names: day/month in most of the world,
    month/day in the US; refused when neither reading is a day to come, or both are different ones."""
    days = set(_slash_readings(found, over_everywhere))
    coming = sorted(day for day in days if day >= over_everywhere)
    if not days and {found["first"], found["second"]} == {"29", "2"}:
        raise ArgumentError(_no_leap_day(found, over_everywhere, usage))
    if not days:
        raise ArgumentError(
            f"`{found[0]}` is not a date, so I announced nothing. Write it as YYYY-MM-DD, e.g."
            f" `{usage} {over_everywhere + timedelta(days=7)}`, or in words, e.g. `{usage} Friday 14:00 UTC`."
        )
    if not coming and found["year"]:
        raise PastDate(
            f"`{found[0]}` is in the past, so I announced nothing: people would read “Coming {value}”. Give"
            f" the day of the change, e.g. `{usage} Friday 14:00 UTC` or"
            f" `{usage} {over_everywhere + timedelta(days=7)}`."
        )
    if not coming:
        raise _passed_this_year(found[0], value, max(days), usage)
    if len(coming) > 1:
        first, second = (relative_days.month_day(day).rpartition(" ")[0] for day in coming)
        raise ArgumentError(
            f"`{found[0]}` reads as {first} or as {second}, so I announced nothing: write the month as a"
            f" word, e.g. `{usage} {first}` or `{usage} {second}`."
        )
    return relative_days.month_day(coming[0])


def _no_leap_day(found: re.Match[str], today: date, usage: str) -> str:
    year = int(found["year"]) + (2000 if len(found["year"]) == 2 else 0) if found["year"] else today.year
    leap = next(later for later in range(max(year, today.year), year + 9) if calendar.isleap(later))
    if found["year"]:
        return (
            f"`{found[0]}` is not a date: {year} has no 29 February, so I announced nothing. The next one is"
            f" in {leap}: `{usage} {found['first']}/{found['second']}/{leap}`."
        )
    return (
        f"`{found[0]}` is 29 February, which comes only in a leap year, so I announced nothing: if you mean"
        f" the next one, add its year: `{usage} {found[0]}/{leap}`."
    )


def _slash_readings(found: re.Match[str], today: date) -> list[date]:
    first, second = int(found["first"]), int(found["second"])
    orders = [(first, second), (second, first)]
    if not found["year"]:  # the year that puts the day nearest today, as people mean it (`_YEARLESS`)
        return [
            day for day_number, month in orders if (day := _nearest_day(month, day_number, today)) is not None
        ]
    year = int(found["year"]) + (2000 if len(found["year"]) == 2 else 0)
    return [day for day_number, month in orders if (day := _day(year, month, day_number)) is not None]


def _passed_this_year(said: str, value: str, day: date, usage: str) -> PastDate:
    slash = "/" in said
    next_year = f"{said}/{day.year + 1}" if slash else f"{said} {day.year + 1}"
    return PastDate(
        f"`{said}` has passed this year, so I announced nothing: people would read “Coming {value}”. Give the"
        f" day of the change, e.g. `{usage} Friday 14:00 UTC`; if you mean next year, add it:"
        f" `{usage} {next_year}`."
    )


def _readings(found: re.Match[str]) -> list[date]:
    """The date a match means, or none if it is no date."""
    year = int(found["year"]) + (2000 if len(found["year"]) == 2 else 0)
    day = _day(year, _month(found["month"]), int(found["day"]))
    return [day] if day is not None else []


def _nearest(found: re.Match[str], today: date) -> date | None:
    return _nearest_day(_month(found["month"]), int(found["day"]), today)


def _nearest_day(month: int, day_number: int, today: date) -> date | None:
    candidates = [
        day for year in (today.year - 1, today.year, today.year + 1) if (day := _day(year, month, day_number))
    ]
    return min(candidates, key=lambda day: abs(day - today), default=None)


def _month(text: str) -> int:
    return int(text) if text.isdigit() else _MONTHS.index(text[:3].lower()) + 1


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
