"""What a Slack error says, read the same way by the sender, the conversation's delivery and the directory:
its code, and how long its Retry-After asks to wait."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from slack_sdk.errors import SlackApiError

RETRY_AFTER_AT_MOST = 900.0
"""An absurd `Retry-After` is capped: the worker re-queues long waits anyway, asking again costs one 429."""


def error_code(error: BaseException) -> str:
    """Slack's error code (`user_not_found`), or the kind of failure when Slack gave none."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or "unknown_error")
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
