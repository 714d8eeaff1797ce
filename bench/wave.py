"""What the Slack and Teams wave benchmarks share: the long-named organization, `serve`'s CPU and memory, and
the outbox and migration read from `serve`'s SQLite database while it runs."""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import machine
from bench.serve_start_benchmark import cpu_seconds
from sandbox.generate import generate

LONG_DOMAIN = "platform-reliability.emea.contoso-engineering.com"


@dataclass
class Wave:
    """What every wave measures: its DMs, how fast they went, what `serve` spent, and `progress` half-way."""

    command: str
    dms: int = 0
    first_dm_seconds: float = 0.0
    sending_seconds: float = 0.0
    longest_gap_seconds: float = 0.0
    """The longest time without a DM while the wave was under way: the wave standing still."""
    cpu_seconds: float = 0.0
    rss_peak_mib: float = 0.0
    wall_seconds: float = 0.0
    progress: str = ""

    def dms_per_minute(self) -> float:
        return 60 * self.dms / self.sending_seconds if self.sending_seconds else 0.0


class Process:
    """CPU and memory of a running process, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.rss_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def cpu(self) -> float:
        try:
            return cpu_seconds(self.pid)
        except FileNotFoundError:
            return 0.0

    def status(self, name: str) -> float:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(name + ":"):
                    return int(line.split()[1]) / 1024
        except FileNotFoundError:
            pass
        return 0.0

    def peak_mib(self) -> float:
        """The most resident memory seen: the samples' peak, or the kernel's high-water mark."""
        return max(self.rss_peak, self.status("VmHWM"))

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            self.rss_peak = max(self.rss_peak, self.status("VmRSS"))

    def stop(self) -> None:
        self._stop.set()


def scenario(users: int) -> dict[str, Any]:
    """`sandbox.generate`'s organization (seed 2026, 95% of the users in the directory) with names and
    addresses as long as real directories have them (tests/slack/test_slack_message_sizes.py's)."""
    made = generate(users, users * 19 // 20, seed=2026)
    text = json.dumps(made)
    text = re.sub(r"\buser(?=\d)", "maximiliana.alexandrina.wiesenthal-kolmogorova.user", text)
    long_name = '"Maximiliana Alexandrina von Wiesenthal-Kolmogorova (Platform Reliability, EMEA) '
    text = re.sub(r'"User (?=\d+")', long_name, text)
    return dict(json.loads(text.replace("contoso.com", LONG_DOMAIN)))


def _read(database: Path, query: str) -> list[Any]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        return connection.execute(query).fetchall()


def pending(database: Path) -> int:
    """Messages due within the hour not yet sent or given up (reminders come days later)."""
    [(count,)] = _read(
        database,
        "SELECT count(*) FROM outbound_message WHERE status = 'pending'"
        " AND not_before < datetime('now', '+1 hour')",
    )
    return int(count)


def state(database: Path) -> str:
    [(found,)] = _read(database, "SELECT state FROM migration")
    return str(found)


def outcomes(database: Path) -> dict[str, int]:
    """How many messages of the outbox ended how (status and error code)."""
    rows = _read(
        database, "SELECT status, coalesce(error_code, ''), count(*) FROM outbound_message GROUP BY 1, 2"
    )
    return {f"{status} {code}".strip(): int(count) for status, code, count in rows}


def unconfirmed(database: Path) -> list[str]:
    """To whom the outbox recorded a message as possibly delivered (sent, its arrival unconfirmed)."""
    rows = _read(
        database,
        "SELECT recipient FROM outbound_message WHERE status = 'sent' AND error_code = 'unconfirmed'",
    )
    return [str(recipient) for (recipient,) in rows]


def longest_gap(times: list[float]) -> float:
    """The longest time between two of these moments: the wave standing still."""
    return max((b - a for a, b in itertools.pairwise(sorted(times))), default=0.0)


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options every wave benchmark takes besides its own."""
    parser.add_argument("--no-kill", action="store_true", help="do not SIGKILL serve half-way through notify")
    parser.add_argument("--announce-only", action="store_true", help="stop after the announce wave")
    parser.add_argument("--json", type=Path, help="also write the figures there")


def written(args: argparse.Namespace, final: dict[str, Any], waves: Sequence[Wave]) -> None:
    """The figures printed as JSON, and written to `--json` if given."""
    result = {"machine": machine.summary(), **final, "waves": [asdict(wave) for wave in waves]}
    print(json.dumps(result, indent=2), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
