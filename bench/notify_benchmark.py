"""2,000 to-do lists through a fake Slack that enforces a rate limit with 429 + Retry-After.

Run from the repository root:
`.venv/bin/python -m bench.notify_benchmark [--users N] [--limit R] [--pace F] [--write]`.
The fake Slack runs in this process (uvicorn on 127.0.0.1, an OS-chosen port); the bot's outbox worker
runs in a child process, as `aadbot serve` would run it, against a SQLite file. Two rounds on fresh data:
1. the child sends everything; 2. the child is SIGKILLed half-way and a new child finishes the job.
The worker is paced a little faster than the limit (`--pace`, 1.2 by default), so Slack's 429s and
their `Retry-After` are exercised, not avoided. Checked each round: exactly one DM per user, at least
one 429, directory calls per process, delivery rate vs the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import math
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import func, select

from bot.delivery import DeliverySettings, OutboxWorker
from bot.runtime import utc_now
from bot.slack import build_web_client
from bot.slack.people import People
from bot.slack.sender import SlackSender
from storage import OutboundMessage, open_database
from storage.outbox import enqueue
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.storage.rows import add_migration

TOKEN = "xoxb-bench"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
START, END = "<!-- notify:start -->", "<!-- notify:end -->"
OTHER_MEMBERS = 100
"""Slack members who are not in the organization (other staff, bots): the directory has them too."""
LEASE_SECONDS = 10.0
"""Short, so that the messages the killed process had claimed come free soon in the second round
(the default is 5 minutes). A 429 is waited out in place only up to a quarter of the lease."""
PACE = 1.2
"""The worker's rate as a multiple of the enforced limit."""


@dataclass
class Round:
    name: str
    users: int
    dms: int
    duplicates: int
    processes: int
    directory_calls: list[int]
    rate_limited: int
    history_lookups: int
    sending_seconds: float
    wall_seconds: float

    def rate(self) -> float:
        return self.dms / self.sending_seconds if self.sending_seconds else 0.0


def child(database_url: str, slack_url: str, rate: float) -> None:
    """The sending process: deliver until nothing is pending (claims of a dead process expire first)."""
    database = open_database(database_url)
    lookups = build_web_client(TOKEN, base_url=f"{slack_url}/api/")
    sender = SlackSender(
        build_web_client(TOKEN, base_url=f"{slack_url}/api/", retries=False), People(lookups)
    )
    settings = DeliverySettings(
        rate_per_second=rate, batch=50, concurrency=8, lease=datetime.timedelta(seconds=LEASE_SECONDS)
    )
    worker = OutboxWorker(database, sender, clock=utc_now, settings=settings)

    async def run() -> None:
        while True:
            if await worker.run_once():
                continue
            with database.session() as session:
                pending = session.exec(
                    select(func.count())
                    .select_from(OutboundMessage)
                    .where(OutboundMessage.status == "pending")
                ).one()
            if not pending:
                return
            await asyncio.sleep(0.2)

    asyncio.run(run())


