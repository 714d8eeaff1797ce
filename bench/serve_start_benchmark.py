"""CPU that `aadbot serve` takes to start, per mode, as the tests start it.

Each run starts `python -m bot.cli serve --port 0` in a new process (Slack over HTTP or in Socket Mode against
the tests' fake Slack with the bundled scenario's sandbox in-process, as tests/fakes/serve_process.py does;
Teams alone against a sandbox served here, as tests/teams/serving.py does), on a new database as at an
install's first start (most `serve`s of the tests start on a migrated copy instead), and reads the process's
user + system CPU from /proc once it is ready: `GET /healthz` answers 200 over HTTP, or it says it is
connected in Socket Mode. Then it is stopped. docs/testing.md, "Session 16: the wire and serve's start-up".

    .venv/bin/python -m bench.serve_start_benchmark --runs 5 [--mode http --mode socket --mode teams]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from sandbox import Sandbox, load_scenario
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.socket_harness import APP_TOKEN
from tests.fakes.socket_mode import FakeSocketMode
from tests.teams.serving import teams_through

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "sandbox" / "scenarios" / "fabrikam.json"
MODES = ("http", "socket", "teams")
READY_SECONDS = 60.0
_OWN_VARIABLES = ("SLACK_", "AADBOT_", "TEAMS_", "AZURE_")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process so far (/proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_once(environment: Mapping[str, str], socket_mode: bool) -> tuple[float, float]:
    """CPU and wall seconds from starting `serve` until it is ready."""
    with tempfile.TemporaryDirectory(prefix="serve-start-") as folder:
        env = dict(environment, AADBOT_DATABASE_URL=f"sqlite:///{folder}/serve.db")
        started = time.perf_counter()
        with subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", "0"],
            env=env,
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        ) as process:
            try:
                assert process.stdout is not None
                line = process.stdout.readline()
                if socket_mode:
                    line = process.stdout.readline()
                    if line.strip() != "connected to Slack in Socket Mode":
                        raise SystemExit(f"serve did not connect in Socket Mode: {line!r}")
                else:
                    _wait_until_healthy(line.split()[-1])
                return cpu_seconds(process.pid), time.perf_counter() - started
            finally:
                process.terminate()
                process.wait(timeout=20)


def _wait_until_healthy(url: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"serve at {url} was not healthy within {READY_SECONDS:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mode",
        action="append",
        choices=MODES,
        dest="modes",
        help="one of the modes, again for more (default: all)",
    )
    parser.add_argument("--runs", type=int, default=5, help="starts per mode (default 5)")
    args = parser.parse_args()
    own = {key: value for key, value in os.environ.items() if not key.startswith(_OWN_VARIABLES)}
    fake = FakeSlack(users={})
    with (
        ServerThread(fake.asgi()) as server,
        FakeSocketMode() as socket,
        Sandbox(load_scenario(SCENARIO)) as box,
    ):
        fake.url = server.url
        fake.socket_links = socket.open_link
        slack = own | {
            "AADBOT_SANDBOX": str(SCENARIO),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": f"{fake.url}/api/",
        }
        environments = {
            "http": slack | {"SLACK_SIGNING_SECRET": SIGNING_SECRET},
            "socket": slack | {"SLACK_APP_TOKEN": APP_TOKEN},
            "teams": own | teams_through(box),
        }
        for mode in args.modes or MODES:
            runs = [start_once(environments[mode], mode == "socket") for _ in range(args.runs)]
            cpu = sorted(used for used, _ in runs)
            wall = statistics.median(seconds for _, seconds in runs)
            print(
                f"{mode:6s} CPU to ready: median {statistics.median(cpu):.2f} s"
                f" (each: {' '.join(f'{used:.2f}' for used in cpu)}); wall median {wall:.2f} s"
            )


if __name__ == "__main__":
    main()
