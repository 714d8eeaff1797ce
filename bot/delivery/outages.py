"""A surface's outage in the operator's log: one WARNING when its deliveries start failing, one INFO when
they work again (several deliveries confirmed in a row). The worker retries each failed message and logs
it at INFO only, which `serve`'s log does not show, so without this a Slack or Teams down for an hour left
no line at all."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from bot.delivery.sender import DeliveryFailed, Receipt

logger = logging.getLogger(__name__)


RECOVERED_AFTER = 5
"""Deliveries in a row a failing surface confirms before the log says it works again: on one success, a
surface failing one request in three (or alternating) logged a WARNING and an INFO per flip."""


@dataclass
class _Failing:
    failed: int = 0
    """Attempts that failed since the surface started failing."""
    confirmed: int = 0
    """Deliveries confirmed in a row since its last failure."""


class Outages:
    def __init__(self) -> None:
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
        if receipt.unconfirmed:  # no answer (a timeout): recorded, not resent, but no sign it works
            self._failed(surface, "no answer: a message sent may not have arrived")
        elif (failing := self._failing.get(surface)) is not None:
            failing.confirmed += 1
            if failing.confirmed >= RECOVERED_AFTER:
                del self._failing[surface]
                logger.info(
                    "deliveries to %s work again, after %d failed attempt(s)", surface, failing.failed
                )
        return receipt

    def _failed(self, surface: str, why: str) -> None:
        failing = self._failing.get(surface)
        if failing is None:
            failing = self._failing[surface] = _Failing()
            logger.warning(
                "deliveries to %s are failing (%s): each is retried; this log says when they work again",
                surface,
                why,
            )
        failing.failed += 1
        failing.confirmed = 0


def _the_surfaces(failure: DeliveryFailed) -> bool:
    """A failure the surface is to blame for (a 5xx, no answer, the app refused): not a person it cannot
    reach, not a rate limit (nothing was sent, and it is paced), not a sender waiting to be ready."""
    return not failure.permanent and failure.retry_after is None and failure.later is None
