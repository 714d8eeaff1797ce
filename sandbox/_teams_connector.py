"""The emulated Bot Connector: conversations, activities and updates, under Teams' limits; and who can use
Teams in the tenant at all."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox._common import json_object
from sandbox._state import State, Token
from sandbox._teams import CONNECTOR_HOST, SentActivity, TeamsWorld
from sandbox._teams_limits import MESSAGE_BYTES, message_bytes


def error(status: int, code: str, message: str, retry_after: float | None = None) -> JSONResponse:
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after is not None else None
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _bearer(state: State, request: Request, audience: str) -> bool:
    return bearer_token(state, request, audience) is not None


def bearer_token(state: State, request: Request, audience: str) -> Token | None:
    value = request.headers.get("authorization", "")
    token = state.tokens.get(value.removeprefix("Bearer ").strip()) if value.startswith("Bearer ") else None
    if token is None or token.audience != audience or token.expires_at < state.clock():
        return None
    return token


class Connector:
    """The Bot Connector: conversations, activities and updates, under Teams' limits."""

    def __init__(self, world: TeamsWorld) -> None:
        self._world = world

    async def _refused(self, request: Request, conversation_id: str) -> Response | None:
        world = self._world
        if not _bearer(world.state, request, "botframework"):
            return error(401, "Unauthorized", "Authorization has been denied for this request.")
        with world.state.lock:  # faults injected through POST /_sandbox/faults, as on every other host
            fault = world.state.faults.draw(CONNECTOR_HOST)
            delay, retry_after = world.state.faults.slow_seconds, world.state.faults.retry_after
        if fault == "slow":
            await asyncio.sleep(delay)
        elif isinstance(fault, int):
            code = "TooManyRequests" if fault == 429 else "ServiceError"
            after = retry_after if fault == 429 else None
            return error(fault, code, "Simulated failure.", retry_after=after)
        with world.lock:
            wait = world.per_conversation.wait(conversation_id)
            if not wait:
                wait = world.per_tenant.wait(world.app_id or "")
            if wait:
                world.throttled += 1
            else:
                world.operations.append(world.state.clock())
        if wait:
            return error(429, "TooManyRequests", "The bot is sending too fast.", retry_after=wait)
        return None

    async def create(self, request: Request) -> Response:
        body = json_object(await request.body())
        members = body.get("members") or []
        if body.get("isGroup") or len(members) != 1:
            return error(400, "BadArgument", "A personal conversation needs exactly one member.")
        world = self._world
        user = world.user(str(members[0].get("id") or ""))
        if user is None:
            return error(404, "NotFound", "The user is not in this tenant.")
        if not _bearer(world.state, request, "botframework"):
            return error(401, "Unauthorized", "Authorization has been denied for this request.")
        if why_not(user) is not None:  # as Teams answers a bot for someone outside its roster
            return error(403, "ServiceError", "Failure due to: AclCheckFailed.")
        with world.lock:
            if str(user["id"]) not in world.installed:  # refused before it is an operation in a conversation
                return error(403, "Forbidden", "The bot is not installed in the user's personal scope.")
        conversation = world.personal_conversation(user)
        refused = await self._refused(request, conversation.id)
        if refused:
            return refused
        return JSONResponse({"id": conversation.id}, status_code=201)

    async def send(self, request: Request) -> Response:
        conversation_id = request.path_params["conversation"]
        return await self._write(request, conversation_id, None)

    async def update(self, request: Request) -> Response:
        return await self._write(
            request, request.path_params["conversation"], request.path_params["activity"]
        )

    async def _write(self, request: Request, address: str, activity_id: str | None) -> Response:
        """`address`: a conversation id, in a channel `;messageid=` the thread to post in."""
        world = self._world
        conversation_id, _, thread = address.partition(";messageid=")
        with world.lock:
            conversation = world.conversations.get(conversation_id)
            unknown_thread = bool(thread) and (conversation is None or thread not in world.posts)
        if conversation is None or unknown_thread:
            return error(404, "ConversationNotFound", "Conversation not found.")
        refused = await self._refused(request, conversation_id)
        if refused:
            return refused
        body = json_object(await request.body())
        if message_bytes(body) > MESSAGE_BYTES:
            # the body Teams answered (microsoft/BotFramework-Services#228); a send and an update alike
            return error(413, "MessageSizeTooBig", "Message size too large.")
        with world.lock:
            if conversation.user:
                user = world.user(conversation.user)
                # Microsoft's codes and messages ("Status codes from bot conversational APIs")
                if user is not None and str(user["id"]) in world.blocked:
                    return error(
                        403, "ConversationBlockedByUser", "User blocked the conversation with the bot."
                    )
                if user is not None and str(user["id"]) not in world.installed:
                    return error(
                        403, "BotNotInConversationRoster", "The bot is not part of the conversation roster."
                    )
            if activity_id is None:
                parts = _split(body)
                for part in parts:
                    activity = SentActivity(world.next_activity_id(), conversation_id, part, thread or None)
                    world.activities[activity.id] = activity
                    if conversation.kind == "channel" and not thread:
                        world.posts.add(activity.id)
                    world.record("send", activity)
                if len(parts) > 1:  # two messages: no one id to answer with
                    return Response(status_code=202)
                return JSONResponse({"id": activity.id}, status_code=201)
            known = world.activities.get(activity_id)
            if known is None or known.conversation_id != conversation_id:
                return error(404, "ActivityNotFound", "Unknown activity.")
            known.body = body
            for key in [key for key in world.views if key[0] == activity_id]:
                del world.views[key]  # everyone sees the new version
            world.record("update", known)
            return JSONResponse({"id": activity_id})


def _split(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages Teams makes of an activity: its text and its attachments apart when it has both
    ("Message splitting", tests/teams/data/conversation-messages.md), answered 202 with no id."""
    if not (activity.get("text") and activity.get("attachments")):
        return [activity]
    text = {key: value for key, value in activity.items() if key != "attachments"}
    return [text, {key: value for key, value in activity.items() if key != "text"}]


def why_not(user: dict[str, Any]) -> str | None:
    """Why this directory user cannot use Teams in this tenant, None when they can: a disabled account
    cannot sign in, and a guest sees nothing of the host's Teams before redeeming the invitation."""
    if not user.get("accountEnabled", True):
        return "the account is disabled"
    if user.get("externalUserState") == "PendingAcceptance":
        return "the guest has not accepted the invitation yet"
    return None
