"""The emulator's control endpoints (`/_sandbox/...`, the Teams world's) read their body as one JSON object:
a missing, malformed or non-object body is an empty one, refused for what it lacks, never a server error;
`connect` says the body is not an object (400), rather than that the organization '' is unknown."""

from __future__ import annotations

import httpx
import pytest

from sandbox import Sandbox
from sandbox._common import json_object


@pytest.mark.parametrize(
    "raw", [b"", b"{not json", b'["organization", "fabrikam-fiber"]', b'"fabrikam-fiber"', b"\xff\xfe{"]
)
def test_a_body_that_is_not_a_json_object_reads_as_an_empty_one(raw: bytes) -> None:
    assert json_object(raw) == {}


def test_an_object_is_read_as_sent() -> None:
    assert json_object(b'{"organization": "fabrikam-fiber", "n": 1}') == {
        "organization": "fabrikam-fiber",
        "n": 1,
    }


CONNECT_BODY = 'send {"organization": NAME, "tenantId": ID} (the all-zero id disconnects)'


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{not json", f"the body is not a JSON object; {CONNECT_BODY}"),
        (b"", f"the body is not a JSON object; {CONNECT_BODY}"),
        (b'["fabrikam-fiber"]', f"the body is not a JSON object; {CONNECT_BODY}"),
        (b"{}", f"organization is required; {CONNECT_BODY}"),
        (b'{"organization": "fabrikam-fiber"}', "tenantId is required (all zeros disconnects)"),
    ],
)
def test_connect_refuses_a_body_it_cannot_use_with_400_naming_the_problem(
    box: Sandbox, raw: bytes, error: str
) -> None:
    """Not 404 "unknown organization ''": nothing named an organization, the body itself is wrong."""
    response = httpx.post(f"{box.url}/_sandbox/connect", content=raw, timeout=10)
    assert (response.status_code, response.json()) == (400, {"error": error})
    assert box.state()["organization"]["connected_tenant_id"] == "00000000-0000-0000-0000-000000000000"


def test_connect_to_an_unknown_organization_is_404(box: Sandbox) -> None:
    body = {"organization": "nowhere", "tenantId": "00000000-0000-0000-0000-000000000001"}
    response = httpx.post(f"{box.url}/_sandbox/connect", json=body, timeout=10)
    assert (response.status_code, response.json()) == (404, {"error": "unknown organization 'nowhere'"})
