"""2,000 to-do lists through the sandbox's rate-limited Bot Connector, as `aadbot serve` sends them in Teams.

Run from the repository root: `.venv/bin/python -m bench.teams_notify_benchmark [--users N] [--write]`.
The sandbox (this process) plays Teams with its documented limits: per bot per conversation 7 operations
a second, 8 in 2 s, 60 in 30 s; per tenant 30 a second; Graph installs 30 a second; past a limit HTTP 429
with `Retry-After`. Nobody has the app yet, so each person costs a Graph install, a conversation and the
message. The lists are queued in a SQLite outbox; a child process runs the outbox
worker with the Teams sender and the settings `serve` uses. Round 2 SIGKILLs the child once half the
lists are out and starts a new one; round 3 runs two children at once on one database (as two `serve`
processes would), so the per-tenant limit must hold across processes. Checked: every user reached
exactly once, the rate of connector operations against the per-tenant limit.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import func, select

from bench import machine
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker
from bot.runtime import utc_now
from bot.start_up import collector_off_while_starting, started
from bot.teams.settings import TeamsSettings
from bot.teams.surface import DELIVERY, build_surface
from sandbox import Sandbox, parse_scenario
from sandbox.generate import generate
from storage import OutboundMessage, open_database
from storage.outbox import enqueue
from tests.storage.rows import add_migration

APP_ID = "5f0c7b43-3f9e-4c36-9d4c-2b1e7d6a0a11"
TENANT_LIMIT = 30.0
"""Connector operations a second per app and tenant (msteams-docs `bots/how-to/rate-limit.md`)."""
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
START, END = "<!-- teams-notify:start -->", "<!-- teams-notify:end -->"
LEASE_SECONDS = 10.0
"""Short, so that what the killed process had claimed comes free soon (the default is 5 minutes)."""


@dataclass
class Round:
    name: str
    users: int
    reached: int
    duplicates: int
    processes: int
    operations: int
    throttled: int
    busiest_second: int
    installs: int
    sending_seconds: float
    wall_seconds: float

    def rate(self) -> float:
        return self.operations / self.sending_seconds if self.sending_seconds else 0.0


def worker_settings(batch: int = DELIVERY.batch) -> DeliverySettings:
    """`serve`'s Teams delivery settings, but for the shorter lease (and a smaller batch if asked)."""
    return replace(DELIVERY, lease=datetime.timedelta(seconds=LEASE_SECONDS), batch=batch)


