"""`aadbot serve` with Teams in its own process, as an operator starts it, against a test's sandbox.

Forked by the test process's pre-imported launcher unless `execs` (tests/fakes/preimported.py): Teams alone
(`test_teams_approvers.py`) and Teams beside Slack over HTTP (`teams_beside_slack`, tests/teams/conftest.py)
exec the real `python -m bot.cli serve`, imports included, so that an operator's entry stays covered in both;
Teams beside Socket Mode is tests/fakes/serve_process.py's."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
from starlette.types import Message, Receive, Scope, Send

from sandbox import Sandbox
from tests.fakes.preimported import Process, start
from tests.fakes.serve_process import TEST_STOP_SECONDS, ended, lines_of, next_line, serve_database, until
from tests.teams.conftest import APP_ID, actions_of, latest_card, texts

OWN_PREFIXES = ("AZURE_", "SLACK_", "TEAMS_", "AADBOT_")
SLACK_OVER_HTTP = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "secret",
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
}
"""Slack beside Teams in the same process, over HTTP; nothing in these tests is sent to Slack."""
WAIT_SECONDS = 60.0
"""Generous: the outbox worker looks every 2 s, on a shared, busy machine."""


def teams_through(box: Sandbox) -> dict[str, str]:
    """Teams and every Microsoft call through the test's sandbox."""
    tenant = str(box.state()["tenant"]["id"])
    return {
        "AADBOT_SANDBOX_URL": box.url,
        "AZURE_TENANT_ID": tenant,
        "AZURE_CLIENT_ID": "sandbox-app",
        "AZURE_CLIENT_SECRET": "sandbox-secret",
        "AZURE_DEVOPS_PAT": "sandbox-pat",
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_APP_PASSWORD": "sandbox-secret",
        "TEAMS_TENANT_ID": tenant,
    }


class HeldRequest:
    """Holds the sandbox's answer to one POST until `release` is set: the first to a path ending in `path`
    that `chosen` picks by its body, so that a signal or a kill comes while Microsoft or Teams has the
    request in hand. Then it is served; or, `dropped`, answered 502 unserved: it never got there, and its
    sender is gone by then."""

    def __init__(
        self, box: Sandbox, path: str, chosen: Callable[[bytes], bool], *, dropped: bool = False
    ) -> None:
        self.reached, self.release = threading.Event(), threading.Event()
        app = box._app  # the sandbox's own app; `reset` would build a new one, and these tests make none

        async def holding(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] != "http"
                or scope["method"] != "POST"
                or not scope["path"].endswith(path)
                or self.reached.is_set()
            ):
                await app(scope, receive, send)
                return
            body, more = b"", True
            while more:
                part = await receive()
                body, more = body + part.get("body", b""), bool(part.get("more_body"))
            whole: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

            async def replayed() -> Message:
                return whole.pop() if whole else await receive()

            if chosen(body) and not self.reached.is_set():
                self.reached.set()
                await asyncio.to_thread(self.release.wait, WAIT_SECONDS)
                if dropped:
                    await send({"type": "http.response.start", "status": 502, "headers": []})
                    await send({"type": "http.response.body", "body": b""})
                    return
            await app(scope, replayed, send)

        box._app = holding  # type: ignore[assignment]


@dataclass
class ServedTeams:
    """The running `aadbot serve` (its URL) and a person's hands in Teams through the sandbox."""

    url: str
    box: Sandbox
    process: Process
    database_url: str

    def say(self, upn: str, text: str, *, channel: bool = True) -> dict[str, Any]:
        body = {"from": upn, "text": text, "channel": channel}
        answer = httpx.post(f"{self.box.url}/_sandbox/teams/message", json=body, timeout=60)
        answer.raise_for_status()
        assert answer.json()["status"] == 200, answer.json()
        return dict(answer.json())

    def activities(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.box.url}/_sandbox/teams/activities", timeout=10).json())

    def said(self, upn: str, text: str) -> str:
        """Everything the bot sent in answer to `text`, as text."""
        before = len(self.activities())
        self.say(upn, text)
        return "\n".join(texts(entry) for entry in self.activities()[before:])

    def wait_for(self, what: str, found: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        """The activities once `found` holds for them: serve's outbox worker sends notices in a moment."""
        activities: list[dict[str, Any]] = []

        def holds() -> bool:
            activities[:] = self.activities()
            return found(activities)

        until(what, holds, WAIT_SECONDS)
        return activities

    def view(self, upn: str, activity_id: str) -> dict[str, Any]:
        answer = httpx.get(
            f"{self.box.url}/_sandbox/teams/view", params={"activityId": activity_id, "user": upn}, timeout=60
        )
        answer.raise_for_status()
        return dict(answer.json())

    def card(self, activity_id: str) -> dict[str, Any]:
        return latest_card(self.activities(), activity_id)

    def titles(self, upn: str, activity_id: str) -> list[str]:
        """The actions `upn` sees on that card."""
        return [str(action.get("title")) for action in actions_of(self.view(upn, activity_id))]

    def click(self, upn: str, activity_id: str, title: str) -> httpx.Response:
        view = self.view(upn, activity_id)
        found = [action for action in actions_of(view) if title in str(action.get("title"))]
        assert found, f"{upn} sees no action {title!r}: {texts({'attachments': [view]})}"
        body = {"from": upn, "replyToId": activity_id, "action": found[0]}
        return httpx.post(f"{self.box.url}/_sandbox/teams/invoke", json=body, timeout=60)


@contextmanager
def teams_serve(
    box: Sandbox,
    workdir: Path,
    *,
    environment: Mapping[str, str] | None = None,
    register: bool = True,
    migrated: Path | None = None,
    execs: bool = False,
    stderr: IO[str] | None = None,
) -> Iterator[ServedTeams]:
    """`aadbot serve --port 0` with Teams configured against `box`; registered as the bot's endpoint.
    `migrated`: see `serve_database`. `execs`: the real command, not a fork of the launcher. `stderr`: where
    its log goes (the test's own stderr by default)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(OWN_PREFIXES)}
    env.update(teams_through(box))
    env["AADBOT_DATABASE_URL"] = serve_database(workdir, migrated)
    env |= {"AADBOT_STOP_SECONDS": TEST_STOP_SECONDS, **(environment or {})}
    command = [sys.executable, "-m", "bot.cli", "serve", "--port", "0"]
    with start(command, execs=execs, env=env, stdout=subprocess.PIPE, stderr=stderr, cwd=workdir) as process:
        try:
            line = next_line(lines_of(process), process, None)
            assert line.startswith("listening on http://127.0.0.1:"), line
            url = line.split()[-1]
            if register:
                registration = {"endpoint": f"{url}/api/messages", "appId": APP_ID}
                httpx.post(f"{box.url}/_sandbox/teams/bot", json=registration, timeout=10).raise_for_status()
            yield ServedTeams(url, box, process, env["AADBOT_DATABASE_URL"])
        finally:
            process.terminate()
            ended(process, float(env["AADBOT_STOP_SECONDS"]))