def queue(database_url: str, users: int) -> None:
    database = open_database(database_url)
    migration_id = add_migration(database)
    now = utc_now()
    with database.session() as session:
        for number in range(users):
            email = f"user{number:05d}@fabrikam.com"
            enqueue(
                session,
                idempotency_key=f"migration-{migration_id}-todo-{number}",
                recipient=email,
                kind="todo_list",
                payload={
                    "migration_id": migration_id,
                    "organization": "fabrikam",
                    "tenant": "Fabrikam",
                    "affected_user_id": number + 1,
                    "email": email,
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


def play(name: str, users: int, limit: float, pace: float, kill_after: int | None) -> Round:
    fake = FakeSlack(post_limit=limit)
    for number in range(users + OTHER_MEMBERS):
        fake.users[f"U{number:05d}"] = (f"user{number:05d}@fabrikam.com", f"User {number}")
    with tempfile.TemporaryDirectory(prefix="aadbot-notify-") as folder, ServerThread(fake.asgi()) as server:
        fake.url = server.url
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        queue(url, users)
        rate = str(limit * pace)
        command = [sys.executable, "-m", "bench.notify_benchmark", "--child", url, server.url, rate]
        started = time.monotonic()
        directory_calls = []
        processes = 1
        process = subprocess.Popen(command)
        if kill_after is not None:
            fake.wait_for(lambda f: len(f.messages) >= kill_after, timeout=600)
            process.send_signal(signal.SIGKILL)
            process.wait()
            directory_calls.append(_directory_calls(fake))
            process = subprocess.Popen(command)
            processes = 2
        if process.wait(timeout=900) != 0:
            raise SystemExit(f"the sending process failed in round {name!r}")
        wall = time.monotonic() - started
        directory_calls.append(_directory_calls(fake) - sum(directory_calls))
        posted = [call.at for call in fake.calls_of("chat.postMessage")]
        per_channel: dict[str, int] = {}
        for channel, _ts in fake.messages:
            per_channel[channel] = per_channel.get(channel, 0) + 1
        return Round(
            name=name,
            users=users,
            dms=len(fake.messages),
            duplicates=sum(count - 1 for count in per_channel.values()),
            processes=processes,
            directory_calls=directory_calls,
            rate_limited=fake.rate_limited,
            history_lookups=len(fake.calls_of("conversations.history")),
            sending_seconds=max(posted) - min(posted) if posted else 0.0,
            wall_seconds=wall,
        )


def _directory_calls(fake: FakeSlack) -> int:
    return len(fake.calls_of("users.list")) + len(fake.calls_of("users.lookupByEmail"))


def report(rounds: list[Round], limit: float, pace: float, users: int) -> str:
    bound = math.ceil(users / 200) + 1
    lines = [
        "## Notify: 2,000 to-do lists through a rate-limited Slack",
        "",
        "`.venv/bin/python -m bench.notify_benchmark --write` (defaults: `--users 2000 --limit 50`).",
        f"A fake Slack Web API in the benchmark's process enforces {limit:g} `chat.postMessage` calls per",
        "second (a bucket of one second's worth; past it HTTP 429 with `Retry-After`) and serves the",
        f"workspace directory ({users} users + {OTHER_MEMBERS} other members) through `users.list`. The",
        "to-do lists are queued in a SQLite outbox; a child process runs the outbox worker with the Slack",
        f"sender (as `aadbot serve` does), paced at {pace:g}x the limit ({limit * pace:g}/s) so that Slack",
        "answers 429 and the worker must honour `Retry-After`. Round 2 SIGKILLs the child once half the",
        f"lists are out and starts a new one. Outbox lease: {LEASE_SECONDS:g} s (default: 5 minutes).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};"
        f" {datetime.date.today().isoformat()}.",
        "",
        "| round | processes | DMs | duplicates | directory calls per process (bound) | 429s"
        " | history look-ups | sending time | rate | of limit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for played in rounds:
        calls = " + ".join(str(count) for count in played.directory_calls)
        lines.append(
            f"| {played.name} | {played.processes} | {played.dms} | {played.duplicates} | {calls} ({bound}) |"
            f" {played.rate_limited} | {played.history_lookups} | {played.sending_seconds:.1f} s |"
            f" {played.rate():.1f}/s | {played.rate() / limit:.0%} |"
        )
    lines += [
        "",
        "Sending time runs from the first post to the last, so round 2 includes the restart and the wait",
        f"for the killed process's claims to expire ({LEASE_SECONDS:g} s lease here; 5 minutes by default).",
        "History look-ups are the messages the killed process may have posted without recording it: each",
        "is searched for by its metadata key in the DM's history before it is posted again.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--limit", type=float, default=50.0, help="chat.postMessage per second")
    parser.add_argument(
        "--pace", type=float, default=PACE, help="the worker's rate as a multiple of the limit"
    )
    parser.add_argument(
        "--write", action="store_true", help="replace the Notify section of docs/benchmarks.md"
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("DATABASE_URL", "SLACK_URL", "RATE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], float(args.child[2]))
        return 0
    rounds = [
        play("1: one process", args.users, args.limit, args.pace, None),
        play("2: SIGKILL half-way, restart", args.users, args.limit, args.pace, args.users // 2),
    ]
    text = report(rounds, args.limit, args.pace, args.users)
    print(text)
    failed = [
        played.name
        for played in rounds
        if played.dms != args.users
        or played.duplicates
        or (args.pace > 1 and not played.rate_limited)
        or max(played.directory_calls) > math.ceil(args.users / 200) + 1
    ]
    if rounds[0].rate() < 0.9 * args.limit:
        failed.append("rate below 90% of the limit")
    if args.write:
        docs = DOCS.read_text()
        section = f"{START}\n{text}\n{END}"
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
        DOCS.write_text(
            pattern.sub(section, docs) if pattern.search(docs) else f"{docs.rstrip()}\n\n{section}\n"
        )
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
