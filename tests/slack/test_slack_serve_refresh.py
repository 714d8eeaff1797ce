"""`serve` reads the Slack directory again beside the sends (`People.refreshing`): without it, someone
deactivated in Slack would be DMed, and recorded reached, for as long as the process runs.

`serve` in its own process cannot have its clock moved an hour on, so `_serve` runs here in the test's
event loop, as `serve` runs it, with the People it makes given the test's clock; its requests are the test.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import bot.slack.serve as serving
from bot.alongside import Loop
from bot.settings import Settings
from bot.slack.people import MAX_AGE_SECONDS, People
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, COLLEAGUE, COLLEAGUE_EMAIL, ScriptedConversation
from tests.slack.test_slack_directory_changes import Clock


def test_slack_serve_reads_the_directory_again_once_it_is_an_hour_old(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    made: list[People] = []

    def people(client: AsyncWebClient, **options: Any) -> People:
        made.append(People(client, clock=clock, **options))
        return made[-1]

    monkeypatch.setattr(serving, "People", people)
    settings = Settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret="s", slack_api_url=f"{fake_slack.url}/api/"
    )

    async def scenario() -> None:
        (directory,) = made
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
