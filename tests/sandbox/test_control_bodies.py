"""The emulator's control endpoints (`/_sandbox/...`, the Teams world's) read their body as one JSON object:
a missing, malformed or non-object body is an empty one, refused for what it lacks, never a server error."""

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


def test_a_malformed_body_is_refused_for_what_it_lacks(box: Sandbox) -> None:
    response = httpx.post(f"{box.url}/_sandbox/connect", content=b"{not json", timeout=10)
    assert (response.status_code, response.json()) == (404, {"error": "unknown organization ''"})
