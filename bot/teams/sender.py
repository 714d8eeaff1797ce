"""The outbox's Teams sender: to-do lists and notices as proactive messages, each failure classified.

- 429: nothing was sent; wait as long as `Retry-After` says. A shared card's copy posted before a 429
  updating an earlier copy did reach them: that failure says so (`maybe_delivered`).
- 403 on a person's chat: they blocked the bot (`ConversationBlockedByUser`), removed the app
  (`BotNotInConversationRoster`), the tenant's admin disabled it for them (`BotDisabledByAdmin`), or it
  is not installed for them: Microsoft says not to retry, so they are not reachable in chat
  (`NOT_IN_CHAT`), shown to admins with the reason; `retry-failed` tries again once that changed.
  Any other 403 refuses the app, not the person (Graph's `Authorization_RequestDenied` without
  User.Read.All, an install the tenant's policy or a missing permission refuses): retried, with the fix.
- 404 on a stored conversation: it is gone (the app was removed); the conversation is created again once.
- 412, 502, 504: Microsoft asks for a retry with back-off.
- Entra refusing the bot's own sign-in (`SignInRefused`: its secret expired or was removed while serving):
  no message can go until the operator sets a new one (or the app's is restored), then every one can, so
  each waits uncounted, never spent into "failed for good". While the refusal is fresh (under
  `SIGN_IN_AGAIN_SECONDS`) the sender is not ready (`not_ready`): the outbox puts every claimed message
  back before its send, so a drain asks Entra once, not once per queued message. The connector logs what
  to change at the first refusal; the sender repeats it hourly with how many messages wait, and since when.
- 413 (`MessageSizeTooBig`): the same message would be refused again, so it fails for good, saying so.
- A timeout: the message may have arrived. Teams keeps no history a bot could search, so it is recorded
  as possibly delivered rather than sent again.
- `serve` stopping: a send that has not handed its message over yet gives it back (`NotHandedOver`), for
  the next process to send; the others are waited for, so only a request cut short at the end of the time
  to stop is left possibly delivered.
- A message claimed again after a crash mid-send (`check_first`): each message is recorded as handed to
  Teams right before its request (after any wait for the rate limits). One that never got that far is
  sent; one that did may have arrived and is recorded as possibly delivered, not sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.conversation.messages import Channel, DirectMessage
from bot.delivery.sender import DeliveryFailed, Envelope, NotHandedOver, Receipt
from bot.teams import cards
from bot.teams.chats import DEFAULT_SERVICE_URL, Chats
from bot.teams.connector import SIGN_IN_AGAIN_SECONDS, Refusal, SignInRefused, TeamsApi, TeamsApiError
from bot.teams.delivery import CHANNEL_PREFIX, Delivery
from bot.teams.files import FileLinks
from bot.teams.people import People
from bot.teams.store import ConversationRef, Dispatches, TeamsStore, channel_of
from storage import Database, OutboundMessage
from storage.outbox import NOT_IN_CHAT

logger = logging.getLogger(__name__)

POSSIBLY_DELIVERED = "possibly-delivered"
"""In place of an activity id in the receipt of a send that timed out."""
SIGN_IN_REFUSED = "teams_sign_in_refused"
"""The error code of a message waiting for Entra to accept the bot's sign-in again."""
REMIND_EVERY_SECONDS = 3600.0
"""How often the operator's log repeats a refusal that lasts: once was easy to miss in hours of lines."""
REFUSALS = {
    "ConversationBlockedByUser": "they blocked the bot in Teams",
    "MessageWritesBlocked": "they blocked the bot in Teams",
    "BotNotInConversationRoster": "they removed the app in Teams",
    "BotDisabledByAdmin": "the tenant's admin disabled the app for them (Teams app policies)",
    "ForbiddenOperationException": "the app is not installed for them in Teams",
}
"""Why Teams refuses (403) to let the bot write to someone, by Microsoft's error code ("Status codes from
bot conversational APIs"; `MessageWritesBlocked` is the older sub-code for a block)."""
NOT_THEIRS = {
    "personal scope": "the app is not installed for them in Teams",
    "AclCheckFailed": "Teams does not let the bot write to them (outside its roster, as a guest may be)",
}
"""Why Teams refuses to let the bot write to someone, by what its message says, where the code (`Forbidden`,
`ServiceError`) does not tell one person's refusal from the app's."""


