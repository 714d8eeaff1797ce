"""The outbox's Slack sender: each post carries its idempotency key in Slack message metadata.

When an earlier attempt may have reached Slack (a crash or a timeout between the post and recording
it), the DM's recent history is searched for that key first, so the message is never posted twice.
Its client must not retry on its own: a blind retry of `chat.postMessage` is exactly a duplicate.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.messages import Channel
from bot.delivery.sender import NOT_IN_CHAT, DeliveryFailed, Envelope, Receipt
from bot.slack.blocks import attachments_of, fallback_text, render
from bot.slack.people import People

logger = logging.getLogger(__name__)

EVENT_TYPE = "aadbot_outbox"
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
        try:
            return await self._send(envelope)
        except SlackApiError as error:
            raise _failure(error) from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:
            # the request may have reached Slack before the connection broke: look before the next try
            raise DeliveryFailed(
                "connection_error", f"Slack did not answer ({type(error).__name__})", maybe_delivered=True
            ) from None

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
        if envelope.check_first and not isinstance(envelope.to, Channel):
            # channels are not searched (that needs channels:history): a digest may repeat after a crash
            channel = await self._people.dm_channel(channel)
            earlier = await self._find(channel, envelope.key)
            if earlier is not None:
                logger.info("outbox message %s was already posted; not posting it again", envelope.key)
                return Receipt(f"{channel}/{earlier}", time_zone)
        message = envelope.message
        response = await self._client.chat_postMessage(
            channel=channel,  # a user id posts to the bot's DM with them, without conversations.open
            text=fallback_text(message),
            blocks=render(message),
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


def _failure(error: SlackApiError) -> DeliveryFailed:
    code = str(error.response.get("error") or "unknown_error")
    status = error.response.status_code
    if status == 429:
        retry_after = float(
            error.response.headers.get("retry-after") or error.response.headers.get("Retry-After") or 1
        )
        return DeliveryFailed("ratelimited", "Slack is rate limiting", retry_after=retry_after)
    if code in _UNREACHABLE:
        return DeliveryFailed(code, f"Slack refused: {code}", permanent=True)
    # a 5xx may have been answered after the message was stored: look before the next attempt
    return DeliveryFailed(code, f"Slack answered {status} {code}", maybe_delivered=status >= 500)
