"""A small fake of the Slack Web API (plus response_url and file upload URLs) that records every call.

Reached by the app's WebClient through its base_url (`{url}/api/`). Failures are scripted per method:
an HTTP 429 with Retry-After, a 5xx, or a Slack error code.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

BOT_USER_ID = "UAADBOT"
WAIT_SECONDS = 5.0


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


@dataclass
class FakeSlack:
    users: dict[str, tuple[str, str]] = field(default_factory=dict)
    """user id -> (email, real name); an empty email stands for a profile that hides it."""
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    """Bodies posted to response_url, in order."""
    uploads: dict[str, bytes] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(channel, ts) -> the message as it now reads (after any chat.update)."""
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/respond/{hook}", self._respond, methods=["POST"]),
                Route("/upload/{file_id}", self._upload, methods=["POST"]),
            ]
        )

    def response_url(self, hook: str = "1") -> str:
        return f"{self.url}/respond/{hook}"

    def fail(self, method: str, *failures: Failure) -> None:
        """The next calls of `method` fail this way, one failure per call, then it works again."""
        with self._changed:
            self._failures.setdefault(method, []).extend(failures)

    def calls_of(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, condition: Callable[[FakeSlack], bool], timeout: float = WAIT_SECONDS) -> None:
        """Block until `condition` holds: listeners answer after their ack, so effects come later."""
        with self._changed:
            if not self._changed.wait_for(lambda: condition(self), timeout):
                seen = [call.method for call in self.calls]
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
            self.calls.append(Call(method, params, token))
            failure = self._failures.get(method, []).pop(0) if self._failures.get(method) else None
            body = self._answer(method, params, token, failure)
            self._changed.notify_all()
        if failure is not None and failure.status != 200:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            error = "ratelimited" if failure.status == 429 else "internal_error"
            return JSONResponse({"ok": False, "error": error}, status_code=failure.status, headers=headers)
        return JSONResponse(body)

    def _answer(self, method: str, params: dict[str, Any], token: str | None, failure: Failure | None) -> Any:
        if token is None or not token.startswith("xoxb-"):
            return {"ok": False, "error": "invalid_auth"}
        if failure is not None and failure.error:
            return {"ok": False, "error": failure.error}
        match method:
            case "auth.test":
                return {
                    "ok": True,
                    "user_id": BOT_USER_ID,
                    "bot_id": "BAADBOT",
                    "team_id": "T1",
                    "user": "aadbot",
                }
            case "users.info":
                user_id = params.get("user", "")
                if user_id not in self.users:
                    return {"ok": False, "error": "user_not_found"}
                email, name = self.users[user_id]
                profile = {"real_name": name} | ({"email": email} if email else {})
                return {"ok": True, "user": {"id": user_id, "name": name.lower(), "profile": profile}}
            case "users.lookupByEmail":
                wanted = params.get("email", "").casefold()
                for user_id, (email, _) in self.users.items():
                    if email and email.casefold() == wanted:
                        return {"ok": True, "user": {"id": user_id}}
                return {"ok": False, "error": "users_not_found"}
            case "conversations.open":
                return {"ok": True, "channel": {"id": "D" + params["users"]}}
            case "chat.postMessage":
                ts = f"{next(self._ts)}.000100"
                self.messages[(params["channel"], ts)] = params
                return {"ok": True, "channel": params["channel"], "ts": ts}
            case "chat.update":
                key = (params["channel"], params["ts"])
                if key not in self.messages:
                    return {"ok": False, "error": "message_not_found"}
                self.messages[key] = params
                return {"ok": True, "channel": key[0], "ts": key[1]}
            case "files.getUploadURLExternal":
                file_id = f"F{next(self._ts)}"
                return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
            case "files.completeUploadExternal":
                files = json.loads(params.get("files", "[]"))
                return {
                    "ok": True,
                    "files": [{"id": item["id"], "title": item.get("title")} for item in files],
                }
        return {"ok": True}

    async def _respond(self, request: Request) -> Response:
        body = json.loads(await request.body())
        with self._changed:
            self.responses.append(body)
            self._changed.notify_all()
        return PlainTextResponse("ok")

    async def _upload(self, request: Request) -> Response:
        content = await request.body()
        with self._changed:
            self.uploads[request.path_params["file_id"]] = content
            self._changed.notify_all()
        return PlainTextResponse("OK - 0")
