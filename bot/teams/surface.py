"""The Teams surface wired from its parts: one place builds what `serve`, the tests and the benchmark run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from starlette.routing import Route

from bot.conversation.messages import Outgoing
from bot.delivery.reports import Delivering
from bot.delivery.settings import DeliverySettings
from bot.delivery.tracked import tracked_worker
from bot.delivery.worker import OutboxWorker
from bot.teams.auth import ActivityAuthenticator
from bot.teams.chats import Chats
from bot.teams.connector import TeamsApi
from bot.teams.delivery import CHANNEL_PREFIX, Delivery
from bot.teams.endpoint import MESSAGES_PATH, Conversation, TeamsEndpoint
from bot.teams.files import FileLinks, link_key
from bot.teams.people import People
from bot.teams.sender import TeamsSender
from bot.teams.settings import TeamsSettings
from bot.teams.store import Dispatches, TeamsStore
from storage import Database
from workflows.tracking import Tracking

logger = logging.getLogger(__name__)

DELIVERY = DeliverySettings(
    max_rate_per_second=60.0,
    initial_rate_per_second=60.0,
    per_channel_per_second=7.0,
    channel_burst=7,
    batch=200,
    concurrency=32,
)
"""The worker starts messages quickly and keeps enough in flight to cover each one's round trips (Graph
look-up, install, conversation, message); the connector client keeps Teams' limits (30 operations a
second per tenant, 7 a second per conversation), so those, not this, decide the pace."""
OUTBOX_IDLE_SECONDS = 2.0


@dataclass
class TeamsSurface:
    settings: TeamsSettings
    api: TeamsApi
    store: TeamsStore
    people: People
    chats: Chats
    delivery: Delivery
    endpoint: TeamsEndpoint
    sender: TeamsSender
    files: FileLinks

    def routes(self) -> list[Route]:
        """`POST /api/messages` and the lists' download links, `GET /files/{token}`."""
        return [Route(MESSAGES_PATH, self.endpoint.handle, methods=["POST"]), self.files.route()]

    def outbox_worker(
        self,
        database: Database,
        tracking: Tracking,
        *,
        clock: Callable[[], datetime],
        settings: DeliverySettings = DELIVERY,
        name: str | None = None,
    ) -> OutboxWorker:
        """The worker that sends the outbox through Teams and keeps the channel's delivery report current."""

        def delivery_to(channel: str) -> Delivering | None:
            return self.delivery if channel.startswith(CHANNEL_PREFIX) else None

        return tracked_worker(
            database,
            self.sender,
            tracking,
            clock=clock,
            settings=settings,
            delivery_to=delivery_to,
            surfaces=("Teams",),
            name=name,
        )

    async def watch_forever(self, conversation: Watching, interval_seconds: float) -> None:
        """The connection watch for migrations started in Teams; runs until cancelled."""
        while True:
            try:
                outgoings = await asyncio.to_thread(conversation.watch)
                await self.delivery.deliver(outgoings, None)
            except Exception:  # the watch must outlive a bad minute (database restart, Microsoft outage)
                logger.exception("the connection watch failed; trying again in %.0f s", interval_seconds)
            await asyncio.sleep(interval_seconds)

    async def aclose(self) -> None:
        await self.api.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        """For the server: the connector's connections close with it, on its own event loop."""
        try:
            yield
        finally:
            await self.aclose()


class Watching(Protocol):
    def watch(self) -> list[Outgoing]:
        """One look at migrations waiting for the portal step; the announcements to post."""
        ...


def build_surface(
    settings: TeamsSettings,
    conversation: Conversation,
    database: Database,
    *,
    clock: Callable[[], datetime],
    api: TeamsApi | None = None,
) -> TeamsSurface:
    api = api or TeamsApi(settings, database)
    store = TeamsStore(database, clock=clock)
    people = People(api)
    chats = Chats(api, store, settings.tenant_id)
    files = FileLinks(database, link_key(settings.password), clock=clock, public_url=settings.public_url)
    delivery = Delivery(api, store, people, chats, files, clock=clock)
    endpoint = TeamsEndpoint(
        conversation,
        authenticator=ActivityAuthenticator(settings.app_id, sandbox_url=settings.sandbox_url),
        delivery=delivery,
        people=people,
        store=store,
        tenant_id=settings.tenant_id,
    )
    sender = TeamsSender(
        api, store, people, chats, Dispatches(database, clock=clock), delivery, files, database
    )
    return TeamsSurface(settings, api, store, people, chats, delivery, endpoint, sender, files)
