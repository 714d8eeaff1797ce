"""A small fake of the Slack Web API (plus response_url and file upload URLs) that records every call.

Reached by the app's WebClient through its base_url (`{url}/api/`). Failures are scripted per method:
an HTTP 429 with Retry-After, a 5xx, or a Slack error code. `post_limit` enforces a workspace-wide
rate on `chat.postMessage` the way Slack does: past it, HTTP 429 with `Retry-After`; `tiers` enforces
a method's rate tier (`SLACK_TIERS`: per method and workspace, per minute) the same way, and counts the
calls that came back before their Retry-After was over. Blocks past Slack's limits (checked with
slack_sdk's models) are refused as Slack refuses them: `invalid_blocks`.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.fakes.slack_limits import problems

BOT_USER_ID = "UAADBOT"
WAIT_SECONDS = 5.0
_NOT_SAVED = ("url", "_changed", "_ts", "held", "held_method")

TIER_2, TIER_3 = 20.0, 50.0
"""Calls a minute of Slack's Web API rate tiers 2 and 3 ("20+", "50+" per minute, per method and workspace:
https://api.slack.com/changelog/2018-03-great-rate-limits and each method's page)."""
SLACK_TIERS = {"users.list": TIER_2, "users.lookupByEmail": TIER_3, "conversations.open": TIER_3}
"""The tiers of the methods the bot calls per person or per page of people."""


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    needed: str | None = None
    """The scope a `missing_scope` answer names, as Slack's does (beside `provided`)."""
    page: str | None = None
    """With an HTTP `status`: an HTML page instead of Slack's JSON, as a proxy or load balancer answers."""
    acted: bool = False
    """With an HTTP `status`: Slack did the work before its answer went wrong (a gateway's timeout), so the
    call's effect is stored: for the caller, an answer lost."""


