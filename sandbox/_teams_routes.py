"""The emulated Teams over HTTP: Microsoft's hosts, and the control endpoints a test plays a person with."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox._common import json_object
from sandbox._permissions import GRAPH_PERMISSIONS
from sandbox._state import State, Token
from sandbox._teams import (
    BOT_FRAMEWORK_HOST,
    BOT_SECRET,
    CHANNEL_CONVERSATION,
    CONNECTOR_HOST,
    KEYS_PATH,
    OPENID_PATH,
    SERVICE_URL,
    TEAM_ID,
    SentActivity,
    TeamsWorld,
    mri,
    threaded,
)

BOT_NAME = "aadbot"
_BOT_TIMEOUT = 60.0
"""Teams gives a bot 15 s; the sandbox waits longer so a slow test machine fails loudly, not here."""


def teams_routes(state: State) -> list[Route]:
    """Teams' routes over `state`'s Teams world: the one a restored state brought, or a new one."""
    if state.teams is None:
        state.teams = TeamsWorld(state)
    world = state.teams
    connector = _Connector(world)
    control = _Control(world)
    return [
        Route(
            f"/{BOT_FRAMEWORK_HOST}{OPENID_PATH}",
            lambda _: JSONResponse(world.openid_configuration()),
            methods=["GET"],
        ),
        Route(f"/{BOT_FRAMEWORK_HOST}{KEYS_PATH}", lambda _: JSONResponse(world.keys()), methods=["GET"]),
        Route(f"/{CONNECTOR_HOST}/{{region}}/v3/conversations", connector.create, methods=["POST"]),
        Route(
            f"/{CONNECTOR_HOST}/{{region}}/v3/conversations/{{conversation}}/activities",
            connector.send,
            methods=["POST"],
        ),
        Route(
            f"/{CONNECTOR_HOST}/{{region}}/v3/conversations/{{conversation}}/activities/{{activity}}",
            connector.update,
            methods=["PUT"],
        ),
        Route(
            "/graph.microsoft.com/v1.0/users/{user}/teamwork/installedApps", control.install, methods=["POST"]
        ),
        Route("/graph.microsoft.com/v1.0/appCatalogs/teamsApps", control.catalog, methods=["GET"]),
        Route("/_sandbox/teams/bot", control.bot, methods=["POST"]),
        Route("/_sandbox/teams/message", control.message, methods=["POST"]),
        Route("/_sandbox/teams/invoke", control.invoke, methods=["POST"]),
        Route("/_sandbox/teams/install", control.install_personally, methods=["POST"]),
        Route("/_sandbox/teams/leave", control.leave, methods=["POST"]),
        Route("/_sandbox/teams/activities", control.activities, methods=["GET"]),
        Route("/_sandbox/teams/view", control.view, methods=["GET"]),
        Route("/_sandbox/teams/sign", control.sign, methods=["POST"]),
        Route("/_sandbox/teams/stats", control.stats, methods=["GET"]),
    ]


def _error(status: int, code: str, message: str, retry_after: float | None = None) -> JSONResponse:
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after is not None else None
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _bearer(state: State, request: Request, audience: str) -> bool:
    return _token(state, request, audience) is not None


def _token(state: State, request: Request, audience: str) -> Token | None:
    value = request.headers.get("authorization", "")
    token = state.tokens.get(value.removeprefix("Bearer ").strip()) if value.startswith("Bearer ") else None
    if token is None or token.audience != audience or token.expires_at < state.clock():
        return None
    return token


def _graph_refusal(state: State, request: Request, method: str, route: str) -> Response | None:
    """401 without a Graph token; 403 in the Teams Graph service's words when it holds none of the
    permissions Microsoft's table lists (`sandbox._permissions.GRAPH_PERMISSIONS`)."""
    token = _token(state, request, "graph")
    if token is None:
        return _error(401, "InvalidAuthenticationToken", "Access token validation failure.")
    application, delegated = GRAPH_PERMISSIONS[(method, route)]
    app_only = token.user is None
    held, needed = (token.roles, application) if app_only else (token.scopes, delegated)
    if held & needed:
        return None
    kind, on_request = ("role", "Roles") if app_only else ("scope", "Scopes")
    return _error(
        403,
        "Forbidden",
        f"Missing {kind} permissions on the request. API requires one of '{', '.join(sorted(needed))}'. "
        f"{on_request} on the request '{', '.join(sorted(held))}'.",
    )


