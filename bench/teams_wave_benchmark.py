"""Teams at scale: `announce` and `notify` through the real `aadbot serve`, against the sandbox's Bot
Connector with Teams' documented limits.

Run from the repository root: `nice .venv/bin/python -m bench.teams_wave_benchmark [--users N] [--json FILE]`.

The organization is `sandbox.generate`'s (seed 2026) with names as long as real directories have them
(`bench.wave.scenario`). The sandbox plays Teams (`sandbox/_teams_limits.py`: per bot per conversation 7
operations a second, 8 in 2 s, 60 in 30 s, 1,800 in an hour; per app and tenant 30 a second; Graph installs 30
a second; past a limit HTTP 429 with `Retry-After`); nobody has the app yet, so each person costs a Graph
install, a conversation and the message. `serve` runs as a child process, Teams alone, with its default
settings and SQLite; the admin drives start, invite, announce, request-approval, the approval (a click on the
channel's card), the portal step and notify as Teams does (signed activities from the sandbox), asks
`progress` half-way through each wave, and `notify`'s `serve` is SIGKILLed half-way and started again.

Measured per wave: time from the command to the first DM, DMs a minute, the longest time without one,
connector operations and 429s, Graph requests, people written to twice, `serve`'s CPU and peak RSS; and the
largest message in a personal chat and in the channel, as JSON in UTF-8 and in UTF-16 (which Microsoft's
message size limit counts), against Teams' limits.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import machine
from bench.notify_benchmark import Serve, _wait, inherited_environment, two_admins
from bench.wave import (
    LONG_DOMAIN,
    Process,
    longest_gap,
    outcomes,
    pending,
    scenario,
    state,
    unconfirmed,
    written,
)
from bench.wave import Wave as WaveBase
from bench.wave import add_options as wave_options
from sandbox import Sandbox
from tests.teams.conftest import APP_ID, actions_of, texts
from tests.teams.serving import teams_through

QUIET_SECONDS = 5.0
POLL_SECONDS = 0.5
LIMITS_KB = (28, 40, 100)
"""Teams' message size limit as Microsoft has documented it over time (msteams-docs
`bots/how-to/format-your-bot-messages.md`): about 28 KB, then 40 KB, now 100 KB (80 KB advised), the
activity's JSON counted in UTF-16."""


@dataclass
class Seen:
    """One activity the bot sent or updated, as the benchmark keeps it: when it was first seen in the
    sandbox's log (to `POLL_SECONDS`), where it went, and its size."""

    at: float
    op: str
    kind: str
    """`personal` or `channel`"""
    user: str
    utf8: int
    utf16: int
    actions: int
    """The most actions in one set of its cards' (Teams shows six)."""
    summary: str
    entry: dict[str, Any] | None
    """The whole entry, for the channel's and the admins' messages only (20,000 lists would fill memory)."""


class Log:
    """The sandbox's Teams log, read as it grows (`?since=`) by a thread of its own."""

    def __init__(self, url: str, keep: set[str]) -> None:
        self._url = url
        self._keep = {person.casefold() for person in keep}
        self._lock = threading.Lock()
        self.seen: list[Seen] = []
        self._stop = threading.Event()
        self._http = httpx.Client(timeout=120)
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.read()

    def read(self) -> None:
        with self._lock:
            since = len(self.seen)
            fresh = self._http.get(f"{self._url}/_sandbox/teams/activities", params={"since": since}).json()
            now = time.monotonic()
            for entry in fresh:
                conversation = entry["conversation"]
                user = str(conversation.get("user") or "")
                payload = json.dumps(
                    {"type": "message", **{key: entry[key] for key in ("text", "summary", "attachments")}},
                    ensure_ascii=False,
                )
                kept = conversation["conversationType"] == "channel" or user.casefold() in self._keep
                self.seen.append(
                    Seen(
                        now,
                        str(entry["op"]),
                        str(conversation["conversationType"]),
                        user,
                        len(payload.encode()),
                        len(payload.encode("utf-16-le")),
                        _most_actions(entry["attachments"]),
                        str(entry.get("summary") or "")[:80],
                        entry if kept else None,
                    )
                )

    def since(self, position: int) -> list[Seen]:
        with self._lock:
            return self.seen[position:]

    def __len__(self) -> int:
        with self._lock:
            return len(self.seen)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._http.close()