class TeamsSender:
    def __init__(
        self,
        api: TeamsApi,
        store: TeamsStore,
        people: People,
        chats: Chats,
        dispatches: Dispatches,
        delivery: Delivery,
        files: FileLinks,
        database: Database,
    ) -> None:
        """`database`: the outbox, counted for the operator while a refused sign-in holds it back."""
        self._database = database
        self._reminded: tuple[datetime, float] | None = None
        """The refusal last repeated in the log (when it began) and how long it had lasted then."""
        self._delivery = delivery
        self._files = files
        self._api = api
        self._store = store
        self._people = people
        self._chats = chats
        self._dispatches = dispatches
        self._handing_over = True

    def stop_handing_over(self) -> None:
        self._handing_over = False

    async def not_ready(self, migration_id: int | None, to: DirectMessage | Channel) -> DeliveryFailed | None:
        """Not ready for any message while Entra's refusal of the bot's sign-in is fresh: each would ask
        Entra for a token in turn, one request per queued message, to hear the same refusal."""
        refusal = self._api.refusal()
        if refusal is None:
            return None
        await self._remind(refusal)
        if refusal.left <= 0:  # the next send asks Entra again
            return None
        return DeliveryFailed(SIGN_IN_REFUSED, refusal.advice, later=refusal.left)

    async def _remind(self, refusal: Refusal) -> None:
        """Repeat the refusal in the log hourly while it lasts (the connector said it at its first), with
        how many messages it holds back."""
        began, said = self._reminded or (refusal.since, 0.0)
        if began != refusal.since:  # a new run of refusals: the connector has said its first
            said = 0.0
        if refusal.lasted - said < REMIND_EVERY_SECONDS:
            self._reminded = (refusal.since, said)
            return
        self._reminded = (refusal.since, refusal.lasted)
        waiting = await asyncio.to_thread(_waiting, self._database)
        logger.error(
            "Microsoft Entra ID has refused the Teams bot's sign-in since %s UTC (%.1f h): %d Teams"
            " message(s) wait for it. %s",
            refusal.since.strftime("%Y-%m-%d %H:%M"),
            refusal.lasted / 3600,
            waiting,
            refusal.advice,
        )

    async def send(self, envelope: Envelope) -> Receipt:
        if envelope.check_first:
            handed = await asyncio.to_thread(self._dispatches.conversation_of, envelope.key)
            if handed is not None:
                # the conversation, not the key, which may end with the person's address
                logger.warning(
                    "a message to conversation %s may have reached Teams before a crash; not sent again",
                    handed,
                )
                return Receipt(f"{handed}/{POSSIBLY_DELIVERED}", unconfirmed=True)
        ref: ConversationRef | None = None
        try:
            ref = await self._destination(envelope)
            if envelope.updates is not None:
                return await self._share(ref, envelope, envelope.updates)
            activity_id = await self._post(ref, envelope)
        except TeamsApiError as error:
            if error.status == 0 and error.code == "timeout" and ref is not None:
                # INFO: the outage's WARNING is said once (bot.delivery.outages), not once per list of a wave;
                # the conversation, not the key, which may hold the person's address
                logger.info(
                    "a message to conversation %s timed out; recorded as possibly delivered",
                    ref.conversation_id,
                )
                return Receipt(f"{ref.conversation_id}/{POSSIBLY_DELIVERED}", unconfirmed=True)
            failure = _failure(error, envelope)
            if envelope.updates is not None and ref is not None:
                # its copy here posted, then updating an earlier copy failed (a 429): it reached them
                failure.maybe_delivered = await asyncio.to_thread(self._has_copy, envelope.updates, ref)
            raise failure from None
        return Receipt(f"{ref.conversation_id}/{activity_id}", time_zone=ref.time_zone)

    def _has_copy(self, key: str, ref: ConversationRef) -> bool:
        """Whether the shared card `key` has a copy in `ref`'s conversation."""
        copies = self._store.copies(key)
        return any(channel_of(copy.conversation_id) == ref.conversation_id for copy in copies)

    async def _destination(self, envelope: Envelope) -> ConversationRef:
        to = envelope.to
        if isinstance(to, Channel):
            channel = to.channel or ""
            ref = await self._channel(channel)
            if ref is None:
                raise DeliveryFailed("no_channel", f"no Teams channel known as {channel!r}", permanent=True)
            return ref
        person, why = await self._people.reachable(to.directory_keys)
        if person is None:
            # Permanent for this attempt; `retry-failed` sends it again once they can read it.
            raise DeliveryFailed(NOT_IN_CHAT, why or _not_in_directory(to.addresses), permanent=True)
        return await self._chats.personal(person.id)

    async def _share(self, ref: ConversationRef, envelope: Envelope, key: str) -> Receipt:
        """A copy of a shared card (an approval prompt, its decision): posted or updated, every other
        copy brought up to date, the actions shown to the people it was sent to directly."""
        viewers = await self._ids(envelope.shared_with)
        decided = await self._ids(await asyncio.to_thread(self._store.deciders, key))
        await self._delivery.share(key, ref, envelope.message, viewers, decided)
        return Receipt(f"{ref.conversation_id}/{key}", time_zone=ref.time_zone)

    async def _ids(self, emails: Sequence[str]) -> list[str]:
        """The directory object ids of these people (those the directory knows)."""
        return [person.id for person in [await self._people.find(email) for email in emails] if person]

    async def _channel(self, channel: str) -> ConversationRef | None:
        if not channel.startswith(CHANNEL_PREFIX):
            return None
        return await asyncio.to_thread(self._store.conversation, channel.removeprefix(CHANNEL_PREFIX))

    async def _post(self, ref: ConversationRef, envelope: Envelope) -> str:
        links = await self._files.links(envelope.message, ref)
        activity = cards.activity(envelope.message, links=links)
        try:
            return await self._send(ref, envelope.key, activity)
        except TeamsApiError as error:
            if error.status != 404 or ref.kind != "personal" or ref.user_id is None:
                raise
        logger.info("the personal chat %s is gone; creating it again", ref.conversation_id)
        await self._chats.forget(ref)
        fresh = await self._chats.personal(ref.user_id, fresh=True)
        return await self._send(fresh, envelope.key, activity)

    async def _send(self, ref: ConversationRef, key: str, activity: dict[str, Any]) -> str:
        async def handing_over() -> None:
            if not self._handing_over:  # checked at the last moment: its turn may have come after the stop
                raise NotHandedOver()
            await asyncio.to_thread(self._dispatches.record, key, ref.conversation_id)

        try:
            return await self._api.send(ref.service_url, ref.conversation_id, activity, before=handing_over)
        except TeamsApiError as error:
            if 400 <= error.status < 500:  # refused: it did not arrive, so a later attempt may send it
                await asyncio.to_thread(self._dispatches.forget, key)
            raise


