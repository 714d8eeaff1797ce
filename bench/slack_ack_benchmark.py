"""Ack latency of `/aad status` under a burst of signed requests, beside a bare bolt app that only acks.

Run from the repository root: `.venv/bin/python -m bench.slack_ack_benchmark [--requests 50] [--rounds 7]`.

Three processes, so that no side's work is billed to another through the GIL:
- the apps: aadbot's Slack app as `aadbot serve` builds it (the real `Conversation` from
  `build_runtime`, SQLite in a temporary folder, the in-process sandbox with the bundled fabrikam
  scenario, a migration started, request memory in the database) and a bare bolt app that only acks,
  each served by uvicorn on 127.0.0.1 (OS-chosen ports);
- a local fake of the Slack Web API, which both apps call and aadbot answers through;
- this one, the load generator.
Rounds interleave the apps (bare, aadbot, bare, aadbot, ...) after a warm-up round of each; a round
ends once aadbot has answered every request, so each burst starts on a quiet machine. The results
replace the Slack section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.signature import SignatureVerifier

from bench import machine
from bot.demo import bundled_scenario
from bot.runtime import build_runtime, utc_now
from bot.settings import Settings
from bot.slack.app import build_web_client, create_app
from bot.slack.http import create_asgi
from bot.slack.state import DatabaseSlackState
from bot.start_up import collector_off_while_starting, started
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from workflows.results import Actor

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
START, END = "<!-- slack:start -->", "<!-- slack:end -->"
TARGET_RATIO = 1.5
ORGANIZATION, TENANT, CHANNEL = "fabrikam-fiber", "fabrikam.com", "CBENCH"
PEOPLE = {
    "UDANA": ("dana@fabrikam.com", "Dana Owner"),
    "ULEE": ("lee@fabrikam.com", "Lee Admin"),
    "UANN": ("ann@fabrikam.com", "Ann User"),
    "UGUS": ("gus@fabrikam.com", "Gus User"),
    "UIVAN": ("ivan@fabrikam.com", "Ivan User"),
}
"""Who sends `/aad status`, in turn; people of the bundled scenario."""
SETUP_TIMEOUT_SECONDS = 120.0
ANSWER_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Round:
    p50: float
    p99: float


def bare_app(slack_url: str) -> AsyncApp:
    app = AsyncApp(client=build_web_client(TOKEN, base_url=f"{slack_url}/api/"), signing_secret=SECRET)

    @app.command("/aad")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    return app


def serve_apps(parent: Connection, slack_url: str) -> None:
    """Child process: both apps, served until the parent says stop; sends their URLs (or a problem)."""
    with collector_off_while_starting(), tempfile.TemporaryDirectory(prefix="aadbot-ack-bench-") as folder:
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'bench.db'}", sandbox_scenario=str(bundled_scenario())
        )
        runtime = build_runtime(settings, surface="slack")
        try:
            dana = Actor("UDANA", *PEOPLE["UDANA"])
            runtime.conversation.command(dana, f"start {ORGANIZATION} {TENANT}", channel=CHANNEL)
            state = runtime.service.status(ORGANIZATION).state
            ours = create_app(
                conversation=runtime.conversation,
                client=build_web_client(TOKEN, base_url=f"{slack_url}/api/"),
                signing_secret=SECRET,
                state=DatabaseSlackState(runtime.database, clock=utc_now),  # as `aadbot serve` does
            )
            with (
                ServerThread(
                    create_asgi(bare_app(slack_url), health=lambda: True, signing_secret=SECRET)
                ) as bare,
                ServerThread(
                    create_asgi(ours, health=runtime.database.ping, signing_secret=SECRET)
                ) as aadbot,
            ):
                started()  # the collector as `serve` leaves it once it serves (bot/start_up.py)
                parent.send({"bare": bare.url, "aadbot": aadbot.url, "state": state})
                parent.recv()
        except Exception as error:  # the parent reports it; a child's traceback would be lost in its output
            parent.send({"problem": f"{type(error).__name__}: {error}"})
        finally:
            runtime.close()


def serve_fake_slack(parent: Connection) -> None:
    """Child process: the fake Slack; answers each number N once N replies have reached a response_url."""
    fake = FakeSlack(users=dict(PEOPLE))
    with ServerThread(fake.asgi()) as server:
        fake.url = server.url
        parent.send(server.url)
        while (wanted := parent.recv()) is not None:
            try:
                fake.wait_for(lambda f, n=wanted: len(f.responses) >= n, timeout=ANSWER_TIMEOUT_SECONDS)
                parent.send(len(fake.responses))
            except AssertionError:
                parent.send(-1)


async def burst(url: str, slack_url: str, count: int, round_number: int) -> list[float]:
    """`count` signed `/aad status` requests at once; each one's seconds from sending to the ack."""
    verifier = SignatureVerifier(SECRET)
    users = sorted(PEOPLE)
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:

        async def one(index: int) -> float:
            trigger = f"R{round_number}-{index}-{time.monotonic_ns()}"
            body = urlencode(
                {
                    "command": "/aad",
                    "text": f"status {ORGANIZATION}",
                    "user_id": users[index % len(users)],
                    "channel_id": CHANNEL,
                    "team_id": "T1",
                    "trigger_id": trigger,
                    "response_url": f"{slack_url}/respond/{trigger}",
                }
            )
            stamp = str(int(time.time()))
            headers = {
                "content-type": "application/x-www-form-urlencoded",
                "x-slack-request-timestamp": stamp,
                "x-slack-signature": verifier.generate_signature(timestamp=stamp, body=body),
            }
            started = time.perf_counter()
            response = await http.post("/slack/events", content=body, headers=headers)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"request {index} got HTTP {response.status_code}")
            return elapsed

        return list(await asyncio.gather(*(one(index) for index in range(count))))


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest rank; with 50 samples p99 is the slowest one."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(requests: int, rounds: int) -> tuple[dict[str, list[Round]], str]:
    """Every counted round of each app, and the migration's state that `status` showed."""
    spawn = multiprocessing.get_context("spawn")
    slack_end, slack_child = spawn.Pipe()
    apps_end, apps_child = spawn.Pipe()
    slack = spawn.Process(target=serve_fake_slack, args=(slack_child,), daemon=True)
    slack.start()
    apps: multiprocessing.process.BaseProcess | None = None
    try:
        slack_url = _receive(slack_end, "the fake Slack")
        apps = spawn.Process(target=serve_apps, args=(apps_child, slack_url), daemon=True)
        apps.start()
        started = _receive(apps_end, "the apps")
        if "problem" in started:
            raise SystemExit(f"the apps did not start: {started['problem']}")
        results: dict[str, list[Round]] = {"bare": [], "aadbot": []}
        answered = 0
        for round_number in range(rounds + 1):  # round 0 warms both up and is not counted
            for name in ("bare", "aadbot"):
                samples = asyncio.run(burst(started[name], slack_url, requests, round_number))
                if name == "aadbot":  # let the work after the ack finish before the next burst
                    answered += requests
                    slack_end.send(answered)
                    if _receive(slack_end, "the fake Slack") < answered:
                        raise SystemExit(
                            f"aadbot did not answer every request within {ANSWER_TIMEOUT_SECONDS} s"
                        )
                if round_number:
                    results[name].append(Round(percentile(samples, 0.5), percentile(samples, 0.99)))
        return results, str(started["state"])
    finally:
        for end, process in ((apps_end, apps), (slack_end, slack)):
            if process is not None and process.is_alive():
                end.send(None)
                process.join(30)


