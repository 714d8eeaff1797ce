"""The outbox's Slack sender: each post carries its idempotency key in Slack message metadata.

When an earlier attempt may have reached Slack (a crash or a timeout between the post and recording
it), the DM's recent history is searched for that key first, so the message is never posted twice.
Channels cannot be searched without the `channels:history` scopes, so a channel post that may have got
through is recorded as sent, unconfirmed, instead of being posted again: a missed digest is followed by
the next one, a doubled one is noise in the admins' channel.
Its client must not retry on its own: a blind retry of `chat.postMessage` is exactly a duplicate.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.messages import Channel
from bot.delivery.sender import NOT_IN_CHAT, DeliveryFailed, Envelope, Receipt
from bot.slack.blocks import attachments_of, message_payload
from bot.slack.people import People

logger = logging.getLogger(__name__)

EVENT_TYPE = "aadbot_outbox"
UNCONFIRMED = "unconfirmed"
"""In place of a ts in the receipt of a channel post that may or may not have reached Slack."""
RETRY_AFTER_AT_MOST = 900.0
"""An absurd `Retry-After` is capped: the worker re-queues long waits anyway, asking again costs one 429."""
HISTORY_PAGE = 100
"""Messages of a DM searched for an earlier attempt: the bot posts there rarely, so a page suffices."""
_UNREACHABLE = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "account_inactive",
        "cannot_dm_bot",
        "user_disabled",
        "is_archived",
    }
)


class SlackSender:
    def __init__(self, client: AsyncWebClient, people: People) -> None:
        self._client = client
        self._people = people

    async def send(self, envelope: Envelope) -> Receipt:
        if envelope.check_first and isinstance(envelope.to, Channel):
            return _unconfirmed(envelope, "an earlier attempt may have posted it")
        try:
            return await self._send(envelope)
        except SlackApiError as error:
            failure = _failure(error)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:
            # the request may have reached Slack before the connection broke: look before the next try
            failure = DeliveryFailed(
                "connection_error", f"Slack did not answer ({type(error).__name__})", maybe_delivered=True
            )
        if failure.maybe_delivered and isinstance(envelope.to, Channel):
            return _unconfirmed(envelope, failure.reason)
        raise failure

    async def _send(self, envelope: Envelope) -> Receipt:
        time_zone = None
        if isinstance(envelope.to, Channel):
            if not envelope.to.channel:
                raise DeliveryFailed("no_channel", "the migration has no channel", permanent=True)
            channel = envelope.to.channel
        else:
            person = await self._people.find(envelope.to.email)
            if person is None:
                raise DeliveryFailed(
                    NOT_IN_CHAT, f"no Slack account with the email {envelope.to.email}", permanent=True
                )
            channel, time_zone = person.user_id, person.time_zone
        if envelope.check_first:
            channel = await self._people.dm_channel(channel)
            earlier = await self._find(channel, envelope.key)
            if earlier is not None:
                logger.info("outbox message %s was already posted; not posting it again", envelope.key)
                return Receipt(f"{channel}/{earlier}", time_zone)
        message = envelope.message
        response = await self._client.chat_postMessage(
            channel=channel,  # a user id posts to the bot's DM with them, without conversations.open
            **message_payload(message),
            metadata={"event_type": EVENT_TYPE, "event_payload": {"key": envelope.key}},
        )
        posted_in, ts = str(response["channel"]), str(response["ts"])
        for attachment in attachments_of(message):
            await self._client.files_upload_v2(
                channel=posted_in,
                content=attachment.content,
                filename=attachment.filename,
                title=attachment.title,
            )
        return Receipt(f"{posted_in}/{ts}", time_zone)

    async def _find(self, channel: str, key: str) -> str | None:
        """The ts of a message in `channel` stamped with `key`, if there is one."""
        response = await self._client.conversations_history(
            channel=channel, limit=HISTORY_PAGE, include_all_metadata=True
        )
        for message in response.get("messages") or []:
            metadata: dict[str, Any] = message.get("metadata") or {}
            if (
                metadata.get("event_type") == EVENT_TYPE
                and (metadata.get("event_payload") or {}).get("key") == key
            ):
                return str(message["ts"])
        return None


def _unconfirmed(envelope: Envelope, why: str) -> Receipt:
    assert isinstance(envelope.to, Channel)
    logger.warning(
        "outbox message %s to channel %s recorded as sent, unconfirmed: %s",
        envelope.key,
        envelope.to.channel,
        why,
    )
    return Receipt(f"{envelope.to.channel}/{UNCONFIRMED}")


def _failure(error: SlackApiError) -> DeliveryFailed:
    code = str(error.response.get("error") or "unknown_error")
    status = error.response.status_code
    if status == 429:
        headers = {name.casefold(): value for name, value in (error.response.headers or {}).items()}
        retry_after = retry_after_seconds(headers.get("retry-after"))
        return DeliveryFailed("ratelimited", "Slack is rate limiting", retry_after=retry_after)
    if code in _UNREACHABLE:
        return DeliveryFailed(code, f"Slack refused: {code}", permanent=True)
    # a 5xx may have been answered after the message was stored: look before the next attempt
    return DeliveryFailed(code, f"Slack answered {status} {code}", maybe_delivered=status >= 500)


def retry_after_seconds(header: str | None, now: datetime | None = None) -> float:
    """`Retry-After` in seconds: delta-seconds or an HTTP date; 1 s when missing or unreadable; capped."""
    seconds = 1.0
    if header:
        try:
            seconds = float(header)
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        seconds = RETRY_AFTER_AT_MOST
    return min(max(seconds, 1.0), RETRY_AFTER_AT_MOST)
