"""`POST /api/messages`: every Teams activity, authenticated, acted on once, answered the Teams way.

Messages are admin words or questions (an @mention in a channel, mention text stripped, or plain text
in the personal chat), answered where they were said: in a channel, in the thread of the mention (its
conversation id names the thread, `;messageid=`). `adaptiveCard/action` invokes are card clicks,
answered in the HTTP response: with a card that replaces the clicked one for the clicker, or a line
that leaves it as it is (see `Delivery.deliver`). A turn that outlasts the answer budget goes on in the
background, so Teams never times out and redelivers.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.conversation.messages import Message, Outgoing, failed_turn_echo
from bot.request_body import BODY_SECONDS, read_body
from bot.teams import cards
from bot.teams.auth import ActivityAuthenticator, Unauthorized, check_activity
from bot.teams.connector import SignInRefused, TeamsApiError
from bot.teams.delivery import CHANNEL_PREFIX, Delivery, Origin
from bot.teams.people import People
from bot.teams.store import CLICK_ANSWER_LIMIT, ConversationRef, TeamsStore, channel_of
from workflows.results import Actor
from workflows.working_hours import offset_name, zone

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
ANSWER_BUDGET_SECONDS = 10.0
"""Teams waits 15 s for the bot's answer; past this a turn finishes in the background."""
NOT_FOUND = (
    "I can't find you in the organization's directory, and I match people by their directory account. "
    "Ask an admin to check that your Teams account is a user of the directory."
)
LOOKUP_FAILED = "I could not look you up in the directory just now. Try again in a minute."
"""Graph (or the bot's sign-in to it) failed: nothing is known of the person, so nothing is blamed on them."""
TEXT_ONLY = (
    "I read text only, so I cannot see screenshots or files. Type what you need in words: the error message"
    " as it reads (for example TF400813, or “403 when inviting”), a question, or help to see what I can do."
)
STILL_WORKING = "I am still working on that click; what it does will show in a moment."
"""Teams delivered a click again before its first delivery was answered, and within Teams' wait for it
(`CLICK_ANSWER_LIMIT`): later, the redelivery takes the click over."""
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


class Conversation(Protocol):
    def command(
        self, actor: Actor, text: str, *, channel: str | None, reply_to: str | None = None
    ) -> list[Outgoing]: ...

    def action(
        self, actor: Actor, action: str, value: str, *, channel: str | None, reply_to: str | None = None
    ) -> list[Outgoing]: ...

    def chat(self, actor: Actor, text: str, *, reply_to: str | None = None) -> list[Outgoing]: ...

    def home(self, actor: Actor) -> Message: ...


