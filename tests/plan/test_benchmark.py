"""A small run of the plan benchmark, so it keeps working (the 100k run is in docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_benchmark_runs_within_the_request_budget() -> None:
    command = [sys.executable, "bench/plan_benchmark.py", "--users", "500", "--directory", "400", "--json"]
    result = json.loads(subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    assert sum(result["counts"].values()) == 500
    assert result["page_minimum"] == 1 + 5  # one Graph page of 999, five Azure DevOps pages of 100
    requests = result["requests"]
    assert requests["sent_by_client"] == requests["total"]  # what the emulator counted, sign-in included
    assert result["requests_over_minimum"] == requests["total"] - result["page_minimum"]
    assert 0 <= result["requests_over_minimum"] <= 5 and result["within_budget"]
    assert result["requests"]["by_host"]["graph.microsoft.com"] == 1
    assert result["seconds"]["parse_scenario"] > 0 and result["ratio_to_parse"]["wall"] > 0
