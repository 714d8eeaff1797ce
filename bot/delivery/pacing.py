"""Pacing that finds Slack's real limit: additive increase while Slack accepts, multiplicative decrease and
a pause of `Retry-After` on a 429 (AIMD), at most one message a second per channel, under a ceiling.

It starts like TCP: the rate doubles every second until the first 429, then grows by a constant step per
second. A burst of sends that all meet the same 429 counts as one signal: only a send started after the
last cut can cut the rate again, so a few concurrent refusals do not collapse it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.delivery.settings import DeliverySettings

Sleep = Callable[[float], Awaitable[None]]

_IDLE_CHANNELS = 10_000
"""Channels remembered at most; a channel whose bucket is full again needs no memory."""


class AdaptivePacer:
    def __init__(self, settings: DeliverySettings, clock: Callable[[], datetime], sleep: Sleep) -> None:
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self.rate = min(settings.initial_rate_per_second, settings.max_rate_per_second)
        self._starting = True
        self._next: datetime | None = None
        self._paused_until: datetime | None = None
        self._last_cut: datetime | None = None
        self._grown_at: datetime | None = None
        self._channels: dict[str, tuple[float, datetime]] = {}

    async def slot(self, channel: str) -> datetime:
        """Wait for the next start that Slack's workspace and per-channel limits allow; its time.

        The start is reserved before waiting, so concurrent callers queue up behind each other; a 429
        that arrives meanwhile pushes this start back once more.
        """
        now = self._clock()
        start = self._start(channel, now)
        self._next = start + timedelta(seconds=1 / self.rate)
        self._take(channel, start)
        if start > now:
            await self._sleep((start - now).total_seconds())
        if self._paused_until is not None and self._paused_until > start:
            pause = self._paused_until - start
            start = self._paused_until
            self._next = max(self._next, start + timedelta(seconds=1 / self.rate))
            await self._sleep(pause.total_seconds())
        return start

    def _start(self, channel: str, now: datetime) -> datetime:
        return max(now, self._next or now, self._paused_until or now, self._channel_ready(channel, now))

    def accepted(self) -> None:
        """Slack took a message: grow the rate by the time spent sending since the last growth."""
        now = self._clock()
        elapsed = min(max((now - (self._grown_at or now)).total_seconds(), 0.0), 1.0)
        self._grown_at = now
        if self._starting:
            self.rate *= 2**elapsed
        else:
            self.rate += self._settings.increase_per_second * elapsed
        self.rate = min(self.rate, self._settings.max_rate_per_second)

    def rejected(self, started: datetime, retry_after: float) -> None:
        """Slack answered 429 to a send started at `started`: everyone waits, and the rate is cut once."""
        now = self._clock()
        resume = now + timedelta(seconds=retry_after)
        self._paused_until = max(self._paused_until or resume, resume)
        self._grown_at = resume
        if self._last_cut is None or started > self._last_cut:
            self._starting = False
            self._last_cut = now
            floor = min(self._settings.min_rate_per_second, self._settings.max_rate_per_second)
            self.rate = max(self.rate * self._settings.decrease, floor)

    def _channel_ready(self, channel: str, now: datetime) -> datetime:
        tokens = self._tokens(channel, now)
        if tokens >= 1:
            return now
        return now + timedelta(seconds=(1 - tokens) / self._settings.per_channel_per_second)

    def _take(self, channel: str, now: datetime) -> None:
        if len(self._channels) >= _IDLE_CHANNELS:
            burst = self._settings.channel_burst
            self._channels = {
                name: state for name, state in self._channels.items() if self._tokens(name, now) < burst
            }
        self._channels[channel] = (self._tokens(channel, now) - 1, now)

    def _tokens(self, channel: str, now: datetime) -> float:
        burst = float(self._settings.channel_burst)
        if channel not in self._channels:
            return burst
        tokens, at = self._channels[channel]
        return min(burst, tokens + (now - at).total_seconds() * self._settings.per_channel_per_second)
