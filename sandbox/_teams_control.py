"""The emulated Teams' control endpoints: the hands of a person in Teams (writing, clicking, installing,
leaving), the bot's registration, and what a test reads back (activities, cards as one person sees them,
stats, signed tokens)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox._common import json_object
from sandbox._teams import (
    BOT_SECRET,
    CHANNEL_CONVERSATION,
    SERVICE_URL,
    TEAM_ID,
    Conversation,
    SentActivity,
    TeamsWorld,
    mri,
    threaded,
)
from sandbox._teams_apps import BOT_NAME
from sandbox._teams_connector import why_not

_BOT_TIMEOUT = 60.0
"""Teams gives a bot 15 s; the sandbox waits longer so a slow test machine fails loudly, not here."""


class BotUnreachable(Exception):
    """The bot's registered endpoint could not be reached (nothing listens there, or it did not answer)."""

    def __init__(self, endpoint: str, error: httpx.TransportError) -> None:
        super().__init__(
            f"the bot at {endpoint} could not be reached or did not answer ({type(error).__name__}):"
            " is `aadbot serve` running there, and is that its address?"
        )
        self.endpoint = endpoint


def _reaching_the_bot(
    handler: Callable[[Control, Request], Awaitable[Response]],
) -> Callable[[Control, Request], Awaitable[Response]]:
    """A hand that delivers to the bot answers 502 naming the endpoint when the bot is down, as a gateway
    does: a 500 with the sandbox's traceback read as the sandbox's own failure (walk38)."""

    @functools.wraps(handler)
    async def reaching(control: Control, request: Request) -> Response:
        try:
            return await handler(control, request)
        except BotUnreachable as error:
            return JSONResponse({"error": str(error), "endpoint": error.endpoint}, status_code=502)

    return reaching


