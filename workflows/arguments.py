"""Arguments typed in chat or on the command line, validated before anything asks Microsoft about them.

Nothing a user types reaches a Microsoft URL unchecked: an organization name follows Azure DevOps'
rules, a tenant is a GUID or a domain, a user id is a GUID. So `..` never becomes a path segment, and
a stranger cannot use the bot to ask Azure DevOps about arbitrary names.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from workflows.errors import WorkflowError

_ORGANIZATION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?")
"""Azure DevOps: 1-50 letters, digits and hyphens, starting and ending with a letter or digit."""
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"(?=.{3,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_MENTION = re.compile(r"<[!@#]|<at>|(?<![\w.])@(?:here|channel|everyone)\b", re.IGNORECASE)
"""Slack's `<!channel>`, `<@U123>`, `<#C123>`, Teams' `<at>`, and a typed `@here`, `@channel`, `@everyone`."""
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = rf"(?P<month>{'|'.join(_MONTHS)})[a-z]*\.?"
_DATES = (
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I),
)
"""2026-12-04, 4 December 2026, Dec 4th, 2026: dates with a year, the ones that can be in the past."""
_PAST_WORDS = re.compile(
    r"\b(?:yesterday|ago|last\s+(?:night|week|month|year|mon|tue|wed|thu|fri|sat|sun)[a-z]*)\b", re.I
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


def user_id(value: str) -> str:
    """An Azure DevOps user entitlement id (a GUID), as `stale-users` lists them."""
    text = value.strip()
    if not _GUID.fullmatch(text):
        raise ArgumentError(f"`{text}` is not a user id: use the ids `stale-users` lists (GUIDs).")
    return text


def announcement_when(value: str, *, now: datetime, usage: str) -> str:
    """When the change happens, as admins word it (`Friday 14:00 UTC`); it heads every person's notice.

    Refused: a mention, which would ping people from inside the notice, and a day already over
    everywhere on Earth (a date counts as past only once it is over at UTC-12 too, wherever the admin is).
    `usage` is the command to show in the examples, e.g. `announce fabrikam-fiber`.
    """
    example = f"`{usage} Friday 14:00 UTC`"
    if _MENTION.search(value):
        raise ArgumentError(
            "The date you gave mentions a channel or a person, so I announced nothing: it would go as"
            f" written into every affected user's message and ping them. Give only when, e.g. {example}."
        )
    over_everywhere = (now.astimezone(UTC) - timedelta(hours=12)).date()
    past = _PAST_WORDS.search(value)
    for pattern in _DATES:
        for found in pattern.finditer(value):
            day = _date(found)
            if day is None:
                raise ArgumentError(
                    f"`{found[0]}` is not a date, so I announced nothing. Write it as YYYY-MM-DD, e.g."
                    f" `{usage} {over_everywhere + timedelta(days=7)}`, or in words, e.g. {example}."
                )
            past = past or (found if day < over_everywhere else None)
    if past:
        raise ArgumentError(
            f"`{past[0]}` is in the past, so I announced nothing: people would read “Coming {value}”. Give"
            f" the day of the change, e.g. {example} or `{usage} {over_everywhere + timedelta(days=7)}`."
        )
    return value


def _date(found: re.Match[str]) -> date | None:
    month = found["month"]
    number = int(month) if month.isdigit() else _MONTHS.index(month[:3].lower()) + 1
    try:
        return date(int(found["year"]), number, int(found["day"]))
    except ValueError:
        return None
