"""How the outbox worker paces, claims and retries: one object, read from the environment by `Settings`.

`aadbot serve` and the notify benchmark both take it from `Settings.from_environment`, so what the
benchmark measures is what `serve` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

DEFAULT_MAX_RATE = 100.0
"""Messages per second at most (`AADBOT_SLACK_MAX_RATE`). Slack's workspace-wide limit on
`chat.postMessage` is not published ("several hundred per minute"); the pacer finds it from Slack's 429s
and never goes above this ceiling."""


@dataclass(frozen=True)
class DeliverySettings:
    max_rate_per_second: float = DEFAULT_MAX_RATE
    initial_rate_per_second: float = 5.0
    """Where pacing starts: Slack's documented 1 message per second plus a short burst, times a few."""
    increase_per_second: float = 2.0
    """Additive increase: messages per second added for each second Slack accepts everything."""
    decrease: float = 0.7
    """Multiplicative decrease on a 429: the rate is multiplied by this (once per rate-limit episode)."""
    min_rate_per_second: float = 0.5
    per_channel_per_second: float = 1.0
    """Slack: "one message per second per channel" for `chat.postMessage`; a person's DM is a channel."""
    channel_burst: int = 3
    """Slack allows short bursts above one a second in a channel; a few messages, then one a second."""
    batch: int = 50
    concurrency: int = 16
    """Messages in flight at once: at Slack's ~0.3 s per post, 16 keep 50 messages a second going."""
    lease: timedelta = timedelta(seconds=20)
    """A claim lasts this long unless renewed; a live worker renews its claims every quarter lease, so a
    dead worker's messages are taken over within one lease."""
    patience: timedelta = timedelta(seconds=30)
    """A 429 is waited out in place up to this long; a longer `Retry-After` puts the message back."""
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)
    """After a failure: 30 s, 1 min, 2 min, 4 min... doubling with each attempt."""
    progress_every: timedelta = timedelta(seconds=10)
    """The live delivery report is refreshed at most this often while a fan-out runs."""

    def __post_init__(self) -> None:
        rates = (
            self.max_rate_per_second,
            self.initial_rate_per_second,
            self.min_rate_per_second,
            self.per_channel_per_second,
        )
        if min(rates) <= 0 or self.increase_per_second < 0 or not 0 < self.decrease < 1:
            raise ValueError("rates must be positive and the decrease a fraction between 0 and 1")
        if self.batch < 1 or self.concurrency < 1 or self.max_attempts < 1 or self.channel_burst < 1:
            raise ValueError("batch, concurrency, attempts and channel burst must be positive")
        if self.lease <= timedelta(0):
            raise ValueError("the lease must be positive")

    @property
    def renew_every(self) -> timedelta:
        return self.lease / 4

    @classmethod
    def unpaced(cls) -> DeliverySettings:
        """For the console: no platform limit to respect."""
        huge = 1_000_000.0
        return cls(
            max_rate_per_second=huge,
            initial_rate_per_second=huge,
            per_channel_per_second=huge,
            channel_burst=1_000_000,
        )
