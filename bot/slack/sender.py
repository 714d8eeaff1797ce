"""The outbox's Slack sender: each post carries its idempotency key in Slack message metadata.

When an earlier attempt may have reached Slack (a crash, a timeout or a 5xx between the post and
recording it), the conversation's recent history is searched for that key first, so the message is
never posted twice. DMs are searched with `im:history`, channels with `channels:history` and
`groups:history`; a workspace that did not grant those leaves a conversation unsearchable, and a post
that may have got through is then recorded as sent, unconfirmed (`Receipt.unconfirmed`), rather than posted
again: admins see such a to-do list as *may have arrived*, and *Retry failed* sends it again, saying so.
Notices that update a thread (an approval prompt and its decision) post or update the copy in their
conversation and update every earlier copy; updating is idempotent, so a retry repeats it safely.
A message's files go in one share after its post, their ids kept first (`bot.slack.files`): a retry that
finds the post shares them again only if Slack never answered that share and the history shows none.
Its client must not retry on its own: a blind retry of `chat.postMessage` is exactly a duplicate.
A DM finding the directory of people overdue (`People.overdue`) is put back before anything is asked of
Slack (`DeliveryFailed.later`): the worker asks `not_ready` before the DM's turn of the pace, so a DM held
for the directory neither rests on the claim's heartbeat while it is read nor takes a turn that the DMs
and channel posts ready to go (Teams' beside Slack's) wait for. While the member list is read for the first
time, a DM to someone not on its pages so far is put back alone (`People.listing`), and the others go.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.messages import Channel, DirectMessage
from bot.delivery.sender import DeliveryFailed, Envelope, Receipt
from bot.slack._errors import (
    NOT_ANSWERED,
    RATE_LIMITING,
    LookupsLimited,
    error_code,
    fix_for,
    not_answered,
    retry_after_header,
    retry_after_seconds,
)
from bot.slack.blocks import attachments_of, message_payload
from bot.slack.files import FileShares, UploadRefused
from bot.slack.people import People
from bot.slack.state import MessageCopy, SlackState
from storage.outbox import NOT_IN_CHAT

logger = logging.getLogger(__name__)

EVENT_TYPE = "aadbot_outbox"
UNCONFIRMED = "unconfirmed"
"""In place of a ts in the receipt of a post that may or may not have reached Slack."""
DIRECTORY_OUTDATED = "directory_outdated"
"""The error code of a DM put back until the directory is read (admins see it waiting, with the reason)."""
DIRECTORY_LATER_SECONDS = 60.0
"""When a DM put back for the directory is tried again at the soonest: nothing was asked of Slack, and the
background read takes seconds to minutes. While the reads fail, not before the next one is tried: a held DM
then comes due twice per try (every `CACHE_SECONDS`), once to ask for it (`overdue`; with no other send, no
one else does) and once this long after, to go if it worked or wait for the next try if not."""
READING = "waiting for Slack's member list, being read"
READING_LATER_SECONDS = 15.0
"""When a DM put back while the member list is read for the first time (its person not on the pages in so
far) is due again: Tier 2 gives about five pages (1,000 members) in that time, and 20,000 people put back
are claimed again about 15 times over a 100-page read, not once a page."""
LOOKUPS_LIMITED = "ratelimited"
LOOKUPS_LIMITED_REASON = (
    f"{RATE_LIMITING} the look-ups of people by email (users.lookupByEmail, about 50 a minute): sent once"
    " Slack allows more"
)
"""Why a DM to someone only a look-up finds waits (`LookupsLimited`); admins see it."""
LOOKUPS_LATER_SECONDS = 60.0
"""When a DM put back for a look-up is due again at the soonest: Tier 3 counts a minute. After Slack's own
Retry-After (a second or two once the minute's look-ups are used) the hundreds waiting came due again and
again, each taking a claim and a turn of the pace from the DMs ready to go (walk35, 20,000 people)."""
HISTORY_PAGE = 100
"""Messages of a DM searched for an earlier attempt: the bot posts there rarely, so a page suffices."""
_UNSEARCHABLE = frozenset({"missing_scope", "not_in_channel", "not_allowed_token_type"})
"""History errors meaning the bot may not read this conversation: it cannot tell what got through."""
_PERSON_UNREACHABLE = {
    "user_not_found": "Slack knows no such user",
    "user_disabled": "their Slack account is deactivated",
    "cannot_dm_bot": "that Slack account is an app's, which cannot get direct messages",
    "channel_not_found": "Slack cannot open a direct message with them",
    "user_not_visible": "the bot is not allowed to see them in Slack",
}
"""Why Slack refuses a direct message (`conversations.open`, `chat.postMessage`): the person is not
reachable in chat (`NOT_IN_CHAT`) and admins see the reason."""
_CHANNEL_GONE = {
    "channel_not_found": "the channel is gone, or private without the bot in it",
    "is_archived": "the channel is archived",
    "not_in_channel": "the bot is not in the channel: invite it",
}
_GONE_AFTER_POST = frozenset({*_CHANNEL_GONE, "message_not_found"})
"""A step after the post refused because its conversation or copy is gone: the post reached them, so the
message is not failed (nor its recipient marked unreachable) for it, and the log says what did not follow."""


class SlackSender:
    def __init__(self, client: AsyncWebClient, people: People, state: SlackState | None = None) -> None:
        self._client = client
        self._people = people
        self._state = state
        self._files = FileShares(client, state, logger)
        self._held_because: str | None = None
        """Why the operator was told DMs are held (the directory cannot be read), until they go again."""

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        """A DM finding the directory overdue (`People.overdue`: after idle time, or while its reads fail)
        waits for a read, not to be sent from a day-old one. While the reads fail, admins see why and what
        fixes it; the operator's log says so once, and once more when the DMs go again."""
        if isinstance(to, Channel):
            return None
        if await self._people.listing(to.addresses):
            # theirs alone: the DMs to the people on the pages read so far go meanwhile
            return DeliveryFailed(DIRECTORY_OUTDATED, READING, later=READING_LATER_SECONDS, alone=True)
        if not self._people.overdue():
            if self._held_because is not None:
                logger.info("Slack's member list was read again: the DMs held for it go out")
                self._held_because = None
            # held before its turn, not at it: the hundreds waiting for look-ups would each take a claim and
            # a turn of the pace from the DMs ready to go every time they came due (rev51)
            held = await self._people.lookups_held_for(to.addresses)
            if held > 0:
                return _lookups_limited(held, alone=True)
            return None
        unreadable = self._people.unreadable()
        if unreadable is None:
            why = "waiting for Slack's member list to be read again"
        else:
            why = f"Slack's member list cannot be read: {unreadable}"
            if unreadable != self._held_because:
                logger.warning("Slack DMs are held until the member list can be read: %s", why)
                self._held_because = unreadable
        later = max(self._people.next_read_in(), DIRECTORY_LATER_SECONDS)
        return DeliveryFailed(DIRECTORY_OUTDATED, why, later=later)

    async def send(self, envelope: Envelope) -> Receipt:
        posted: list[MessageCopy] = []
        try:
            return await self._send(envelope, posted)
        except SlackApiError as error:
            failure = _failure(error, to_person=not isinstance(envelope.to, Channel))
        except NOT_ANSWERED as error:
            # the request may have reached Slack before the connection broke: look before the next try
            failure = DeliveryFailed("connection_error", not_answered(error), maybe_delivered=True)
        except UploadRefused as error:  # an answer, with its status: not "Slack did not answer"
            failure = DeliveryFailed("upload_refused", str(error), permanent=error.permanent)
        if posted:
            # posted, then a file or an update failed (a 429 of its own): the next try finds the post and
            # finishes it, where posting again would show the message twice
            failure.maybe_delivered = True
        raise failure

    async def _send(self, envelope: Envelope, posted: list[MessageCopy]) -> Receipt:
        """Posts the message, then shares its files and updates its earlier copies; `posted` gets the post
        as soon as Slack has it, for `send` to know that a later step's failure leaves it there."""
        time_zone = None
        if isinstance(envelope.to, Channel):
            if not envelope.to.channel:
                raise DeliveryFailed("no_channel", "the migration has no channel", permanent=True)
            channel = envelope.to.channel
        else:
            addresses = envelope.to.addresses
            # asked before the turn too: a long turn (a 429's wait) may have made the directory overdue
            unready = await self.not_ready(envelope.migration_id, envelope.to)
            if unready is not None:
                raise unready
            try:
                found = await self._people.find_first(addresses)
            except LookupsLimited as limited:
                # only this DM waits, uncounted: a 429 to a look-up says nothing of chat.postMessage's
                # limit, so the pace of the DMs to everyone the member list shows goes on
                raise _lookups_limited(limited.seconds) from None
            except SlackApiError:
                # the first read refused for want of an admin's fix: this DM waits for it as the others do
                unready = await self.not_ready(envelope.migration_id, envelope.to)
                if unready is not None:
                    raise unready from None
                raise
            if found is None:
                why = (
                    _PERSON_UNREACHABLE["user_disabled"]
                    if self._people.deactivated(addresses)
                    else f"no Slack account with the email {' or '.join(addresses)}"
                )
                raise DeliveryFailed(NOT_IN_CHAT, why, permanent=True)
            channel, time_zone = found[1].user_id, found[1].time_zone
        if envelope.check_first or (envelope.updates and channel.startswith("U")):
            channel = await self._people.dm_channel(channel) if channel.startswith("U") else channel
        copies = await self._state.copies(envelope.updates) if self._state and envelope.updates else []
        here = next((copy for copy in copies if copy.channel == channel), None)
        history: list[dict[str, Any]] | None = None
        message = envelope.message
        attachments = attachments_of(message)
        if envelope.check_first and (here is None or attachments):
            # looked for even where a copy is known, if it has files: only this message's own post shares them
            try:
                earlier, history = await self._find(channel, envelope.key)
            except SlackApiError as error:
                if str(error.response.get("error")) not in _UNSEARCHABLE:
                    raise
                if here is None:
                    return _unconfirmed(channel, error)
                earlier = here.ts if await self._files.own(envelope.key, here) else None
            if earlier is not None:
                logger.info("an outbox message is already in %s; not posting it again", channel)
                here = MessageCopy(channel, earlier)
                posted.append(here)
                await self._remember(envelope, here)
        again = here is not None  # in `posted` only if it is this message's own, from an earlier attempt
        if here is None:
            response = await self._client.chat_postMessage(
                channel=channel,  # a user id posts to the bot's DM with them, without conversations.open
                **message_payload(message),
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": envelope.key}},
            )
            here = MessageCopy(str(response["channel"]), str(response["ts"]))
            posted.append(here)
            # its own before a known copy: a retry that finds the copy, and no history, must find it its own,
            # or it shares nothing; killed between, no copy is known and the retry says it is unconfirmed
            if envelope.updates and attachments:
                await self._files.posted(envelope.key, here)
            await self._remember(envelope, here)
        if posted and attachments:
            try:
                await self._files.share(envelope.key, here, attachments, history, again=again)
            except SlackApiError as error:
                if error_code(error) not in _GONE_AFTER_POST:
                    raise
                _not_finished(here, "its files", error)
        for copy in copies:  # every earlier copy, the one here included, now reads the same
            try:
                await self._client.chat_update(channel=copy.channel, ts=copy.ts, **message_payload(message))
            except SlackApiError as error:
                if copy == here or error_code(error) not in _GONE_AFTER_POST:
                    raise
                # another conversation's copy gone (its channel archived, say) leaves this one delivered
                _not_finished(here, f"its copy in {copy.channel}", error)
        return Receipt(f"{here.channel}/{here.ts}", time_zone)

    async def _remember(self, envelope: Envelope, copy: MessageCopy) -> None:
        if self._state is not None and envelope.updates:
            await self._state.add_copy(envelope.updates, copy)

    async def _find(self, channel: str, key: str) -> tuple[str | None, list[dict[str, Any]]]:
        """The ts of a message in `channel` stamped with `key`, if there is one, and the newest messages
        read to find it (where the files shared after it show)."""
        response = await self._client.conversations_history(
            channel=channel, limit=HISTORY_PAGE, include_all_metadata=True
        )
        messages: list[dict[str, Any]] = list(response.get("messages") or [])
        for message in messages:
            metadata: dict[str, Any] = message.get("metadata") or {}
            if (
                metadata.get("event_type") == EVENT_TYPE
                and (metadata.get("event_payload") or {}).get("key") == key
            ):
                return str(message["ts"]), messages
        return None, messages


# Never the outbox key in a log line: some end with the recipient's address (an approval prompt's)
def _not_finished(post: MessageCopy, what: str, error: SlackApiError) -> None:
    logger.warning(
        "an outbox message is in %s, but %s could not follow (%s): recorded as sent",
        post.channel,
        what,
        error_code(error),
    )


def _unconfirmed(channel: str, unreadable: SlackApiError) -> Receipt:
    """A post an earlier attempt may have made, in a conversation whose history Slack refused to show
    (`unreadable`): in doubt, with the fix that would have let the bot look, which the worker's log counts
    once a batch (at 20,000 people a line each would bury the rest)."""
    why = _history_unreadable(channel, unreadable)
    logger.debug("an outbox message to %s may not have arrived: %s", channel, why)
    return Receipt(f"{channel}/{UNCONFIRMED}", unconfirmed=True, looked_for=True, unchecked_because=why)


_HISTORY_SCOPES = {
    "D": "im:history",
    "C": "channels:history (groups:history for a private channel)",
    "G": "groups:history (mpim:history for a group DM)",
}
"""The scope that reads a conversation's history, by the first letter of its id: Slack's `needed` names it,
but not always."""


def _history_unreadable(channel: str, error: SlackApiError) -> str:
    """Why the history of `channel` could not be read, with what lets the bot read it."""
    code = error_code(error)
    if code == "missing_scope" and not error.response.get("needed"):
        scope = _HISTORY_SCOPES.get(channel[:1], "im:history, channels:history or groups:history")
        return (
            f"the app lacks the {scope} scope (missing_scope): add it under OAuth & Permissions, then"
            " reinstall the app"
        )
    if code == "not_allowed_token_type":
        return (
            "Slack does not read history for this kind of token (not_allowed_token_type): configure the"
            " app's bot token (xoxb-), with its history scopes"
        )
    return fix_for(error) or _CHANNEL_GONE.get(code, code)


def _failure(error: SlackApiError, *, to_person: bool) -> DeliveryFailed:
    code = error_code(error)
    status = error.response.status_code
    if status == 429:
        retry_after = retry_after_seconds(retry_after_header(error))
        if _method(error) != "chat.postMessage":
            # Slack limits each method apart: only chat.postMessage's 429 slows every DM; another method's
            # (a history search, an update, a file) holds this message alone, uncounted, for its Retry-After
            return DeliveryFailed("ratelimited", RATE_LIMITING, later=retry_after)
        return DeliveryFailed("ratelimited", RATE_LIMITING, retry_after=retry_after)
    if to_person and code in _PERSON_UNREACHABLE:
        return DeliveryFailed(NOT_IN_CHAT, f"{_PERSON_UNREACHABLE[code]} ({code})", permanent=True)
    if not to_person and code in _CHANNEL_GONE:
        return DeliveryFailed(code, f"{_CHANNEL_GONE[code]} ({code})", permanent=True)
    refused = fix_for(error)
    if refused is not None:  # the app's, not the recipient's: nobody is marked unreachable for it
        return DeliveryFailed(code, refused)
    # a 5xx may have been answered after the message was stored: look before the next attempt
    return DeliveryFailed(code, f"Slack answered {status} {code}", maybe_delivered=status >= 500)


def _method(error: SlackApiError) -> str:
    """The Web API method Slack refused, from the URL it was asked at."""
    return str(error.response.api_url).rsplit("/", 1)[-1]


def _lookups_limited(seconds: float, *, alone: bool = False) -> DeliveryFailed:
    """A DM that waits for Slack to allow look-ups again, uncounted, at least `LOOKUPS_LATER_SECONDS`."""
    return DeliveryFailed(
        LOOKUPS_LIMITED, LOOKUPS_LIMITED_REASON, later=max(seconds, LOOKUPS_LATER_SECONDS), alone=alone
    )