def _waiting(database: Database) -> int:
    """How many outbox messages wait for the bot's sign-in to work again."""
    with database.session() as session:
        return session.exec(
            select(func.count())
            .select_from(OutboundMessage)
            .where(OutboundMessage.status == "pending")
            .where(col(OutboundMessage.error_code) == SIGN_IN_REFUSED)
        ).one()


def _not_in_directory(addresses: Sequence[str]) -> str:
    return f"no directory user with the sign-in name {' or '.join(addresses)}"


def _app_refused(code: str) -> str:
    """What to fix when Microsoft refuses the app itself a direct message (a 403 that is no person's
    refusal): the Bot Connector's `InvalidBotApiHost` is the service URL's cloud, Graph's
    `Authorization_RequestDenied` the directory read, anything else the install."""
    if code == "InvalidBotApiHost":
        return (
            "Teams refused the service URL the bot called (403 InvalidBotApiHost): a GCC tenant's bot must"
            " call https://smba.infra.gcc.teams.microsoft.com/, and until someone there messages the bot in"
            f" Teams it calls the public cloud's ({DEFAULT_SERVICE_URL}); no permission fixes this"
        )
    if code == "Authorization_RequestDenied":
        return (
            "Microsoft Graph refused the app reading the directory (403 Authorization_RequestDenied): grant"
            " its app registration the application permission User.Read.All with admin consent (again, if"
            " the consent was revoked); `aadbot doctor` checks it"
        )
    return (
        f"Teams refused the app writing to them (403 {code or 'Forbidden'}): grant its app registration the"
        " application permission TeamsAppInstallation.ReadWriteSelfForUser.All with admin consent, and let"
        " the tenant's Teams app permission policy allow the app; `aadbot doctor` checks the permission"
    )


def _failure(error: TeamsApiError, envelope: Envelope) -> DeliveryFailed:
    if isinstance(error, SignInRefused):
        return DeliveryFailed(SIGN_IN_REFUSED, error.advice, later=SIGN_IN_AGAIN_SECONDS)
    status = error.status
    if status == 429:
        return DeliveryFailed("ratelimited", "Teams is rate limiting", retry_after=error.retry_after or 1.0)
    if status == 403 and not isinstance(envelope.to, Channel):
        if (why := REFUSALS.get(error.code)) is not None:
            return DeliveryFailed(NOT_IN_CHAT, f"{why} ({error.code})", permanent=True)
        if (why := next((w for said, w in NOT_THEIRS.items() if said in error.message), None)) is not None:
            return DeliveryFailed(NOT_IN_CHAT, f"{why} (403 {error.code}: {error.message})", permanent=True)
        # any other 403 refuses the app, not this person: retried (an outage to the log) until it is fixed,
        # never taken for someone to reach on the other surface
        return DeliveryFailed("app_refused", _app_refused(error.code))
    if status in (403, 404) and isinstance(envelope.to, Channel):
        return DeliveryFailed(
            "channel_gone",
            f"the Teams channel is gone or the app was removed from it ({error.code or status})",
            permanent=True,
        )
    if status == 413:
        return DeliveryFailed(
            "too_big",
            f"Teams refused the message as too large (413 {error.code}): it is over Teams' size limit",
            permanent=True,
        )
    if status == 0:
        return DeliveryFailed("connection_error", f"Teams did not answer ({error.code})")
    return DeliveryFailed(f"http_{status}", f"Teams answered {status} {error.code}".strip())
