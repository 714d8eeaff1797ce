"""Which surface each outbox message goes through when `serve` runs Slack beside Teams.

A channel's message goes to the surface the channel is on. A direct message is tried first on the surface
its migration was started on, and when that surface says the person is not there (`NOT_IN_CHAT`: no Slack
account, no Teams chat with them), on the other one: admins on Slack and users on Teams both get their
messages. Only that answer moves a message: a person found on the first surface is never tried on the
second, and a transient failure there (5xx, timeout, rate limit) is retried on the same surface, as alone,
so nobody gets one message on both. A later version of a message to a person (a shared `updates` thread)
is routed the same way, so it finds them where the first version did. A direct message delivered on the
other surface is recorded with that surface's name before its receipt (`teams:a:1f…/…`): a version of a
shared message posted in the channel (an approval's decision) then brings that surface's copies up to date
too, not only those on the channel's surface.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import cast

from bot.conversation.messages import Channel, DirectMessage
from bot.delivery.notices import CHAT_MESSAGE
from bot.delivery.outages import Outages
from bot.delivery.render import addressee_of
from bot.delivery.sender import DeliveryFailed, Envelope, HandsOver, Readiness, Receipt, Sender
from storage import Database, Migration, OutboundMessage
from storage.outbox import NOT_IN_CHAT
from storage.outbox_threads import on_thread
from workflows import notices

logger = logging.getLogger(__name__)

SURFACE_NAMES = {"slack": "Slack", "teams": "Teams"}

ELSEWHERE = ":"
"""Between a surface's name and the receipt of a direct message delivered there, not on its migration's."""
THREADED = (*notices.KINDS, CHAT_MESSAGE)
"""The outbox kinds whose messages may share an `updates` thread."""

MIGRATIONS_REMEMBERED = 1024
"""Migrations whose surface `RoutingSender` remembers: far more than are ever delivering at once."""


def surface_of(channel: str | None) -> str:
    from bot.teams.delivery import CHANNEL_PREFIX

    return "teams" if channel and channel.startswith(CHANNEL_PREFIX) else "slack"


class RoutingSender:
    """Sends each outbox message through its surface, a person missing there through the other one; each
    surface's outage is logged once (`Outages`)."""

    def __init__(
        self, database: Database, senders: dict[str, Sender], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._database = database
        self._senders = senders
        self._readiness = {name: sender for name, sender in senders.items() if isinstance(sender, Readiness)}
        # a migration's surface never moves: looked up once, not for every message of its waves
        self._surfaces: dict[int, str] = {}
        self._outages = Outages(clock)

    async def send(self, envelope: Envelope) -> Receipt:
        first = await self._surface(envelope.migration_id, envelope.to)
        if len(self._senders) == 1:
            return await self._through(first, envelope)
        if isinstance(envelope.to, Channel):
            receipt = await self._through(first, envelope)
            if envelope.updates is not None:
                await self._update_elsewhere(self._other(first), envelope)
            return receipt
        try:
            return await self._through(first, envelope)
        except DeliveryFailed as missing:
            if missing.code != NOT_IN_CHAT:  # not a reason to look elsewhere: retried here, as alone
                raise
            other = self._other(first)
            try:
                receipt = await self._through(other, envelope)
            except DeliveryFailed as also:
                if also.code != NOT_IN_CHAT:
                    raise
                raise DeliveryFailed(
                    NOT_IN_CHAT,
                    f"{_on(first, missing.reason)}; {_on(other, also.reason)}",
                    permanent=True,
                ) from None
            return replace(receipt, ref=f"{other}{ELSEWHERE}{receipt.ref}")

    def _other(self, surface: str) -> str:
        return next(name for name in self._senders if name != surface)

    async def _update_elsewhere(self, surface: str, envelope: Envelope) -> None:
        """Bring the copies of a shared message on `surface`, the one its channel is not on, up to date:
        through one of the people it reached there, as each surface updates every copy it holds. Failing,
        the channel's version stands and its copies there stay as they were: told to the operator."""
        to = await asyncio.to_thread(self._reached_on, surface, envelope)
        if to is None:
            return
        try:
            await self._through(surface, replace(envelope, to=to))
        except DeliveryFailed as failure:
            logger.warning(
                "the copies of %s in %s could not be updated: %s",
                envelope.updates,
                SURFACE_NAMES.get(surface, surface),
                failure.reason,
            )

    def _reached_on(self, surface: str, envelope: Envelope) -> DirectMessage | None:
        """Someone a version of `envelope`'s shared message reached on `surface` although its migration is
        on the other one; None when nobody was. Notices only: no to-do list shares a thread."""
        from sqlmodel import col, select

        assert envelope.updates is not None  # only a version of a shared message is brought up to date
        with self._database.session() as session:
            found = session.exec(
                select(OutboundMessage)
                .where(OutboundMessage.migration_id == envelope.migration_id)
                .where(col(OutboundMessage.kind).in_(THREADED))
                .where(OutboundMessage.status == "sent")
                .where(col(OutboundMessage.delivered_ref).startswith(f"{surface}{ELSEWHERE}"))
                .where(on_thread(envelope.updates))
                .limit(1)
            ).first()
        return None if found is None else cast(DirectMessage, addressee_of(found))

    async def _through(self, surface: str, envelope: Envelope) -> Receipt:
        name = SURFACE_NAMES.get(surface, surface)
        return await self._outages.watched(name, self._senders[surface].send(envelope))

    def stop_handing_over(self) -> None:
        """Each surface's sender that can tell when a message is handed over stops (`HandsOver`)."""
        for sender in self._senders.values():
            if isinstance(sender, HandsOver):
                sender.stop_handing_over()

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        """The answer of the surface a message is tried on first: one surface not ready (Slack's directory
        unread) holds back no other's. A direct message passed on to the other surface is asked there, by
        that surface's own send (Slack's puts it back, `later`, while its directory is unread)."""
        ready = self._readiness.get(await self._surface(migration_id, to))
        return await ready.not_ready(migration_id, to) if ready is not None else None

    async def _surface(self, migration_id: int | None, to: DirectMessage | Channel) -> str:
        if len(self._senders) == 1:  # one surface: no database look-up per message on the hot path
            return next(iter(self._senders))
        if isinstance(to, Channel):
            surface = surface_of(to.channel)
        elif migration_id is None:
            surface = surface_of(None)
        else:
            surface = self._surfaces.get(migration_id) or await self._remembered(migration_id)
        return surface if surface in self._senders else next(iter(self._senders))

    async def _remembered(self, migration_id: int) -> str:
        if len(self._surfaces) >= MIGRATIONS_REMEMBERED:
            self._surfaces.clear()
        surface = self._surfaces[migration_id] = await asyncio.to_thread(
            self._migration_surface, migration_id
        )
        return surface

    def _migration_surface(self, migration_id: int) -> str:
        """The surface it was started on; by its channel when that was not recorded (before revision 0013).
        Only these two columns: the migration's row holds its plan, megabytes for a large organization."""
        from sqlmodel import select

        with self._database.session() as session:
            found = session.exec(
                select(Migration.surface, Migration.channel_id).where(Migration.id == migration_id)
            ).first()
        surface, channel = found if found is not None else (None, None)
        return surface or surface_of(channel)


def _on(surface: str, reason: str) -> str:
    return f"{SURFACE_NAMES.get(surface, surface)}: {reason}"
