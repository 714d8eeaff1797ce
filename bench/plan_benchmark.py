"""Plan benchmark: a synthetic organization against a synthetic directory, through the sandbox over loopback.

    .venv/bin/python bench/plan_benchmark.py --users 100000 --directory 100000 [--json]

The emulator runs in a child process (`aadbot sandbox`), so the memory measured here is the bot's
side only: the real clients fetch everything (`MicrosoftClients.snapshot`) and `build_plan` matches.
Reported: every HTTP request (sign-in included, counted by the emulator and by the client) against
the page minimum, the matching time alone, wall time, peak memory, and how all of it compares with
merely parsing the scenario file, in the same run.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import facts  # noqa: E402
from bench.synthetic import CONNECTOR, ORGANIZATION, TENANT, arguments, generate, served  # noqa: E402
from msapi import from_environment, tls_context  # noqa: E402
from workflows.plan_matching import build_plan  # noqa: E402

GRAPH_PAGE = 999
REQUEST_BUDGET_OVER_MINIMUM = 5  # issue 3: "no more HTTP requests than the page minimum ... plus 5"


def run(users: int, directory: int, seed: int, ado_page: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.json"
        generate(path, users, directory, seed)
        with served(path, ado_page) as url:
            result = _measure(url, users, directory, ado_page)
        started = time.perf_counter()
        json.loads(path.read_text(encoding="utf-8"))
        parse = time.perf_counter() - started
        result["scenario_bytes"] = path.stat().st_size
    seconds = result["seconds"]
    seconds["parse_scenario"] = round(parse, 3)
    result["ratio_to_parse"] = {
        "wall": round(seconds["wall"] / parse, 2),
        "matching": round(seconds["matching"] / parse, 2),
    }
    return result


def _measure(url: str, users: int, directory: int, ado_page: int) -> dict[str, Any]:
    httpx.delete(f"{url}/_sandbox/requests", verify=tls_context())
    started = time.perf_counter()
    with from_environment({"AADBOT_SANDBOX_URL": url}) as clients:
        snapshot = clients.snapshot(ORGANIZATION, TENANT, CONNECTOR)
        sent = clients.session.request_count
    fetched = time.perf_counter()
    plan = build_plan(snapshot, CONNECTOR)
    matched = time.perf_counter()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    build_plan(snapshot, CONNECTOR)
    _, matching_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    counts = httpx.get(f"{url}/_sandbox/requests", verify=tls_context()).json()["byHost"]
    auth = counts.get("login.microsoftonline.com", 0)
    total = sum(counts.values())
    page_minimum = max(1, math.ceil(directory / GRAPH_PAGE)) + max(1, math.ceil(users / ado_page))
    return {
        "users": users,
        "directory": directory,
        "requests": {
            "total": total,
            "sent_by_client": sent,
            "identity_platform": auth,
            "data": total - auth,
            "by_host": counts,
        },
        "page_minimum": page_minimum,
        "requests_over_minimum": total - page_minimum,
        "within_budget": total - page_minimum <= REQUEST_BUDGET_OVER_MINIMUM,
        "seconds": {
            "fetch": round(fetched - started, 3),
            "matching": round(matched - fetched, 3),
            "wall": round(matched - started, 3),
        },
        "memory_mib": {
            "peak_rss": round(peak_rss / 1024, 1),
            "matching_peak_traced": round(matching_peak / 2**20, 1),
        },
        "counts": plan.counts,
        "machine": facts(),
    }


def main() -> int:
    args = arguments(__doc__)
    result = run(args.users, args.directory, args.seed, args.ado_page)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        seconds, requests = result["seconds"], result["requests"]
        print(f"{args.users:,} org users x {args.directory:,} directory users")
        print(
            f"requests: {requests['total']} "
            f"({requests['data']} data + {requests['identity_platform']} sign-in); "
            f"page minimum {result['page_minimum']} (+{result['requests_over_minimum']}, "
            f"budget +{REQUEST_BUDGET_OVER_MINIMUM})"
        )
        print(
            f"parse {seconds['parse_scenario']} s, fetch {seconds['fetch']} s, "
            f"matching {seconds['matching']} s, wall {seconds['wall']} s "
            f"({result['ratio_to_parse']['wall']}x parse)"
        )
        print(f"memory: {result['memory_mib']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