class _Connector:
    """The Bot Connector: conversations, activities and updates, under Teams' limits."""

    def __init__(self, world: TeamsWorld) -> None:
        self._world = world

    async def _refused(self, request: Request, conversation_id: str) -> Response | None:
        world = self._world
        if not _bearer(world.state, request, "botframework"):
            return _error(401, "Unauthorized", "Authorization has been denied for this request.")
        with world.state.lock:  # faults injected through POST /_sandbox/faults, as on every other host
            fault = world.state.faults.draw(CONNECTOR_HOST)
            delay, retry_after = world.state.faults.slow_seconds, world.state.faults.retry_after
        if fault == "slow":
            await asyncio.sleep(delay)
        elif isinstance(fault, int):
            code = "TooManyRequests" if fault == 429 else "ServiceError"
            after = retry_after if fault == 429 else None
            return _error(fault, code, "Simulated failure.", retry_after=after)
        with world.lock:
            wait = world.per_conversation.wait(conversation_id)
            if not wait:
                wait = world.per_tenant.wait(world.app_id or "")
            if wait:
                world.throttled += 1
            else:
                world.operations.append(world.state.clock())
        if wait:
            return _error(429, "TooManyRequests", "The bot is sending too fast.", retry_after=wait)
        return None

    async def create(self, request: Request) -> Response:
        body = json_object(await request.body())
        members = body.get("members") or []
        if body.get("isGroup") or len(members) != 1:
            return _error(400, "BadArgument", "A personal conversation needs exactly one member.")
        world = self._world
        user = world.user(str(members[0].get("id") or ""))
        if user is None:
            return _error(404, "NotFound", "The user is not in this tenant.")
        if not _bearer(world.state, request, "botframework"):
            return _error(401, "Unauthorized", "Authorization has been denied for this request.")
        if _why_not(user) is not None:  # as Teams answers a bot for someone outside its roster
            return _error(403, "ServiceError", "Failure due to: AclCheckFailed.")
        with world.lock:
            if str(user["id"]) not in world.installed:  # refused before it is an operation in a conversation
                return _error(403, "Forbidden", "The bot is not installed in the user's personal scope.")
        conversation = world.personal_conversation(user)
        refused = await self._refused(request, conversation.id)
        if refused:
            return refused
        return JSONResponse({"id": conversation.id}, status_code=201)

    async def send(self, request: Request) -> Response:
        conversation_id = request.path_params["conversation"]
        return await self._write(request, conversation_id, None)

    async def update(self, request: Request) -> Response:
        return await self._write(
            request, request.path_params["conversation"], request.path_params["activity"]
        )

    async def _write(self, request: Request, address: str, activity_id: str | None) -> Response:
        """`address`: a conversation id, in a channel `;messageid=` the thread to post in."""
        world = self._world
        conversation_id, _, thread = address.partition(";messageid=")
        with world.lock:
            conversation = world.conversations.get(conversation_id)
            unknown_thread = bool(thread) and (conversation is None or thread not in world.posts)
        if conversation is None or unknown_thread:
            return _error(404, "ConversationNotFound", "Conversation not found.")
        refused = await self._refused(request, conversation_id)
        if refused:
            return refused
        body = json_object(await request.body())
        with world.lock:
            if conversation.user:
                user = world.user(conversation.user)
                # Microsoft's codes and messages ("Status codes from bot conversational APIs")
                if user is not None and str(user["id"]) in world.blocked:
                    return _error(
                        403, "ConversationBlockedByUser", "User blocked the conversation with the bot."
                    )
                if user is not None and str(user["id"]) not in world.installed:
                    return _error(
                        403, "BotNotInConversationRoster", "The bot is not part of the conversation roster."
                    )
            if activity_id is None:
                parts = _split(body)
                for part in parts:
                    activity = SentActivity(world.next_activity_id(), conversation_id, part, thread or None)
                    world.activities[activity.id] = activity
                    if conversation.kind == "channel" and not thread:
                        world.posts.add(activity.id)
                    world.record("send", activity)
                if len(parts) > 1:  # two messages: no one id to answer with
                    return Response(status_code=202)
                return JSONResponse({"id": activity.id}, status_code=201)
            known = world.activities.get(activity_id)
            if known is None or known.conversation_id != conversation_id:
                return _error(404, "ActivityNotFound", "Unknown activity.")
            known.body = body
            for key in [key for key in world.views if key[0] == activity_id]:
                del world.views[key]  # everyone sees the new version
            world.record("update", known)
            return JSONResponse({"id": activity_id})


