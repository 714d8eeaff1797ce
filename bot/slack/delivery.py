"""Delivering what the conversation says: in place, by DM, to a channel; copies of one message kept equal.

With an outbox (as `serve` runs), everything addressed to a person or a channel, and every update of a
shared message, is queued there and sent by the outbox worker: exactly once, retried through a Slack
outage. Only private answers to whoever spoke go straight back, since that person is waiting for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.conversation.messages import Channel, DirectMessage, Message, Outgoing, Reply, Text
from bot.delivery.notices import ChatNotice
from bot.delivery.outboxes import NoticeOutbox
from bot.slack._errors import error_code
from bot.slack.blocks import SlackBlock, attachments_of, message_payload, note, view_payload
from bot.slack.people import People
from bot.slack.state import MessageCopy, SlackState
from workflows.notices import CHANNEL_PREFIX

logger = logging.getLogger(__name__)

DELIVERY_ERRORS = (SlackClientError, aiohttp.ClientError, TimeoutError)


@dataclass(frozen=True)
class Origin:
    """Where and how a person spoke, so that replies go back the same way."""

    user_id: str
    channel: str | None
    """None when they clicked in the App Home."""
    response_url: str | None = None
    """Slash commands and clicks on message buttons come with one: replies go through it, ephemeral."""
    thread_ts: str | None = None
    """Mentions are answered in their thread."""
    in_thread: bool = False
    """The mention was a reply in a thread, not a message of its own (whose answers start a thread)."""


class Delivery:
    def __init__(
        self,
        client: AsyncWebClient,
        people: People,
        state: SlackState,
        *,
        retry_handlers: list[AsyncRetryHandler],
        timeout: float,
        outbox: NoticeOutbox | None = None,
    ) -> None:
        self._outbox = outbox
        self._client = client
        self._people = people
        self._state = state
        self._retry_handlers = retry_handlers
        self._timeout = timeout

    async def deliver(self, outgoings: list[Outgoing], origin: Origin | None) -> None:
        """Send each message; what could not be delivered is reported privately to whoever spoke.

        Without an origin (the bot's own watch) replies have nowhere to go and problems are only logged.
        """
        problems: list[str] = []
        written: dict[str, set[MessageCopy]] = {}
        if self._outbox is not None:
            self._outbox.wake()  # the step may have recorded notices in the outbox with its change
            outgoings = await self._queue(self._outbox, outgoings, origin, problems)
        for outgoing in outgoings:
            try:
                await self._deliver_one(outgoing, origin, written, problems)
            except DELIVERY_ERRORS as error:
                problems.append(_explain(error, outgoing.message.summary))
        if problems and origin is not None:
            await self.tell(origin, "\n".join(problems))
        elif problems:
            logger.warning("undelivered: %s", " ".join(problems))

    async def _queue(
        self, outbox: NoticeOutbox, outgoings: list[Outgoing], origin: Origin | None, problems: list[str]
    ) -> list[Outgoing]:
        """Queue every addressed message in the outbox; what is left to answer directly."""
        direct: list[Outgoing] = []
        notices: list[tuple[str, ChatNotice]] = []
        for outgoing in outgoings:
            queued = await self._recipient(outgoing, origin, problems)
            if queued is None:
                direct.append(outgoing)
            elif queued[0]:
                recipient, unsettled = queued
                notice = ChatNotice(outgoing.message, outgoing.updates)
                if unsettled is not None:
                    notice = replace(notice, also=unsettled.also, directory_id=unsettled.directory_id)
                notices.append((recipient, notice))
        if notices:
            try:
                await asyncio.to_thread(outbox.queue, notices)
            except Exception:  # the database is down: sending at once beats losing the message
                logger.exception("queuing %d messages failed; sending them directly", len(notices))
                return outgoings
            outbox.wake()
        return direct

    async def _recipient(
        self, outgoing: Outgoing, origin: Origin | None, problems: list[str]
    ) -> tuple[str, DirectMessage | None] | None:
        """The outbox recipient of an addressed message, with the person when Slack could not yet say
        which of their addresses it knows; None for a private answer, an empty recipient when unreachable."""
        to = outgoing.to
        if isinstance(to, Reply) and outgoing.updates is None:
            return None
        if isinstance(to, DirectMessage):
            try:
                known = await self._known_address(to)
            except DELIVERY_ERRORS:
                # Slack is down or holds its look-ups: the worker tries every address once it answers, so
                # none Slack knows them by is declared unknown without being looked up
                return to.email, to
            if known is None:
                problems.append(_not_in_slack(to.email, outgoing.message.summary))
                return "", None
            return known, None
        if isinstance(to, Channel) and to.channel:
            return f"{CHANNEL_PREFIX}{to.channel}", None
        if origin is None:
            logger.warning("%r has no audience outside a conversation; dropped", outgoing.message.summary)
            return "", None
        # where they spoke, or their DM with the bot (a user id posts there) when they clicked in App Home
        return f"{CHANNEL_PREFIX}{origin.channel or origin.user_id}", None

    async def _known_address(self, to: DirectMessage) -> str | None:
        """The first of the person's addresses a Slack account has: the one outbox row it goes to."""
        found = await self._people.find_first(to.addresses)
        return found[0] if found else None

    async def tell(self, origin: Origin, text: str) -> None:
        """A private note to whoever spoke; failures are logged, never raised."""
        message = Message(text.splitlines()[0], (Text(text),), private=True)
        try:
            if origin.response_url:
                await self._respond(origin.response_url, message)
            elif origin.channel and not origin.channel.startswith("D"):
                await self._client.chat_postEphemeral(
                    channel=origin.channel,
                    user=origin.user_id,
                    thread_ts=origin.thread_ts,
                    **message_payload(message),
                )
            else:
                channel = await self._people.dm_channel(origin.user_id)
                await self._client.chat_postMessage(channel=channel, **message_payload(message))
        except DELIVERY_ERRORS as error:
            logger.warning("could not tell %s about a problem: %s", origin.user_id, error_code(error))

    async def publish_home(self, user_id: str, message: Message) -> None:
        await self._client.views_publish(user_id=user_id, view=view_payload(message))

    async def _deliver_one(
        self,
        outgoing: Outgoing,
        origin: Origin | None,
        written: dict[str, set[MessageCopy]],
        problems: list[str],
    ) -> None:
        message, to = outgoing.message, outgoing.to
        if outgoing.in_thread_only and (origin is None or not origin.in_thread):
            return  # said at the channel's top, where its notice says it
        if origin is None:
            if not isinstance(to, (DirectMessage, Channel)) or (isinstance(to, Channel) and not to.channel):
                logger.warning("%r has no audience outside a conversation; dropped", message.summary)
                return
            origin = Origin(user_id="", channel=None)
        if isinstance(to, Reply) and outgoing.updates is None and _answered_privately(origin, message):
            await self._reply_privately(origin, message)
            return
        thread_ts = origin.thread_ts if isinstance(to, Reply) else None
        channel = await self._destination(outgoing, origin, problems)
        if channel is None:
            return
        if outgoing.updates is None:
            await self._post(channel, message, thread_ts)
        else:
            await self._post_or_update(outgoing.updates, channel, message, thread_ts, written)
        for attachment in attachments_of(message):
            await self._client.files_upload_v2(
                channel=channel,
                content=attachment.content,
                filename=attachment.filename,
                title=attachment.title,
                thread_ts=thread_ts,
            )

    async def _destination(self, outgoing: Outgoing, origin: Origin, problems: list[str]) -> str | None:
        to = outgoing.to
        if isinstance(to, DirectMessage):
            found = await self._people.find_first(to.addresses)
            if found is None:
                problems.append(_not_in_slack(to.email, outgoing.message.summary))
                return None
            return await self._people.dm_channel(found[1].user_id)
        if isinstance(to, Channel) and to.channel:
            return to.channel
        return origin.channel or await self._people.dm_channel(origin.user_id)

    async def _post_or_update(
        self,
        key: str,
        channel: str,
        message: Message,
        thread_ts: str | None,
        written: dict[str, set[MessageCopy]],
    ) -> None:
        """The copy in `channel` is posted or updated; every other earlier copy is updated to match."""
        copies = await self._state.copies(key)
        done = written.setdefault(key, set())
        here = [copy for copy in copies if copy.channel == channel]
        if not here:
            copy = MessageCopy(channel, await self._post(channel, message, thread_ts))
            await self._state.add_copy(key, copy)
            here = [copy]
        for copy in [*here, *copies]:
            if copy in done:
                continue
            done.add(copy)
            if copy not in copies:
                continue  # just posted
            await self._client.chat_update(channel=copy.channel, ts=copy.ts, **message_payload(message))

    async def _post(self, channel: str, message: Message, thread_ts: str | None) -> str:
        response = await self._client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **message_payload(message)
        )
        return str(response["ts"])

    async def _reply_privately(self, origin: Origin, message: Message) -> None:
        """Through the response_url, or as an ephemeral message where they spoke (a mention's thread)."""
        footer: list[SlackBlock] = []
        attachments = attachments_of(message)
        if attachments:
            # ephemeral messages cannot carry files: they go to the person's DM with the bot
            channel = await self._people.dm_channel(origin.user_id)
            for attachment in attachments:
                await self._client.files_upload_v2(
                    channel=channel,
                    content=attachment.content,
                    filename=attachment.filename,
                    title=attachment.title,
                )
            footer.append(note("The file is in your direct messages with me."))
        if origin.response_url:
            await self._respond(origin.response_url, message, footer)
        else:
            assert origin.channel is not None
            await self._client.chat_postEphemeral(
                channel=origin.channel,
                user=origin.user_id,
                thread_ts=origin.thread_ts,
                **message_payload(message, footer=footer),
            )

    async def _respond(self, response_url: str, message: Message, footer: Sequence[SlackBlock] = ()) -> None:
        webhook = AsyncWebhookClient(
            url=response_url,
            timeout=int(self._timeout),
            retry_handlers=list(self._retry_handlers),
            session=self._client.session,  # the Web API's connections, kept and reused
        )
        response = await webhook.send(
            **message_payload(message, footer=footer), response_type="ephemeral", replace_original=False
        )
        if response.status_code != 200:
            raise SlackApiError(f"response_url answered {response.status_code}", {"error": response.body})  # type: ignore[no-untyped-call]


def _answered_privately(origin: Origin, message: Message) -> bool:
    """Replies through a response_url are ephemeral (slash commands, clicks); private ones always are.

    A direct message is private already; a private reply to a mention goes to its thread, ephemeral.
    """
    if origin.response_url:
        return True
    return message.private and origin.channel is not None and not origin.channel.startswith("D")


def _not_in_slack(email: str, summary: str) -> str:
    return (
        f"*{email}* has no Slack account here (or a different email in Slack), "
        f"so they did not get “{summary}”. Please reach them another way."
    )


def _explain(error: BaseException, summary: str) -> str:
    code = error_code(error)
    logger.warning("delivering %r failed: %s", summary, code)
    if code in ("not_in_channel", "channel_not_found"):
        return f"I could not post “{summary}”: I am not in that channel. Invite me with `/invite @aadbot`."
    if code == "ratelimited":
        return f"Slack is rate limiting me, so “{summary}” was not sent. Try again in a minute."
    if code == "is_archived":
        return f"I could not post “{summary}”: the channel is archived. Start from an active channel."
    return f"I could not deliver “{summary}” (Slack said `{code}`). Try again; if it persists, check my log."