def children_environment() -> dict[str, str]:
    """This environment without the bot's own Teams settings: a developer's tenant rate must not
    change what the benchmark measures."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("TEAMS_", "AADBOT_"))}


def child(database_url: str, sandbox_url: str, tenant_id: str, batch: int = DELIVERY.batch) -> None:
    """The sending process: deliver until nothing is pending (claims of a dead process expire first);
    `batch`: how many messages it claims at a time (smaller lets a second process share a small outbox)."""
    database = open_database(database_url)
    registration = {
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_APP_PASSWORD": "bench-secret",
        "TEAMS_TENANT_ID": tenant_id,
    }
    settings = TeamsSettings.from_environment({**os.environ, **registration}, sandbox_url=sandbox_url)
    assert settings is not None

    async def run() -> None:
        surface = build_surface(settings, _NoConversation(), database, clock=utc_now)
        delivery = worker_settings(batch)
        worker = OutboxWorker(database, surface.sender, clock=utc_now, settings=delivery)
        try:
            while True:
                if await worker.run_once():
                    continue
                with database.session() as session:
                    pending = session.exec(
                        select(func.count())
                        .select_from(OutboundMessage)
                        .where(OutboundMessage.status.in_(("pending", "in_flight", "uncertain")))  # type: ignore[attr-defined]
                    ).one()
                if not pending:
                    return
                await asyncio.sleep(0.2)
        finally:
            await surface.aclose()

    started()  # the collector as `serve` leaves it once it serves (bot/start_up.py)
    asyncio.run(run())


class _NoConversation:
    """The sender needs no conversation; the surface's endpoint is not served here."""

    def command(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def action(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def chat(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


def queue(database_url: str, people: list[str]) -> None:
    database = open_database(database_url)
    migration_id = add_migration(database)
    now = utc_now()
    with database.session() as session:
        for number, upn in enumerate(people):
            enqueue(
                session,
                idempotency_key=f"migration-{migration_id}-todo-{number}",
                recipient=upn,
                kind="todo_list",
                payload={
                    "migration_id": migration_id,
                    "organization": "contoso",
                    "tenant": "Contoso",
                    "affected_user_id": number + 1,
                    "email": upn,
                    "display_name": f"User {number}",
                    "outcome": "auto",
                    "notes": ["There is no downtime."],
                    "items": [
                        {
                            "id": 3 * number + k,
                            "key": key,
                            "title": key,
                            "body": "What to do.",
                            "link": "https://x",
                        }
                        for k, key in enumerate(
                            ("sign-in-work-account", "clear-git-credentials", "re-add-ssh-keys")
                        )
                    ],
                },
                now=now,
            )
        session.commit()
    database.dispose()


def generated(users: int) -> tuple[dict[str, Any], list[str]]:
    """A generated organization of `users` and the sign-in names of the directory's enabled members."""
    scenario = generate(users, users * 6 // 5 + 50, seed=7)
    people = [
        str(user["userPrincipalName"])
        for user in scenario["tenant"]["users"]
        if user["accountEnabled"] and user["userType"] == "Member"
    ][:users]
    return scenario, people


def sending_command(
    box: Sandbox, scenario: dict[str, Any], people: list[str], database_url: str
) -> list[str]:
    """The bot registered with the sandbox's Teams, a to-do list queued for each of `people` at
    `database_url`: the command of a sending process."""
    registration = {
        "endpoint": "http://127.0.0.1:9/api/messages",
        "appId": APP_ID,
        "password": "bench-secret",
    }
    httpx.post(f"{box.url}/_sandbox/teams/bot", json=registration).raise_for_status()
    queue(database_url, people)
    tenant_id = str(scenario["tenant"]["id"])
    return [sys.executable, "-m", "bench.teams_notify_benchmark", "--child", database_url, box.url, tenant_id]


def play(name: str, users: int, kill_after: int | None, *, parallel: int = 1) -> Round:
    scenario, people = generated(users)
    if len(people) < users:
        raise SystemExit(f"the generated directory has only {len(people)} enabled members")
    with (
        tempfile.TemporaryDirectory(prefix="aadbot-teams-") as folder,
        Sandbox(parse_scenario(scenario)) as box,
    ):
        command = sending_command(box, scenario, people, f"sqlite:///{Path(folder) / 'bench.db'}")
        started = time.monotonic()
        processes = parallel
        environment = children_environment()
        others = [subprocess.Popen(command, env=environment) for _ in range(parallel - 1)]
        process = subprocess.Popen(command, env=environment)
        if kill_after is not None:
            while _operations(box.url) < 2 * kill_after:  # a conversation and a message per person
                if process.poll() is not None:
                    raise SystemExit("the sending process ended before it was killed")
                time.sleep(0.2)
            process.send_signal(signal.SIGKILL)
            process.wait()
            process = subprocess.Popen(command, env=environment)
            processes = 2
        if any(running.wait(timeout=1800) != 0 for running in (*others, process)):
            raise SystemExit(f"a sending process failed in round {name!r}")
        wall = time.monotonic() - started
        sends = _sends(box.url)
        per_user = Counter(entry["conversation"]["user"] for entry in sends)
        stats = httpx.get(f"{box.url}/_sandbox/teams/stats").json()
        installs = box.request_counts().get("graph.microsoft.com", 0)
        return Round(
            name=name,
            users=users,
            reached=sum(1 for upn in people if per_user.get(upn)),
            duplicates=sum(count - 1 for count in per_user.values()),
            processes=processes,
            operations=int(stats["operations"]),
            throttled=int(stats["throttled"]),
            busiest_second=int(stats["busiestSecond"]),
            installs=installs,
            sending_seconds=float(stats["lastAt"] - stats["firstAt"]) if stats["operations"] else 0.0,
            wall_seconds=wall,
        )


def _operations(url: str) -> int:
    return int(httpx.get(f"{url}/_sandbox/teams/stats", timeout=60).json()["operations"])


def _sends(url: str) -> list[dict[str, Any]]:
    log = httpx.get(f"{url}/_sandbox/teams/activities", timeout=60).json()
    return [entry for entry in log if entry["op"] == "send"]


def report(rounds: list[Round], users: int) -> str:
    lines = [
        START,
        "## Teams: 2,000 to-do lists through the rate-limited Bot Connector",
        "",
        "`.venv/bin/python -m bench.teams_notify_benchmark --write` (default `--users 2000`). The sandbox",
        "plays Teams with its documented limits (per bot per conversation 7 operations/s, 8/2 s, 60/30 s;",
        f"per tenant {TENANT_LIMIT:g}/s; Graph installs 30/s; past a limit 429 with `Retry-After`). Nobody",
        "has the app yet, so each person costs a Graph install (the app's catalog id is",
        "looked up once), a conversation and the to-do list. A child process runs the outbox worker with",
        "the Teams sender and `serve`'s settings (worker 60 starts/s, 32 in flight; the connector client",
        "keeps Teams' limits itself). Round 2 SIGKILLs the child once half the lists are out and starts",
        "a new one; round 3 runs two children at once on one database, sharing the per-tenant limit",
        f"through it. Outbox lease: {LEASE_SECONDS:g} s (default: 20 s). SQLite outbox.",
        "",
        f"Machine: {machine.summary()} (the machine is shared with other work).",
        "",
        "| round | processes | users reached | duplicates | connector operations | 429s | most in one second"
        " | Graph look-ups | sending time | operations/s | of the tenant limit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for played in rounds:
        lines.append(
            f"| {played.name} | {played.processes} | {played.reached} of {played.users} |"
            f" {played.duplicates} | {played.operations} | {played.throttled} | {played.busiest_second} |"
            f" {played.installs} |"
            f" {played.sending_seconds:.1f} s | {played.rate():.1f} | {played.rate() / TENANT_LIMIT:.0%} |"
        )
    lines += [
        "",
        "Connector operations are the conversations created and the messages sent, counted by the sandbox as",
        "Teams counts them; most in one second: in any one-second window, as the limit counts them.",
        "Sending time runs from the first operation to the last, so round 2 includes the",
        "restart and the wait for the killed process's claims to expire. Of the messages the killed process",
        "had claimed, those never handed to Teams are sent; one that was may have arrived (Teams keeps no",
        "history a bot could search) and is recorded as possibly delivered. Graph look-ups are the",
        "users found by sign-in name (one each); installs go to Graph as well.",
        END,
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument(
        "--write", action="store_true", help="replace the Teams section of docs/benchmarks.md"
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("DATABASE_URL", "SANDBOX_URL", "TENANT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--batch", type=int, default=DELIVERY.batch, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with collector_off_while_starting():  # as `serve` starts
            child(*args.child, batch=args.batch)
        return 0
    rounds = [
        play("1: one process", args.users, None),
        play("2: SIGKILL half-way, restart", args.users, args.users // 2),
        play("3: two processes at once", args.users, None, parallel=2),
    ]
    text = report(rounds, args.users)
    print(text)
    failed = [played.name for played in rounds if played.reached != args.users or played.duplicates]
    if rounds[0].rate() < 0.9 * TENANT_LIMIT:
        failed.append("rate below 90% of the limit")
    if any(played.busiest_second > TENANT_LIMIT for played in rounds):
        failed.append("some second held more connector operations than the tenant limit")
    if args.write:
        docs = DOCS.read_text()
        if START in docs:
            before, rest = docs.split(START, 1)
            docs = before + text + rest.split(END, 1)[1]
        else:
            docs = docs.rstrip("\n") + "\n\n" + text + "\n"
        DOCS.write_text(docs)
    if failed:
        print("FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
