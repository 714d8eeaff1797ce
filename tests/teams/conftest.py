"""The bot's Teams surface served on loopback, the sandbox playing Teams, and hands to act as people."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from bot.runtime import Runtime, utc_now
from bot.teams.settings import TeamsSettings
from sandbox import Sandbox, parse_scenario
from storage import Database
from tests.bot.conftest import may_restore
from tests.bot.replays import replayed
from tests.conftest import FABRIKAM
from tests.fakes.runtimes import runtime_on
from tests.fakes.server import ServerThread

if TYPE_CHECKING:  # the Teams surface: imported by the tests that build one, not at collection
    from bot.teams.surface import TeamsSurface
    from tests.storage.databases import RunSchema
    from tests.teams.serving import ServedTeams

T = TypeVar("T")
APP_ID = "5f0c7b43-3f9e-4c36-9d4c-2b1e7d6a0a11"
ORGANIZATION = "fabrikam-fiber"


@dataclass
class Teams:
    """A person's hands in Teams, through the sandbox's control endpoints; reads what the bot sent.

    Also where the steps before the one under test run (a `Scene` of tests/bot/replays.py): replayed by a
    test process's first test, restored in its later ones (the database's rows; the sandbox with its Teams,
    this test's bot registered in it; whom the runtime remembers an admin)."""

    url: str
    runtime: Runtime
    settings: TeamsSettings
    bot_url: str
    worker: asyncio.Runner = field(default_factory=asyncio.Runner)
    """The event loop of the test's second bot process, which delivers the outbox and runs the watch."""
    http: httpx.Client = field(default_factory=httpx.Client)
    """The hands' one client for the sandbox, its connection kept between requests as a person's Teams
    keeps one: `httpx.post(...)` built a client and a connection for each (0.6 ms more of CPU a request,
    about a thousand requests in tests/teams)."""
    _working: TeamsSurface | None = None
    restores: bool = True
    """False (`replays_for_real`): the steps always run for real."""
    schema: RunSchema | None = None  # always SQLite

    def untouched(self) -> bool:
        """Nothing said, sent or started yet: Teams as the scenario gave it, no migration in the database."""
        assert self.runtime.sandbox is not None
        with self.runtime.database.engine.connect() as connection:
            started = connection.execute(text("SELECT count(*) FROM migration")).scalar_one()
        return not started and self.runtime.sandbox.teams_untouched()

    def surface_saved(self) -> None:
        """Teams' side of the steps is the sandbox's (its world is saved with it); the bot's caches (its
        sign-ins, directory look-ups) are filled again as it works, as after a restart."""

    def restore_surface(self, saved: None) -> None:
        """This test's bot registered in the restored Teams, which knew the saving test's."""
        registration = {"endpoint": self.bot_url, "appId": APP_ID}
        self.http.post(f"{self.url}/_sandbox/teams/bot", json=registration, timeout=10).raise_for_status()

    def say(self, upn: str, text: str, *, channel: bool = True, **extra: Any) -> dict[str, Any]:
        body = {"from": upn, "text": text, "channel": channel, **extra}
        answer = self.http.post(f"{self.url}/_sandbox/teams/message", json=body, timeout=60)
        answer.raise_for_status()
        return dict(answer.json())

    def said(self, upn: str, text: str, *, channel: bool = True) -> str:
        """Everything the bot sent or updated in answer, as text."""
        before = len(self.activities())
        answer = self.say(upn, text, channel=channel)
        assert answer["status"] == 200, answer
        return "\n".join(texts(entry) for entry in self.activities()[before:])

    def click(self, upn: str, activity_id: str, title: str) -> httpx.Response:
        """`upn` clicks the action titled `title` on that card as they see it."""
        action = self.action(activity_id, title, card=self.view(upn, activity_id))
        body = {"from": upn, "replyToId": activity_id, "action": action}
        return self.http.post(f"{self.url}/_sandbox/teams/invoke", json=body, timeout=60)

    def action(self, activity_id: str, title: str, *, card: dict[str, Any] | None = None) -> dict[str, Any]:
        card = card or latest_card(self.activities(), activity_id)
        found = [action for action in actions_of(card) if title in action.get("title", "")]
        assert found, f"no action titled {title!r} on the card"
        return found[0]

    def view(self, upn: str, activity_id: str) -> dict[str, Any]:
        answer = self.http.get(
            f"{self.url}/_sandbox/teams/view", params={"activityId": activity_id, "user": upn}, timeout=60
        )
        answer.raise_for_status()
        return dict(answer.json())

    def activities(self) -> list[dict[str, Any]]:
        return list(self.http.get(f"{self.url}/_sandbox/teams/activities", timeout=10).json())

    def personal(self, upn: str) -> list[dict[str, Any]]:
        return [e for e in self.activities() if e["conversation"]["user"] == upn and e["op"] == "send"]

    def surface(self) -> TeamsSurface:
        """A second copy of the surface, as another process would build it (its own connections)."""
        from bot.teams.surface import build_surface

        return build_surface(self.settings, self.runtime.conversation, self.runtime.database, clock=utc_now)

    def working(self) -> TeamsSurface:
        """The second process's surface, built at its first delivery and kept, as `serve` keeps its one:
        its sign-in, directory look-ups and personal chats are remembered from one delivery to the next
        (a new surface for each asked Microsoft for all of them again, a third of a Teams test's CPU)."""
        if self._working is None:
            self._working = self.surface()
        return self._working

    def deliver_outbox(self) -> int:
        async def drain() -> int:
            worker = self.working().outbox_worker(self.runtime.database, self.runtime.tracking, clock=utc_now)
            return await worker.drain()

        return self._run(drain())

    def watch(self) -> None:
        async def once() -> None:
            outgoings = await asyncio.to_thread(self.runtime.conversation.watch)
            await self.working().delivery.deliver(outgoings, None)

        self._run(once())

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        """`work` on the second process's loop; whatever it left running (the delivery report's refresh
        after a drain) cancelled as `asyncio.run` cancels it, so that each delivery ends where it did when
        each had a loop of its own."""

        async def alone() -> T:
            try:
                return await work
            finally:
                others = asyncio.all_tasks() - {asyncio.current_task()}
                for task in others:
                    task.cancel()
                await asyncio.gather(*others, return_exceptions=True)

        return self.worker.run(alone())

    def stop_working(self) -> None:
        """The second process ends: its connections closed on its own loop, then the loop; and the hands'
        connection to the sandbox."""
        if self._working is not None:
            self.worker.run(self._working.aclose())
        self.worker.close()
        self.http.close()


