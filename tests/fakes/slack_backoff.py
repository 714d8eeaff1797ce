"""slack_sdk's retry back-off, waited on a test's clock: production's handlers and schedule, no real sleep.

slack_sdk's handlers ask their `interval_calculator` how long to wait, then `asyncio.sleep` that long
(slack_sdk/http_retry/async_handler.py). The calculator here asks production's own calculator, hands
the wait to the test (which moves its clock on, or only notes it) and has the handler sleep 0 s.
Rate-limit retries are left alone: they wait what Slack's Retry-After says, which the fake keeps short.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient


class _OnClock(RetryIntervalCalculator):
    def __init__(
        self, production: RetryIntervalCalculator, waits: list[float], wait: Callable[[float], None]
    ) -> None:
        self._production = production
        self._waits = waits
        self._wait = wait

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        seconds = self._production.calculate_sleep_duration(current_attempt)
        self._waits.append(seconds)
        self._wait(seconds)
        return 0.0


def back_off_on(client: AsyncWebClient, wait: Callable[[float], None] = lambda _: None) -> list[float]:
    """Points the error retries of `client` (as `build_web_client` wired them) at `wait` instead of a
    sleep; returns the list of every back-off asked for, in seconds, in order."""
    waits: list[float] = []
    for handler in client.retry_handlers or []:
        if not isinstance(handler, AsyncRateLimitErrorRetryHandler):
            handler.interval_calculator = _OnClock(handler.interval_calculator, waits, wait)
    return waits
