"""`Sandbox.reset`: one server per test process, each test served what a new sandbox would serve."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from sandbox import Sandbox, parse_scenario

ZERO_TENANT = "00000000-0000-0000-0000-000000000000"


def _resource_tenant(box: Sandbox) -> httpx.Response:
    return httpx.head(f"{box.url}/vssps.dev.azure.com/fabrikam-fiber", timeout=10)


def test_a_reset_serves_the_scenario_again_at_the_same_url(fabrikam: dict[str, Any]) -> None:
    with Sandbox(parse_scenario(fabrikam)) as box:
        url, original = box.url, box.state()
        tenant = str(original["tenant"]["id"])
        box.connect("fabrikam-fiber", tenant)
        assert _resource_tenant(box).headers["X-VSS-ResourceTenant"] == tenant
        box.set_faults(rate_500=1.0)
        assert _resource_tenant(box).status_code == 500

        box.reset()

        assert box.url == url
        assert box.state() == original
        assert box.request_counts() == {}
        answer = _resource_tenant(box)  # no fault, not connected
        assert answer.headers["X-VSS-ResourceTenant"] == ZERO_TENANT
        assert box.request_counts() == {"vssps.dev.azure.com": 1}


def test_a_reset_to_another_scenario_serves_that_one(fabrikam: dict[str, Any]) -> None:
    other = copy.deepcopy(fabrikam)
    other["tenant"]["displayName"] = "Fabrikam Renamed"
    with Sandbox(parse_scenario(fabrikam)) as box:
        box.reset(parse_scenario(other))
        assert box.state()["tenant"]["displayName"] == "Fabrikam Renamed"
        box.connect("fabrikam-fiber", str(other["tenant"]["id"]))
        box.reset()
        assert box.state()["tenant"]["displayName"] == "Fabrikam Renamed"  # the latest scenario stays
