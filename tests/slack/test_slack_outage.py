"""No message of the workflow is dropped: Slack fails for a minute at each moment the workflow speaks, and
each message still arrives exactly once, through the outbox, as `serve` wires it (time is injected)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.conversation.messages import ADDRESS, Outgoing
from bot.delivery.notices import CHAT_MESSAGE
from bot.delivery.outboxes import NoticeOutbox
from bot.delivery.worker import OutboxWorker
from bot.runtime import Runtime
from bot.slack.app import build_delivery, build_web_client, create_app
from bot.slack.delivery import Delivery, Origin
from bot.slack.http import create_asgi
from bot.slack.people import People
from bot.slack.sender import SlackSender
from bot.slack.state import InMemorySlackState
from bot.slack.watch import watch_once
from sandbox import Sandbox
from storage import OutboundMessage
from tests.delivery.conftest import FakeTime
from tests.fakes.runtimes import runtime_on
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_backoff import back_off_on
from tests.fakes.slack_harness import BOT_TOKEN, SIGNING_SECRET, texts
from tests.fakes.slack_harness import SlackSender as SignedRequests

ORGANIZATION = "fabrikam-fiber"
CHANNEL = "CMIGRATE"
PEOPLE = {
    "UDANA": ("dana@fabrikam.com", "Dana Owner"),
    "ULEE": ("lee@fabrikam.com", "Lee Admin"),
    "UCAROL": ("carol@fabrikam.com", "Carol Extra"),
    "UANN": ("ann@fabrikam.com", "Ann User"),
    "UGUS": ("gus@fabrikam.com", "Gus User"),
    "UIVAN": ("ivan@fabrikam.com", "Ivan User"),
}
SENDING = frozenset({"chat.postMessage", "chat.update", "conversations.open", "conversations.history"})
OUTAGE = timedelta(minutes=1)


class Delivered:
    """How many turns' answers the app has delivered: the listener queues what a turn said in the outbox
    (or answers it at once) after the turn, so the test waits for that, not for a while."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._changed = threading.Condition()
        deliver = Delivery.deliver

        async def counted(delivery: Delivery, outgoings: list[Outgoing], origin: Origin | None) -> None:
            try:
                await deliver(delivery, outgoings, origin)
            finally:
                with self._changed:
                    self.count += 1
                    self._changed.notify_all()

        monkeypatch.setattr(Delivery, "deliver", counted)

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.count >= count, 20), (
                "the turn's answers never went out"
            )


@dataclass
class Bot:
    fake: FakeSlack
    time: FakeTime
    runtime: Runtime
    send: SignedRequests
    worker: OutboxWorker
    watch: Any
    backoffs: list[float]
    delivered: Delivered
    down_until: Any = None

    def slack_fails_for_a_minute(self) -> None:
        self.down_until = self.time.now + OUTAGE
        self.fake.outage = lambda method: method in SENDING and self.time.now < self.down_until

    def command(self, user: str, text: str) -> None:
        delivered = self.delivered.count
        assert self.send.command(text, user=user, channel=CHANNEL).status_code == 200
        self.delivered.wait_for(delivered + 1)

    def click(self, user: str, action_id: str, value: str) -> None:
        delivered = self.delivered.count
        assert self.send.click(action_id, value, user=user, channel=CHANNEL).status_code == 200
        self.delivered.wait_for(delivered + 1)

    def deliver_through_the_outage(self) -> None:
        """The worker runs every 10 s of the clock for five minutes: through the outage and after it."""
        for _ in range(30):
            asyncio.run(self.worker.drain())
            self.time.now += timedelta(seconds=10)

    def queued(self) -> list[OutboundMessage]:
        from sqlmodel import select

        with self.runtime.database.session() as session:
            return list(session.exec(select(OutboundMessage)).all())

    def posts(self, channel: str, containing: str) -> list[dict[str, Any]]:
        return [
            message
            for (where, _), message in self.fake.messages.items()
            if where == channel and containing in texts(message)
        ]


