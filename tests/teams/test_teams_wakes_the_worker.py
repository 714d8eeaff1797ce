"""A Teams turn wakes the outbox worker: the step's notices (the start's summary, approval prompts and
decisions) are recorded in the outbox with its change and should not wait for the worker's idle poll."""

from __future__ import annotations

import asyncio
from typing import Any, cast


def test_every_delivery_wakes_the_outbox_worker_first() -> None:
    from bot.teams.delivery import Delivery  # the Teams SDK's cards: not at collection (tests/conftest.py)

    woken: list[str] = []
    unused = cast(Any, None)
    delivery = Delivery(unused, unused, unused, unused, unused, clock=unused)
    delivery.wake = lambda: woken.append("now")

    assert asyncio.run(delivery.deliver([], None)) is None

    assert woken == ["now"]
