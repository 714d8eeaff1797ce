"""To-do lists for 2,000 users through the real `aadbot serve`, against a fake Slack that enforces a rate.

Run from the repository root:
`nice .venv/bin/python -m bench.notify_benchmark [--users N] [--limits 5,20,50] [--write]`.

Per enforced limit, on fresh data: the Microsoft emulator (a generated organization of N users) and a
fake Slack Web API run in this process (uvicorn on 127.0.0.1, OS-chosen ports); the fake answers
`chat.postMessage` past its limit with HTTP 429 and an integer `Retry-After` (a bucket of one second's
worth). `aadbot serve` runs as a child process with a SQLite database and nothing set about delivery:
it runs with `Settings.from_environment`'s delivery settings, exactly as a user gets them. The whole
migration is driven over Slack's protocol, signed HTTP slash commands and button clicks to
`/slack/events`: start, invite, request-approval, approve, the portal step (the emulator's connect), the
check-connection, notify. Once half the to-do lists have landed, serve is killed with SIGKILL and
started again; the run ends when every user has their list. Checked: every user reached, no message
twice, and the delivery rate against the enforced limit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import machine
from bot.settings import Settings
from sandbox import Sandbox
from sandbox.generate import generate
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import SlackSender, texts

TOKEN = "xoxb-bench"
SECRET = "bench-signing-secret"
CHANNEL = "CMIGRATE"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
START, END = "<!-- notify:start -->", "<!-- notify:end -->"
STEP_TIMEOUT = float(os.environ.get("BENCH_STEP_TIMEOUT", "600"))
TODO_KEY = re.compile(r"^migration-\d+-todo-")


def inherited_environment() -> dict[str, str]:
    """This environment without the bot's own settings: a developer's rate or surface must not change
    what a benchmark's `serve` measures (their TEAMS_APP_ID would add Teams to a Slack `serve`)."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AADBOT_", "SLACK_", "AZURE_", "TEAMS_"))
    }


def serve_environment(database_url: str, slack_url: str, sandbox_url: str) -> dict[str, str]:
    """What the benchmark sets for `serve`: where things are, never how to deliver (that stays default)."""
    return inherited_environment() | {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{slack_url}/api/",
        "AADBOT_DATABASE_URL": database_url,
        "AADBOT_SANDBOX_URL": sandbox_url,
    }


@dataclass
class Round:
    limit: float
    users: int
    reached: int
    duplicates: int
    rate_limited: int
    sending_seconds: float
    restart_seconds: float
    history_lookups: int

    def rate(self) -> float:
        return self.reached / self.sending_seconds if self.sending_seconds else 0.0

    def steady_rate(self) -> float:
        """Without the time serve was down: from its kill to its restarted worker's first post."""
        busy = self.sending_seconds - self.restart_seconds
        return self.reached / busy if busy > 0 else 0.0