@dataclass
class Wave(WaveBase):
    people: int = 0
    written_twice: int = 0
    """People other than the admins who got more than one new message in the wave."""
    updates: int = 0
    operations: int = 0
    throttled: int = 0
    graph_requests: int = 0
    largest_dm: dict[str, Any] = field(default_factory=dict)
    largest_channel: dict[str, Any] = field(default_factory=dict)
    killed_after: int = 0
    unconfirmed: list[str] = field(default_factory=list)
    """Whom the outbox recorded as possibly delivered (the SIGKILL cut their send short)..."""
    unconfirmed_never_arrived: list[str] = field(default_factory=list)
    """...and of them, who got nothing in the wave: a message lost, recorded as maybe sent."""


class Admin:
    """The admins' hands in Teams, through the sandbox's control endpoints, and what `serve` told them."""

    def __init__(self, box: Sandbox, log: Log, owner: str, approver: str) -> None:
        self.box, self.log, self.owner, self.approver = box, log, owner, approver
        self.http = httpx.Client(base_url=box.url, timeout=600)

    def say(self, text: str, *, channel: bool = True) -> str:
        """`text` said in the channel (or the owner's chat with the bot); the first answer's words."""
        before = len(self.log)
        said = self.http.post(
            "/_sandbox/teams/message", json={"from": self.owner, "text": text, "channel": channel}
        )
        said.raise_for_status()
        if said.json()["status"] != 200:
            raise SystemExit(f"serve answered {said.json()} to {text!r}")
        _wait(f"an answer to {text!r}", lambda: bool(self.told(before)), timeout=600)
        answer = texts(self.told(before)[0])
        print(f"  {text}: {answer[:600]!r}", flush=True)
        return answer

    def told(self, since: int) -> list[dict[str, Any]]:
        """What went to the channel or to the owner's chat since that position of the log."""
        return [
            seen.entry
            for seen in self.log.since(since)
            if seen.entry is not None
            and (seen.kind == "channel" or seen.user.casefold() == self.owner.casefold())
        ]

    def approve(self) -> None:
        """The approver clicks *Approve* on the channel's approval card, as they see it."""
        prompt = _wait_for(lambda: self._prompt(), "the approval card")
        view = self.http.get(
            "/_sandbox/teams/view", params={"activityId": prompt, "user": self.approver}
        ).json()
        [action] = [action for action in actions_of(view) if "Approve" in str(action.get("title"))]
        body = {"from": self.approver, "replyToId": prompt, "action": action}
        clicked = self.http.post("/_sandbox/teams/invoke", json=body)
        clicked.raise_for_status()
        print(f"  approve: {clicked.json()['status']}", flush=True)

    def _prompt(self) -> str | None:
        """The approval prompt in the approver's chat with the bot (its buttons come with the refresh Teams
        runs for the approver, as they look at it)."""
        for seen in self.log.since(0):
            mine = seen.kind == "personal" and seen.user.casefold() == self.approver.casefold()
            if mine and seen.entry is not None and "needed" in str(seen.entry.get("summary")):
                return str(seen.entry["id"])
        return None

    def dm_says(self, words: str) -> bool:
        return any(
            seen.kind == "personal" and seen.entry is not None and words in texts(seen.entry)
            for seen in self.log.since(0)
        )


def _wait_for(found: Any, what: str) -> Any:
    _wait(what, lambda: found() is not None)
    return found()


