"""Settling one claimed message: sent exactly once, and what came of it recorded.

Right before the send the claim is renewed and the message marked `in_flight` (`begin_send`), only if
the claim still holds; the result is recorded after it. A 429 waits for the pace's next turn while the
worker's patience lasts (a try after one that may have got through looks for it first); any other
failure is recorded, to be retried or given up (`mark_failed`), and whoever waits on a message given up
is told (`Undeliverable`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.delivery.pacing import AdaptivePacer
from bot.delivery.render import envelope_of
from bot.delivery.sender import DeliveryFailed, Envelope, NotHandedOver, Receipt, Sender
from bot.delivery.settings import DeliverySettings
from storage import Database, OutboundMessage
from storage.outbox_claims import put_back
from storage.outbox_sends import begin_send, mark_failed, mark_sent
from storage.outbox_threads import FOLLOWS, FOLLOWS_SENDING, SUPERSEDED, WAITS, still_sending, thread_turn
from workflows.stages import redeem_links

logger = logging.getLogger("bot.delivery.worker")
"""The worker's log: what its sends did is logged under its name, where the operator looks for the worker."""

Delivered = Callable[[OutboundMessage, Receipt], None]
"""Called (in a worker thread) after a message is recorded as sent: reminders start from there."""
Undeliverable = Callable[[OutboundMessage, DeliveryFailed], None]
"""Called (in a worker thread) after a message is recorded as failed for good: an admin's prompt that
reached nobody is told to the others."""
_WAITS_FOR = {
    WAITS: "waits for the version before it being sent",
    FOLLOWS_SENDING: "waits for the older news it takes back, still being sent",
}
"""What a message given back to wait is waiting for, by its code, as admins and the log read it."""
Turn = Callable[[str], Awaitable[datetime | None]]
"""The pace's next start for a recipient, or None once the worker is told to stop."""