class TeamsEndpoint:
    def __init__(
        self,
        conversation: Conversation,
        *,
        authenticator: ActivityAuthenticator,
        delivery: Delivery,
        people: People,
        store: TeamsStore,
        tenant_id: str,
        body_seconds: float = BODY_SECONDS,
    ) -> None:
        self._conversation = conversation
        self._authenticator = authenticator
        self._delivery = delivery
        self._people = people
        self._store = store
        self._tenant_id = tenant_id
        self._body_seconds = body_seconds
        self._background: set[asyncio.Task[Any]] = set()
        self._refused_tenants: set[str] = set()

    async def handle(self, request: Request) -> Response:
        try:
            claims = await self._authenticator.verify_token(request.headers.get("authorization"))
        except Unauthorized as error:
            return _refused(error)
        body = await read_body(request, seconds=self._body_seconds)
        if isinstance(body, Response):
            return body
        try:
            activity = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past what Python parses
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(activity, dict):
            return JSONResponse({"error": "the body is not an activity"}, status_code=400)
        try:
            check_activity(claims, activity)
        except Unauthorized as error:
            return _refused(error)
        tenant = tenant_of(activity)
        if tenant not in (None, self._tenant_id):
            self._refuse_tenant(tenant)
            return JSONResponse({"error": "this bot serves one tenant"}, status_code=403)
        kind = activity.get("type")
        click: tuple[str, str] | None = None
        if kind == "invoke" and activity.get("name") == "adaptiveCard/action":
            found = clicked(activity)
            if isinstance(found, str):
                logger.warning(
                    "refused a card click that is not one (activity %r): %s", activity.get("id"), found
                )
                return JSONResponse(_error_answer(f"This is not a card click I understand: {found}."), 400)
            click = found
        conversation_id = channel_of(str((activity.get("conversation") or {}).get("id") or ""))
        key = f"{conversation_id}|{activity.get('id') or ''}"  # an activity id is the channel's, any thread
        # a click unanswered past Teams' wait is one whose claimer died: its actions are idempotent by design
        # (a decision, a tick, an invitation are each claimed once in the workflows), so it may run again
        retake = CLICK_ANSWER_LIMIT if click is not None else None
        if activity.get("id") and not await asyncio.to_thread(
            self._store.claim_activity, key, retake_after=retake
        ):
            logger.info("ignoring a redelivery of activity %s", key)
            if click is None:
                return Response(status_code=200)
            # Teams shows an empty answer to a click as a failure: the first delivery's answer again
            kept = await asyncio.to_thread(self._store.answer, key)
            return JSONResponse(kept or _message_answer(STILL_WORKING))
        origin = await self._origin(activity)
        if origin is None:
            return Response(status_code=200)
        if kind == "message":
            await self._within_budget(self._message(activity, origin))
            return Response(status_code=200)
        if click is not None:
            answer = await self._card_action(click, origin)
            if activity.get("id"):
                await asyncio.to_thread(self._store.keep_answer, key, answer)
            return JSONResponse(answer)
        if kind == "installationUpdate" and activity.get("action") == "add" and origin.ref.kind == "personal":
            await self._within_budget(self._welcome(origin))
        return Response(status_code=200)

    def _refuse_tenant(self, tenant: str) -> None:
        """Says once per tenant (not at each of its messages) why the bot answers nobody there: a wrong
        TEAMS_TENANT_ID otherwise looks like a bot that never hears anything."""
        if tenant in self._refused_tenants:
            return
        self._refused_tenants.add(tenant)
        # two cases, told apart only by the operator: the app added in another organization's Teams (its
        # package shared there), which is expected and needs nothing here, or TEAMS_TENANT_ID set wrong
        logger.warning(
            "refused activities from tenant %s: this bot serves tenant %s (TEAMS_TENANT_ID) only, so people"
            " there get no answer. If the app was added in that organization's Teams on purpose, nothing"
            " needs changing here (its admins can remove or block the app in their Teams admin center). If"
            " the bot's own users are in %s, set TEAMS_TENANT_ID to it and restart.",
            tenant,
            self._tenant_id,
            tenant,
        )

    async def _origin(self, activity: dict[str, Any]) -> Origin | None:
        conversation = activity.get("conversation") or {}
        sender = activity.get("from") or {}
        user_id = str(sender.get("aadObjectId") or "")
        if not conversation.get("id") or not user_id:
            return None
        personal = conversation.get("conversationType") == "personal"
        address = str(conversation["id"])
        time_zone = time_zone_of(activity)
        ref = ConversationRef(
            conversation_id=channel_of(address),
            service_url=str(activity["serviceUrl"]),
            tenant_id=self._tenant_id,
            kind="personal" if personal else "channel",
            user_id=user_id if personal else None,
            time_zone=time_zone if personal else None,
        )
        await asyncio.to_thread(self._store.remember, ref)  # the channel, where notices go as new posts
        if time_zone and not personal:
            await asyncio.to_thread(self._store.set_time_zone, user_id, time_zone)
        card = str(activity.get("replyToId") or "") if activity.get("type") == "invoke" else ""
        post = address.partition(";messageid=")[2]  # the thread's first post: its own id for a post
        in_thread = not personal and bool(post) and post != str(activity.get("id") or "")
        return Origin(
            ref=ref.in_thread(address),
            user_id=user_id,
            card=card or None,
            in_thread=in_thread,
            time_zone=time_zone,
        )

    async def _message(self, activity: dict[str, Any], origin: Origin) -> None:
        text = words_of(activity)
        if not text and activity.get("attachments"):  # a screenshot or a file, and no words
            await self._delivery.tell(origin, TEXT_ONLY)
            return
        actor = await self._actor(origin)
        if isinstance(actor, str):
            await self._delivery.tell(origin, actor)
            return
        channel = CHANNEL_PREFIX + origin.ref.conversation_id

        def talk() -> list[Outgoing]:
            if origin.ref.kind == "personal":  # no migration's channel, yet where a progress line shows
                return self._conversation.chat(actor, text, reply_to=channel)
            return self._conversation.command(actor, text or "help", channel=channel)

        outgoings = await self._talk(talk, origin, text)
        if outgoings is not None:
            await self._delivery.deliver(outgoings, origin)

    async def _welcome(self, origin: Origin) -> None:
        """Someone added the app for themselves: what they can do, and their own to-do list if any."""
        actor = await self._actor(origin)
        if isinstance(actor, str):
            await self._delivery.tell(origin, actor)
            return
        home = await asyncio.to_thread(self._conversation.home, actor)
        await self._delivery.deliver([Outgoing(home)], origin)

    async def _card_action(self, click: tuple[str, str], origin: Origin) -> dict[str, Any]:
        verb, value = click
        origin = replace(origin, invoke=True)
        if verb == cards.REFRESH_VERB:
            view = await self._delivery.shared_view(value, origin.user_id)
            return _card_answer(view) if view else _message_answer("This card is no longer current.")
        actor = await self._actor(origin)
        if isinstance(actor, str):  # said in the click's answer alone: a chat message too would say it twice
            return _message_answer(actor)
        here = CHANNEL_PREFIX + origin.ref.conversation_id  # a personal chat too: a progress line shows there
        channel = here if origin.ref.kind == "channel" else None
        outgoings = await self._talk(
            lambda: self._conversation.action(actor, verb, value, channel=channel, reply_to=here),
            origin,
            f"{verb} {value}",
        )
        if outgoings is None:
            return _message_answer("Something went wrong on my side; the details are in my log.")
        answer = await self._delivery.deliver(outgoings, origin)
        if isinstance(answer, dict):
            return _card_answer(answer)
        return _message_answer(answer or "Done.")

    async def _actor(self, origin: Origin) -> Actor | str:
        """Who spoke, or what to answer them instead: a look-up that failed (an outage, a 429, the bot's
        sign-in refused) is no verdict on the person, so it never reads as "not in the directory"."""
        try:
            actor = await self._people.actor(origin.user_id)
        except SignInRefused:  # the connector has told the operator; a message could not carry this
            return SignInRefused.TOLD
        except TeamsApiError as error:
            logger.warning("looking up %s failed: %s", origin.user_id, error)
            return LOOKUP_FAILED
        return NOT_FOUND if actor is None else replace(actor, zone=zone(origin.time_zone))

    async def _talk(
        self, talk: Callable[[], list[Outgoing]], origin: Origin, what: str
    ) -> list[Outgoing] | None:
        try:
            # the conversation is synchronous (database, Microsoft calls): keep it off the event loop
            return await asyncio.to_thread(talk)
        except Exception:
            said = failed_turn_echo(what)
            logger.exception("the conversation failed while handling %r", said)
            await self._delivery.tell(
                origin, f"Something went wrong on my side while handling `{said}`; the details are in my log."
            )
            return None

    async def _within_budget(self, turn: Any) -> None:
        task = asyncio.ensure_future(turn)
        done, _ = await asyncio.wait({task}, timeout=ANSWER_BUDGET_SECONDS)
        if not done:
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        elif task.exception() is not None:
            logger.error("a Teams turn failed", exc_info=task.exception())