def _receive(end: Connection, what: str) -> Any:
    if not end.poll(SETUP_TIMEOUT_SECONDS):
        raise SystemExit(f"{what} did not answer within {SETUP_TIMEOUT_SECONDS:.0f} s")
    return end.recv()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    if args.requests < 1 or args.rounds < 1:
        parser.error("--requests and --rounds must be at least 1")
    results, state = measure(args.requests, args.rounds)
    section = render(args.requests, state, results)
    print(section)
    if not args.no_write:
        write_section(section)
    return 0


def render(requests: int, state: str, results: dict[str, list[Round]]) -> str:
    median = {
        name: Round(statistics.median(r.p50 for r in rounds), statistics.median(r.p99 for r in rounds))
        for name, rounds in results.items()
    }
    ratio_p50 = median["aadbot"].p50 / median["bare"].p50
    ratio_p99 = median["aadbot"].p99 / median["bare"].p99
    verdict = "meets" if max(ratio_p50, ratio_p99) <= TARGET_RATIO else "MISSES"

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f}"

    rows = [
        f"| {number} | {ms(bare.p50)} / {ms(bare.p99)} | {ms(ours.p50)} / {ms(ours.p99)} |"
        for number, (bare, ours) in enumerate(zip(results["bare"], results["aadbot"], strict=True), 1)
    ]
    load = os.getloadavg()[0]
    return "\n".join(
        [
            "## Slack: ack latency",
            "",
            f"**What is measured:** the time from sending a signed `/aad status {ORGANIZATION}` slash",
            f"command to receiving the app's HTTP 200 (the ack), for a burst of {requests} requests sent at",
            "once over loopback (`.venv/bin/python -m bench.slack_ack_benchmark`). aadbot is wired as",
            "`aadbot serve` wires it: the real `Conversation` from `build_runtime` (SQLite in a temporary",
            "folder, the in-process sandbox with `sandbox/scenarios/fabrikam.json`, a migration started so",
            f"that `status` shows it in state `{state}`), request memory in the same database (one INSERT",
            "per request, after the ack), and the answer sent to the `response_url` after the ack, all in",
            "the same process as the acks. The baseline is a bare bolt `AsyncApp` whose listener only acks.",
            "Both are served by uvicorn through bolt's Starlette adapter in one process; the load generator",
            "and a fake Slack Web API run in two other processes.",
            "Not included: the connection watch and the outbox worker that `serve` also runs.",
            "",
            f"Machine: {machine.summary()}; load average {load:.1f} at the end (other sessions",
            f"share the machine). One warm-up round of each app, then {len(results['aadbot'])} rounds",
            "interleaved (bare, aadbot, bare, aadbot, ...); each aadbot round ends when every answer",
            f"has reached Slack. p99 of {requests} samples is the slowest request.",
            "",
            "| app | p50 (median of rounds) | p99 (median of rounds) |",
            "| --- | --- | --- |",
            f"| bare bolt app, ack only | {ms(median['bare'].p50)} ms | {ms(median['bare'].p99)} ms |",
            f"| aadbot `/aad status` | {ms(median['aadbot'].p50)} ms | {ms(median['aadbot'].p99)} ms |",
            f"| **ratio aadbot / bare** | **{ratio_p50:.2f}** | **{ratio_p99:.2f}** |",
            "",
            f"The ratio {verdict} the target of {TARGET_RATIO} (issue 4). Before the ack aadbot runs only",
            "bolt's own steps (signature check, middleware, listener matching), like the bare app. Until",
            "2026-11-26 it also claimed the request in the database (the replay guard) before acking: in",
            "this benchmark that cost p50 x1.96 and p99 x4.09: the 50 INSERTs queued behind each other and",
            "behind the conversation turns in the thread pool. The claim now comes right after the ack,",
            "before anything acts, which guards against replays just as well: Slack retries only what was",
            "not acked. What still competes with the acks is the work after them (the conversation turns",
            "in threads, the replies over new connections). Some rounds of either app are two to three",
            "times slower than its others; the bare app has them too, so the machine (shared, 2 cores)",
            "accounts for at least part of them, and the median of rounds discounts them. Whole runs vary",
            "as well: on 2026-11-26 three runs after the change gave p50 ratios of 1.01, 1.35 and 1.61.",
            "",
            "Every round, p50 / p99 in ms:",
            "",
            "| round | bare | aadbot |",
            "| --- | --- | --- |",
            *rows,
        ]
    )


def write_section(section: str) -> None:
    block = f"{START}\n{section}\n{END}"
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    text = (
        pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + f"\n\n{block}\n"
    )
    DOCS.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
