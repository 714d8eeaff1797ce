"""Teams' per-tenant limit shared by every process through the database: evenly spaced slots handed out
atomically (SQLite and PostgreSQL), a 429 holds everyone off; and two real sending processes against
the sandbox's rate limits stay under them together."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from bot.teams.budget import SHARE, SharedRate
from sandbox import Sandbox, parse_scenario
from storage import open_database

RATE = 30.0


def test_two_processes_share_one_row_of_evenly_spaced_slots(database_url: str) -> None:
    now = [1000.0]
    first, second = open_database(database_url), open_database(database_url)  # two processes' pools
    try:
        rates = [SharedRate(db, "connector:t", RATE, clock=lambda: now[0]) for db in (first, second)]
        slots = [rates[n % 2]._reserve() for n in range(10)]
        interval = 1 / (RATE * SHARE)
        assert slots == pytest.approx([1000.0 + n * interval for n in range(10)])  # one queue, whoever asks
        other = SharedRate(first, "graph-installs:t", RATE, clock=lambda: now[0])
        assert other._reserve() == 1000.0  # another limit, its own row

        asyncio.run(rates[1].hold_off(5.0))  # Teams said 429 to one process...
        assert rates[0]._reserve() == pytest.approx(1005.0)  # ...and the other waits too
        now[0] = 2000.0  # idle for a while: no burst of saved-up slots, the next goes now
        assert rates[1]._reserve() == 2000.0
    finally:
        first.dispose()
        second.dispose()


def test_a_slot_waits_for_its_turn(sqlite_url: str) -> None:
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    database = open_database(sqlite_url)
    rate = SharedRate(database, "connector:t", RATE, clock=lambda: 10.0, sleep=sleep)

    async def three() -> None:
        for _ in range(3):
            async with rate.slot():
                pass

    try:
        asyncio.run(three())
    finally:
        database.dispose()
    interval = 1 / (RATE * SHARE)
    assert waited == pytest.approx([interval, 2 * interval])  # the first goes at once


USERS = 40
LIMIT = 10
"""A lower per-tenant limit (sandbox and bot alike) so that two processes pacing each on their own would
offer twice what Teams allows, whatever this machine's speed."""


def test_two_sending_processes_together_keep_the_tenant_limit(tmp_path: Path) -> None:
    """Two processes run the outbox worker with the Teams sender (as two `serve` would) on one database;
    the sandbox enforces a per-tenant limit of connector operations with 429s."""
    from bench.teams_notify_benchmark import APP_ID, generated, queue

    scenario, people = generated(USERS)
    # no Graph installs: the connector's limit is what counts
    scenario["teams"] = {"installed": people, "tenantLimitPerSecond": LIMIT}
    with Sandbox(parse_scenario(scenario)) as box:
        registration = {"endpoint": "http://127.0.0.1:9/api/messages", "appId": APP_ID}
        httpx.post(f"{box.url}/_sandbox/teams/bot", json=registration).raise_for_status()
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        queue(url, people)
        tenant = str(scenario["tenant"]["id"])
        command = [sys.executable, "-m", "bench.teams_notify_benchmark", "--child", url, box.url, tenant]
        command += ["--batch", "5"]  # both processes get messages to send from a small outbox
        root = Path(__file__).resolve().parents[2]
        environment = {**os.environ, "AADBOT_TEAMS_TENANT_RATE": str(LIMIT)}
        processes = [subprocess.Popen(command, cwd=root, env=environment) for _ in range(2)]
        assert [process.wait(timeout=300) for process in processes] == [0, 0]
        sends = [e for e in httpx.get(f"{box.url}/_sandbox/teams/activities").json() if e["op"] == "send"]
        stats = httpx.get(f"{box.url}/_sandbox/teams/stats").json()
    per_user = Counter(entry["conversation"]["user"] for entry in sends)
    assert sorted(per_user) == sorted(people) and set(per_user.values()) == {1}  # everyone, once
    assert stats["operations"] == 2 * USERS  # a conversation and a message each, nothing refused twice
    # no 429 storm: a few strays at most, from requests that left evenly and arrived bunched on a busy
    # machine (the same two processes pacing each on its own: about half the operations refused)
    assert stats["throttled"] <= 0.1 * stats["operations"], stats
    rate = stats["operations"] / (stats["lastAt"] - stats["firstAt"])
    assert rate <= LIMIT, rate