def texts(entry: dict[str, Any]) -> str:
    """What a person reads of an activity: its notification's summary (or its text) and every text on its
    cards."""
    found: list[str] = [str(entry.get("summary") or entry.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(entry.get("attachments") or [])
    return "\n".join(found)


def latest_card(log: list[dict[str, Any]], activity_id: str) -> dict[str, Any]:
    entry = [e for e in log if e["id"] == activity_id][-1]
    return dict(entry["attachments"][0]["content"])


def connect(teams: Teams) -> None:
    """The organization connected to the directory the bot's tenant is (as an admin does in Azure DevOps)."""
    teams.http.post(
        f"{teams.url}/_sandbox/connect",
        json={"organization": ORGANIZATION, "tenantId": teams.settings.tenant_id},
    ).raise_for_status()


def approval_requested(teams: Teams, admin: str) -> dict[str, Any]:
    """`admin` starts the migration, invites and asks for approval; the approval card in the channel.
    Replayed once per test process and world, restored after (tests/bot/replays.py)."""
    return replayed(teams, ("teams approval requested", admin), lambda: _approval_requested(teams, admin))


def _approval_requested(teams: Teams, admin: str) -> dict[str, Any]:
    teams.say(admin, f"start {ORGANIZATION} fabrikam.com")
    # in the personal chat: typed in the channel, invite answers privately and the channel gets a pointer
    # that this process remembers and a restored world's new one does not (bot/teams/delivery.py)
    teams.say(admin, f"invite {ORGANIZATION}", channel=False)
    before = len(teams.activities())
    teams.say(admin, f"request-approval {ORGANIZATION}")
    teams.deliver_outbox()
    return next(
        entry
        for entry in teams.activities()[before:]
        if entry["conversation"]["conversationType"] == "channel"
        and "refresh" in entry["attachments"][0]["content"]
    )


def lists_sent(teams: Teams, admin: str) -> None:
    """`admin` starts the migration, invites and notifies: everyone's list sent, when the organization was
    found connected (`connect` first). Replayed once per test process and world, restored after."""

    def steps() -> None:
        teams.say(admin, f"start {ORGANIZATION} fabrikam.com")
        teams.say(admin, f"invite {ORGANIZATION}")
        teams.say(admin, f"notify {ORGANIZATION}")
        teams.deliver_outbox()

    replayed(teams, ("teams lists sent", admin), steps)


def actions_of(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if node.get("type") == "Action.Execute" else []
        return own + [a for key, value in node.items() if key != "refresh" for a in actions_of(value)]
    if isinstance(node, list):
        return [a for item in node for a in actions_of(item)]
    return []


TEAMS_SECTION: dict[str, Any] = {
    "installed": ["dana@fabrikam.com"],
    "blocked": ["ivan@fabrikam.com"],
    "timeZones": {"carol@fabrikam.com": "Asia/Tokyo"},
}
"""Who has the app, who blocked the bot, Carol's zone: the `teams` section of every Teams test's scenario."""


@contextmanager
def teams_on(
    box: Sandbox,
    database: Database,
    scenario: dict[str, Any],
    *,
    restores: bool = True,
    clock: Callable[[], datetime] = utc_now,
    time_zones: dict[str, str] | None = None,
) -> Iterator[Teams]:
    """The bot's Teams surface served on loopback over `database`, `box` reset to `scenario` with Teams
    (`TEAMS_SECTION`, and whose Teams clients report `time_zones` too) and the bot registered in it; the
    hands to act in it. `clock`: the bot's."""
    from bot.teams.surface import build_surface

    teams = copy.deepcopy(TEAMS_SECTION)
    teams["timeZones"] |= time_zones or {}
    box.reset(parse_scenario({**scenario, "teams": teams}))
    runtime = runtime_on(box, database, surface="slack", clock=clock)
    try:
        assert runtime.sandbox is not None
        tenant_id = str(runtime.sandbox.state()["tenant"]["id"])
        teams_settings = TeamsSettings(APP_ID, "sandbox-secret", tenant_id, sandbox_url=runtime.sandbox.url)
        surface = build_surface(teams_settings, runtime.conversation, runtime.database, clock=utc_now)
        app = Starlette(routes=surface.routes(), lifespan=surface.lifespan)
        with ServerThread(app, lifespan="on") as bot:
            endpoint = f"{bot.url}/api/messages"
            surface.files.public_url = bot.url
            httpx.post(
                f"{runtime.sandbox.url}/_sandbox/teams/bot", json={"endpoint": endpoint, "appId": APP_ID}
            ).raise_for_status()
            # the second surfaces a test builds (another process) link files to this server too
            hands = Teams(
                runtime.sandbox.url,
                runtime,
                replace(teams_settings, public_url=bot.url),
                endpoint,
                restores=restores,
            )
            try:
                yield hands
            finally:
                hands.stop_working()
    finally:
        runtime.close()


@pytest.fixture
def teams(
    request: pytest.FixtureRequest, fabrikam: dict[str, Any], served_box: Sandbox, sqlite_database: Database
) -> Iterator[Teams]:
    with teams_on(served_box, sqlite_database, fabrikam, restores=may_restore(request)) as hands:
        yield hands


@pytest.fixture(scope="package")
def teams_beside_slack(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[ServedTeams]:
    """`aadbot serve` with Teams and Slack over HTTP against a sandbox of its own (the bundled scenario),
    registered as the bot's endpoint: one for every module that drives it, as starting one costs 3 s of
    CPU (`SHARED` in tests/scheduling.py keeps those modules in one test process). Exec'd for real,
    imports included (tests/teams/serving.py). Stopped once the test process leaves tests/teams, as
    tests/slack/conftest.py's `serve_over_http` is."""
    from tests.teams.serving import SLACK_OVER_HTTP, teams_serve  # it imports this module

    with (
        Sandbox(parse_scenario(json.loads(FABRIKAM.read_text()))) as box,
        teams_serve(
            box,
            tmp_path_factory.mktemp("teams-beside-slack"),
            environment=SLACK_OVER_HTTP,
            migrated=sqlite_template,
            execs=True,
        ) as served,
    ):
        yield served