class _Control:
    """Graph's app installations for users, and the hands of a person in Teams."""

    def __init__(self, world: TeamsWorld) -> None:
        self._world = world

    async def install(self, request: Request) -> Response:
        world = self._world
        refused = _graph_refusal(world.state, request, "POST", "users/{id}/teamwork/installedApps")
        if refused:
            return refused
        user = world.user(request.path_params["user"])
        if user is None:
            return _error(404, "NotFound", "The user does not exist.")
        body = json_object(await request.body())
        if not str(body.get("teamsApp@odata.bind") or "").endswith(
            f"/appCatalogs/teamsApps/{world.catalog_id}"
        ):
            return _error(404, "NotFound", "The app is not in the organization's app catalog.")
        with world.lock:
            wait = world.installs.wait("installs")
            if wait:
                return _error(429, "TooManyRequests", "Too many requests.", retry_after=wait)
            if str(user["id"]) in world.installed:
                return _error(409, "Conflict", "The app is already installed for this user.")
            world.installed.add(str(user["id"]))
        return Response(status_code=201)

    async def catalog(self, request: Request) -> Response:
        """The organization's app catalog: the bot's app, uploaded with its manifest id as `externalId`."""
        world = self._world
        refused = _graph_refusal(world.state, request, "GET", "appCatalogs/teamsApps")
        if refused:
            return refused
        wanted = request.query_params.get("$filter", "")
        entry = {
            "id": world.catalog_id,
            "externalId": world.app_id,
            "displayName": BOT_NAME,
            "distributionMethod": "organization",
        }
        found = [entry] if world.app_id and f"externalId eq '{world.app_id}'" in wanted else []
        context = "https://graph.microsoft.com/v1.0/$metadata#appCatalogs/teamsApps"
        return JSONResponse({"@odata.context": context, "value": found})

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
        why = _why_not(user)
        if why is not None:
            return body, JSONResponse(
                {"error": f"{body.get('from')!r} cannot use Teams in this tenant: {why}"}, status_code=403
            )
        return body, user

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

    async def view(self, request: Request) -> Response:
        """`?activityId=ID&user=UPN`: that activity's card as that person sees it (refreshed for them)."""
        world = self._world
        user = world.user(request.query_params.get("user", ""))
        with world.lock:
            target = world.activities.get(request.query_params.get("activityId", ""))
            conversation = world.conversations.get(target.conversation_id) if target else None
        if user is None or target is None or conversation is None:
            return JSONResponse({"error": "unknown user or activity"}, status_code=404)
        card = _card(target.body)
        if card is None:
            return JSONResponse({"error": "that activity carries no Adaptive Card"}, status_code=400)
        return JSONResponse(await self._view_of(card, user, target, conversation.kind))

    async def activities(self, request: Request) -> Response:
        with self._world.lock:
            return JSONResponse(list(self._world.log))

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
        return {
            "type": kind,
            "id": world.next_activity_id(),
            "timestamp": _now_iso(),
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
            response = await client.post(endpoint, json=activity, headers=headers)
        try:
            answer: Any = response.json() if response.content else None
        except ValueError:
            answer = response.text
        return response.status_code, answer


def _client_info(world: TeamsWorld, user: dict[str, Any]) -> dict[str, Any]:
    """What the person's Teams client says about itself; the scenario's `teams.timeZones` names their zone."""
    zones = (world.state.data.get("teams") or {}).get("timeZones") or {}
    info = {"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web"}
    zone = zones.get(str(user["userPrincipalName"]))
    return {**info, "timezone": zone} if zone else info


def _split(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages Teams makes of an activity: its text and its attachments apart when it has both
    ("Message splitting", tests/teams/data/conversation-messages.md), answered 202 with no id."""
    if not (activity.get("text") and activity.get("attachments")):
        return [activity]
    text = {key: value for key, value in activity.items() if key != "attachments"}
    return [text, {key: value for key, value in activity.items() if key != "text"}]


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


def _why_not(user: dict[str, Any]) -> str | None:
    """Why this directory user cannot use Teams in this tenant, None when they can: a disabled account
    cannot sign in, and a guest sees nothing of the host's Teams before redeeming the invitation."""
    if not user.get("accountEnabled", True):
        return "the account is disabled"
    if user.get("externalUserState") == "PendingAcceptance":
        return "the guest has not accepted the invitation yet"
    return None


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