def play(users: int, *, kill: bool, notify: bool) -> tuple[list[Wave], dict[str, Any]]:
    made = scenario(users)
    owner, approver = two_admins(made)
    organization = str(made["organization"]["name"])
    with tempfile.TemporaryDirectory(prefix="aadbot-teams-wave-") as folder:
        scenario_file = Path(folder) / "scenario.json"
        scenario_file.write_text(json.dumps(made))
        database = Path(folder) / "serve.db"
        box = Sandbox(scenario_file).start()
        log = Log(box.url, {owner, approver})
        environment = (
            inherited_environment() | teams_through(box) | {"AADBOT_DATABASE_URL": f"sqlite:///{database}"}
        )
        serve = Serve(environment)
        try:
            _start(serve, box)
            admin = Admin(box, log, owner, approver)
            waves = _migrate(
                serve, box, admin, database, organization, str(made["tenant"]["id"]), kill, notify
            )
            final = {"users": users, "outbox": outcomes(database), "messages": _largest(log.since(0))}
        finally:
            serve.stop()
            log.stop()
            box.stop()
    return waves, final


def _start(serve: Serve, box: Sandbox) -> None:
    """`serve` started, and registered as the bot's messaging endpoint (a restarted one listens elsewhere)."""
    serve.start()
    registration = {"endpoint": f"{serve.url}/api/messages", "appId": APP_ID}
    httpx.post(f"{box.url}/_sandbox/teams/bot", json=registration, timeout=30).raise_for_status()


def _migrate(
    serve: Serve,
    box: Sandbox,
    admin: Admin,
    database: Path,
    organization: str,
    tenant_id: str,
    kill: bool,
    notify: bool,
) -> list[Wave]:
    def settle(what: str) -> None:
        _wait(what, lambda: pending(database) == 0, timeout=7200)

    admin.say(f"start {organization} {LONG_DOMAIN}")
    admin.say(f"invite {organization}")
    busy = ("inviting", "checking_prerequisites")  # after the invitations, the prerequisites again
    _wait("the invitations", lambda: state(database) not in busy, timeout=7200)
    settle("the invitations' notices")
    waves = [_wave(serve, box, admin, database, f"announce {organization} 2026-12-24", restart=False)]
    admin.say(f"request-approval {organization}")
    admin.approve()
    _wait("the portal steps", lambda: admin.dm_says("Connect directory"))
    connect = {"organization": organization, "tenantId": tenant_id}
    httpx.post(f"{box.url}/_sandbox/connect", json=connect, timeout=30).raise_for_status()
    admin.say(f"check-connection {organization}")
    settle("the connection notices")
    if notify:
        waves.append(_wave(serve, box, admin, database, f"notify {organization}", restart=kill))
    return waves


def _dms(seen: list[Seen], admins: set[str]) -> list[Seen]:
    """New messages in the personal chats of people other than the admins."""
    return [s for s in seen if s.op == "send" and s.kind == "personal" and s.user.casefold() not in admins]


def _sign_in_names(box: Sandbox) -> dict[str, str]:
    """Each directory user's sign-in name by their every address: the outbox writes to a guest at their
    own address, Teams names them by their `#EXT#` sign-in name."""
    names: dict[str, str] = {}
    for user in box.state()["tenant"]["users"]:
        upn = str(user["userPrincipalName"]).casefold()
        for address in (upn, user.get("mail"), *(user.get("otherMails") or ())):
            if address:
                names[str(address).casefold()] = upn
    return names


def _largest(seen: list[Seen]) -> dict[str, dict[str, Any]]:
    """The largest message each way, in UTF-8 and UTF-16 bytes, and the most actions in one set."""
    largest: dict[str, dict[str, Any]] = {}
    for kind in ("personal", "channel"):
        mine = [s for s in seen if s.kind == kind]
        if mine:
            top = max(mine, key=lambda s: s.utf16)
            most = max(s.actions for s in mine)
            largest[kind] = {
                "utf8": top.utf8,
                "utf16": top.utf16,
                "summary": top.summary,
                "count": len(mine),
                "actions": most,
            }
    return largest


def _most_actions(node: Any) -> int:
    """The most actions in one `ActionSet` (or a card's own `actions`) anywhere in `node`."""
    if isinstance(node, list):
        return max((_most_actions(item) for item in node), default=0)
    if not isinstance(node, dict):
        return 0
    own = len(node["actions"]) if isinstance(node.get("actions"), list) else 0
    return max([own, *(_most_actions(value) for value in node.values())])


