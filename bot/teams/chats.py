"""Personal chats with people who may never have written to the bot: install the app, then open the chat.

Teams cannot message an address: a proactive 1:1 message needs the app in the user's personal scope
(installed for them through Graph, `TeamsAppInstallation.ReadWriteSelfForUser.All`) and a conversation
created with their directory object id. The conversation reference is stored, so each person costs
these calls once.
"""

from __future__ import annotations

import asyncio

from bot.teams.connector import TeamsApi
from bot.teams.store import ConversationRef, TeamsStore

DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
"""Where conversations are created before Teams has told the bot its regional service URL."""


class Chats:
    def __init__(self, api: TeamsApi, store: TeamsStore, tenant_id: str) -> None:
        self._api = api
        self._store = store
        self._tenant_id = tenant_id

    async def personal(self, user_id: str, *, fresh: bool = False) -> ConversationRef:
        """The personal chat with a user (installing the app for them if needed); `fresh` asks Teams again.

        Raises `TeamsApiError` as Teams or Graph answered (403: the app may not be installed for them).
        """
        if not fresh:
            known = await asyncio.to_thread(self._store.personal, user_id)
            if known is not None:
                return known
        service_url = await asyncio.to_thread(self._store.any_service_url) or DEFAULT_SERVICE_URL
        # Installing first costs a Graph call (409 when it is there already) but never a refused connector
        # operation, which would count against the tenant's rate limit like a message.
        await self._api.install_for(user_id)
        conversation_id = await self._api.create_personal_conversation(service_url, user_id)
        ref = ConversationRef(conversation_id, service_url, self._tenant_id, "personal", user_id)
        await asyncio.to_thread(self._store.remember, ref)
        return ref

    async def forget(self, ref: ConversationRef) -> None:
        await asyncio.to_thread(self._store.forget, ref.conversation_id)
