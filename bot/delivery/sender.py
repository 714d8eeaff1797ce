"""What the outbox worker hands a chat platform, and what the platform answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.conversation.messages import Channel, DirectMessage, Message


@dataclass(frozen=True)
class Envelope:
    key: str
    """The outbox idempotency key: a platform stamps it on the message so a repeat can be recognised."""
    to: DirectMessage | Channel
    message: Message
    check_first: bool = False
    """An earlier attempt may have reached the recipient: look for its message before posting."""
    updates: str | None = None
    """Copies of one message share this key: the platform updates each earlier copy to match."""
    shared_with: tuple[str, ...] = ()
    """Emails of everyone a shared message (`updates`) goes to directly: where a platform shows a copy's
    buttons only to some people (Teams' `refresh.userIds`), these are the people."""
    migration_id: int | None = None
    """The migration the message belongs to: a sender serving several surfaces routes by it."""


@dataclass(frozen=True)
class Receipt:
    ref: str
    """Where the platform put the message (Slack: `channel/ts`)."""
    time_zone: str | None = None
    """The recipient's time zone when the platform knows it (IANA name or `+HH:MM`)."""
    unconfirmed: bool = False
    """The platform could not confirm that it arrived, and it is not sent again lest it arrive twice (Teams:
    a request that timed out, or one cut short after it was handed over): the admins see it apart."""
    looked_for: bool = False
    """With `unconfirmed`: the platform answered this attempt, which looked for an earlier one's message and
    could not tell whether it is there (Slack, its history unreadable without the app's history scopes): no
    sign that the platform fails now, as a request with no answer is."""
    unchecked_because: str = ""
    """With `looked_for`: why the earlier message could not be looked for, with what would let the sender
    look (a scope to grant). The operator's log counts them by it, once a batch."""


NOT_READY_SECONDS = 60.0
"""When a message is asked about again if its sender, not ready, said no `later` (or none to wait): due
again at once, it would be claimed and put back for ever, and `drain` would never end. Slack's own wait
for its member list is no shorter."""


class DeliveryFailed(Exception):
    """One attempt failed; the fields say whether and when to try again. The text is shown to admins."""

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        permanent: bool = False,
        maybe_delivered: bool = False,
        retry_after: float | None = None,
        later: float | None = None,
        alone: bool = False,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.permanent = permanent
        self.maybe_delivered = maybe_delivered
        self.retry_after = retry_after
        """Seconds the platform asked us to wait (HTTP 429 `Retry-After`): nothing was sent."""
        self.later = (later or NOT_READY_SECONDS) if later is not None else None
        """Seconds after which to try again when the sender was not ready and asked the platform nothing
        (Slack's directory being read again): the attempt is not counted and the pace is left as it is.
        The sender tells the operator once why it is not ready, so the worker logs no line per message.
        0 is `NOT_READY_SECONDS`: due again at once, the message would be claimed and refused for ever."""
        self.alone = alone
        """A `Readiness` answer for this message's recipient alone (Slack holding the look-up that finds
        them), not for every direct message of its migration."""


class NotHandedOver(Exception):
    """The service began stopping before the message was handed to the platform: nothing reached it, so the
    worker gives the message back, due at once for the next process, and the attempt is not counted."""


class Sender(Protocol):
    async def send(self, envelope: Envelope) -> Receipt:
        """Deliver once; raise `DeliveryFailed` when it did not work."""
        ...


@runtime_checkable
class Readiness(Protocol):
    """A sender that may not be ready for a message for a while (Slack's, until its directory is read)."""

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        """Why a message of `migration_id` to `to` cannot be sent yet, with `later` set (else the worker
        waits `NOT_READY_SECONDS`), or None. The worker
        asks about each message of a batch before its first send and puts back at once those not ready: a
        message put back costs no slot nor turn that the ready ones (another surface's, beside it) wait for.
        It asks again right before each ready one's turn once the batch has waited (for a room or its
        pace) since: asked twice for most messages of a long batch, an answer must be cheap (no read of
        the database but on a miss).
        The answer for one direct message holds for all of its migration, unless it is `alone`: the worker
        puts back those due with it, unclaimed, and those of the batch not begun yet."""
        ...


@runtime_checkable
class HandsOver(Protocol):
    """A sender that can tell when a message is handed to its platform (Teams' `before` hook), and so can stop
    handing any more over: a send cut short after that moment may have arrived and cannot be looked for
    (Teams keeps no history a bot can search), one cut before it is simply sent by the next process."""

    def stop_handing_over(self) -> None:
        """The service is stopping: a send that has not handed its message over yet raises `NotHandedOver`
        instead, so that only those already on their way are waited for."""
        ...