class Control:
    """The hands of a person in Teams, and what a test registers and reads back."""

    def __init__(self, world: TeamsWorld) -> None:
        self._world = world

    async def bot(self, request: Request) -> Response:
        """`{"endpoint", "appId", "password"?}`: the bot's messaging endpoint and app registration, whose
        client secret is `password` (BOT_SECRET when not given): its token requests with another fail."""
        body = json_object(await request.body())
        endpoint, app_id = str(body.get("endpoint") or ""), str(body.get("appId") or "")
        if not endpoint.startswith(("http://", "https://")) or not app_id:
            return JSONResponse({"error": "endpoint (http URL) and appId are required"}, status_code=400)
        with self._world.lock:
            self._world.bot_endpoint, self._world.app_id = endpoint, app_id
        with self._world.state.lock:
            self._world.state.client_secrets[app_id] = str(body.get("password") or BOT_SECRET)
        return JSONResponse({"endpoint": endpoint, "appId": app_id})

    async def _person(self, request: Request) -> tuple[dict[str, Any], dict[str, Any] | Response]:
        """The request's body and the person it plays (`"from"`: a sign-in name), or the refusal: nobody
        is, or they cannot use Teams in this tenant."""
        body = json_object(await request.body())
        user = self._world.user(str(body.get("from") or ""))
        if user is None:
            return body, _no_such_person(body)
        why = why_not(user)
        if why is not None:
            return body, JSONResponse(
                {"error": f"{body.get('from')!r} cannot use Teams in this tenant: {why}"}, status_code=403
            )
        return body, user

    @_reaching_the_bot
    async def message(self, request: Request) -> Response:
        body, user = await self._person(request)
        if isinstance(user, Response):
            return user
        world = self._world
        text = str(body.get("text") or "")
        activity = self._activity(user, "message", channel=bool(body.get("channel")))
        if isinstance(body.get("attachments"), list):  # what the person pasted or attached (a screenshot)
            activity["attachments"] = body["attachments"]
        if body.get("channel"):
            thread = str(body.get("thread") or "")  # a reply under that post, else a post of its own
            with world.lock:
                if thread and thread not in world.posts:
                    return JSONResponse({"error": f"no channel post {thread!r}"}, status_code=404)
                if not thread:
                    world.posts.add(activity["id"])
            activity["conversation"]["id"] = threaded(CHANNEL_CONVERSATION, thread or activity["id"])
            mention = f"<at>{BOT_NAME}</at>"
            activity["text"] = f"{mention} {text}"
            activity["entities"] = [
                *activity["entities"],
                {
                    "type": "mention",
                    "text": mention,
                    "mentioned": {"id": f"28:{world.app_id}", "name": BOT_NAME},
                },
            ]
        else:
            activity["text"] = text
            with world.lock:  # writing to the bot in a personal chat means it is there, and not blocked
                world.installed.add(str(user["id"]))
                world.blocked.discard(str(user["id"]))
        status, _ = await self._deliver(activity, body.get("token"))
        return JSONResponse({"status": status, "activityId": activity["id"]})

    @_reaching_the_bot
    async def install_personally(self, request: Request) -> Response:
        """`{"from": UPN}`: that person adds the app themselves; an `installationUpdate` reaches the bot."""
        _, user = await self._person(request)
        if isinstance(user, Response):
            return user
        world = self._world
        with world.lock:
            world.installed.add(str(user["id"]))
        activity = self._activity(user, "installationUpdate", channel=False)
        activity["action"] = "add"
        status, _ = await self._deliver(activity, None)
        return JSONResponse({"status": status, "activityId": activity["id"]})

    async def leave(self, request: Request) -> Response:
        """`{"from": UPN, "how": "block" | "remove"}`: that person blocks the bot in their chat with it, or
        removes the app (the bot hears nothing of either: it learns at its next message)."""
        body, user = await self._person(request)
        if isinstance(user, Response):
            return user
        how = body.get("how")
        if how not in ("block", "remove"):
            return JSONResponse({"error": '"how" is "block" or "remove"'}, status_code=400)
        world = self._world
        with world.lock:
            if how == "block":
                world.blocked.add(str(user["id"]))
            else:
                world.installed.discard(str(user["id"]))
        return JSONResponse({"from": body.get("from"), "how": how})

    @_reaching_the_bot
    async def invoke(self, request: Request) -> Response:
        body, user = await self._person(request)
        if isinstance(user, Response):
            return user
        world = self._world
        with world.lock:
            target = world.activities.get(str(body.get("replyToId") or ""))
            conversation = world.conversations.get(target.conversation_id) if target else None
        if target is None or conversation is None:
            return JSONResponse({"error": f"no activity {body.get('replyToId')!r}"}, status_code=404)
        if (outsider := _outsider(conversation, user)) is not None:
            return outsider
        action = body.get("action") or {}
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            return JSONResponse({"error": "action must be an Action.Execute object"}, status_code=400)
        card = _card(target.body)
        if card is None:
            return JSONResponse({"error": "that activity carries no Adaptive Card"}, status_code=400)
        view = await self._view_of(card, user, target, conversation.kind)
        if not _has_action(view, action):
            return JSONResponse(
                {"error": "that action is not on the card as this user sees it", "card": view},
                status_code=409,
            )
        status, answer = await self._deliver(self._invoke(user, target, conversation.kind, action), None)
        shown = _card_answer(answer) if status == 200 else None
        if shown is not None:
            with world.lock:  # the answer's card takes the clicked one's place, for the clicker alone
                world.views[(target.id, str(user["id"]))] = shown
        return JSONResponse({"status": status, "body": answer})

    async def stats(self, request: Request) -> Response:
        """Connector operations accepted (when the first and last came, the most in any one second) and
        requests refused with 429."""
        with self._world.lock:
            operations = sorted(self._world.operations)
            return JSONResponse(
                {
                    "operations": len(operations),
                    "firstAt": operations[0] if operations else None,
                    "lastAt": operations[-1] if operations else None,
                    "busiestSecond": _busiest_second(operations),
                    "throttled": self._world.throttled,
                }
            )

    async def sign(self, request: Request) -> Response:
        """A Bot Connector token with the given claims changed (`null` drops one), to test the bot;
        `?endorsedFor=webchat` signs with the published key endorsed for Web Chat only."""
        changes = json_object(await request.body())
        channel = request.query_params.get("endorsedFor", "msteams")
        token = self._world.sign(SERVICE_URL, changes=changes, channel=channel)
        return JSONResponse({"token": token})

    @_reaching_the_bot
    async def view(self, request: Request) -> Response:
        """`?activityId=ID&user=UPN`: that activity's card as that person sees it (refreshed for them)."""
        world = self._world
        user = world.user(request.query_params.get("user", ""))
        with world.lock:
            target = world.activities.get(request.query_params.get("activityId", ""))
            conversation = world.conversations.get(target.conversation_id) if target else None
        if user is None or target is None or conversation is None:
            return JSONResponse({"error": "unknown user or activity"}, status_code=404)
        if (outsider := _outsider(conversation, user)) is not None:
            return outsider
        card = _card(target.body)
        if card is None:
            return JSONResponse({"error": "that activity carries no Adaptive Card"}, status_code=400)
        return JSONResponse(await self._view_of(card, user, target, conversation.kind))

    async def activities(self, request: Request) -> Response:
        """Every send and update, oldest first; `?since=N` from the N+1th on, so that a reader following a
        wave of 20,000 lists reads each once instead of the whole log every time."""
        since = request.query_params.get("since", "0")
        if not since.isdigit():
            return JSONResponse({"error": f"since={since!r} is not a count of activities"}, status_code=400)
        with self._world.lock:
            return JSONResponse(self._world.log[int(since) :])

    async def _view_of(
        self, card: dict[str, Any], user: dict[str, Any], target: SentActivity, kind: str
    ) -> dict[str, Any]:
        """What this user sees: the card an answer to their click put in its place, else the card, its
        refresh action run for the users it names, as Teams does."""
        with self._world.lock:
            own = self._world.views.get((target.id, str(user["id"])))
        if own is not None:
            return own
        refresh = card.get("refresh") or {}
        user_ids = refresh.get("userIds") or []
        if not refresh.get("action") or mri(str(user["id"])) not in user_ids:
            return card
        status, answer = await self._deliver(
            self._invoke(user, target, kind, refresh["action"], "automatic"), None
        )
        refreshed = _card_answer(answer) if status == 200 else None
        return card if refreshed is None else refreshed

    def _activity(
        self, user: dict[str, Any], kind: str, *, channel: bool, conversation_id: str = ""
    ) -> dict[str, Any]:
        world = self._world
        tenant = str(world.state.tenant["id"])
        if channel:
            conversation = {"id": CHANNEL_CONVERSATION, "conversationType": "channel", "tenantId": tenant}
            data: dict[str, Any] = {
                "tenant": {"id": tenant},
                "team": {"id": TEAM_ID, "name": "Migration"},
                "channel": {"id": CHANNEL_CONVERSATION, "name": "Entra migration"},
            }
        else:
            personal = conversation_id or world.personal_conversation(user).id
            conversation = {"id": personal, "conversationType": "personal", "tenantId": tenant}
            data = {"tenant": {"id": tenant}}
        zone, local = _time_zone(world, user), {}
        if zone:  # Teams sends the client's zone and clock with each activity too
            local = {"localTimezone": zone, "localTimestamp": datetime.now(ZoneInfo(zone)).isoformat()}
        return {
            "type": kind,
            "id": world.next_activity_id(),
            "timestamp": _now_iso(),
            **local,
            "serviceUrl": SERVICE_URL,
            "channelId": "msteams",
            "from": world.account(user),
            "conversation": conversation,
            "recipient": {"id": f"28:{world.app_id}", "name": BOT_NAME},
            "channelData": data,
            "locale": "en-US",
            "entities": [_client_info(world, user)],
        }

    def _invoke(
        self,
        user: dict[str, Any],
        target: SentActivity,
        kind: str,
        action: dict[str, Any],
        trigger: str = "manual",
    ) -> dict[str, Any]:
        activity = self._activity(
            user, "invoke", channel=kind == "channel", conversation_id=target.conversation_id
        )
        if kind == "channel":  # the thread the card is in: its own, or the one it replies in
            activity["conversation"]["id"] = threaded(CHANNEL_CONVERSATION, target.thread or target.id)
        activity.update(
            name="adaptiveCard/action",
            replyToId=target.id,
            value={
                "action": {key: action[key] for key in ("type", "id", "verb", "data") if key in action},
                "trigger": trigger,
            },
        )
        return activity

    async def _deliver(self, activity: dict[str, Any], token: object) -> tuple[int, Any]:
        """POST a signed activity to the bot; `token` in the control body overrides the signature (tests)."""
        world = self._world
        with world.lock:
            endpoint, app_id = world.bot_endpoint, world.app_id
        if not endpoint or not app_id:
            return 503, {"error": "no bot registered: POST /_sandbox/teams/bot first"}
        bearer = str(token) if isinstance(token, str) else world.bearer(SERVICE_URL)
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        # One TLS context for every delivery (a client's own costs some 16 ms of CPU), imported only by a
        # sandbox that delivers to a bot.
        from msapi import tls_context

        async with httpx.AsyncClient(timeout=_BOT_TIMEOUT, verify=tls_context()) as client:
            try:
                response = await client.post(endpoint, json=activity, headers=headers)
            except httpx.TransportError as error:
                raise BotUnreachable(endpoint, error) from None
        try:
            answer: Any = response.json() if response.content else None
        except ValueError:
            answer = response.text
        return response.status_code, answer


