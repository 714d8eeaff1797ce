"""The words people type, parsed once for every surface (`/aad WORDS`, a mention, the console)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

SLASH_COMMAND = "/aad"


@dataclass(frozen=True)
class Usage:
    word: str
    arguments: str
    summary: str
    admin: bool = True


USAGES: tuple[Usage, ...] = (
    Usage("start", "ORG TENANT", "start migrating organization ORG to tenant TENANT (id or verified domain)"),
    Usage("doctor", "ORG TENANT", "check that the bot's credentials can do everything the migration needs"),
    Usage("status", "[ORG]", "where the migration stands and what comes next", admin=False),
    Usage("plan", "[ORG]", "the per-user plan: who keeps access, who is mapped, who is invited"),
    Usage("recheck", "[ORG]", "check the prerequisites and rebuild the plan"),
    Usage("announce", "[ORG] [WHEN]", "tell every affected user what will happen to them, and when"),
    Usage("invite", "[ORG]", "invite the users missing from the directory as B2B guests"),
    Usage("request-approval", "[ORG]", "ask another admin to approve connecting"),
    Usage("approve", "APPROVAL", "approve a pending request (the prompt's button does the same)"),
    Usage("reject", "APPROVAL [REASON]", "reject a pending request"),
    Usage("check-connection", "[ORG]", "check now whether the organization is connected"),
    Usage("notify", "[ORG]", "send every affected user their own to-do list"),
    Usage("progress", "[ORG]", "completion per item and per person, and where each to-do list stands"),
    Usage("retry-failed", "[ORG]", "send again the to-do lists that could not be delivered"),
    Usage("check-billing", "[ORG]", "check the billing subscription is in the new directory"),
    Usage("complete", "[ORG]", "close the migration"),
    Usage("stale-users", "[ORG] [DAYS]", "users with no sign-in for DAYS days (default 90)"),
    Usage("remove-users", "ORG USER...", "remove users from the organization (after stale-users)"),
    Usage("resume", "[ORG]", "go on after a failure"),
    Usage("cancel", "[ORG] [REASON]", "cancel the migration"),
    Usage("todo", "", "your own to-do list", admin=False),
    Usage("done", "ITEM", "tick off an item of your to-do list", admin=False),
    Usage("need-help", "ITEM", "help with an item of your to-do list; the admins are told", admin=False),
    Usage("snooze", "REMINDER 1d|1w", "put your reminders off by a day or a week", admin=False),
    Usage("ask", "QUESTION", "ask anything about the move", admin=False),
    Usage("help", "", "this list", admin=False),
)
WORDS = frozenset(usage.word for usage in USAGES)


@dataclass(frozen=True)
class Command:
    word: str
    args: tuple[str, ...]
    text: str
    """Everything after the command word, as typed (questions keep their punctuation)."""

    def arg(self, index: int) -> str | None:
        return self.args[index] if index < len(self.args) else None


def parse(text: str) -> Command:
    """`start fabrikam-fiber fabrikam.com` -> Command("start", ...). Unknown words become `help`-worthy."""
    stripped = text.strip()
    if stripped.startswith(SLASH_COMMAND + " ") or stripped == SLASH_COMMAND:
        stripped = stripped[len(SLASH_COMMAND) :].strip()
    word, _, rest = stripped.partition(" ")
    word = word.casefold()
    rest = rest.strip()
    try:
        args = tuple(shlex.split(rest))
    except ValueError:
        args = tuple(rest.split())
    if not word:
        return Command("help", (), "")
    return Command(word, args, rest)
