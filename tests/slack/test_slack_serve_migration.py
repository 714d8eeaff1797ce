"""A whole migration through the real `aadbot serve` process, in HTTP and in Socket Mode.

Nothing is wired by the test: the process builds its runtime as operators run it (the Slack surface, the
background outbox worker, the connection watch, its database), talks to the fake Slack and to a sandbox
tenant this test controls, so that the test can click *Connect* in the portal the way an admin would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo import bundled_scenario
from sandbox import Sandbox
from tests.fakes.serve_process import MODES, Mode, Served, serve_process
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, SIGNING_SECRET, button, texts
from tests.fakes.socket_harness import APP_TOKEN
from tests.fakes.socket_mode import FakeSocketMode

ORGANIZATION = "fabrikam-fiber"
CHANNEL = "CMIGRATE"
PEOPLE = {
    "UDANA": ("dana@fabrikam.com", "Dana Owner"),
    "ULEE": ("lee@fabrikam.com", "Lee Admin"),
    "UANN": ("ann@fabrikam.com", "Ann User"),
    "UGUS": ("gus@fabrikam.com", "Gus User"),
    "UIVAN": ("ivan@fabrikam.com", "Ivan User"),
}
WAIT = 60.0


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(bundled_scenario()).start()
    yield box
    box.stop()


def live_reports(fake: FakeSlack) -> list[dict[str, Any]]:
    """The channel's live delivery report as it reads now (after its updates)."""
    return [
        message
        for (channel, _), message in fake.messages.items()
        if channel == CHANNEL and "Full list (CSV)" in json.dumps(message.get("blocks"))
    ]


def progress_lines(fake: FakeSlack) -> list[str]:
    """How each progress line in the channel ends, as it reads now (after its updates)."""
    return [
        str(message.get("text")).rpartition(": ")[2]
        for (channel, _), message in fake.messages.items()
        if channel == CHANNEL and str(message.get("text")).startswith("Inviting ")
    ]


ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
ADMINS = ("dana@fabrikam.com", "lee@fabrikam.com")
"""The prerequisites in the channel name the admin who connects (`connector-member`): their own account."""


def addresses_in_the_channel(fake: FakeSlack) -> list[str]:
    """Every address the channel was shown, in a post, an update of one in place (the live report) or an
    answer for all there, but the admins': people's names are their addresses, not for the whole channel."""
    shown = [
        call.params
        for call in fake.calls
        if call.method in ("chat.postMessage", "chat.update") and call.params.get("channel") == CHANNEL
    ]
    shown += [body for body in fake.responses if body.get("response_type") == "in_channel"]
    found = [address for params in shown for address in ADDRESS.findall(json.dumps(params))]
    return [address for address in found if address not in ADMINS]


class Admins:
    def __init__(self, served: Served, fake: FakeSlack) -> None:
        self.served, self.fake = served, fake

    def command(self, user: str, words: str) -> str:
        """`/aad words` as `user`; the first answer (private, or in the channel), as text: not a progress
        line, which `invite` posts while it goes on."""
        replies, posts = len(self.fake.responses), len(self.answers())
        assert self.served.drive.command(words, user=user, channel=CHANNEL).status_code == 200
        self.fake.wait_for(lambda fake: len(fake.responses) > replies or len(self.answers()) > posts, WAIT)
        if len(self.fake.responses) > replies:
            return texts(self.fake.responses[replies])
        return texts(self.answers()[posts].params)

    def answers(self) -> list[Call]:
        return [call for call in self.fake.posts_to(CHANNEL) if "done so far…" not in texts(call.params)]

    def posted(self, channel: str, containing: str) -> list[Call]:
        return [call for call in self.fake.posts_to(channel) if containing in texts(call.params)]