def words_of(activity: dict[str, Any]) -> str:
    """The message's words: @mentions of the bot and HTML markup taken out."""
    text = _MENTION.sub(" ", str(activity.get("text") or ""))
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def clicked(activity: dict[str, Any]) -> tuple[str, str] | str:
    """The verb and value of an `adaptiveCard/action` invoke (`value.action.verb`, `.data.value`), or what
    is wrong with it."""
    value = activity.get("value")
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict):
        return "it has no action (value.action)"
    verb = action.get("verb")
    if not isinstance(verb, str) or not verb:
        return "its action has no verb"
    data = action.get("data")
    if data is None:
        return verb, ""
    argument = data.get("value") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(argument, (str, type(None))):
        return "its action's data is not an object with a text value"
    return verb, "" if argument is None else str(argument)


def tenant_of(activity: dict[str, Any]) -> str | None:
    """The tenant the activity comes from (`channelData.tenant.id`), if it says."""
    data = activity.get("channelData")
    tenant = data.get("tenant") if isinstance(data, dict) else None
    return str(tenant["id"]) if isinstance(tenant, dict) and tenant.get("id") else None


def time_zone_of(activity: dict[str, Any]) -> str | None:
    """The time zone the sender's Teams client reports, if any: the activity's IANA `localTimezone`, else its
    `clientInfo` entity's, else the offset of its `localTimestamp` (`+HH:MM`, as `zone` reads it)."""
    if isinstance(activity.get("localTimezone"), str) and activity["localTimezone"]:
        return str(activity["localTimezone"])
    for entity in activity.get("entities") or []:
        if isinstance(entity, dict) and entity.get("type") == "clientInfo" and entity.get("timezone"):
            return str(entity["timezone"])
    try:
        offset = datetime.fromisoformat(str(activity.get("localTimestamp") or "")).utcoffset()
    except ValueError:
        return None
    return offset_name(int(offset.total_seconds())) if offset is not None else None


def _refused(error: Unauthorized) -> Response:
    logger.warning("refused an activity: %s", error)
    return JSONResponse({"error": "Unauthorized"}, status_code=401)


def _card_answer(card: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "type": cards.CARD_CONTENT_TYPE, "value": card}


def _error_answer(text: str) -> dict[str, Any]:
    """Universal Actions' error response (`application/vnd.microsoft.error`): the request was wrong."""
    return {
        "statusCode": 400,
        "type": "application/vnd.microsoft.error",
        "value": {"code": "BadRequest", "message": text},
    }


def _message_answer(text: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}
