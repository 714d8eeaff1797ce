"""The live delivery reports after a batch: each migration's report reaches its own channel, and one that
cannot be updated does not cost the others theirs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.conversation.messages import Channel, Outgoing
from bot.delivery.reports import Delivering, refresh_reports
from workflows.errors import WorkflowError
from workflows.progress import Progress

CHANNELS = {"adatum": "C-ADATUM", "contoso": "C-CONTOSO", "fabrikam": "C-FABRIKAM"}


class Migrations:
    """Each organization's (empty) progress, reported in its own channel; `unknown` ones have none."""

    def __init__(self, unknown: frozenset[str] = frozenset()) -> None:
        self._unknown = unknown

    def progress(self, organization: str | None) -> Progress:
        if organization is None or organization in self._unknown:
            raise WorkflowError(f"No migration for {organization}.")
        return Progress(1, organization, CHANNELS[organization], (), ())

    def notice_missed(self, organization: str) -> None:
        return None  # every advance notice reached everyone


class ChannelPosts:
    """Posts each report's channel; refuses those in `refusing`, as Slack does an archived channel."""

    def __init__(self, refusing: frozenset[str] = frozenset()) -> None:
        self.reached: list[str] = []
        self._refusing = refusing

    async def deliver(self, outgoings: list[Outgoing], origin: None) -> Any:
        (outgoing,) = outgoings
        assert isinstance(outgoing.to, Channel) and outgoing.to.channel is not None
        if outgoing.to.channel in self._refusing:
            raise RuntimeError(f"channel_not_found: {outgoing.to.channel}")
        self.reached.append(outgoing.to.channel)


def test_each_migration_gets_its_report_in_its_own_channel() -> None:
    posts = ChannelPosts()
    asyncio.run(refresh_reports(Migrations(), set(CHANNELS), lambda _: posts))
    assert posts.reached == ["C-ADATUM", "C-CONTOSO", "C-FABRIKAM"]


def test_a_report_that_cannot_be_posted_does_not_cost_the_others_theirs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    posts = ChannelPosts(refusing=frozenset({"C-ADATUM"}))  # sorted first: the others come after it
    with caplog.at_level(logging.ERROR, logger="bot.delivery.reports"):
        asyncio.run(refresh_reports(Migrations(), set(CHANNELS), lambda _: posts))
    assert posts.reached == ["C-CONTOSO", "C-FABRIKAM"]
    assert [record.getMessage() for record in caplog.records] == [
        "the delivery report of adatum could not be updated"
    ]


def test_a_migration_without_progress_or_not_on_this_surface_is_skipped() -> None:
    posts = ChannelPosts()

    def delivery_to(channel: str) -> Delivering | None:
        return None if channel == "C-FABRIKAM" else posts  # fabrikam's channel is another surface's

    asyncio.run(refresh_reports(Migrations(unknown=frozenset({"adatum"})), set(CHANNELS), delivery_to))
    assert posts.reached == ["C-CONTOSO"]
