"""A surface's outage in the operator's log: one WARNING when its deliveries start failing, one INFO when
they work again (several deliveries confirmed in a row, or one after a quiet while). The worker retries
each failed message and logs it at INFO only, which `serve`'s log does not show, so without this a Slack
or Teams down for an hour left no line at all."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.delivery.sender import DeliveryFailed, Receipt

logger = logging.getLogger(__name__)


RECOVERED_AFTER = 5
"""Deliveries in a row a failing surface confirms before the log says it works again: on one success, a
surface failing one request in three (or alternating) logged a WARNING and an INFO per flip."""
RECOVERED_AFTER_QUIET_SECONDS = 300.0
"""Since the last failure: a delivery confirmed after that long ends the outage by itself. A surface sending
little (a reminder an hour) never reached five in a row, so its outage never ended in the log, and its next
one, days later, got no WARNING."""


@dataclass
class _Failing:
    last_failed_at: float
    failed: int = 0
    """Attempts that failed since the surface started failing."""
    confirmed: int = 0
    """Deliveries confirmed in a row since its last failure."""


class Outages:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failing: dict[str, _Failing] = {}
        """Surfaces whose deliveries failed for a reason of their own and have not recovered yet."""

    async def watched(self, surface: str, sending: Awaitable[Receipt]) -> Receipt:
        """What `sending` gives or raises, noted for `surface`."""
        try:
            receipt = await sending
        except DeliveryFailed as failure:
            if _the_surfaces(failure):
                self._failed(surface, f"{failure.code}: {failure.reason}")
            raise
        if receipt.unconfirmed:  # recorded, not resent; no sign it works, whatever it answered
            if not receipt.looked_for:  # no answer (a timeout); an earlier attempt's counted when it failed
                self._failed(surface, "no answer: a message sent may not have arrived")
        elif (failing := self._failing.get(surface)) is not None:
            failing.confirmed += 1
            quiet = self._clock() - failing.last_failed_at >= RECOVERED_AFTER_QUIET_SECONDS
            if failing.confirmed >= RECOVERED_AFTER or quiet:
                del self._failing[surface]
                logger.info(
                    "deliveries to %s work again, after %d failed attempt(s)", surface, failing.failed
                )
        return receipt

    def _failed(self, surface: str, why: str) -> None:
        now = self._clock()
        failing = self._failing.get(surface)
        if failing is None:
            failing = self._failing[surface] = _Failing(last_failed_at=now)
            logger.warning(
                "deliveries to %s are failing (%s): each is retried; this log says when they work again",
                surface,
                why,
            )
        failing.failed += 1
        failing.confirmed = 0
        failing.last_failed_at = now


def _the_surfaces(failure: DeliveryFailed) -> bool:
    """A failure the surface is to blame for (a 5xx, no answer, the app refused): not a person it cannot
    reach, not a rate limit (nothing was sent, and it is paced), not a sender waiting to be ready."""
    return not failure.permanent and failure.retry_after is None and failure.later is None