@pytest.mark.parametrize("mode", MODES)
def test_a_migration_through_serve_with_the_watch_and_the_outbox_in_the_background(
    mode: Mode, sandbox: Sandbox, tmp_path: Path, sqlite_template: Path
) -> None:
    fake = FakeSlack(users=dict(PEOPLE))
    environment = {
        "AADBOT_SANDBOX": "",
        "AADBOT_SANDBOX_URL": sandbox.url,
        "AZURE_TENANT_ID": str(sandbox.state()["tenant"]["id"]),
        "AADBOT_POLL_SECONDS": "1",
    }
    with (
        ServerThread(fake.asgi()) as server,
        FakeSocketMode() as socket,
    ):
        fake.url = server.url
        with serve_process(
            mode, fake, tmp_path, socket=socket, environment=environment, migrated=sqlite_template
        ) as served:
            admins = Admins(served, fake)
            started = admins.command("UDANA", f"start {ORGANIZATION} fabrikam.com")
            assert "The plan is ready" in started
            admins.command("UDANA", f"invite {ORGANIZATION}")
            admins.command("UDANA", f"request-approval {ORGANIZATION}")
            fake.wait_for(lambda _: bool(admins.posted(CHANNEL, "Approve")), WAIT)
            assert progress_lines(fake) == []  # two invitations take a moment: no progress line for them
            approve = button(admins.posted(CHANNEL, "Approve")[0], "Approve")

            assert served.drive.click(approve["action_id"], approve["value"], user="ULEE").status_code == 200
            fake.wait_for(lambda _: bool(admins.posted("DULEE", "Connect directory")), WAIT)

            # the admin clicks Connect in the portal; the watch in `serve` notices by itself
            connect = {"organization": ORGANIZATION, "tenantId": str(sandbox.state()["tenant"]["id"])}
            httpx.post(f"{sandbox.url}/_sandbox/connect", json=connect, timeout=10).raise_for_status()
            announced = f"{ORGANIZATION} is now connected to"
            fake.wait_for(lambda _: bool(admins.posted(CHANNEL, announced)), WAIT)

            # the to-do lists go out through the outbox worker running inside `serve`
            admins.command("UDANA", f"notify {ORGANIZATION}")
            users = ("DUGUS", "DUIVAN", "DUANN")
            fake.wait_for(lambda f: all(f.posts_to(dm) for dm in users), WAIT)
            assert len(admins.posted(CHANNEL, announced)) == 1  # announced once, though watched every second
            for dm in users:
                (todo,) = fake.posts_to(dm)  # exactly once each
                assert "Done" in texts(todo.params)

            # the live report in the channel: its full list, now, privately to the admin who asks
            fake.wait_for(lambda f: bool(live_reports(f)), WAIT)
            full_list = button(Call("chat.update", live_reports(fake)[0], None), "Full list (CSV)")
            replies = len(fake.responses)
            clicked = served.drive.click(full_list["action_id"], full_list["value"], user="UDANA")
            assert clicked.status_code == 200
            fake.wait_for(lambda f: len(f.responses) > replies and bool(f.shared), WAIT)
            ((where, title, content),) = fake.shared
            assert where == "DUDANA" and ORGANIZATION in title  # Dana's DM with the bot, not the channel
            rows = content.decode().splitlines()
            everyone = json.loads(bundled_scenario().read_text())["user_entitlements"]
            assert rows[0].startswith("email,") and len(rows) == 1 + len(everyone)  # header, then everyone
            assert {email for email, _ in PEOPLE.values()} - {"dana@fabrikam.com", "lee@fabrikam.com"} <= {
                row.split(",")[0] for row in rows
            }
            assert "direct messages" in texts(fake.responses[replies])
            assert not served.tracebacks(), served.tracebacks()
            assert addresses_in_the_channel(fake) == []
            _the_operator_could_follow_it(served, mode, sandbox)


def _the_operator_could_follow_it(served: Served, mode: Mode, sandbox: Sandbox) -> None:
    """What serve acts on, said once at start-up (loudly: the emulator), then one line per step; never a
    secret."""
    log = served.log_text()
    said = [line for line in log.splitlines() if line.split(" ", 1)[-1].startswith("aadbot.")]
    slack = (
        "Socket Mode (SLACK_APP_TOKEN)" if mode == "socket" else "HTTP, signed requests at POST /slack/events"
    )
    start_up = [
        f"INFO aadbot.serve: database: {served.database_url}",
        f"INFO aadbot.serve: Slack: {slack}",
        "INFO aadbot.serve: Teams: off (TEAMS_APP_ID is not set)",
        f"WARNING aadbot.serve: EMULATOR: every Microsoft call goes to {sandbox.url} (AADBOT_SANDBOX_URL),"
        " not to Microsoft: nothing real is read or changed",
        "INFO aadbot.serve: connection watch: every 1 s (AADBOT_POLL_SECONDS)",
        "INFO aadbot.serve: Slack workspace Fabrikam (T1), bot user aadbot (UAADBOT)",
    ]
    # The first five are said before serve takes requests; the workspace line when Slack's auth.test
    # answers, which serve asks beside the first requests (bot/slack/serve.py), so on a busy machine it
    # can come after the first steps: in order among serve's lines, not before the steps.
    assert said[:5] == start_up[:5]
    assert [line for line in said if " aadbot.serve: " in line] == start_up
    step = f"INFO aadbot.migration: {ORGANIZATION}:"
    assert [line for line in said if line not in start_up] == [
        f"{step} draft -> checking_prerequisites (check, by Dana Owner)",
        f"{step} checking_prerequisites -> planned (prerequisites_passed, by Dana Owner)",
        f"{step} planned -> inviting (invite, by Dana Owner)",
        f"{step} inviting -> checking_prerequisites (invitations_sent, by Dana Owner)",
        f"{step} checking_prerequisites -> planned (prerequisites_passed, by Dana Owner)",
        f"{step} planned -> awaiting_approval (request_approval, by Dana Owner)",
        f"{step} awaiting_approval -> connecting (approve, by Lee Admin)",
        f"{step} connecting -> connected (connection_confirmed, by aadbot)",
        f"{step} connected -> users_notified (notify, by Dana Owner)",
    ]
    for secret in (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, "sandbox-secret", "sandbox-pat"):
        assert secret not in log
