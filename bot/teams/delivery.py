"""Delivering what the conversation says in Teams: replies, personal chats, channels, shared cards.

Teams channels have no private (ephemeral) messages, so a private reply (their to-do list, people's
addresses, a card with buttons for them) to someone who spoke in a channel goes to their personal chat
instead, and the thread says so once an hour per person. Only a reply about nobody's case that names no
address (`Message.impersonal`: "`123` is not a user id", "Did you mean `start`?", help) stays in the thread,
where it was asked, as Slack's ephemeral reply does: its words for everyone, its buttons for the asker
alone (the card refreshed for them only, as an approval's is for its approvers), so that a click on them
acts for the channel. A note of what went wrong in delivering (`tell`) stays there as one line under the
same rule: everyone in the channel reads the thread, so nothing for the asker's eyes alone goes there,
however short.
A shared message (an approval prompt) is posted to each approver's personal chat with its actions, as
sent, and to a channel as a read-only card that Teams refreshes into the full card for the people named
in `refresh.userIds` (`cards.shared_copy`); after each decision every copy is updated (`updateActivity`)
so all of them say the same. Whoever has decided leaves the people who may act: with N approvers, those
still to decide keep Approve/Reject while everyone else reads "Approved by X, waiting for N more".
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.conversation.messages import (
    ADDRESS,
    Actions,
    Channel,
    DirectMessage,
    Heading,
    Message,
    Outgoing,
    Reply,
    Text,
)
from bot.teams import cards
from bot.teams.chats import Chats
from bot.teams.connector import SignInRefused, TeamsApi, TeamsApiError
from bot.teams.files import FileLinks
from bot.teams.people import People, mri
from bot.teams.store import REPLY_PREFIX, CardCopy, ConversationRef, TeamsStore, channel_of

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "teams:"
"""A migration started in Teams keeps `teams:CONVERSATION_ID` as its channel."""
POINTER = "I answered you in our personal chat."
POINTER_EVERY = timedelta(hours=1)
"""How often the same person is told, in the same channel, that their answers go to the personal chat."""
SENT_PRIVATELY = "I sent you the answer in our personal chat."
ANSWERED_BELOW = "My answer is below."
"""What a click in the personal chat shows beside the card when its answer went as a message of its own."""
MAX_LINE = 300
"""A click's answer up to this long is shown beside the card; a longer one goes to the personal chat."""
RETRIES = 3
RETRY_AFTER_AT_MOST = 10.0
"""A chat turn waits out a short 429; anything longer is reported to whoever spoke."""


@dataclass(frozen=True)
class Origin:
    """Where and how a person spoke, so that replies go back the same way."""

    ref: ConversationRef
    """Where they spoke: in a channel, the thread too (replies go there)."""
    user_id: str
    invoke: bool = False
    card: str | None = None
    """For a click, the activity id of the card clicked."""
    in_thread: bool = False
    """A message in a channel under someone's post, not a post of its own (whose replies start a thread)."""
    in_place: bool = False
    """For a click, whether its answer takes the clicked card's place for the clicker: only when it is
    that card's new version (a shared card's, such as an approval's decided state, or `Outgoing.revises`:
    a to-do list after *Done*). Any other answer leaves the card as it is, as Slack's do."""
    time_zone: str | None = None
    """The zone their Teams client reports (`endpoint.time_zone_of`): the calendar their words count on."""


