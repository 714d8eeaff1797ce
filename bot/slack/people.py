"""Slack users as the bot's people: user id -> Actor (email from the profile), email -> user id, DM channels.

Answers are cached briefly: profiles rarely change, and `users.lookupByEmail` / `conversations.open`
are Tier 3 methods that a notification wave would otherwise exhaust.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.results import Actor

CACHE_SECONDS = 300.0

_Cached = TypeVar("_Cached")


class People:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._actors: dict[str, tuple[float, Actor | None]] = {}
        self._ids_by_email: dict[str, tuple[float, str | None]] = {}
        self._dm_channels: dict[str, str] = {}

    async def actor(self, user_id: str) -> Actor | None:
        """The person behind a Slack user id, or None when Slack shows no email for them (bots, hidden)."""
        cached = self._fresh(self._actors.get(user_id))
        if cached is not None:
            return cached[0]
        response = await self._client.users_info(user=user_id)
        user: dict[str, Any] = response["user"]
        profile: dict[str, Any] = user.get("profile", {})
        email = str(profile.get("email") or "").strip()
        name = str(profile.get("real_name") or user.get("real_name") or user.get("name") or user_id)
        actor = Actor(id=user_id, email=email, name=name) if email else None
        self._actors[user_id] = (self._clock(), actor)
        if actor is not None:
            self._ids_by_email[email.casefold()] = (self._clock(), user_id)
        return actor

    async def user_id(self, email: str) -> str | None:
        """The Slack user with this email, or None when nobody in the workspace has it."""
        key = email.strip().casefold()
        cached = self._fresh(self._ids_by_email.get(key))
        if cached is not None:
            return cached[0]
        try:
            response = await self._client.users_lookupByEmail(email=email.strip())
            found: str | None = str(response["user"]["id"])
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                raise
            found = None
        self._ids_by_email[key] = (self._clock(), found)
        return found

    async def dm_channel(self, user_id: str) -> str:
        """The bot's direct-message channel with a user; channel ids never change, so no expiry."""
        channel = self._dm_channels.get(user_id)
        if channel is None:
            response = await self._client.conversations_open(users=user_id)
            channel = str(response["channel"]["id"])
            self._dm_channels[user_id] = channel
        return channel

    def _fresh(self, entry: tuple[float, _Cached] | None) -> tuple[_Cached] | None:
        if entry is None or self._clock() - entry[0] > self._cache_seconds:
            return None
        return (entry[1],)