def _wave(serve: Serve, box: Sandbox, admin: Admin, database: Path, text: str, *, restart: bool) -> Wave:
    assert serve.process is not None
    admins = {admin.owner.casefold(), admin.approver.casefold()}
    log = admin.log
    process = Process(serve.process.pid)
    stats = httpx.get(f"{box.url}/_sandbox/teams/stats", timeout=60).json()
    graph = box.request_counts().get("graph.microsoft.com", 0)
    cpu = process.cpu()
    position = len(log)
    started = time.monotonic()
    wave = Wave(command=text.split()[0])
    admin.say(text)
    _wait("the wave's first DM", lambda: bool(_dms(log.since(position), admins)), timeout=3600)
    total = pending(database) + len(_dms(log.since(position), admins))
    _wait("half the wave", lambda: len(_dms(log.since(position), admins)) >= total // 2, timeout=7200)
    asked = len(log)
    admin.say(f"progress {text.split()[1]}")
    time.sleep(QUIET_SECONDS)
    wave.progress = "\n---\n".join(texts(entry) for entry in admin.told(asked))
    if restart:
        wave.cpu_seconds += process.cpu() - cpu
        wave.rss_peak_mib = process.peak_mib()
        process.stop()
        serve.kill()
        wave.killed_after = len(_dms(log.since(position), admins))
        print(f"  SIGKILL after {wave.killed_after} DMs", flush=True)
        _start(serve, box)
        assert serve.process is not None
        process = Process(serve.process.pid)
        cpu = process.cpu()
    _wait("the wave's end", lambda: pending(database) == 0, timeout=7200)
    time.sleep(QUIET_SECONDS)
    log.read()
    wave.wall_seconds = time.monotonic() - started
    wave.cpu_seconds += process.cpu() - cpu
    wave.rss_peak_mib = max(wave.rss_peak_mib, process.peak_mib())
    process.stop()
    seen = log.since(position)
    dms = _dms(seen, admins)
    times = [s.at for s in dms]
    wave.dms = len(dms)
    per_person = Counter(s.user.casefold() for s in dms)
    wave.people = len(per_person)
    wave.written_twice = sum(1 for count in per_person.values() if count > 1)
    wave.updates = sum(1 for s in seen if s.op == "update")
    wave.unconfirmed = unconfirmed(database)
    if wave.unconfirmed:
        names = _sign_in_names(box)
        wave.unconfirmed_never_arrived = [
            person
            for person in wave.unconfirmed
            if names.get(person.casefold(), person.casefold()) not in per_person
        ]
    wave.first_dm_seconds = min(times) - started
    wave.sending_seconds = max(times) - min(times)
    wave.longest_gap_seconds = longest_gap(times)
    now = httpx.get(f"{box.url}/_sandbox/teams/stats", timeout=60).json()
    wave.operations = int(now["operations"]) - int(stats["operations"])
    wave.throttled = int(now["throttled"]) - int(stats["throttled"])
    wave.graph_requests = box.request_counts().get("graph.microsoft.com", 0) - graph
    largest = _largest(seen)
    wave.largest_dm, wave.largest_channel = largest.get("personal", {}), largest.get("channel", {})
    print(f"  {wave}", flush=True)
    return wave


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=2000)
    wave_options(parser)
    args = parser.parse_args()
    print(f"{args.users} users; {machine.summary()}", flush=True)
    waves, final = play(args.users, kill=not args.no_kill, notify=not args.announce_only)
    written(args, final, waves)
    for wave in waves:
        print(
            f"{wave.command}: {wave.dms} DMs to {wave.people} people ({wave.written_twice} twice),"
            f" first after {wave.first_dm_seconds:.1f} s, {wave.dms_per_minute():.0f} DMs/min,"
            f" {wave.operations} connector operations, {wave.throttled} 429s, CPU {wave.cpu_seconds:.0f} s,"
            f" RSS {wave.rss_peak_mib:.0f} MiB, longest without a DM {wave.longest_gap_seconds:.0f} s",
            flush=True,
        )
    for kind, largest in final["messages"].items():
        over = [f"{limit} KB" for limit in LIMITS_KB if largest["utf16"] > limit * 1024]
        print(f"largest {kind} message: {largest} (UTF-16 over {', '.join(over) or 'no limit'})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
