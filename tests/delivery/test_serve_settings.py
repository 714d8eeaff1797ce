"""`aadbot serve` delivers with the settings read from the environment, and the notify benchmark runs
`serve` without touching them: what the benchmark measures is what users run."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.delivery.tracked as tracked
import bot.slack.serve as serving
from bench.notify_benchmark import serve_environment
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.demo import bundled_scenario
from bot.runtime import build_runtime, utc_now
from bot.settings import Settings


def test_serve_builds_its_outbox_worker_from_the_environments_delivery_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "AADBOT_SLACK_MAX_RATE": "7",
        "AADBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "AADBOT_SANDBOX": str(bundled_scenario()),
    }
    settings = Settings.from_environment(environment)
    runtime = build_runtime(settings, surface="slack")
    built: list[DeliverySettings] = []

    class Recorded(OutboxWorker):
        def __init__(self, *args: Any, settings: DeliverySettings | None = None, **options: Any) -> None:
            built.append(settings or DeliverySettings())
            super().__init__(*args, settings=settings, **options)

    class Built(Exception):
        """Everything up to the worker is built; serving itself is other tests' business."""

    loops: list[Coroutine[Any, Any, None]] = []

    def worker_then_stop(*args: Any, **options: Any) -> OutboxWorker:
        tracked.tracked_worker(*args, **options)
        raise Built

    def watch(*args: Any) -> Coroutine[Any, Any, None]:
        loops.append(asyncio.sleep(0))
        return loops[-1]

    monkeypatch.setattr(tracked, "OutboxWorker", Recorded)
    monkeypatch.setattr(serving, "tracked_worker", worker_then_stop)
    monkeypatch.setattr(serving, "watch_forever", watch)
    try:
        persistence = serving.Persistence(runtime.database, runtime.tracking, utc_now)
        with pytest.raises(Built):
            serving.serve(
                settings, runtime.conversation, "127.0.0.1", 0, health=lambda: True, persistence=persistence
            )
    finally:
        for loop in loops:
            loop.close()
        runtime.close()

    assert built == [settings.delivery]
    assert built[0].max_rate_per_second == 7.0


def test_the_benchmark_runs_serve_with_the_default_delivery_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AADBOT_SLACK_MAX_RATE", "3")  # a developer's own setting must not leak in
    monkeypatch.setenv("TEAMS_APP_ID", "5f0c7b43-3f9e-4c36-9d4c-2b1e7d6a0a11")  # nor Teams beside Slack
    environment = serve_environment("sqlite:///bench.db", "http://127.0.0.1:1", "http://127.0.0.1:2")
    assert not [name for name in environment if name.startswith("TEAMS_")]

    assert Settings.from_environment(environment).delivery == Settings.from_environment({}).delivery
    assert Settings.from_environment({}).delivery == DeliverySettings()


def test_the_teams_benchmark_sends_with_serve_s_teams_settings_and_no_developer_s_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bench.teams_notify_benchmark import LEASE_SECONDS, children_environment, worker_settings
    from bot.serve import _delivery_settings

    serves = _delivery_settings(Settings.from_environment({}), with_slack=False)
    measured = worker_settings()
    assert measured.lease == timedelta(seconds=LEASE_SECONDS)  # the one difference, documented
    assert replace(measured, lease=serves.lease) == serves
    monkeypatch.setenv("AADBOT_TEAMS_TENANT_RATE", "3")
    assert "AADBOT_TEAMS_TENANT_RATE" not in children_environment()