class Settler:
    """Settles the messages a worker claimed, one `send` each, under the worker's name."""

    def __init__(
        self,
        database: Database,
        sender: Sender,
        *,
        worker: str,
        clock: Callable[[], datetime],
        settings: DeliverySettings,
        pacer: AdaptivePacer,
        turn: Turn,
        moved: set[str],
        on_delivered: Delivered | None,
        on_undeliverable: Undeliverable | None,
    ) -> None:
        """`moved`: the worker's organizations whose messages moved, which each recorded outcome adds to."""
        self._database = database
        self._sender = sender
        self._worker = worker
        self._clock = clock
        self._settings = settings
        self._pacer = pacer
        self._turn = turn
        self._moved = moved
        self._on_delivered = on_delivered
        self._on_undeliverable = on_undeliverable
        self.waiting = 0
        """How many of the batch were given back to wait for an older version (`thread_turn`): not handled."""
        self._given_up: Counter[tuple[str, str]] = Counter()
        """The batch's messages failed for good, by kind and code: logged once a batch, as counts."""
        self._unchecked: Counter[tuple[str, str]] = Counter()
        """The batch's messages sent in doubt as an earlier attempt could not be looked for, by kind and
        why (`Receipt.unchecked_because`): logged once a batch, as counts."""

    async def send(self, message: OutboundMessage, started: datetime) -> None:
        """Send the message at the start its turn gave, unless a version of it must not go now, retrying
        a 429 at the pace's next turn while the worker's patience lasts; what came of it is recorded."""
        assert message.id is not None
        if await self._not_its_turn(message):
            return
        patience = self._settings.patience.total_seconds()
        waited = 0.0
        envelope: Envelope | None = None
        landed = False
        """A try of this send may have got through (a post, then a 429 on a later step): the next try looks
        for it first, and whatever ends the send keeps the message one that may have reached them."""
        while True:
            if not await self._begin_send(message.id, landed):
                logger.info("outbox message %s: the claim ran out before sending; not sent", message.id)
                return
            envelope = envelope or await self._envelope(message)
            if envelope is None:
                return
            if landed:
                envelope = replace(envelope, check_first=True)
            try:
                receipt = await self._sender.send(envelope)
            except NotHandedOver:
                await self._not_handed_over(message)
                return
            except DeliveryFailed as failure:
                landed = failure.maybe_delivered = landed or failure.maybe_delivered
                wait = failure.retry_after
                if wait is not None:
                    self._pacer.rejected(started, wait)
                    if waited + wait <= patience:
                        waited += wait
                        turn = await self._turn(message.recipient)
                        if turn is not None:
                            started = turn
                            continue
                await self._failed(message, failure)  # stopped meanwhile: due again after the 429's wait
                return
            except Exception:  # an unexpected bug must not leave the message claimed until the lease ends
                reference = uuid.uuid4().hex[:8]
                logger.exception("sending outbox message %s failed (log ref %s)", message.id, reference)
                unexpected = DeliveryFailed(
                    "internal_error", f"internal error; see log ref {reference}", maybe_delivered=True
                )
                await self._failed(message, unexpected)
                return
            self._pacer.accepted()
            await self._sent(message, receipt)
            return

    def warn_of_batch(self) -> None:
        """One WARNING per kind and code of the batch's messages failed for good, and one per kind and
        reason of those sent in doubt (`Receipt.unchecked_because`), with how many and where to find who:
        never an address (`progress` lists who, its CSV their addresses; DEBUG names each)."""
        for (kind, why), count in sorted(self._unchecked.items()):
            logger.warning(
                "%d %s message(s) may not have arrived, and an earlier attempt could not be looked for (%s):"
                " recorded as sent, unconfirmed; `progress` lists who (`retry-failed` sends them again)",
                count,
                kind,
                why,
            )
        self._unchecked.clear()
        for (kind, code), count in sorted(self._given_up.items()):
            logger.warning(
                "%d %s message(s) not delivered, not retried (%s): `progress` lists who, its CSV their"
                " addresses (`retry-failed` tries them again)",
                count,
                kind,
                code,
            )
        self._given_up.clear()

    async def _not_its_turn(self, message: OutboundMessage) -> bool:
        """Whether the message must not go now: one version of a message to its recipient given up as a
        newer version is queued or sent, or given back while an older one is being sent (by another
        replica's worker) (`thread_turn`); or news given back while older news it takes back is still being
        sent (`FOLLOWS`)."""
        turn = await self._thread_turn(message) or await self._follows_turn(message)
        if turn == SUPERSEDED:
            logger.info("outbox message %s not sent: a newer version of it is queued or sent", message.id)
        elif turn is not None:
            await self._wait(message, turn)
        return turn is not None

    async def _thread_turn(self, message: OutboundMessage) -> str | None:
        thread = message.payload.get("updates")
        if not isinstance(thread, str) or not thread or message.id is None:
            return None
        return await asyncio.to_thread(
            thread_turn,
            self._database,
            message.id,
            worker=self._worker,
            recipient=message.recipient,
            kind=message.kind,
            thread=thread,
        )

    async def _follows_turn(self, message: OutboundMessage) -> str | None:
        older = message.payload.get(FOLLOWS)
        if not isinstance(older, list) or not older:
            return None
        sending = await asyncio.to_thread(still_sending, self._database, older, now=self._clock())
        return FOLLOWS_SENDING if sending else None

    async def _wait(self, message: OutboundMessage, code: str) -> None:
        """Give the message back, due again at once: the next poll looks again."""
        assert message.id is not None
        self.waiting += 1
        waits = _WAITS_FOR[code]
        first = await asyncio.to_thread(
            put_back,
            self._database,
            [message.id],
            worker=self._worker,
            until=self._clock(),
            code=code,
            reason=waits,
        )
        if first:  # not again each poll until that send ends
            logger.info("outbox message %s %s", message.id, waits)

    async def _begin_send(self, message_id: int, maybe_delivered: bool) -> bool:
        return await asyncio.to_thread(
            begin_send,
            self._database,
            message_id,
            worker=self._worker,
            now=self._clock(),
            lease=self._settings.lease,
            maybe_delivered=maybe_delivered,
        )

    async def _envelope(self, message: OutboundMessage) -> Envelope | None:
        """What to send, the recipient's own link read only now that the claim holds; None when the
        payload is unreadable (then the message failed for good)."""
        try:
            accept_url = None
            if redeem_links.offered(message.recipient, message.payload):  # no thread nor query for the rest
                accept_url = await asyncio.to_thread(redeem_links.for_list, self._database, message.payload)
            return envelope_of(message, accept_url=accept_url)
        except (KeyError, TypeError, ValueError) as error:
            unreadable = DeliveryFailed("bad_payload", f"unreadable message: {error}", permanent=True)
            await self._failed(message, unreadable)
            return None

    async def _not_handed_over(self, message: OutboundMessage) -> None:
        """Stopping, the send never reached the platform: due again at once and uncounted, for the next
        process, and no longer `in_flight`, which would make that process take it for possibly delivered."""
        assert message.id is not None
        await asyncio.to_thread(
            mark_failed,
            self._database,
            message.id,
            worker=self._worker,
            now=self._clock(),
            error="",
            retry_after=timedelta(0),
            max_attempts=self._settings.max_attempts,
            counted=False,
        )

    async def _sent(self, message: OutboundMessage, receipt: Receipt) -> None:
        assert message.id is not None
        recorded = await asyncio.to_thread(
            mark_sent,
            self._database,
            message.id,
            worker=self._worker,
            now=self._clock(),
            ref=receipt.ref,
            unconfirmed=receipt.unconfirmed,
        )
        if recorded:
            self._moved.update(organizations([message]))
            if receipt.unchecked_because:
                self._unchecked[(message.kind, receipt.unchecked_because)] += 1
        if recorded and self._on_delivered is not None:
            try:
                await asyncio.to_thread(self._on_delivered, message, receipt)
            except Exception:  # the message is out; a reminder schedule failing must not undo that
                logger.exception("after delivering outbox message %s", message.id)

    async def _failed(self, message: OutboundMessage, failure: DeliveryFailed) -> None:
        assert message.id is not None
        # rate limited, or the sender not ready: nothing was tried, so nothing counts
        pause = failure.retry_after if failure.retry_after is not None else failure.later
        wait = (
            timedelta(seconds=pause)
            if pause is not None
            else self._settings.backoff * 2 ** max(message.attempts - 1, 0)
        )
        left = await asyncio.to_thread(
            mark_failed,
            self._database,
            message.id,
            worker=self._worker,
            now=self._clock(),
            error=failure.reason,
            retry_after=wait,
            max_attempts=self._settings.max_attempts,
            code=failure.code,
            permanent=failure.permanent,
            maybe_delivered=failure.maybe_delivered,
            counted=pause is None,
        )
        if left is not None:
            self._moved.update(organizations([message]))
        # given up, at once or after its last counted try, as `mark_failed` decided: whatever the kind of
        # failure, the admins waiting on it are told, so the hook follows the row ending `failed`
        if left == "failed":
            # one WARNING a batch counts them (`warn_of_batch`): at 20,000 people an outage or a workspace
            # that lacks them would be 20,000 lines, each with an address; DEBUG names the row, not the
            # person: the recipient and the reason (which quotes the address) stay in the row
            logger.debug(
                "%s outbox message %s not delivered, not retried (%s)", message.kind, message.id, failure.code
            )
            self._given_up[(message.kind, failure.code)] += 1
            if self._on_undeliverable is not None:
                try:
                    await asyncio.to_thread(self._on_undeliverable, message, failure)
                except Exception:  # the failure is recorded; telling the admins failing must not undo that
                    logger.exception("after outbox message %s failed for good", message.id)
        elif failure.later is None:  # a sender not ready says why once, not once per message
            logger.info("outbox message %s not delivered: %s", message.id, failure.code)


def organizations(messages: Iterable[OutboundMessage]) -> set[str]:
    """The organizations whose progress the messages are part of: what the live reports refresh."""
    return {str(m.payload.get("organization")) for m in messages} - {"None"}