class Delivery:
    def __init__(
        self,
        api: TeamsApi,
        store: TeamsStore,
        people: People,
        chats: Chats,
        files: FileLinks,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._api = api
        self._clock = clock
        self._pointed: dict[tuple[str, str], datetime] = {}
        """When each (person, channel) was last told their answer went to the personal chat."""
        self._store = store
        self._people = people
        self._chats = chats
        self._files = files
        self.wake: Callable[[], None] = lambda: None
        """Tells the outbox worker to look now (`serve` wires it): the step may have recorded notices."""

    async def deliver(self, outgoings: list[Outgoing], origin: Origin | None) -> dict[str, Any] | str | None:
        """Send each message. For a click, what to answer it with: a card to put in place of the clicked
        one for the clicker (its new version: a shared message's, or `Outgoing.revises`), or a line shown
        to the clicker that leaves the card as it is (in a channel the answer itself, if it is one line; in
        a personal chat, where the answer is posted as a message of its own, that it is below; if that post
        failed, the answer itself if it is one line, else why it is missing), or None."""
        self.wake()  # the step's notices (summaries, prompts, decisions) wait in the outbox, not 2 s
        if origin is None or not origin.in_thread or origin.invoke:
            # said at the channel's top (or elsewhere), where its notice says it (`in_thread_only`)
            outgoings = [outgoing for outgoing in outgoings if not outgoing.in_thread_only]
        problems: list[str] = []
        answer = None
        if origin is not None and origin.invoke:
            card = origin.card
            shared_card = card is not None and await asyncio.to_thread(self._store.is_copy, card)
            answer = _answer(outgoings, shared_card)
            # only the clicked card's new version takes its place (Slack's replace_original=False otherwise)
            revision = answer is not None and (answer.updates is not None or answer.revises)
            origin = replace(origin, in_place=revision)
        in_reply = (
            answer is not None
            and answer.updates is None
            and not _to_personal_chat(answer, origin)
            and (_in_channel(origin) or (origin is not None and origin.in_place))
        )
        viewers = await self._viewers(outgoings)
        sent_privately = False
        unposted: str | None = None  # why the click's answer, meant as a message of its own, was not posted
        for outgoing in outgoings:
            try:
                if outgoing is answer and in_reply:
                    continue  # answered in place of the clicked card, or in a line beside it
                await self._deliver_one(outgoing, origin, viewers, problems)
                sent_privately = sent_privately or _to_personal_chat(outgoing, origin)
            except TeamsApiError as error:
                logger.warning("delivering %r failed: %s", outgoing.message.summary, error)
                if outgoing is answer:  # said in the click's own answer, which cannot fail to arrive
                    unposted = _undelivered(outgoing.message, error, origin)
                else:
                    problems.append(_undelivered(outgoing.message, error, origin))
        if problems and origin is not None:
            sent_privately = await self.tell(origin, "\n\n".join(problems)) or sent_privately
        elif problems:
            logger.warning("undelivered: %s", " ".join(problems))
        if sent_privately and origin is not None and not origin.invoke and self._points_again(origin):
            await self.tell(origin, POINTER)  # the channel sees the bot answered, and where
        if answer is None:
            return None
        assert origin is not None  # an answer is only made for a click
        if unposted is not None:  # nothing is below, nor in the personal chat: the answer itself, or why not
            return _beside_card(answer.message, origin) or unposted
        if _to_personal_chat(answer, origin):
            return SENT_PRIVATELY
        if origin.in_place:
            return await self._card_for(answer, origin, viewers)
        if _in_channel(origin):
            return _beside_card(answer.message, origin)
        return ANSWERED_BELOW  # posted in the personal chat as a message of its own

    def _points_again(self, origin: Origin) -> bool:
        """Whether to say in the thread that the answer went to the personal chat: not again to the same
        person in the same channel within `POINTER_EVERY`, or every command they type would repeat it."""
        now = self._clock()
        self._pointed = {key: when for key, when in self._pointed.items() if now - when < POINTER_EVERY}
        key = (origin.user_id, channel_of(origin.ref.conversation_id))
        if key in self._pointed:
            return False
        self._pointed[key] = now
        return True

    async def tell(self, origin: Origin, text: str) -> bool:
        """A note to whoever spoke, where they spoke (in a channel, in their thread, unless the thread may
        not show it: `_thread_line`); whether it went to their personal chat. Failures are logged, never
        raised."""
        note = Message(text.splitlines()[0], (Text(text),), private=True, impersonal=True)
        privately = _in_channel(origin) and not _thread_line(note)
        try:
            await self._post(await self._chats.personal(origin.user_id) if privately else origin.ref, note)
        except TeamsApiError as error:
            logger.warning("could not tell %s about a problem: %s", origin.user_id, error)
        return privately

    async def shared_view(self, key: str, user_id: str) -> dict[str, Any] | None:
        """The card a person sees of a shared message: with its actions for its viewers, else read-only."""
        shared = await asyncio.to_thread(self._store.shared, key)
        if shared is None:
            return None
        content, viewers = shared
        if user_id in viewers:
            return content
        return _read_only(content)

    # ------------------------------------------------------------ one message

    async def _deliver_one(
        self, outgoing: Outgoing, origin: Origin | None, viewers: dict[str, list[str]], problems: list[str]
    ) -> None:
        ref = await self._destination(outgoing, origin, problems)
        if ref is None:
            return
        if outgoing.updates is None and origin is not None and _for_the_asker_in_channel(outgoing, ref):
            await self._post_for(ref, outgoing.message, origin.user_id)
            return
        if outgoing.updates is None:
            await self._post(ref, outgoing.message)
            return
        await self.share(outgoing.updates, ref, outgoing.message, viewers.get(outgoing.updates, []))

    async def _destination(
        self, outgoing: Outgoing, origin: Origin | None, problems: list[str]
    ) -> ConversationRef | None:
        to = outgoing.to
        if isinstance(to, DirectMessage):
            person, why = await self._people.reachable(to.directory_keys)
            if person is None:
                problems.append(
                    f"**{to.email}** {why or 'is not in the directory'}, so they did not get "
                    f"“{outgoing.message.summary}” in Teams. Please reach them another way."
                )
                return None
            return await self._chats.personal(person.id)
        if isinstance(to, Channel) and to.channel:
            if not to.channel.startswith(CHANNEL_PREFIX):
                logger.info(
                    "%r is for another surface's channel; not sent in Teams", outgoing.message.summary
                )
                return None
            ref = await asyncio.to_thread(self._store.conversation, to.channel.removeprefix(CHANNEL_PREFIX))
            if ref is None:
                problems.append(
                    f"I no longer know the channel for “{outgoing.message.summary}”; @mention me there."
                )
            return ref
        if origin is None:
            logger.warning("%r has no audience outside a conversation; dropped", outgoing.message.summary)
            return None
        if _to_personal_chat(outgoing, origin):
            return await self._chats.personal(origin.user_id)
        return origin.ref

    async def _post(self, ref: ConversationRef, message: Message, **options: Any) -> str:
        activity = cards.activity(message, links=await self._files.links(message, ref), **options)
        for attempt in range(RETRIES + 1):
            try:
                return await self._api.send(ref.service_url, ref.address, activity)
            except TeamsApiError as error:
                if not _worth_waiting(error, attempt):
                    raise
                await asyncio.sleep(error.retry_after or 1.0)
        raise AssertionError("unreachable")

    async def _post_for(self, ref: ConversationRef, message: Message, user_id: str) -> None:
        """A reply for one person in a channel's thread: read-only for everyone, refreshed into the card
        with its buttons for them alone (Teams has no ephemeral messages); kept as a shared card, the
        store of what a refresh shows whom, for a day (`REPLY_MEMORY`)."""
        key = f"{REPLY_PREFIX}{uuid.uuid4().hex}"
        full = cards.card(message, links=await self._files.links(message, ref))
        await asyncio.to_thread(self._store.share, key, full, [user_id])
        await self._post(ref, message, actions=False, refresh=(key, [mri(user_id)]))

    async def _update(self, ref: ConversationRef, activity_id: str, message: Message, **options: Any) -> None:
        activity = cards.activity(message, links=await self._files.links(message, ref), **options)
        for attempt in range(RETRIES + 1):
            try:
                await self._api.update(ref.service_url, ref.address, activity_id, activity)
                return
            except TeamsApiError as error:
                if not _worth_waiting(error, attempt):
                    raise
                await asyncio.sleep(error.retry_after or 1.0)

    # ------------------------------------------------------------ shared messages

    async def share(
        self,
        key: str,
        ref: ConversationRef,
        message: Message,
        viewers: list[str],
        decided: list[str] | None = None,
    ) -> None:
        """Post or update the copy in `ref`, then bring every other copy up to date; `decided`: people
        who have acted on it (approvers who decided), who from now on see it read-only."""
        full = cards.card(message)
        await asyncio.to_thread(self._store.share, key, full, viewers)
        if decided:
            await asyncio.to_thread(self._store.drop_viewers, key, decided)
        known = (await asyncio.to_thread(self._store.shared, key)) or (full, viewers)
        may_act = [mri(user) for user in known[1]]
        copies = await asyncio.to_thread(self._store.copies, key)
        if not any(channel_of(copy.conversation_id) == ref.conversation_id for copy in copies):
            options = cards.shared_copy(message, key, may_act, _reader(ref))
            activity_id = await self._post(ref, message, **options)
            await asyncio.to_thread(self._store.add_copy, key, CardCopy(ref.address, activity_id))
        for copy in copies:
            here = channel_of(copy.conversation_id) == ref.conversation_id
            where = ref if here else await self._copy_ref(copy)
            if where is not None:  # in the thread the copy was posted in
                where = where.in_thread(copy.conversation_id)
                options = cards.shared_copy(message, key, may_act, _reader(where))
                await self._update(where, copy.activity_id, message, **options)

    async def _copy_ref(self, copy: CardCopy) -> ConversationRef | None:
        """Where a copy is: its conversation as stored; the copy keeps the thread it was posted in."""
        return await asyncio.to_thread(self._store.conversation, channel_of(copy.conversation_id))

    async def _viewers(self, outgoings: list[Outgoing]) -> dict[str, list[str]]:
        """Per shared key, the people it is sent to directly: they see it with its actions."""
        viewers: dict[str, list[str]] = {}
        for outgoing in outgoings:
            if outgoing.updates and isinstance(outgoing.to, DirectMessage):
                person = await self._people.find(outgoing.to.email)
                if person is not None:
                    viewers.setdefault(outgoing.updates, []).append(person.id)
        return viewers

    async def _card_for(
        self, outgoing: Outgoing, origin: Origin, viewers: dict[str, list[str]]
    ) -> dict[str, Any]:
        if outgoing.updates is None:
            return cards.card(outgoing.message, links=await self._files.links(outgoing.message, origin.ref))
        view = await self.shared_view(outgoing.updates, origin.user_id)
        return view if view is not None else cards.card(outgoing.message, actions=False)


def _answer(outgoings: list[Outgoing], shared_card: bool) -> Outgoing | None:
    """What answers a click: on a shared card, the shared message's new version if the click made one;
    else the last reply. A shared message a click posts (the prompt a request makes) goes where it goes."""
    shared = [outgoing for outgoing in outgoings if outgoing.updates is not None]
    if shared and shared_card:
        return shared[-1]
    replies = [o for o in outgoings if isinstance(o.to, Reply) and o.updates is None]
    return replies[-1] if replies else None


def _reader(ref: ConversationRef) -> str | None:
    """The MRI of a personal chat's one reader; None for a channel (or a chat whose person is unknown),
    read by many."""
    return mri(ref.user_id) if ref.kind == "personal" and ref.user_id else None


def _to_personal_chat(outgoing: Outgoing, origin: Origin | None) -> bool:
    """Teams channels have no ephemeral messages: a private reply to someone who spoke in a channel goes
    to their personal chat, and so does a click's answer there that says more than a line and may not
    take the clicked card's place (Slack shows it to the clicker alone; a line is shown beside the card)."""
    if origin is None or origin.ref.kind == "personal" or not isinstance(outgoing.to, Reply):
        return False
    if outgoing.message.private:
        return origin.invoke or not _may_stay(outgoing.message)  # a typed command's refusal, help
    in_place = origin.in_place or outgoing.updates is not None
    return origin.invoke and not in_place and not _line(outgoing.message)


def _for_the_asker_in_channel(outgoing: Outgoing, ref: ConversationRef) -> bool:
    """A private reply posted in a channel's thread (`_may_stay`) whose buttons only the asker may press."""
    return outgoing.message.private and ref.kind == "channel" and bool(outgoing.message.buttons)


def _may_stay(message: Message) -> bool:
    """Whether a private reply may stay in the channel's thread where it was asked: about nobody's case
    (`Message.impersonal`), in words and buttons only, none of them naming an address."""
    if not message.impersonal:
        return False
    said = [message.summary]
    for block in message.blocks:
        match block:
            case Text(markdown):
                said.append(markdown)
            case Heading(text):
                said.append(text)
            case Actions(buttons):
                said.extend(f"{button.label} {button.value} {button.url}" for button in buttons)
            case _:  # a table, facts, a file: read as someone's case
                return False
    return not ADDRESS.search(" ".join(said))


def _in_channel(origin: Origin | None) -> bool:
    return origin is not None and origin.ref.kind == "channel"


def _thread_line(message: Message) -> str:
    """A private reply as the one line a channel's thread may show, where everyone in the channel reads
    it: an impersonal one (`Message.impersonal`) naming no address, nor its notification; "" for any
    other, however short."""
    line = _line(message)
    return line if message.impersonal and not ADDRESS.search(f"{message.summary} {line}") else ""


def _beside_card(message: Message, origin: Origin) -> str:
    """The message as the line a click's answer shows beside the card (no Markdown there); in a channel,
    a private one only as its thread may show it."""
    private_in_channel = message.private and _in_channel(origin)
    return cards.plain(_thread_line(message) if private_in_channel else _line(message))


def _undelivered(message: Message, error: TeamsApiError, origin: Origin | None) -> str:
    """What went wrong in delivering `message`, for whoever spoke; in a channel, a private message is not
    quoted (its summary may name people, or the asker's own case)."""
    private_in_channel = message.private and _in_channel(origin)
    what = "my answer to you" if private_in_channel else f"“{message.summary}”"
    if isinstance(error, SignInRefused) and origin is not None and origin.invoke:
        # shown in the click's answer, which needs no token: no message can go to say it
        return SignInRefused.TOLD
    if error.status == 413:  # cards are cut to fit (cards.MAX_CARD_BYTES): asking again gets the same refusal
        return (
            f"I could not deliver {what}: Teams refused it as too large ({error.status} {error.code}), so"
            " asking again will not help. Please tell the bot's operators; my log has the details."
        )
    return (
        f"I could not deliver {what} (Teams said {error.status} {error.code}). Try again; if it persists,"
        " check my log."
    )


def _line(message: Message) -> str:
    """The message as the line a click's answer shows beside the card; "" when it is more than text."""
    texts = [block.markdown for block in message.blocks if isinstance(block, Text)]
    if len(texts) != len(message.blocks) or not texts:
        return ""
    line = " ".join(" ".join(texts).split())
    return line if len(line) <= MAX_LINE else ""


def _read_only(content: dict[str, Any]) -> dict[str, Any]:
    return {
        **content,
        "body": [element for element in content.get("body", []) if element.get("type") != "ActionSet"],
    }


def _worth_waiting(error: TeamsApiError, attempt: int) -> bool:
    if attempt >= RETRIES:
        return False
    if error.status == 429:
        return (error.retry_after or 1.0) <= RETRY_AFTER_AT_MOST
    return error.status in (412, 502, 504)
