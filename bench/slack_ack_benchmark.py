"""Ack latency of `/aad status` under a burst of signed requests, beside a bare bolt app that only acks.

Run from the repository root: `.venv/bin/python -m bench.slack_ack_benchmark [--requests 50] [--rounds 3]`.
Both apps are served by uvicorn on 127.0.0.1 (OS-chosen ports) and talk to the same local fake Slack
Web API; rounds alternate between them so both see the same machine state. The results replace the
Slack section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import re
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.conversation.messages import Heading, Message, Outgoing, Text, say
from bot.slack import build_web_client, create_app, create_asgi
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from workflows.results import Actor

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
START, END = "<!-- slack:start -->", "<!-- slack:end -->"
CONVERSATION_SECONDS = 0.05
"""What the stand-in conversation spends per call (a database read and a render): after the ack."""


class StatusConversation:
    """Answers `status` after a fixed amount of blocking work, like the real one reading the database."""

    def command(self, actor: Actor, text: str, *, channel: str | None) -> list[Outgoing]:
        time.sleep(CONVERSATION_SECONDS)
        return [
            say("fabrikam: planned", Heading("fabrikam"), Text(f"Stage *planned*; asked by {actor.name}"))
        ]

    def action(self, actor: Actor, action: str, value: str, *, channel: str | None) -> list[Outgoing]:
        return self.command(actor, f"{action} {value}", channel=channel)

    def chat(self, actor: Actor, text: str) -> list[Outgoing]:
        return self.command(actor, text, channel=None)

    def home(self, actor: Actor) -> Message:
        return Message("home")

    def watch(self) -> list[Outgoing]:
        return []


def bare_app(fake: FakeSlack) -> AsyncApp:
    app = AsyncApp(client=build_web_client(TOKEN, base_url=f"{fake.url}/api/"), signing_secret=SECRET)

    @app.command("/aad")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    return app


async def burst(url: str, fake: FakeSlack, count: int, round_number: int) -> list[float]:
    verifier = SignatureVerifier(SECRET)
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:

        async def one(index: int) -> float:
            trigger = f"R{round_number}-{index}-{time.monotonic_ns()}"
            body = urlencode(
                {
                    "command": "/aad",
                    "text": "status fabrikam",
                    "user_id": f"U{index % 5}",
                    "channel_id": "CBENCH",
                    "team_id": "T1",
                    "trigger_id": trigger,
                    "response_url": fake.response_url(trigger),
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
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()

    fake = FakeSlack(users={f"U{n}": (f"user{n}@fabrikam.com", f"User {n}") for n in range(5)})
    results: dict[str, list[tuple[float, float]]] = {"bare": [], "aadbot": []}
    with ServerThread(fake.asgi()) as fake_server:
        fake.url = fake_server.url
        ours = create_app(
            conversation=StatusConversation(),
            client=build_web_client(TOKEN, base_url=f"{fake.url}/api/"),
            signing_secret=SECRET,
        )
        with (
            ServerThread(create_asgi(bare_app(fake), health=lambda: True)) as bare_server,
            ServerThread(create_asgi(ours, health=lambda: True)) as our_server,
        ):
            servers = {"bare": bare_server.url, "aadbot": our_server.url}
            for round_number in range(args.rounds + 1):  # round 0 warms both up and is not counted
                for name, url in servers.items():
                    answered = len(fake.responses)
                    samples = asyncio.run(burst(url, fake, args.requests, round_number))
                    if name == "aadbot":  # let the work after the ack finish before the next burst
                        fake.wait_for(
                            lambda f, n=answered: len(f.responses) >= n + args.requests, timeout=120
                        )
                    if round_number:
                        results[name].append((percentile(samples, 0.5), percentile(samples, 0.99)))

    best = {name: min(rounds, key=lambda r: r[1]) for name, rounds in results.items()}
    ratio_p50 = best["aadbot"][0] / best["bare"][0]
    ratio_p99 = best["aadbot"][1] / best["bare"][1]
    section = render(args.requests, args.rounds, results, best, ratio_p50, ratio_p99)
    print(section)
    if not args.no_write:
        write_section(section)
    return 0


def render(
    requests: int,
    rounds: int,
    results: dict[str, list[tuple[float, float]]],
    best: dict[str, tuple[float, float]],
    ratio_p50: float,
    ratio_p99: float,
) -> str:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    def every(name: str) -> str:
        return ", ".join(f"{ms(p50)} / {ms(p99)}" for p50, p99 in results[name])

    verdict = "meets" if max(ratio_p50, ratio_p99) <= 1.5 else "MISSES"
    return "\n".join(
        [
            "## Slack: ack latency",
            "",
            f"`/aad status` acked by the Slack app under {requests} concurrent signed requests over",
            "loopback, beside a bare bolt `AsyncApp` that only acks, in the same run",
            "(`.venv/bin/python -m bench.slack_ack_benchmark`). Both are served by uvicorn through bolt's",
            "Starlette adapter, in one process with the load generator and a local fake of the Slack Web API",
            "(so absolute numbers include their share of the GIL). The app's conversation is a stand-in",
            f"that blocks {CONVERSATION_SECONDS * 1000:.0f} ms per call in a worker thread, after the ack.",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};"
            f" {datetime.date.today().isoformat()}; best of {rounds} rounds after a warm-up round.",
            "",
            "| app | p50 | p99 | every round (p50 / p99) |",
            "| --- | --- | --- | --- |",
            f"| bare bolt app, ack only | {ms(best['bare'][0])} | {ms(best['bare'][1])} | {every('bare')} |",
            f"| aadbot `/aad status` | {ms(best['aadbot'][0])} | {ms(best['aadbot'][1])} "
            f"| {every('aadbot')} |",
            "",
            f"Ratio aadbot / bare: p50 {ratio_p50:.2f}, p99 {ratio_p99:.2f} ({verdict} the target of 1.5).",
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