def _outsider(conversation: Conversation, user: dict[str, Any]) -> Response | None:
    """403 for someone who is not in the conversation: Teams shows a personal chat's cards to its one
    person only, so nobody else may see or press them (the channel is everyone's here)."""
    upn = str(user["userPrincipalName"])
    if conversation.kind != "personal" or (conversation.user or "").casefold() == upn.casefold():
        return None
    return JSONResponse(
        {"error": f"{upn!r} is not in that conversation (another person's chat with the bot)"},
        status_code=403,
    )


def _client_info(world: TeamsWorld, user: dict[str, Any]) -> dict[str, Any]:
    """What the person's Teams client says about itself."""
    info = {"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web"}
    zone = _time_zone(world, user)
    return {**info, "timezone": zone} if zone else info


def _time_zone(world: TeamsWorld, user: dict[str, Any]) -> str | None:
    """The person's IANA zone, as the scenario's `teams.timeZones` names it (checked when it was read)."""
    zones = (world.state.data.get("teams") or {}).get("timeZones") or {}
    zone = zones.get(str(user["userPrincipalName"]))
    return str(zone) if zone else None


def _card(activity: dict[str, Any]) -> dict[str, Any] | None:
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            return dict(attachment.get("content") or {})
    return None


def _card_answer(answer: Any) -> dict[str, Any] | None:
    """The card of an `adaptiveCard/action` answer; None for a message answer, which leaves the card."""
    if isinstance(answer, dict) and answer.get("type") == "application/vnd.microsoft.card.adaptive":
        return dict(answer.get("value") or {})
    return None


def _has_action(node: Any, wanted: dict[str, Any]) -> bool:
    """True when an Action.Execute with the same verb and data is anywhere on the card."""
    if isinstance(node, dict):
        if (
            node.get("type") == "Action.Execute"
            and node.get("verb") == wanted.get("verb")
            and (node.get("data") or {}) == (wanted.get("data") or {})
        ):
            return True
        return any(_has_action(value, wanted) for key, value in node.items() if key != "refresh")
    if isinstance(node, list):
        return any(_has_action(item, wanted) for item in node)
    return False


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _no_such_person(body: dict[str, Any]) -> Response:
    """What a control endpoint answers when `from` names nobody in the directory."""
    return JSONResponse({"error": f"no directory user {body.get('from')!r}"}, status_code=404)


def _busiest_second(moments: list[float]) -> int:
    """The most of these (sorted) moments inside any one second, as Teams' per-second limit counts."""
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most
