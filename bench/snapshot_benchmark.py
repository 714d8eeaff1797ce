"""Snapshot benchmark: `aadbot snapshot` of a big synthetic organization, and its plan against the live one.

    .venv/bin/python bench/snapshot_benchmark.py [--users 100000 --directory 100000] [--json]

The emulator serves the generated scenario from a child process (`aadbot sandbox`); `aadbot snapshot`
runs as the real command in another child that reports its own peak RSS, once for a small organization
(the baseline: interpreter, imports, clients) and once for the big one, plain and `--redact`. Streaming
means the big run costs about what the small one does. Then this process plans the live sandbox and the
written file and compares them user by user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import facts  # noqa: E402
from bench.synthetic import CONNECTOR, ORGANIZATION, TENANT, arguments, generate, served  # noqa: E402
from msapi import from_environment  # noqa: E402
from sandbox import Sandbox, load_scenario  # noqa: E402
from workflows.plan import Plan  # noqa: E402
from workflows.plan_matching import build_plan  # noqa: E402

_SNAPSHOT = """
import json, sys, time
from bot.cli import main
started = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - started
# VmHWM: this program's own peak; ru_maxrss would keep the forking parent's from before exec.
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(json.dumps({"code": code, "seconds": round(seconds, 2), "peak_rss_mib": round(int(status) / 1024, 1)}))
"""


def run(users: int, directory: int, seed: int, ado_page: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        small = _measure(base, "small", 1_000, 1_000, seed, ado_page, redact=False)
        big = _measure(base, "big", users, directory, seed, ado_page, redact=False)
        redacted = _measure(base, "redacted", users, directory, seed, ado_page, redact=True)
        return {
            "users": users,
            "directory": directory,
            "ado_page": ado_page,
            "snapshot": {"baseline_1000_users": small, "plain": big, "redacted": redacted},
            "machine": facts(),
        }


def _measure(
    base: Path, name: str, users: int, directory: int, seed: int, ado_page: int, *, redact: bool
) -> dict[str, Any]:
    scenario = base / f"{name}-scenario.json"
    out = base / f"{name}-snapshot.json"
    generate(scenario, users, directory, seed)
    with served(scenario, ado_page) as url:
        command = ["snapshot", "--org", ORGANIZATION, "--tenant", TENANT, "--out", str(out)]
        child = subprocess.run(
            [sys.executable, "-c", _SNAPSHOT, *command, *(["--redact"] if redact else [])],
            cwd=ROOT,
            env={**os.environ, "AADBOT_SANDBOX_URL": url},
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
        if result["code"] != 0:
            raise SystemExit(f"aadbot snapshot failed: {child.stderr.strip()}")
        live = _plan(url, ORGANIZATION, TENANT, CONNECTOR)
    result["file_mib"] = round(out.stat().st_size / 2**20, 1)
    connector = CONNECTOR
    if redact:
        admins = json.loads(out.read_text(encoding="utf-8"))["organization"][
            "project_collection_administrators"
        ]
        connector = admins[0]  # user outcomes do not depend on the connector; its checks are not compared
    written = load_scenario(out)
    with Sandbox(written) as box:
        rehearsal = _plan(box.url, written.organization_name, written.tenant_id, connector)
    result["users_compared"] = len(live.users)
    result["same_counts"] = rehearsal.counts == live.counts
    result["same_outcome_per_user"] = _outcomes(rehearsal) == _outcomes(live)
    result["counts"] = live.counts
    return result


def _plan(url: str, organization: str, tenant: str, connector: str) -> Plan:
    with from_environment({"AADBOT_SANDBOX_URL": url}) as clients:
        return build_plan(clients.snapshot(organization, tenant, connector), connector)


def _outcomes(plan: Plan) -> dict[str, tuple[str, str | None]]:
    return {user.id: (user.outcome, user.match.id if user.match else None) for user in plan.users}


def main() -> int:
    args = arguments(__doc__)
    result = run(args.users, args.directory, args.seed, args.ado_page)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, run_result in result["snapshot"].items():
            print(f"{name}: {run_result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
