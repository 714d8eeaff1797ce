"""`aadbot serve` over HTTP against requests Slack never sends: unsigned, malformed, huge, never finished.

Each is refused before it is parsed or held whole, with a status that says why (401, 413), and
nothing of its body reaches the log.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.request_body import MAX_BODY_BYTES
from bot.slack.app import build_web_client, create_app
from bot.slack.http import EVENTS_PATH, create_asgi
from tests.fakes.raw_http import raw_post
from tests.fakes.serve_process import Served, ServedSlack
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, SIGNING_SECRET, ScriptedConversation

MARKER = "hostile-body-marker-7f3a"
"""In every hostile body: if it shows up in the log, a body was logged."""
TEN_MB = 10 * 1024 * 1024


@dataclass
class Bot:
    served: Served
    url: str

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.served.process.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


@pytest.fixture(scope="module")
def bot(serve_over_http: ServedSlack) -> Bot:
    """The shared HTTP process (tests/slack/conftest.py): what these requests must not do to it holds for
    a process that has served others before."""
    served = serve_over_http.served
    assert served.url is not None
    return Bot(served, served.url)


def test_an_unsigned_malformed_json_body_is_refused_with_401_and_no_traceback(bot: Bot) -> None:
    response = httpx.post(
        f"{bot.url}/slack/events",
        content='{"type": "event_callback", "event": {"text": "' + MARKER,
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 401
    assert "Traceback" not in bot.served.log_text()


@pytest.mark.parametrize(
    "headers",
    [
        {"x-slack-request-timestamp": "not-a-number", "x-slack-signature": "v0=00"},
        {"x-slack-request-timestamp": str(int(time.time()) - 3600), "x-slack-signature": "v0=00"},
        {},
    ],
    ids=["timestamp-not-a-number", "an-hour-old", "no-signature"],
)
def test_a_forged_or_stale_signature_is_refused_with_401(bot: Bot, headers: dict[str, str]) -> None:
    response = httpx.post(
        f"{bot.url}/slack/events",
        content=f"command=/aad&text={MARKER}",
        headers={"content-type": "application/x-www-form-urlencoded", **headers},
        timeout=10,
    )
    assert response.status_code == 401


def test_a_body_that_is_not_utf8_is_refused_with_401(bot: Bot) -> None:
    stamp = str(int(time.time()))
    response = httpx.post(
        f"{bot.url}/slack/events",
        content=b"\xff\xfe" + MARKER.encode(),
        headers={"x-slack-request-timestamp": stamp, "x-slack-signature": "v0=" + "0" * 64},
        timeout=10,
    )
    assert response.status_code == 401


def test_a_declared_size_over_the_cap_is_refused_with_413_before_the_body_is_read(bot: Bot) -> None:
    status = raw_post(
        bot.url,
        EVENTS_PATH,
        ["Content-Type: application/json", f"Content-Length: {TEN_MB}"],
        MARKER.encode() * 100,
    )
    assert status == 413


def test_a_chunked_body_growing_past_the_cap_is_refused_with_413(bot: Bot) -> None:
    chunk = (MARKER * 4096).encode()[: 64 * 1024]
    chunks = b"".join(
        f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(MAX_BODY_BYTES // len(chunk) + 2)
    )
    status = raw_post(
        bot.url, EVENTS_PATH, ["Content-Type: application/json", "Transfer-Encoding: chunked"], chunks
    )
    assert status == 413


def test_eight_ten_megabyte_requests_at_once_cost_no_memory_and_log_no_body(bot: Bot) -> None:
    before = bot.rss_kib()
    body = (MARKER * (TEN_MB // len(MARKER) + 1)).encode()[:TEN_MB]

    def send() -> int:
        try:
            return httpx.post(f"{bot.url}/slack/events", content=body, timeout=30).status_code
        except httpx.TransportError:
            return 0  # answered and closed while we were still sending

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: send(), range(8)))

    grown_kib = bot.rss_kib() - before
    assert set(statuses) <= {413, 0} and 413 in statuses
    assert grown_kib < 8 * 1024, f"serve grew by {grown_kib} KiB"
    log = bot.served.log_text()
    assert MARKER not in log and "Traceback" not in log


def test_a_body_that_never_finishes_arriving_is_given_up_with_408(fake_slack: FakeSlack) -> None:
    app = create_app(
        conversation=ScriptedConversation(),
        client=build_web_client(BOT_TOKEN, base_url=f"{fake_slack.url}/api/"),
        signing_secret=SIGNING_SECRET,
    )
    asgi = create_asgi(app, health=lambda: True, signing_secret=SIGNING_SECRET, body_seconds=0.2)
    with ServerThread(asgi) as server:
        status = raw_post(
            server.url, EVENTS_PATH, ["Content-Type: application/json", "Content-Length: 1000"], b'{"type"'
        )
    assert status == 408
