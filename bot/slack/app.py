"""The Slack app, built by a factory from injected parts: nothing here reads the environment."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.outboxes import NoticeOutbox
from bot.slack._errors import NOT_ANSWERED, REACHING_SLACK, not_answered
from bot.slack._logs import quiet_bolt, without_bodies
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
MAX_CONNECTIONS = 32
KEEPALIVE_SECONDS = 30.0


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
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """The Web API client: bounded timeout, retries honouring Retry-After, `base_url` for a local fake.

    Without `retries` every failure comes back to the caller: the outbox worker decides itself. With a
    `session` (see `web_session`) its connections are kept and reused; without, each call opens its own.
    """
    return AsyncWebClient(
        token=token,
        base_url=base_url or AsyncWebClient.BASE_URL,
        timeout=int(timeout),
        retry_handlers=retry_handlers() if retries else [],
        session=session,
        logger=without_bodies("slack_sdk.web.async_base_client"),
    )


def web_session(timeout: float = WEB_API_TIMEOUT_SECONDS) -> aiohttp.ClientSession:
    """One connection pool for every call to Slack (Web API and response_url), made inside the event loop.

    A client given a session leaves the timeout to it, so the session carries the same bound.
    """
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout),
        connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS),
    )


def create_app(
    *,
    conversation: Conversation,
    client: AsyncWebClient,
    signing_secret: str,
    state: SlackState | None = None,
    people: People | None = None,
    outbox: NoticeOutbox | None = None,
) -> AsyncApp:
    """The bolt app with every listener registered; `signing_secret` may be empty in Socket Mode only.

    With an `outbox`, messages addressed to people and channels are queued there, not posted at once.
    """
    quiet_bolt(logger)
    app = AsyncApp(
        # unnamed, bolt names the app after its caller's file with inspect.stack(), which reads the source
        # of every frame on the stack (0.1 s of CPU in a new `serve` process)
        name="aadbot",
        client=client,
        signing_secret=signing_secret,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        logger=logger,
    )
    app.error(_unanswered_calls_in_one_line)
    state = state or InMemorySlackState()
    people = people or People(client)
    delivery = build_delivery(client, people, state, outbox)
    runtime = Runtime(conversation=conversation, people=people, delivery=delivery, state=state)
    commands.register(app, runtime)
    events.register(app, runtime)
    actions.register(app, runtime)
    return app


UNREACHABLE_ANSWER = (
    "I cannot reach Slack from where I run, so I did nothing with this. Try again in a few minutes; if it"
    " goes on, tell whoever runs the bot."
)
"""The ack of a slash command when a call to Slack before it (bolt's auth.test) got no answer."""
NOT_NOW = 503
"""The answer to an event or a click whose call to Slack got no answer: Slack sends an event again (three
times, over minutes), so a short outage loses nothing; a click shows its person that it failed."""


async def _unanswered_calls_in_one_line(
    error: Exception, body: dict[str, Any], response: BoltResponse | None
) -> BoltResponse | None:
    """A call to Slack with no answer (no route, DNS, a proxy needed) costs one log line: bolt would log a
    traceback for every request. Before the ack, a slash command is told so (Slack never sends one again)
    and anything else gets a 503 for Slack to retry. Anything else is logged whole, as bolt does."""
    if not isinstance(error, NOT_ANSWERED) or isinstance(error, SlackApiError):
        logger.error("Failed to handle a request (error: %s)", error, exc_info=error)
        return None
    if response is None:  # bolt passes none once the listener has acked: Slack has its answer already
        logger.error(
            "%s while handling a request already acked, so it was left unfinished: %s",
            not_answered(error),
            REACHING_SLACK,
        )
        return None
    if "command" in body:
        logger.error(
            "%s, so a slash command was told so and dropped: %s", not_answered(error), REACHING_SLACK
        )
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": UNREACHABLE_ANSWER})
    logger.error(
        "%s, so a request was answered %d for Slack to send again: %s",
        not_answered(error),
        NOT_NOW,
        REACHING_SLACK,
    )
    return BoltResponse(status=NOT_NOW, body="")


def build_delivery(
    client: AsyncWebClient, people: People, state: SlackState, outbox: NoticeOutbox | None = None
) -> Delivery:
    return Delivery(
        client,
        people,
        state,
        retry_handlers=client.retry_handlers or [],
        timeout=float(client.timeout),
        outbox=outbox,
    )
