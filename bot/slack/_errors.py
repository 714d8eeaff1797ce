"""What a Slack error says, read the same way by the sender, the conversation's delivery and the directory:
its code, and how long its Retry-After asks to wait."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

RETRY_AFTER_AT_MOST = 900.0
"""An absurd `Retry-After` is capped: the worker re-queues long waits anyway, asking again costs one 429."""


TOKEN_REFUSED = frozenset(
    {"account_inactive", "token_revoked", "token_expired", "invalid_auth", "not_authed"}
)
"""The bot's own token no longer works (the app was removed, its bot user or the workspace deleted, a
rotating token not refreshed): nothing to do with a recipient or a call's arguments."""


NOT_ANSWERED = (SlackClientError, aiohttp.ClientError, TimeoutError)
"""A call that got no answer from Slack (the connection broke or timed out); a `SlackApiError` among them
is an answer, to be caught first."""
REACHING_SLACK = (
    "this host needs outbound HTTPS to slack.com (in Socket Mode also to wss-primary.slack.com), through"
    " HTTPS_PROXY if it reaches the internet through a proxy; if SLACK_API_URL is set, check it"
)
"""The fix for Slack not answering at all, for the operator's log and start-up messages."""
RATE_LIMITING = "Slack is rate limiting"
"""The start of what admins read when Slack answered 429."""


class LookupsLimited(SlackClientError):
    """Slack rate limits `users.lookupByEmail` (Tier 3, about 50 a minute) for `seconds` more: a person
    only a look-up can find waits that long, and nothing is asked of Slack meanwhile."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"looking people up by email is rate limited for {seconds:.0f} s")
        self.seconds = seconds


def not_answered(error: BaseException) -> str:
    """What admins read of a call Slack did not answer: the kind of failure, nothing of the request."""
    return f"Slack did not answer ({type(error).__name__})"


def fix_for(error: SlackApiError) -> str | None:
    """What admins read when Slack refused the app itself, not a call's recipient or arguments: its token,
    or a scope it lacks (Slack names it in `needed`); with the fix. None for another error."""
    code = error_code(error)
    if code in TOKEN_REFUSED:
        return f"Slack refused the bot's token ({code}): reinstall the app in the workspace"
    if code == "missing_scope":
        needed = error.response.get("needed")
        scope = f"the {needed} scope" if needed else "a scope this needs"
        return (
            f"the app lacks {scope} (missing_scope): add it under OAuth & Permissions, then reinstall the app"
        )
    return None


def error_code(error: BaseException) -> str:
    """Slack's error code (`user_not_found`), or the kind of failure when Slack gave none; a wait Slack
    asked for earlier (`LookupsLimited`) is its `ratelimited`."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or "unknown_error")
    if isinstance(error, LookupsLimited):
        return "ratelimited"
    return type(error).__name__


def retry_after_header(error: SlackApiError) -> str | None:
    headers = {name.casefold(): value for name, value in (error.response.headers or {}).items()}
    return headers.get("retry-after")


def retry_after_seconds(
    header: str | None,
    now: datetime | None = None,
    *,
    missing: float = 1.0,
    at_most: float = RETRY_AFTER_AT_MOST,
) -> float:
    """`Retry-After` in seconds: delta-seconds or an HTTP date; `missing` when missing or unreadable; at
    least 1 s, at most `at_most`."""
    seconds = missing
    if header:
        try:
            seconds = float(header)
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        seconds = at_most
    return min(max(seconds, 1.0), at_most)
