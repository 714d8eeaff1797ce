"""The Slack app, built by a factory from injected parts: nothing here reads the environment."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack._runtime import Runtime
from bot.slack.delivery import Delivery
from bot.slack.listeners import actions, commands, events
from bot.slack.people import People
from bot.slack.ports import Conversation
from bot.slack.state import InMemorySlackState, SlackState

logger = logging.getLogger(__name__)

WEB_API_TIMEOUT_SECONDS = 10.0
RATE_LIMIT_RETRIES = 3
"""Per call: Slack says how long to wait, so waiting is safe."""
ERROR_RETRIES = 2
"""Per call, for connection errors and 5xx answers, with exponential back-off (0.5 s, 1 s)."""


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=ERROR_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=ERROR_RETRIES),
    ]


def build_web_client(
    token: str,
    *,
    base_url: str | None = None,
    timeout: float = WEB_API_TIMEOUT_SECONDS,
    retries: bool = True,
) -> AsyncWebClient:
    """The Web API client: bounded timeout, retries honouring Retry-After, `base_url` for a local fake.

    Without `retries` every failure comes back to the caller: the outbox worker decides itself.
    """
    return AsyncWebClient(
        token=token,
        base_url=base_url or AsyncWebClient.BASE_URL,
        timeout=int(timeout),
        retry_handlers=retry_handlers() if retries else [],
    )


def create_app(
    *,
    conversation: Conversation,
    client: AsyncWebClient,
    signing_secret: str,
    state: SlackState | None = None,
    people: People | None = None,
) -> AsyncApp:
    """The bolt app with every listener registered; `signing_secret` may be empty in Socket Mode only."""
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        logger=logger,
    )
    state = state or InMemorySlackState()
    people = people or People(client)
    delivery = build_delivery(client, people, state)
    runtime = Runtime(conversation=conversation, people=people, delivery=delivery)
    app.middleware(_acting_once(state))
    commands.register(app, runtime)
    events.register(app, runtime)
    actions.register(app, runtime)
    return app


def build_delivery(client: AsyncWebClient, people: People, state: SlackState) -> Delivery:
    return Delivery(
        client, people, state, retry_handlers=client.retry_handlers or [], timeout=float(client.timeout)
    )


def request_id(body: dict[str, Any]) -> str | None:
    """What makes a Slack request unique, so that a retry or replay of it is recognised."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    if body.get("type") == "block_actions" and body.get("trigger_id"):
        first = (body.get("actions") or [{}])[0]
        return f"action:{body['trigger_id']}:{first.get('action_ts', '')}"
    return None


def _acting_once(
    state: SlackState,
) -> Callable[
    [dict[str, Any], BoltResponse | None, Callable[[], Awaitable[None]]], Awaitable[BoltResponse | None]
]:
    async def acting_once(
        body: dict[str, Any], resp: BoltResponse | None, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = request_id(body)
        if key is not None and not await state.claim_request(key):
            logger.info("ignoring a repeated delivery of %s", key)
            return BoltResponse(status=200, body="")
        await next()
        return resp

    return acting_once
