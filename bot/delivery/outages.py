"""A surface's outage in the operator's log: one WARNING when its deliveries start failing, one INFO when
they work again. The worker retries each failed message and logs it at INFO only, which `serve`'s log does
not show, so without this a Slack or Teams down for an hour left no line at all."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from bot.delivery.sender import DeliveryFailed, Receipt

logger = logging.getLogger(__name__)


class Outages:
    def __init__(self) -> None:
        self._failing: dict[str, int] = {}
        """Surfaces whose last delivery failed for a reason of their own, with how many failed since."""

    async def watched(self, surface: str, sending: Awaitable[Receipt]) -> Receipt:
        """What `sending` gives or raises, noted for `surface`."""
        try:
            receipt = await sending
        except DeliveryFailed as failure:
            if _the_surfaces(failure):
                self._failed(surface, failure)
            raise
        failed = self._failing.pop(surface, None)
        if failed is not None:
            logger.info("deliveries to %s work again, after %d failed attempt(s)", surface, failed)
        return receipt

    def _failed(self, surface: str, failure: DeliveryFailed) -> None:
        if surface not in self._failing:
            logger.warning(
                "deliveries to %s are failing (%s: %s): each is retried; this log says when they work again",
                surface,
                failure.code,
                failure.reason,
            )
        self._failing[surface] = self._failing.get(surface, 0) + 1


def _the_surfaces(failure: DeliveryFailed) -> bool:
    """A failure the surface is to blame for (a 5xx, no answer, the app refused): not a person it cannot
    reach, not a rate limit (nothing was sent, and it is paced), not a sender waiting to be ready."""
    return not failure.permanent and failure.retry_after is None and failure.later is None