@dataclass
class FakeSlack:
    users: dict[str, tuple[str, str]] = field(default_factory=dict)
    """user id -> (email, real name); an empty email stands for a profile that hides it."""
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    """Bodies posted to response_url, in order."""
    uploads: dict[str, bytes] = field(default_factory=dict)
    """file id -> the bytes POSTed to its upload URL."""
    shared: list[tuple[str, str, bytes]] = field(default_factory=list)
    """(channel_id, title, content) of every file `files.completeUploadExternal` shared."""
    file_shares: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(channel, ts) -> the message a share put in the conversation, as its history shows it: the bot's,
    with Slack's `file_share` subtype and each file's `id`, `name` and `title`."""
    unfinished_shares: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """Shares answered ok that the history does not show yet, as `file_shares`: Slack finishes a share
    after answering it, seconds later (slackapi/bolt-js#2115); the test says when (`finish_shares`)."""
    _declared: dict[str, tuple[str, int]] = field(default_factory=dict)
    """file id -> (filename, length) given to `files.getUploadURLExternal`."""
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(channel, ts) -> the message as it now reads (after any chat.update)."""
    time_zones: dict[str, str] = field(default_factory=dict)
    """user id -> IANA time zone shown on the profile."""
    deactivated: set[str] = field(default_factory=set)
    """Members an admin deactivated. As Slack answers: `users.list` keeps them with `deleted: true`,
    `users.lookupByEmail` says `users_not_found`, `conversations.open` refuses with `user_disabled`, and
    `chat.postMessage` to their user id still succeeds (slackapi/python-slack-sdk#1156)."""
    post_limit: float | None = None
    """chat.postMessage calls allowed per second (a bucket of one second's worth); None: no limit."""
    rate_limited: int = 0
    """How many calls the limit turned away."""
    tiers: dict[str, float] = field(default_factory=dict)
    """Method -> calls allowed per minute (a bucket of one minute's worth, as Slack allows bursts); past it
    HTTP 429 with `Retry-After`, and so is every call of it until that is over (`SLACK_TIERS`)."""
    tier_refused: dict[str, int] = field(default_factory=dict)
    """Method -> calls its tier turned away."""
    retried_early: dict[str, int] = field(default_factory=dict)
    """Method -> calls that came while a Retry-After Slack gave for it was not yet over: not honoured."""
    _tier_buckets: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    """Method -> (tokens, when counted, when its last Retry-After ends)."""
    scopes: tuple[str, ...] | None = None
    """The bot token's scopes, sent as Slack does in `auth.test`'s `x-oauth-scopes` header."""
    outage: Callable[[str], bool] | None = None
    """While it returns True for a method, calls of it answer HTTP 503 and nothing is stored (an outage
    driven by a test's clock)."""
    client_ports: list[int] = field(default_factory=list)
    """The client-side port of every request (Web API and response_url): one port, one connection."""
    held: threading.Event | None = None
    """While set to an event, each call of `held_method` is stored (it reached Slack) and its answer waits
    until the event is set: an answer slow to come back, or that never does before the client gives up."""
    held_method: str = "chat.postMessage"
    socket_links: Callable[[], str] | None = None
    """Issues a Socket Mode link for `apps.connections.open` (FakeSocketMode.open_link); None: refused."""
    _bucket: tuple[float, float] = (0.0, 0.0)
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _answering: int = 0
    """Requests whose answer is not yet wholly sent (kept across `reset`: they are in flight)."""

    def asgi(self) -> ASGIApp:
        routes = Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/respond/{hook}", self._respond, methods=["POST"]),
                Route("/upload/{file_id}", self._upload, methods=["POST"]),
            ]
        )

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await routes(scope, receive, send)
                return
            with self._changed:
                self._answering += 1
            answered = False

            async def sent(message: Message) -> None:
                nonlocal answered
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body") and not answered:
                    answered = True
                    with self._changed:
                        self._answering -= 1
                        self._changed.notify_all()

            try:
                await routes(scope, receive, sent)
            finally:
                if not answered:
                    with self._changed:
                        self._answering -= 1
                        self._changed.notify_all()

        return counted

    @property
    def all_answered(self) -> bool:
        """Every request the fake received has had its whole answer sent (the client may still be reading
        it): a client that keeps connections can have them all back in its pool by the next request."""
        return self._answering == 0

    def reset(self, users: dict[str, tuple[str, str]] | None = None) -> None:
        """Back to a new fake's state (keeping its url): one fake serves every test of a test process."""
        with self._changed:
            for spec in fields(self):
                if spec.name in ("url", "_changed", "_answering"):
                    continue
                if spec.default_factory is not MISSING:
                    setattr(self, spec.name, spec.default_factory())
                else:
                    setattr(self, spec.name, spec.default)
            self.users = dict(users or {})

    def save(self) -> dict[str, Any]:
        """Everything it serves and remembers, for `restore` to put back as often as asked."""
        with self._changed:
            following = next(self._ts)
            self._ts = itertools.count(following)
            kept = {
                spec.name: getattr(self, spec.name) for spec in fields(self) if spec.name not in _NOT_SAVED
            }
            return copy.deepcopy({**kept, "_ts": following})

    def restore(self, saved: dict[str, Any]) -> None:
        """As `save` found it (keeping its url)."""
        with self._changed:
            for name, value in copy.deepcopy(saved).items():
                setattr(self, name, itertools.count(value) if name == "_ts" else value)
            self._changed.notify_all()

    def response_url(self, hook: str = "1") -> str:
        return f"{self.url}/respond/{hook}"

    def fail(self, method: str, *failures: Failure) -> None:
        """The next calls of `method` fail this way, one failure per call, then it works again. `upload`:
        a file's upload URL, which answers only with an HTTP `status`."""
        with self._changed:
            self._failures.setdefault(method, []).extend(failures)

    def finish_shares(self) -> None:
        """The shares answered so far are done: the history shows them from now on."""
        with self._changed:
            self.file_shares |= self.unfinished_shares
            self.unfinished_shares = {}
            self._changed.notify_all()

    def calls_of(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, condition: Callable[[FakeSlack], bool], timeout: float = WAIT_SECONDS) -> None:
        """Block until `condition` holds: listeners answer after their ack, so effects come later."""
        with self._changed:
            if not self._changed.wait_for(lambda: condition(self), timeout):
                seen = [_described(call) for call in self.calls]
                raise AssertionError(f"timed out; calls so far: {seen}; responses: {len(self.responses)}")

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = WAIT_SECONDS) -> list[Call]:
        self.wait_for(lambda fake: len(fake.calls_of(method)) >= count, timeout)
        return self.calls_of(method)

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        raw = (await request.body()).decode()
        if request.headers.get("content-type", "").startswith("application/json"):
            params: dict[str, Any] = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw)) | dict(request.query_params)
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") or None
        with self._changed:
            self._note_port(request)
            self.calls.append(Call(method, params, token))
            failure = self._failures.get(method, []).pop(0) if self._failures.get(method) else None
            if failure is None and self.outage is not None and self.outage(method):
                failure = Failure(status=503)
            if failure is None and method == "chat.postMessage":
                failure = self._over_limit()
            if failure is None and method in self.tiers:
                failure = self._over_tier(method)
            # an HTTP failure happens before Slack acts, unless said otherwise: nothing is stored
            http_failure = failure is not None and failure.status != 200 and not failure.acted
            body = {} if http_failure else self._answer(method, params, token, failure)
            self._changed.notify_all()
            held = self.held if method == self.held_method else None
        if held is not None:
            await asyncio.to_thread(held.wait)
        if failure is not None and failure.status != 200:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            if failure.page is not None:
                return HTMLResponse(failure.page, status_code=failure.status, headers=headers)
            error = "ratelimited" if failure.status == 429 else "internal_error"
            return JSONResponse({"ok": False, "error": error}, status_code=failure.status, headers=headers)
        if method == "auth.test" and self.scopes is not None:
            return JSONResponse(body, headers={"x-oauth-scopes": ",".join(self.scopes)})
        return JSONResponse(body)

    def _note_port(self, request: Request) -> None:
        if request.client is not None:
            self.client_ports.append(request.client.port)

    def _over_limit(self) -> Failure | None:
        if self.post_limit is None:
            return None
        now = time.monotonic()
        tokens, at = self._bucket
        tokens = self.post_limit if at == 0.0 else min(self.post_limit, tokens + (now - at) * self.post_limit)
        if tokens < 1:
            self._bucket = (tokens, now)
            self.rate_limited += 1
            return Failure(status=429, retry_after=max(1, math.ceil((1 - tokens) / self.post_limit)))
        self._bucket = (tokens - 1, now)
        return None

    def _over_tier(self, method: str) -> Failure | None:
        per_second = self.tiers[method] / 60
        now = time.monotonic()
        tokens, at, blocked_until = self._tier_buckets.get(method, (self.tiers[method], now, 0.0))
        tokens = min(self.tiers[method], tokens + (now - at) * per_second)
        if now < blocked_until:
            self.retried_early[method] = self.retried_early.get(method, 0) + 1
        if tokens < 1 or now < blocked_until:
            retry_after = max(1, math.ceil(max((1 - tokens) / per_second, blocked_until - now)))
            self._tier_buckets[method] = (tokens, now, max(blocked_until, now + retry_after))
            self.tier_refused[method] = self.tier_refused.get(method, 0) + 1
            return Failure(status=429, retry_after=retry_after)
        self._tier_buckets[method] = (tokens - 1, now, blocked_until)
        return None

    def posts_to(self, channel: str) -> list[Call]:
        """Messages that landed in `channel` (a DM posted to a user id lands in `D` + that id)."""
        return [
            call for call in self.calls_of("chat.postMessage") if _landing(call.params["channel"]) == channel
        ]

    def _answer(self, method: str, params: dict[str, Any], token: str | None, failure: Failure | None) -> Any:
        if method == "apps.connections.open":
            return self._open_connection(token, failure)
        if token is None or not token.startswith("xoxb-"):
            return {"ok": False, "error": "invalid_auth"}
        if failure is not None and failure.error:
            needed = {"needed": failure.needed, "provided": "chat:write"} if failure.needed else {}
            return {"ok": False, "error": failure.error, **needed}
        refused = _refused_blocks(method, params)
        if refused:
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": refused}}
        match method:
            case "auth.test":
                return {
                    "ok": True,
                    "user_id": BOT_USER_ID,
                    "bot_id": "BAADBOT",
                    "team_id": "T1",
                    "team": "Fabrikam",
                    "url": "https://fabrikam.slack.com/",
                    "user": "aadbot",
                }
            case "users.info":
                user_id = params.get("user", "")
                if user_id not in self.users:
                    return {"ok": False, "error": "user_not_found"}
                return {"ok": True, "user": self._member(user_id)}
            case "users.lookupByEmail":
                wanted = params.get("email", "").casefold()
                for user_id, (email, _) in self.users.items():
                    if email and email.casefold() == wanted and user_id not in self.deactivated:
                        return {"ok": True, "user": self._member(user_id)}
                return {"ok": False, "error": "users_not_found"}
            case "conversations.open":
                user_id = params["users"]
                if user_id not in self.users:
                    return {"ok": False, "error": "user_not_found"}
                if user_id in self.deactivated:
                    return {"ok": False, "error": "user_disabled"}
                return {"ok": True, "channel": {"id": "D" + user_id}}
            case "users.list":
                return self._users_page(int(params.get("limit") or 100), str(params.get("cursor") or ""))
            case "chat.postMessage":
                ts = f"{next(self._ts)}.000100"
                channel = _landing(params["channel"])
                if channel.startswith("D") and channel[1:] not in self.users:
                    return {"ok": False, "error": "channel_not_found"}
                self.messages[(channel, ts)] = params
                return {"ok": True, "channel": channel, "ts": ts}
            case "conversations.history":
                return self._history(params)
            case "chat.update":
                key = (params["channel"], params["ts"])
                if key not in self.messages:
                    return {"ok": False, "error": "message_not_found"}
                self.messages[key] = params
                return {"ok": True, "channel": key[0], "ts": key[1]}
            case "files.getUploadURLExternal":
                # Slack's documented arguments: `filename` and `length` (bytes) are both required
                length = str(params.get("length", ""))
                if not params.get("filename") or not length.isdigit():
                    return {"ok": False, "error": "invalid_arguments"}
                file_id = f"F{next(self._ts)}"
                self._declared[file_id] = (str(params["filename"]), int(length))
                return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
            case "files.completeUploadExternal":
                # `files`: a JSON array of {"id", "title"?}; each must have been uploaded, as declared
                files = json.loads(params.get("files", "[]"))
                for item in files:
                    content = self.uploads.get(item["id"])
                    declared = self._declared.get(item["id"])
                    if content is None or declared is None or len(content) != declared[1]:
                        return {"ok": False, "error": "invalid_arguments"}  # the code is our guess
                channel = str(params.get("channel_id") or "")
                described = [
                    {"id": item["id"], "name": self._declared[item["id"]][0], "title": item.get("title")}
                    for item in files
                ]
                for item in files:
                    self.shared.append((channel, str(item.get("title") or ""), self.uploads[item["id"]]))
                if channel:
                    self.unfinished_shares[(channel, f"{next(self._ts)}.000100")] = {
                        "subtype": "file_share",
                        "user": BOT_USER_ID,
                        "upload": True,
                        "files": described,
                    }
                return {"ok": True, "files": described}
        return {"ok": True}

    def _open_connection(self, token: str | None, failure: Failure | None) -> dict[str, Any]:
        """Only an app-level token opens a link, and only while Socket Mode is on."""
        if token is None or not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type" if token else "not_authed"}
        if failure is not None and failure.error:
            return {"ok": False, "error": failure.error}
        if self.socket_links is None:
            return {"ok": False, "error": "invalid_auth"}  # as for a token Slack no longer knows
        return {"ok": True, "url": self.socket_links()}

    def _member(self, user_id: str) -> dict[str, Any]:
        email, name = self.users[user_id]
        profile = {"real_name": name} | ({"email": email} if email else {})
        member = {
            "id": user_id,
            "name": name.lower(),
            "real_name": name,
            "profile": profile,
            "deleted": user_id in self.deactivated,
        }
        return member | _zone_fields(self.time_zones.get(user_id))

    def _users_page(self, limit: int, cursor: str) -> dict[str, Any]:
        ids = sorted(self.users)
        start = int(cursor) if cursor else 0
        page = ids[start : start + limit]
        following = str(start + limit) if start + limit < len(ids) else ""
        return {
            "ok": True,
            "members": [self._member(user_id) for user_id in page],
            "response_metadata": {"next_cursor": following},
        }

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params["channel"]
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [
            {"ts": ts, "text": message.get("text", "")}
            | ({"metadata": message["metadata"]} if with_metadata and "metadata" in message else {})
            for (where, ts), message in self.messages.items()
            if where == channel
        ]
        found += [
            {"ts": ts, "text": ""} | share
            for (where, ts), share in self.file_shares.items()
            if where == channel
        ]
        found.sort(key=lambda message: float(message["ts"]), reverse=True)
        return {"ok": True, "messages": found[: int(params.get("limit") or 100)], "has_more": False}

    async def _respond(self, request: Request) -> Response:
        body = json.loads(await request.body())
        refused = problems(body) if "blocks" in body else []
        if refused:
            return PlainTextResponse("invalid_blocks: " + "; ".join(refused), status_code=400)
        with self._changed:
            self._note_port(request)
            self.responses.append(body)
            self._changed.notify_all()
        return PlainTextResponse("ok")

    async def _upload(self, request: Request) -> Response:
        content = await request.body()
        with self._changed:
            failure = self._failures["upload"].pop(0) if self._failures.get("upload") else None
            if failure is not None:
                return PlainTextResponse("", status_code=failure.status)
            self.uploads[request.path_params["file_id"]] = content
            self._changed.notify_all()
        return PlainTextResponse("OK - 0")


def _refused_blocks(method: str, params: dict[str, Any]) -> list[str]:
    """What Slack would refuse in blocks sent to it (past its limits, unknown keys), as Slack does."""
    if method == "views.publish":
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        return problems(view, view=True) if isinstance(view, dict) else ["no view"]
    if method not in ("chat.postMessage", "chat.update", "chat.postEphemeral") or "blocks" not in params:
        return []
    blocks = params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return problems({"text": params.get("text"), "blocks": blocks})


def _described(call: Call) -> str:
    """`method` or `method(channel)`: where the bot posted tells why an expected message is missing."""
    channel = call.params.get("channel")
    return f"{call.method}({channel})" if channel else call.method


def _zone_fields(tz: str | None) -> dict[str, Any]:
    """A member's zone as Slack shows it, beside `profile`: `tz` (IANA name) and `tz_offset` (seconds east
    of UTC, now); a name no tz database knows comes as given, without an offset."""
    if not tz:
        return {}
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return {"tz": tz}
    return {"tz": tz, "tz_offset": int(offset.total_seconds()) if offset is not None else 0}


def _landing(channel: str) -> str:
    """Slack delivers a message posted to a user id into the app's DM with them."""
    return "D" + channel if channel.startswith("U") else channel
