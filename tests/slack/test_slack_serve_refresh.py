"""`serve` reads the Slack directory again beside the sends (`People.refreshing`): without it, someone
deactivated in Slack would be DMed, and recorded reached, for as long as the process runs, and once the
directory is overdue every DM would be put back for good (the sends wait for the background read).

`serve` in its own process cannot have its clock moved an hour on, so `_serve` runs here in the test's
event loop, as `serve` runs it, with the People it makes given the test's clock; its requests are the test.
Both wirings start the refresh: Slack alone (bot/slack/serve.py) and Slack beside Teams (bot/serve.py).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import bot.serve as combined
import bot.slack.people as people_module
import bot.slack.serve as serving
from bot.alongside import Loop
from bot.runtime import utc_now
from bot.settings import Settings
from bot.slack.member_list import MAX_AGE_SECONDS, READ_SECONDS
from bot.slack.people import People
from bot.teams.settings import TeamsSettings
from bot.teams.surface import build_surface
from sandbox import Sandbox
from storage import Database
from tests.fakes.runtimes import runtime_on
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, COLLEAGUE, COLLEAGUE_EMAIL, Clock, ScriptedConversation


class Made:
    """Stands in for `People` in a wiring: the People it makes run on the test's clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.people: list[People] = []
        self.ready = asyncio.Event()

    def __call__(self, client: AsyncWebClient, *, memory: Any = None, **options: Any) -> People:
        # without the database's memory, which counts on the wall clock that the test does not move on
        self.people.append(People(client, clock=self.clock, **options))
        self.ready.set()
        return self.people[-1]


def test_slack_serve_reads_the_directory_again_once_it_is_an_hour_old(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    made = Made(clock)
    monkeypatch.setattr(serving, "People", made)
    settings = Settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret="s", slack_api_url=f"{fake_slack.url}/api/"
    )

    async def scenario() -> None:
        (directory,) = made.people
        assert await directory.find(COLLEAGUE_EMAIL) is not None  # read for the first send
        fake_slack.deactivated.add(COLLEAGUE)
        clock.now += MAX_AGE_SECONDS
        assert await directory.find(COLLEAGUE_EMAIL) is not None  # an hour old: asks for a read
        await asyncio.to_thread(fake_slack.wait_for_calls, "users.list", 2)  # by `serve`'s refresh

    def requests(app: AsyncApp, client: AsyncWebClient) -> Loop:
        return Loop("the test", scenario())

    async def run() -> None:
        await serving._serve(settings, BOT_TOKEN, ScriptedConversation(), None, requests, asyncio.Event())

    asyncio.run(run())
    assert len(fake_slack.calls_of("users.list")) == 2


def test_serve_beside_teams_reads_the_slack_directory_again_once_it_is_overdue(
    fake_slack: FakeSlack, box: Sandbox, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The combined wiring (bot/serve.py) starts the refresh too: a DM that finds the directory overdue is
    put back until the read lands, so without it every Slack DM beside Teams would be put back forever."""
    clock = Clock()
    made = Made(clock)
    monkeypatch.setattr(people_module, "People", made)  # `_slack` imports it when it runs
    settings = Settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret="s", slack_api_url=f"{fake_slack.url}/api/"
    )
    runtime = runtime_on(box, sqlite_database, surface="slack")
    tenant = str(box.state()["tenant"]["id"])
    teams = TeamsSettings("test-app", "test-secret", tenant, sandbox_url=box.url)
    surface = build_surface(teams, runtime.conversation, runtime.database, clock=utc_now)

    async def run() -> None:
        stopping = asyncio.Event()
        with socket.create_server(("127.0.0.1", 0)) as listening:
            port = listening.getsockname()[1]
            served = asyncio.create_task(
                combined._serve(settings, runtime, surface, True, listening, "127.0.0.1", port, stopping)
            )
            try:
                await made.ready.wait()
                (directory,) = made.people
                assert await directory.find(COLLEAGUE_EMAIL) is not None  # the first read
                clock.now += MAX_AGE_SECONDS + READ_SECONDS + 1
                assert directory.overdue()  # what a DM send asks first: put back, a read asked for
                await asyncio.to_thread(fake_slack.wait_for_calls, "users.list", 2)  # by `serve`'s refresh
            finally:
                stopping.set()  # stopped as at SIGTERM, also when the read never comes
                await served

    try:
        asyncio.run(run())
    finally:
        runtime.close()
    assert len(fake_slack.calls_of("users.list")) == 2
