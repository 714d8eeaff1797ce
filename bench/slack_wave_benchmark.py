"""Slack at 20,000 users: `announce` and `notify` through the real `aadbot serve`, against a fake Slack that
keeps Slack's rate tiers, with people who have no Slack account (each costs `users.lookupByEmail`, Tier 3).

Run from the repository root: `nice .venv/bin/python -m bench.slack_wave_benchmark [--users N]
[--not-in-slack 0.06] [--post-limit 50] [--json FILE]`.

The organization is `sandbox.generate`'s (seed 2026) with names as long as real directories have them
(`tests/slack/test_slack_message_sizes.py`'s); every user has a Slack account under their Azure DevOps mail
address except a seeded `--not-in-slack` share of them (never the admins). The fake Slack Web API
(`tests.fakes.slack_api`) refuses past Slack's limits with HTTP 429 and `Retry-After`: `chat.postMessage`
workspace-wide at `--post-limit` a second, `users.list` at Tier 2 (20 a minute), `users.lookupByEmail`
and `conversations.open` at Tier 3 (50 a minute), and it counts the calls that came back before a
Retry-After was over. `serve` runs as a child process (SQLite) with its default settings; the admin drives
start, invite, announce, request-approval, the approval, the portal step and notify over signed HTTP, asks
`progress` half-way through each wave, and `notify`'s `serve` is SIGKILLed half-way and started again.

Measured per wave: time from the command to the first DM, DMs a minute, look-ups a minute (and how many
asked again for an address already looked up), 429s per method and early retries, and `serve`'s CPU
(user + system, from /proc) and resident memory (peak of its samples, and the kernel's VmHWM).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import machine
from bench.notify_benchmark import (
    SECRET,
    Serve,
    _posted,
    _prompt,
    _wait,
    serve_environment,
    slack_members,
    two_admins,
)
from bench.wave import LONG_DOMAIN, Process, longest_gap, outcomes, pending, scenario, state, written
from bench.wave import Wave as WaveBase
from bench.wave import add_options as wave_options
from sandbox import Sandbox
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import SLACK_TIERS, FakeSlack
from tests.fakes.slack_harness import SlackSender, texts

CHANNEL = "CMIGRATE"
QUIET_SECONDS = 5.0


@dataclass
class Wave(WaveBase):
    lookups: int = 0
    lookups_repeated: int = 0
    lookup_seconds: float = 0.0
    refused: dict[str, int] = field(default_factory=dict)
    retried_early: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    after_restart_lookups: int = 0
    after_restart_repeated: int = 0

    def lookups_per_minute(self) -> float:
        return 60 * self.lookups / self.lookup_seconds if self.lookup_seconds else 0.0


def play(
    users: int, not_in_slack: float, post_limit: float, *, kill: bool, notify: bool
) -> tuple[list[Wave], dict[str, Any]]:
    made = scenario(users)
    owner, approver_email = two_admins(made)
    organization = str(made["organization"]["name"])
    fake = FakeSlack(post_limit=post_limit, tiers=dict(SLACK_TIERS))
    chooser = random.Random(35)
    requester, approver = slack_members(
        fake, made, (owner, approver_email), left_out=lambda: chooser.random() < not_in_slack
    )
    absent = len(made["user_entitlements"]) - len(fake.users)
    with tempfile.TemporaryDirectory(prefix="aadbot-slack-wave-") as folder:
        scenario_file = Path(folder) / "scenario.json"
        scenario_file.write_text(json.dumps(made))
        database = Path(folder) / "serve.db"
        sandbox = Sandbox(scenario_file).start()
        with ServerThread(fake.asgi()) as slack:
            fake.url = slack.url
            serve = Serve(serve_environment(f"sqlite:///{database}", slack.url, sandbox.url))
            serve.start()
            try:
                admins = (requester, approver)
                waves = _migrate(serve, fake, sandbox, database, organization, made, admins, kill, notify)
            finally:
                serve.stop()
                sandbox.stop()
            final = {"users": users, "not_in_slack": absent, "outbox": outcomes(database)}
    return waves, final


def _migrate(
    serve: Serve,
    fake: FakeSlack,
    sandbox: Sandbox,
    database: Path,
    organization: str,
    made: dict[str, Any],
    people: tuple[str, str],
    kill: bool,
    notify: bool,
) -> list[Wave]:
    requester, approver = people
    http = httpx.Client(base_url=serve.url, timeout=60)
    send = SlackSender(http, fake, secret=SECRET)

    def said() -> tuple[list[str], list[str]]:
        """Private answers, and what went to the channel."""
        with fake._changed:
            return [str(r.get("text", "")) for r in fake.responses], [
                str(call.params.get("text", ""))
                for call in fake.calls_of("chat.postMessage")
                if call.params.get("channel") == CHANNEL
            ]

    def command(text: str) -> str:
        private, shared = (len(told) for told in said())
        send.command(text, user=requester, channel=CHANNEL).raise_for_status()
        _wait(f"an answer to {text!r}", lambda: [len(told) for told in said()] != [private, shared])
        answers, posts = said()
        latest = (answers[private:] + posts[shared:])[0]
        print(f"  {text}: {latest[:600]!r}", flush=True)
        return latest

    def settle(what: str) -> None:
        _wait(what, lambda: pending(database) == 0, timeout=7200)

    command(f"start {organization} {LONG_DOMAIN}")
    command(f"invite {organization}")
    busy = ("inviting", "checking_prerequisites")  # after the invitations, the prerequisites again
    _wait("the invitations", lambda: state(database) not in busy, timeout=7200)
    settle("the invitations' notices")
    waves = [_wave(serve, fake, database, command, f"announce {organization} 2026-12-24", restart=False)]
    command(f"request-approval {organization}")
    _wait("the approval prompt", lambda: _prompt(fake) is not None)
    prompt = _prompt(fake)
    assert prompt is not None
    send.click(prompt["action_id"], prompt["value"], user=approver, channel=CHANNEL).raise_for_status()
    _wait("the portal steps", lambda: any("Connect directory" in texts(m) for m in _posted(fake, "D")))
    connect = {"organization": organization, "tenantId": str(made["tenant"]["id"])}
    httpx.post(f"{sandbox.url}/_sandbox/connect", json=connect, timeout=30).raise_for_status()
    command(f"check-connection {organization}")
    settle("the connection notices")
    if not notify:
        return waves
    waves.append(_wave(serve, fake, database, command, f"notify {organization}", restart=kill))
    http.close()
    return waves


def progress(fake: FakeSlack, command: Any, organization: str) -> str:
    """What the admin reads of `progress` half-way: every private answer in the next few seconds."""
    with fake._changed:
        before = len(fake.responses)
    command(f"progress {organization}")
    time.sleep(QUIET_SECONDS)
    with fake._changed:
        return "\n---\n".join(str(response.get("text", "")) for response in fake.responses[before:])


def _dm_times(fake: FakeSlack, since: float) -> list[float]:
    with fake._changed:
        stored = {id(message) for message in fake.messages.values()}
        return [
            call.at
            for call in fake.calls
            if call.method == "chat.postMessage"
            and call.at >= since
            and str(call.params.get("channel", "")).startswith(("U", "D"))
            and id(call.params) in stored
        ]


def _lookups(fake: FakeSlack, since: float, before: float = float("inf")) -> list[tuple[str, float]]:
    with fake._changed:
        return [
            (str(call.params.get("email", "")).casefold(), call.at)
            for call in fake.calls
            if call.method == "users.lookupByEmail" and since <= call.at < before
        ]


def _grown(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """What grew between two counts, by name; nothing for what did not."""
    return {name: count - before.get(name, 0) for name, count in after.items() if count - before.get(name, 0)}


def _wave(serve: Serve, fake: FakeSlack, database: Path, command: Any, text: str, *, restart: bool) -> Wave:
    assert serve.process is not None
    process = Process(serve.process.pid)
    refused, early = dict(fake.tier_refused), dict(fake.retried_early)
    refused["chat.postMessage"] = fake.rate_limited
    calls = Counter(call.method for call in fake.calls)
    cpu = process.cpu()
    started = time.monotonic()
    command(text)
    _wait("the wave's first DM", lambda: len(_dm_times(fake, started)) > 0, timeout=3600)
    wave = Wave(command=text.split()[0])
    total = pending(database) + len(_dm_times(fake, started))
    _wait("half the wave", lambda: len(_dm_times(fake, started)) >= total // 2, timeout=7200)
    wave.progress = progress(fake, command, text.split()[1])
    killed_at = None
    if restart:
        killed_at = time.monotonic()
        wave.cpu_seconds += process.cpu() - cpu
        wave.rss_peak_mib = process.peak_mib()
        process.stop()
        serve.kill()
        print(f"  SIGKILL after {len(_dm_times(fake, started))} DMs", flush=True)
        serve.start()
        assert serve.process is not None
        process = Process(serve.process.pid)
        cpu = process.cpu()
    _wait("the wave's end", lambda: pending(database) == 0, timeout=7200)
    time.sleep(QUIET_SECONDS)
    wave.wall_seconds = time.monotonic() - started
    wave.cpu_seconds += process.cpu() - cpu
    wave.rss_peak_mib = max(wave.rss_peak_mib, process.peak_mib())
    process.stop()
    times = _dm_times(fake, started)
    wave.dms = len(times)
    wave.first_dm_seconds = min(times) - started
    wave.sending_seconds = max(times) - min(times)
    wave.longest_gap_seconds = longest_gap(times)
    looked = _lookups(fake, started)
    wave.lookups = len(looked)
    wave.lookups_repeated = len(looked) - len({email for email, _ in looked})
    wave.lookup_seconds = (looked[-1][1] - looked[0][1]) if len(looked) > 1 else 0.0
    if killed_at is not None:
        before = {email for email, _ in _lookups(fake, started, killed_at)}
        after = _lookups(fake, killed_at)
        wave.after_restart_lookups = len(after)
        wave.after_restart_repeated = sum(1 for email, _ in after if email in before)
    wave.refused = _grown(refused, dict(fake.tier_refused) | {"chat.postMessage": fake.rate_limited})
    wave.retried_early = _grown(early, fake.retried_early)
    wave.calls = _grown(calls, Counter(call.method for call in fake.calls))
    print(f"  {wave}", flush=True)
    return wave


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--not-in-slack", type=float, default=0.06)
    parser.add_argument("--post-limit", type=float, default=50.0, help="chat.postMessage calls a second")
    wave_options(parser)
    args = parser.parse_args()
    print(f"{args.users} users, {args.not_in_slack:.0%} not in Slack; {machine.summary()}", flush=True)
    waves, final = play(
        args.users, args.not_in_slack, args.post_limit, kill=not args.no_kill, notify=not args.announce_only
    )
    written(args, final, waves)
    for wave in waves:
        print(
            f"{wave.command}: {wave.dms} DMs, first after {wave.first_dm_seconds:.1f} s,"
            f" {wave.dms_per_minute():.0f} DMs/min, {wave.lookups} look-ups"
            f" ({wave.lookups_repeated} repeated)"
            f" at {wave.lookups_per_minute():.0f}/min, 429s {wave.refused}, early {wave.retried_early},"
            f" CPU {wave.cpu_seconds:.0f} s, RSS {wave.rss_peak_mib:.0f} MiB,"
            f" longest without a DM {wave.longest_gap_seconds:.0f} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