@pytest.fixture
def bot(sqlite_url: str, box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    delivered = Delivered(monkeypatch)
    time = FakeTime()
    runtime = runtime_on(box, sqlite_url, surface="slack", clock=time, admin_ids=frozenset({"UCAROL"}))
    fake = FakeSlack(users=dict(PEOPLE))
    with ServerThread(fake.asgi()) as slack:
        fake.url = slack.url
        client = build_web_client(BOT_TOKEN, base_url=f"{slack.url}/api/")

        def wait(seconds: float) -> None:
            time.now += timedelta(seconds=seconds)

        backoffs = back_off_on(client, wait)  # production's back-off, waited on the clock
        state, people = InMemorySlackState(), People(client)
        outbox = NoticeOutbox(runtime.database, clock=time)
        app = create_app(
            conversation=runtime.conversation,
            client=client,
            signing_secret=SIGNING_SECRET,
            state=state,
            people=people,
            outbox=outbox,
        )
        posting = build_web_client(BOT_TOKEN, base_url=f"{slack.url}/api/", retries=False)
        worker = OutboxWorker(
            runtime.database, SlackSender(posting, people, state), clock=time, sleep=time.sleep
        )
        delivery = build_delivery(client, people, state, outbox)

        def watch() -> None:
            asyncio.run(watch_once(runtime.conversation, delivery))

        with (
            ServerThread(create_asgi(app, health=lambda: True, signing_secret=SIGNING_SECRET)) as server,
            httpx.Client(base_url=server.url, timeout=20) as http,
        ):
            yield Bot(fake, time, runtime, SignedRequests(http, fake), worker, watch, backoffs, delivered)
    runtime.close()


def _button(message: dict[str, Any], label: str) -> dict[str, Any]:
    blocks = message["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return next(
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if label in element["text"]["text"]
    )


def test_every_message_of_the_workflow_survives_a_minute_of_slack_failing(bot: Bot) -> None:
    bot.command("UDANA", f"start {ORGANIZATION} fabrikam.com")
    bot.command("UDANA", f"invite {ORGANIZATION}")
    bot.deliver_through_the_outage()  # whatever the first steps queued

    # the approval prompt, to the channel and to the other admins
    bot.slack_fails_for_a_minute()
    bot.command("UDANA", f"request-approval {ORGANIZATION}")
    asyncio.run(bot.worker.drain())
    assert bot.posts(CHANNEL, "Approve") == []  # Slack is down: nothing got through yet
    bot.deliver_through_the_outage()
    (prompt,) = bot.posts(CHANNEL, "Approve")
    assert len(bot.posts("DULEE", "Approve")) == 1
    assert len(bot.posts("DULEE", "Who approval #1 affects")) == 1  # whom, by name, to Lee alone

    # the decision updates every copy; the portal steps go to the connector by DM
    bot.slack_fails_for_a_minute()
    approve = _button(prompt, "Approve")
    bot.click("ULEE", approve["action_id"], approve["value"])
    bot.deliver_through_the_outage()
    copies = [key for key, message in bot.fake.messages.items() if "Lee Admin" in texts(message)]
    assert {channel for channel, _ in copies} == {CHANNEL, "DULEE"}
    (decided,) = bot.posts(CHANNEL, "Approval #1")  # the prompt was updated in place, not posted again
    assert "Approved by Lee Admin" in texts(decided) and "Approved by Lee Admin" in texts(
        bot.posts("DULEE", "Approval #1")[0]
    )
    steps = [m for m in bot.posts("DULEE", "Connect directory") if "pproval #1" not in m["text"]]
    assert len(steps) == 1 and len(bot.posts("DULEE", "")) == 3  # the prompt's copy, whom, the steps
    (whom,) = bot.posts("DULEE", "Who approval #1 affected")  # settled in place, naming nobody now
    assert "✅ Approved by Lee Admin on " in texts(whom) and "@" not in texts(whom)

    # the watch confirms the connection: the channel's announcement
    sandbox = bot.runtime.sandbox
    assert sandbox is not None
    tenant_id = str(sandbox.state()["tenant"]["id"])
    connect = {"organization": ORGANIZATION, "tenantId": tenant_id}
    httpx.post(f"{sandbox.url}/_sandbox/connect", json=connect, timeout=10).raise_for_status()
    bot.slack_fails_for_a_minute()
    bot.watch()
    bot.deliver_through_the_outage()
    (announced,) = bot.posts(CHANNEL, "is now connected to")
    assert announced["text"].startswith(f"🎉 {ORGANIZATION} is now connected")

    # the to-do lists
    bot.slack_fails_for_a_minute()
    bot.command("UDANA", f"notify {ORGANIZATION}")
    bot.deliver_through_the_outage()
    assert len(bot.posts("DUGUS", "Done")) == 1
    # his account is disabled: his list says whom he waits on
    assert len(bot.posts("DUGUS", "Before you can sign in, the migration admins")) == 1
    # what the command told the channel, the listener queued (the workflow queued the rest itself)
    (said,) = bot.posts(CHANNEL, "To-do lists for")
    (summary,) = [
        message
        for message in bot.queued()
        if message.kind == CHAT_MESSAGE and message.payload["summary"] == said["text"]
    ]
    assert said["metadata"]["event_payload"]["key"] == summary.idempotency_key

    # two working days later: reminders to whoever has not finished, the digest to the channel
    before = {message.id for message in bot.queued()}
    bot.time.now += timedelta(days=2, hours=2)
    bot.slack_fails_for_a_minute()
    bot.watch()
    reminders = [m for m in bot.queued() if m.id not in before]
    assert {m.kind for m in reminders} == {"todo_reminder", "billing_reminder", "straggler_digest"}
    bot.deliver_through_the_outage()
    assert bot.posts("DUGUS", "waits on the migration admins") == []  # his list said it
    # the channel's digest counts: people's names are their addresses, which `progress` gives an admin alone
    (digest,) = bot.posts(CHANNEL, "still have open to-do items")
    assert ADDRESS.findall(texts(digest)) == [] and "Gus" not in texts(digest)
    assert "2 people wait for your decision" in texts(digest)

    queued = [m for m in bot.queued() if m.status != "superseded" and m.error_code != "not_in_chat"]
    assert {message.status for message in queued} == {"sent"}
    stamped: dict[str, int] = {}
    for message in bot.fake.messages.values():
        key = (message.get("metadata") or {}).get("event_payload", {}).get("key")
        stamped[key] = stamped.get(key, 0) + 1
    # exactly once: each queued message is in Slack once, and Slack holds nothing else of the outbox's
    for message in queued:
        if message.payload.get("updates") and stamped.get(message.idempotency_key) is None:
            channel, ts = (message.delivered_ref or "").split("/")
            assert (channel, ts) in bot.fake.messages  # a decision: the earlier copy, updated in place
        else:
            assert stamped.get(message.idempotency_key) == 1
    assert all(count == 1 for key, count in stamped.items() if key)
    assert len(bot.fake.calls_of("chat.postMessage")) > len(queued)  # the outage did refuse posts
    assert bot.backoffs  # the listeners' own calls were retried, after production's back-off on the clock