class Serve:
    """`aadbot serve` as a child process; SIGKILL and start again."""

    def __init__(self, environment: dict[str, str]) -> None:
        self._environment = environment
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> None:
        command = [sys.executable, "-m", "bot.cli", "serve", "--port", "0"]  # as nice as the benchmark
        self.process = subprocess.Popen(
            command, env=self._environment, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"listening on (http://\S+)", line)
        if found is None:
            raise SystemExit(f"serve did not start: {line!r}")
        self.url = found.group(1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


_seen: dict[int, tuple[str, float] | None] = {}
"""Per call already looked at (by its params' id): its to-do key and time, or None."""


def _todo_posts(fake: FakeSlack) -> list[tuple[str, float]]:
    """(idempotency key, when) of every to-do list Slack accepted; reads each call once."""
    with fake._changed:
        stored = {id(message) for message in fake.messages.values()}
        found = []
        for call in fake.calls:
            if call.method != "chat.postMessage" or id(call.params) not in stored:
                continue
            if id(call.params) not in _seen:
                key = _key(call.params)
                _seen[id(call.params)] = (key, call.at) if key and TODO_KEY.match(key) else None
            if (seen := _seen[id(call.params)]) is not None:
                found.append(seen)
        return found


def _key(params: dict[str, Any]) -> str | None:
    metadata = params.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    if not isinstance(metadata, dict):
        return None
    payload = metadata.get("event_payload") or {}
    return str(payload.get("key")) if payload.get("key") else None


def _wait(what: str, condition: Any, timeout: float = STEP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def play(users: int, limit: float, kill: bool) -> Round:
    _seen.clear()
    scenario = generate(users, users, seed=7)
    owner, approver_email = two_admins(scenario)
    tenant_id = str(scenario["tenant"]["id"])
    organization = str(scenario["organization"]["name"])
    fake = FakeSlack(post_limit=limit)
    requester, approver = slack_members(fake, scenario, (owner, approver_email))
    with tempfile.TemporaryDirectory(prefix="aadbot-notify-") as folder:
        scenario_file = Path(folder) / "scenario.json"
        scenario_file.write_text(json.dumps(scenario))
        database_url = f"sqlite:///{Path(folder) / 'serve.db'}"
        sandbox = Sandbox(scenario_file).start()
        with ServerThread(fake.asgi()) as slack:
            fake.url = slack.url
            serve = Serve(serve_environment(database_url, slack.url, sandbox.url))
            serve.start()
            try:
                people = (requester, approver)
                return _migrate(serve, fake, sandbox, limit, users, people, organization, tenant_id, kill)
            finally:
                serve.stop()
                sandbox.stop()


def slack_members(
    fake: FakeSlack,
    scenario: dict[str, Any],
    admins: tuple[str, str],
    left_out: Callable[[], bool] = lambda: False,
) -> tuple[str, str]:
    """Each person of the organization a member of `fake` Slack, but those `left_out` says (never an admin);
    the two admins' Slack user ids."""
    wanted = {admin.lower() for admin in admins}
    for number, entitlement in enumerate(scenario["user_entitlements"]):
        person = entitlement["user"]
        email = str(person["mailAddress"] or person["principalName"]).lower()
        if email in wanted or not left_out():
            fake.users[f"U{number:05d}"] = (email, str(person["displayName"]))
    ids = {email: user for user, (email, _) in fake.users.items()}
    return ids[admins[0].lower()], ids[admins[1].lower()]


def two_admins(scenario: dict[str, Any]) -> tuple[str, str]:
    """Makes the first two users who are enabled members of the directory the organization's owner (who
    starts the migration: Microsoft requires a member) and a second administrator (who approves)."""
    members = {
        str(member["userPrincipalName"]).lower()
        for member in scenario["tenant"]["users"]
        if member["userType"] == "Member" and member["accountEnabled"]
    }
    owner, approver = [
        str(entitlement["user"]["principalName"])
        for entitlement in scenario["user_entitlements"]
        if str(entitlement["user"]["principalName"]).lower() in members
    ][:2]
    scenario["organization"] |= {"owner": owner, "project_collection_administrators": [owner, approver]}
    return owner, approver


def _migrate(
    serve: Serve,
    fake: FakeSlack,
    sandbox: Sandbox,
    limit: float,
    users: int,
    people: tuple[str, str],
    organization: str,
    tenant_id: str,
    kill: bool,
) -> Round:
    requester, approver = people
    http = httpx.Client(base_url=serve.url, timeout=30)
    send = SlackSender(http, fake, secret=SECRET)

    def said() -> list[str]:
        with fake._changed:
            return [str(r.get("text", "")) for r in fake.responses] + [
                str(call.params.get("text", ""))
                for call in fake.calls_of("chat.postMessage")
                if call.params.get("channel") == CHANNEL
            ]

    def command(text: str, user: str = requester) -> None:
        answered = len(said())
        send.command(text, user=user, channel=CHANNEL).raise_for_status()
        _wait(f"an answer to {text!r}", lambda: len(said()) > answered)
        with fake._changed:
            latest = (fake.responses[-1].get("text") if len(fake.responses) else "") or ""
        print(f"  {text}: {str(latest)[:160]!r}", flush=True)

    command(f"start {organization} contoso.com")
    command(f"invite {organization}")
    command(f"request-approval {organization}")
    _wait("the approval prompt", lambda: _prompt(fake) is not None)
    prompt = _prompt(fake)
    assert prompt is not None
    send.click(prompt["action_id"], prompt["value"], user=approver, channel=CHANNEL).raise_for_status()
    _wait("the portal steps", lambda: any("Connect directory" in texts(m) for m in _posted(fake, "D")))
    connect = {"organization": organization, "tenantId": tenant_id}
    httpx.post(f"{sandbox.url}/_sandbox/connect", json=connect, timeout=30).raise_for_status()
    command(f"check-connection {organization}")  # rather than wait for the watch's next look
    _wait("the confirmed connection", lambda: any("now connected" in text for text in said()))
    send.command(f"notify {organization}", user=requester, channel=CHANNEL).raise_for_status()
    _wait("the first to-do list", lambda: len(_todo_posts(fake)) > 0)
    print("  notifying", flush=True)
    restart_seconds = 0.0
    if kill:
        _wait("half the to-do lists", lambda: len(_todo_posts(fake)) >= users // 2)
        killed = time.monotonic()
        serve.kill()
        print(f"  SIGKILL after {len(_todo_posts(fake))} lists", flush=True)
        before = len(_todo_posts(fake))
        serve.start()
        if before < users:
            _wait("the restarted serve's first list", lambda: len(_todo_posts(fake)) > before)
            restart_seconds = time.monotonic() - killed
    _wait("every to-do list", lambda: len({key for key, _ in _todo_posts(fake)}) >= users)
    time.sleep(2)  # anything sent twice would come now
    posts = _todo_posts(fake)
    keys = [key for key, _ in posts]
    times = [at for _, at in posts]
    http.close()
    return Round(
        limit=limit,
        users=users,
        reached=len(set(keys)),
        duplicates=len(keys) - len(set(keys)),
        rate_limited=fake.rate_limited,
        sending_seconds=max(times) - min(times),
        restart_seconds=restart_seconds,
        history_lookups=len(fake.calls_of("conversations.history")),
    )


def _posted(fake: FakeSlack, prefix: str) -> list[dict[str, Any]]:
    with fake._changed:
        return [message for (channel, _), message in fake.messages.items() if channel.startswith(prefix)]


def _prompt(fake: FakeSlack) -> dict[str, Any] | None:
    for message in _posted(fake, "C"):
        blocks = message.get("blocks") or []
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        for block in blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if "Approve" in element["text"]["text"]:
                    return dict(element)
    return None


def report(rounds: list[Round], users: int) -> str:
    delivery = Settings.from_environment({}).delivery
    lines = [
        "## Notify: to-do lists through the real `aadbot serve` and a rate-limited Slack",
        "",
        "`nice .venv/bin/python -m bench.notify_benchmark --write`"
        " (defaults: `--users 2000 --limits 5,20,50`).",
        "The whole migration is driven over Slack's HTTP protocol (signed slash commands and clicks) against",
        "`aadbot serve` in a child process (SQLite), the Microsoft emulator with a generated organization,",
        "and a fake Slack Web API that enforces the limit on `chat.postMessage` (a bucket of one second's",
        "worth; past it HTTP 429 with an integer `Retry-After`). `serve` runs with its default delivery",
        f"settings (ceiling {delivery.max_rate_per_second:g}/s, start {delivery.initial_rate_per_second:g}/s,"
        f" +{delivery.increase_per_second:g}/s per second, x{delivery.decrease:g} on a 429, lease"
        f" {delivery.lease.total_seconds():g} s). Once half the lists are out, serve is SIGKILLed and"
        " started again.",
        "",
        f"Machine: {machine.summary()} (shared with other work).",
        "",
        "| enforced limit | users | reached | duplicates | 429s | history look-ups | sending time"
        " | serve down | rate | of limit | rate while up | of limit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for played in rounds:
        lines.append(
            f"| {played.limit:g}/s | {played.users} | {played.reached} | {played.duplicates} |"
            f" {played.rate_limited} | {played.history_lookups} | {played.sending_seconds:.1f} s |"
            f" {played.restart_seconds:.1f} s | {played.rate():.1f}/s | {played.rate() / played.limit:.0%} |"
            f" {played.steady_rate():.1f}/s | {played.steady_rate() / played.limit:.0%} |"
        )
    lines += [
        "",
        "Sending time runs from the first to-do list Slack accepted to the last, so it includes the kill,",
        "the restart of `serve` (a new Python process: imports, schema check, the directory) and its",
        "pacer starting again from the initial rate. *Serve down* is from the SIGKILL to the restarted",
        "process's first accepted list; *rate while up* leaves it out. History look-ups are the lists the",
        "killed process may have posted without recording it: each is searched for by its key first.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument(
        "--limits", default="5,20,50", help="enforced chat.postMessage rates, comma-separated"
    )
    parser.add_argument("--no-kill", action="store_true", help="do not SIGKILL serve half-way")
    parser.add_argument(
        "--write", action="store_true", help="replace the Notify section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    rounds = []
    for limit in (float(part) for part in args.limits.split(",")):
        print(f"limit {limit:g}/s, {args.users} users", flush=True)
        rounds.append(play(args.users, limit, kill=not args.no_kill))
        print(report(rounds, args.users), flush=True)
    text = report(rounds, args.users)
    failed = [
        f"{played.limit:g}/s"
        for played in rounds
        if played.reached != played.users or played.duplicates or played.steady_rate() < 0.9 * played.limit
    ]
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
