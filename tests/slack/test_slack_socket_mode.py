"""Socket Mode as Slack runs it over hours: links refreshed, disabled, dropped; a token Slack refuses."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.conversation.commands import USAGES
from tests.fakes.serve_process import Served, ServedSlack, serve_database, serve_process, serve_until_it_exits
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, SlackSender, in_thread, texts
from tests.fakes.socket_harness import APP_TOKEN
from tests.fakes.socket_mode import FakeSocketMode

WAIT = 30.0


@dataclass
class Bot:
    served: Served
    fake: FakeSlack
    socket: FakeSocketMode
    payloads: SlackSender

    def still_serves(self) -> None:
        """A command sent now is acked on the newest link and answered."""
        before = len(self.fake.responses)
        payload = self.payloads.command_payload("help all", user="UDANA")
        envelope_id = self.socket.send("slash_commands", payload)
        ack = self.socket.ack(envelope_id)
        assert ack == {"envelope_id": envelope_id}
        newest = self.socket.open_links()[-1]
        assert ack in newest.received
        self.fake.wait_for(lambda fake: len(fake.responses) > before, WAIT)
        assert all(f"`{usage.word}" in texts(self.fake.responses[before]) for usage in USAGES)


@pytest.fixture(scope="module")
def bot(serve_in_socket_mode: ServedSlack) -> Bot:
    """The shared Socket Mode process (tests/slack/conftest.py): links come and go over its life."""
    shared = serve_in_socket_mode
    return Bot(shared.served, shared.fake, shared.socket, SlackSender(None, shared.fake))


@pytest.mark.parametrize("reason", ["refresh_requested", "warning", "link_disabled"])
def test_after_a_disconnect_the_app_opens_a_new_link_and_goes_on_serving(bot: Bot, reason: str) -> None:
    links = len(bot.socket.links)
    opened = len(bot.fake.calls_of("apps.connections.open"))
    old = bot.socket.open_links()[-1]

    bot.socket.disconnect(reason, close_after=5.0)  # Slack closes the old link a little later

    new = bot.socket.wait_for_links(links + 1, WAIT)
    assert new is not old
    assert len(bot.fake.calls_of("apps.connections.open")) == opened + 1  # a fresh link for each
    bot.socket.wait_closed(old, WAIT)  # the app left the old one itself, well before Slack closed it
    assert bot.socket.open_links() == [new]
    assert bot.socket.refused == []  # never a used ticket twice
    bot.still_serves()


def test_a_link_slack_drops_without_a_word_is_replaced(bot: Bot) -> None:
    links = len(bot.socket.links)
    bot.socket.drop()
    bot.socket.wait_for_links(links + 1, WAIT)
    bot.still_serves()


def test_serve_with_an_app_token_slack_refuses_stops_at_once_naming_the_fix(
    tmp_path: Path, sqlite_template: Path
) -> None:
    fake = FakeSlack()  # no Socket Mode links: apps.connections.open says invalid_auth
    with ServerThread(fake.asgi()) as server:
        environment = {
            **{
                name: value
                for name, value in os.environ.items()
                if not name.startswith(("SLACK_", "AADBOT_"))
            },
            "AADBOT_SANDBOX": str(Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json"),
            "AADBOT_DATABASE_URL": serve_database(tmp_path, sqlite_template),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": f"{server.url}/api/",
        }
        finished = serve_until_it_exits(environment, tmp_path)
    assert finished.returncode == 2
    assert (
        finished.stderr.strip()
        .splitlines()[-1]
        .startswith("aadbot: Slack refused SLACK_APP_TOKEN (invalid_auth)")
    )
    assert "connections:write" in finished.stderr
    assert APP_TOKEN not in finished.stderr + finished.stdout
    assert "Traceback" not in finished.stderr


def test_two_serve_processes_on_one_database_share_the_work_and_a_retry_on_the_other_link_acts_once(
    bot: Bot, tmp_path: Path
) -> None:
    """Slack spreads envelopes over every open link of the app and may retry on another one. Then SIGTERM
    (what service managers send) closes a process's link and it exits cleanly, the other serving on.

    The other process is the shared one; a second starts beside it on its database."""
    fake, socket = bot.fake, bot.socket
    shared = {"AADBOT_DATABASE_URL": bot.served.database_url}
    with serve_process("socket", fake, tmp_path, socket=socket, environment=shared) as another:
        first, second = socket.open_links()
        payloads = bot.payloads
        ts = "777.000100"
        mention = payloads.event_payload(
            {
                "type": "app_mention",
                "user": "UDANA",
                "text": "<@UAADBOT> help all",
                "channel": "C1",
                "ts": ts,
            },
            event_id="EvTwice",
        )
        socket.ack(socket.send("events_api", mention, link=first))
        socket.ack(socket.send("events_api", mention, link=second, retry_attempt=1, retry_reason="timeout"))

        fake.wait_for(lambda f: bool(in_thread(f, ts)), WAIT)
        for link in (first, second):  # each process serves; by their answers the retry was looked at
            before = len(fake.responses)
            socket.ack(
                socket.send("slash_commands", payloads.command_payload("help", user="UDANA"), link=link)
            )
            fake.wait_for(lambda f, n=before: len(f.responses) > n, WAIT)
        assert len(in_thread(fake, ts)) == 1

        another.process.send_signal(signal.SIGTERM)
        assert another.ended() == 0
        socket.wait_closed(second)
        assert not another.tracebacks(), another.tracebacks()
        assert socket.open_links() == [first]
        bot.still_serves()
