"""Holding back what the sender is not ready for (`Readiness`): put back before any send of the batch, due
again when the sender said, uncounted, and the direct messages of the same migrations with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.delivery.render import addressee_of
from bot.delivery.sender import NOT_READY_SECONDS, DeliveryFailed, Readiness
from bot.delivery.settling import organizations
from storage import Database, OutboundMessage
from storage.outbox_claims import put_back, put_back_alike
from workflows.notices import CHANNEL_PREFIX


class Holding:
    """Puts back the claimed messages a worker's sender is not ready for, under the worker's name."""

    def __init__(
        self,
        database: Database,
        readiness: Readiness | None,
        *,
        worker: str,
        clock: Callable[[], datetime],
        held: set[int],
        moved: set[str],
    ) -> None:
        """`held`: the worker's claims of its batch, which those put back leave; `moved`: the worker's
        organizations whose messages moved, which those put back for a new reason add to."""
        self._database = database
        self._readiness = readiness
        self._worker = worker
        self._clock = clock
        self._held = held
        self._moved = moved

    async def hold_back(self, claimed: list[OutboundMessage]) -> list[OutboundMessage]:
        """Put back the messages the sender is not ready for (`Readiness`), before any send of the batch;
        the others, to send. Held, a message takes neither a slot of `concurrency` nor a turn of the pace
        that the ready ones (another surface's, beside it) would wait for, and is due again as long after
        the sender's answer as it said, not that long after the batch's sends end.

        Asking failing (the database gone while routing a message), or the batch cancelled meanwhile, those
        found not ready until then are put back all the same, a failure to put them back noted on the one
        raised; `OutboxWorker.run_once` gives back the rest."""
        if self._readiness is None:
            return claimed
        ready: list[OutboundMessage] = []
        unready: list[tuple[OutboundMessage, DeliveryFailed]] = []
        try:
            for message in claimed:
                why = await self._not_ready(message)
                if why is None:
                    ready.append(message)
                else:
                    unready.append((message, why))
        except (Exception, asyncio.CancelledError) as failure:
            try:
                await self._put_back(unready)
            except Exception as also:  # the database gone for both: the first is the one to raise
                failure.add_note(
                    f"putting back the messages found not ready failed too ({type(also).__name__})"
                )
            raise
        await self._put_back(unready)
        return ready

    async def no_longer_ready(
        self, message: OutboundMessage, alike: Iterable[OutboundMessage]
    ) -> set[int | None]:
        """Asked again right before its turn (the batch's pace since the first answer may be minutes): a
        message the sender is no longer ready for is put back now, due again when it said, not sent to
        fail after a turn that the ready ones wait for. The answer for a direct message holds for its
        migration's (`Readiness`): `alike`, those of the batch not begun, go back with it. The ids put
        back; none when it is ready."""
        why = await self._not_ready(message)
        if why is None:
            return set()
        held = [message] if why.alone else [message, *alike]
        await self._put_back([(each, why) for each in held])
        return {each.id for each in held}

    async def _not_ready(self, message: OutboundMessage) -> DeliveryFailed | None:
        """Why the sender cannot take the message yet (`Readiness`)."""
        if self._readiness is None:
            return None
        try:
            to = addressee_of(message)
        except (KeyError, TypeError, ValueError):  # unreadable: its send fails it for good
            return None
        return await self._readiness.not_ready(message.migration_id, to)

    async def _put_back(self, unready: list[tuple[OutboundMessage, DeliveryFailed]]) -> None:
        """Put back the messages the sender was not ready for, due again when it said, uncounted: one
        statement for those held for the same reason, and one for the direct messages of their migrations
        due meanwhile, unclaimed (`Readiness`: the answer is theirs too), so thousands held cost no claim
        each and the messages queued behind them (another surface's) are claimed next. A message already
        waiting for that reason has not moved: the live reports are not refreshed for it every time it
        comes due."""
        now = self._clock()
        alike: dict[tuple[str, str], list[tuple[OutboundMessage, DeliveryFailed]]] = {}
        for message, why in unready:
            alike.setdefault((why.code, why.reason), []).append((message, why))
        for (code, reason), held in alike.items():
            messages = [message for message, _ in held]
            ids = [message.id for message in messages if message.id is not None]
            # The shortest wait told: none is held longer than its sender asked, and one due sooner than it
            # said is only asked again. A sender's wait may shrink from one message to the next (Slack's
            # runs to its next read try, on a monotonic clock): `now` is read after every answer (and before
            # any send), so the shortest still ends at that try.
            until = now + timedelta(seconds=min(why.later or NOT_READY_SECONDS for _, why in held))
            reason_changed = await asyncio.to_thread(
                put_back, self._database, ids, worker=self._worker, until=until, code=code, reason=reason
            )
            self._held.difference_update(ids)
            direct = {
                migration
                for message, why in held
                if not why.alone and (migration := migration_of_direct(message)) is not None
            }
            migrations_changed = (
                await asyncio.to_thread(
                    put_back_alike,
                    self._database,
                    direct,
                    not_to=CHANNEL_PREFIX,
                    now=now,
                    until=until,
                    code=code,
                    reason=reason,
                )
                if direct
                else set()
            )
            self._moved.update(
                organizations(
                    m for m in messages if m.id in reason_changed or m.migration_id in migrations_changed
                )
            )


def directs_by_migration(
    messages: list[OutboundMessage],
) -> dict[int | None, list[tuple[int, OutboundMessage]]]:
    """The direct messages of each migration among `messages`, with their index: a direct message held at
    its turn takes the later ones of its migration along, so each migration's are looked through once."""
    directs: dict[int | None, list[tuple[int, OutboundMessage]]] = {}
    for index, message in enumerate(messages):
        if (migration := migration_of_direct(message)) is not None:
            directs.setdefault(migration, []).append((index, message))
    return directs


def migration_of_direct(message: OutboundMessage) -> int | None:
    """The migration a direct message was sent for (its sender's readiness answer holds for the migration's
    others), or None: a channel's, or no migration's."""
    return None if message.recipient.startswith(CHANNEL_PREFIX) else message.migration_id
