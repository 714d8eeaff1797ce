"""`aadbot serve` over HTTP against requests Slack never sends: unsigned, malformed, huge, never finished.

Each is refused before it is parsed or held whole, with a status that says why (401, 413), and
nothing of its body reaches the log.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.request_body import MAX_BODY_BYTES
from bot.slack.app import build_web_client, create_app
from bot.slack.http import EVENTS_PATH, MISMATCH_WARNING_EVERY, create_asgi
from tests.fakes.raw_http import raw_post
from tests.fakes.serve_process import Served, ServedSlack, serve_process
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, SIGNING_SECRET, Clock, ScriptedConversation, SlackSender

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
    assert not bot.served.tracebacks(), bot.served.tracebacks()


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


def test_someone_slack_does_not_know_costs_one_log_line(bot: Bot, serve_over_http: ServedSlack) -> None:
    """users.info says user_not_found (a user deleted since, another workspace's id): the person is told
    what is wrong and what to do (waiting does not help), and the log gets the reason in one line."""
    fake = serve_over_http.fake
    logged = len(bot.served.log_text())
    before = len(fake.responses)
    ack = bot.served.drive.command("status", user="UNOBODY")
    assert ack.status_code == 200
    fake.wait_for(lambda slack: len(slack.responses) > before, 30)
    told = str(fake.responses[-1].get("text", ""))
    assert "cannot find you in this Slack workspace" in told and "workspace where I am installed" in told
    assert "in a minute" not in told
    log = bot.served.log_text()[logged:]
    assert "users.info failed for UNOBODY: user_not_found" in log, log
    assert "Traceback" not in log


@pytest.mark.parametrize("payload", ["{not json", '["a list"]'], ids=["not-json", "not-an-object"])
def test_a_signed_but_malformed_interactivity_payload_is_refused_in_one_log_line(
    bot: Bot, serve_over_http: ServedSlack, payload: str
) -> None:
    logged = len(bot.served.log_text())
    with httpx.Client(base_url=bot.url, timeout=10) as http:
        answer = SlackSender(http, serve_over_http.fake).post(
            urlencode({"payload": payload}), "application/x-www-form-urlencoded"
        )
    log = bot.served.log_text()[logged:]
    assert answer.status_code == 400, (answer.status_code, log)
    assert "refused a signed request bolt cannot parse" in log
    assert "Traceback" not in log and "{not json" not in log, log


def test_requests_signed_with_another_secret_warn_the_operator_once_a_minute_without_their_body(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack's own requests, when SLACK_SIGNING_SECRET is wrong: each a 401, which alone told nobody why."""
    app = create_app(
        conversation=ScriptedConversation(),
        client=build_web_client(BOT_TOKEN, base_url=f"{fake_slack.url}/api/"),
        signing_secret=SIGNING_SECRET,
    )
    clock = Clock()
    asgi = create_asgi(app, health=lambda: True, signing_secret=SIGNING_SECRET, clock=clock)
    logged: list[str] = []
    with ServerThread(asgi) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        other = SlackSender(http, fake_slack, secret="another-apps-secret")

        def warnings_of(requests: int, signed: bool = True) -> list[str]:
            caplog.clear()
            for _ in range(requests):
                sent = other.command(MARKER) if signed else http.post(EVENTS_PATH, content=MARKER)
                assert sent.status_code == 401
            logged.extend(record.getMessage() for record in caplog.records)
            return [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]

        with caplog.at_level(logging.INFO, logger="bot.slack.http"):
            (first,) = warnings_of(3)
            clock.now += MISMATCH_WARNING_EVERY - 1
            assert warnings_of(2) == []
            clock.now += 1
            (again,) = warnings_of(1)
            clock.now += MISMATCH_WARNING_EVERY
            assert warnings_of(2, signed=False) == []  # no signature at all: not Slack's, nothing to tell
    assert first.startswith("refused 1 request(s) at /slack/events whose Slack signature does not match")
    assert "SLACK_SIGNING_SECRET" in first and "Basic Information > App Credentials" in first
    assert again.startswith("refused 5 request(s)")  # the four it kept quiet about, and this one
    assert all(MARKER not in line and "v0=" not in line for line in logged)


def test_the_serving_process_tells_its_operator_of_a_signature_that_does_not_match(
    fake_slack: FakeSlack, sqlite_template: Path, tmp_path: Path
) -> None:
    """A process of its own: in the shared one, the forged signatures of the tests above may have had the
    minute's one warning, and a test reading the whole log passed on theirs whatever its own request did."""
    with serve_process("http", fake_slack, tmp_path, migrated=sqlite_template) as served:
        assert served.url is not None
        before = len(served.log_text())
        with httpx.Client(base_url=served.url, timeout=10) as http:
            other = SlackSender(http, fake_slack, secret="another-apps-secret")
            assert other.command(MARKER).status_code == 401
        said = served.log_text()[before:]  # written before the 401 was sent
    warned = [line for line in said.splitlines() if line.startswith("WARNING bot.slack.http: refused")]
    assert len(warned) == 1 and "does not match SLACK_SIGNING_SECRET" in warned[0], said
    assert MARKER not in said and SIGNING_SECRET not in said
