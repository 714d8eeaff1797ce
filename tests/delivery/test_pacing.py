"""The pacer against a simulated Slack on the injected clock: it finds the limit and keeps every rule."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

import pytest

from bot.delivery.pacing import AdaptivePacer
from bot.delivery.settings import DeliverySettings
from bot.settings import Settings, SettingsError
from tests.delivery.conftest import FakeTime


class BucketSlack:
    """Slack's workspace limit as the fake Web API enforces it: a bucket of one second's worth, then 429."""

    def __init__(self, limit: float, time: FakeTime) -> None:
        self.limit, self.time = limit, time
        self.tokens, self.at = limit, time.now
        self.accepted: list[float] = []
        self.refused = 0

    def post(self) -> float | None:
        """None when accepted; the integer Retry-After when refused."""
        elapsed = (self.time.now - self.at).total_seconds()
        self.tokens, self.at = min(self.limit, self.tokens + elapsed * self.limit), self.time.now
        if self.tokens < 1:
            self.refused += 1
            return float(max(1, math.ceil((1 - self.tokens) / self.limit)))
        self.tokens -= 1
        self.accepted.append(self.time.now.timestamp())
        return None


def _send_all(pacer: AdaptivePacer, slack: BucketSlack, messages: int) -> None:
    async def run() -> None:
        for number in range(messages):
            while True:
                started = await pacer.slot(f"D{number}")
                retry_after = slack.post()
                if retry_after is None:
                    pacer.accepted()
                    break
                pacer.rejected(started, retry_after)

    asyncio.run(run())


@pytest.mark.parametrize("limit", [5.0, 20.0, 50.0])
def test_the_pacer_finds_slacks_limit_and_holds_at_least_90_percent_of_it(limit: float) -> None:
    time = FakeTime()
    pacer = AdaptivePacer(DeliverySettings(), time, time.sleep)
    slack = BucketSlack(limit, time)
    messages = int(limit * 60)  # a minute's worth at the limit

    _send_all(pacer, slack, messages)

    seconds = slack.accepted[-1] - slack.accepted[0]
    assert len(slack.accepted) == messages
    assert messages / seconds >= 0.9 * limit
    assert slack.refused <= messages / 10  # 429s are a signal, not the way of working


def test_the_rate_grows_while_slack_accepts_but_never_past_the_ceiling() -> None:
    time = FakeTime()
    settings = DeliverySettings(max_rate_per_second=8.0)
    pacer = AdaptivePacer(settings, time, time.sleep)
    slack = BucketSlack(1000.0, time)

    _send_all(pacer, slack, 200)

    assert slack.refused == 0 and pacer.rate == 8.0
    seconds = slack.accepted[-1] - slack.accepted[0]
    assert 199 / seconds <= 8.0 + 1e-6


def test_a_429_pauses_everyone_for_retry_after_and_cuts_the_rate_once_per_episode() -> None:
    time = FakeTime()
    pacer = AdaptivePacer(DeliverySettings(initial_rate_per_second=10.0), time, time.sleep)

    async def run() -> None:
        starts = [await pacer.slot(f"D{n}") for n in range(3)]  # three sends in flight
        for started in starts:  # all three meet the same 429
            pacer.rejected(started, 4.0)
        paused_at = time.now
        assert pacer.rate == pytest.approx(7.0)  # 10 x 0.7, once
        resumed = await pacer.slot("D9")
        assert resumed - paused_at >= timedelta(seconds=4)
        pacer.rejected(resumed, 1.0)  # a send started after the cut is a new signal
        assert pacer.rate == pytest.approx(4.9)

    asyncio.run(run())


def test_one_channel_gets_a_short_burst_then_one_message_a_second() -> None:
    time = FakeTime()
    settings = DeliverySettings(initial_rate_per_second=100.0, max_rate_per_second=100.0)
    pacer = AdaptivePacer(settings, time, time.sleep)

    async def run() -> list[float]:
        return [(await pacer.slot("CMIGRATE")).timestamp() for _ in range(8)]

    starts = asyncio.run(run())
    burst = settings.channel_burst
    assert starts[burst - 1] - starts[0] < 0.1  # Slack allows short bursts
    for number in range(burst, len(starts)):  # past the burst: one more message per second, no faster
        assert starts[number] - starts[0] >= number - burst + 1 - 1e-6
    for earlier, later in zip(starts[burst:], starts[burst + 1 :], strict=False):
        assert later - earlier >= 1.0 - 1e-6
    # while other channels go on at the workspace rate
    other = asyncio.run(pacer.slot("DUSER"))
    assert other.timestamp() - starts[-1] < 0.1


def test_the_ceiling_is_read_from_the_environment_with_a_clear_message() -> None:
    assert Settings.from_environment({}).delivery == DeliverySettings()
    assert Settings.from_environment({"AADBOT_SLACK_MAX_RATE": "12"}).delivery.max_rate_per_second == 12.0
    with pytest.raises(SettingsError, match="AADBOT_SLACK_MAX_RATE='fast' is not a number"):
        Settings.from_environment({"AADBOT_SLACK_MAX_RATE": "fast"})
