"""Slack tells the bot of a member who changed (`user_change`) in the middle of a notification wave.

The workspace directory is read once for a wave that can last hours; these conversations show the bot
following Slack's events instead: someone deactivated gets nothing more (Slack would still take a post to
their user id and the bot would record it sent), someone reactivated is reached again, someone whose
email changed is reached at the new one only. Over HTTP and over Socket Mode: one listener serves both.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.delivery.worker import OutboxWorker
from bot.slack.app import build_web_client, create_app
from bot.slack.http import create_asgi
from bot.slack.people import People
from bot.slack.sender import SlackSender
from storage import Database, OutboundMessage
from storage.outbox import NOT_IN_CHAT, enqueue, retry_failed
from tests.delivery.conftest import FakeTime, queue_lists
from tests.fakes.server import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import (
    BOT_TOKEN,
    COLLEAGUE,
    COLLEAGUE_EMAIL,
    SIGNING_SECRET,
    TRANSPORTS,
    ScriptedConversation,
)
from tests.fakes.slack_harness import (
    SlackSender as SignedRequests,
)
from tests.fakes.socket_harness import SocketModeSender, SocketModeThread
from tests.fakes.socket_mode import FakeSocketMode
from workflows.stages.relisting import REMINDER_MESSAGE

RECORDED = json.loads((Path(__file__).parent / "events" / "user_change.json").read_text())["event"]
WAIT_SECONDS = 5.0


class HeardPeople(People):
    """People that tells the test each time a change is applied: listeners run after the ack."""

    def __init__(self, client: AsyncWebClient) -> None:
        super().__init__(client)
        self.applied = threading.Semaphore(0)

    def changed(self, member: dict[str, Any]) -> None:
        super().changed(member)
        self.applied.release()


@dataclass
class Workspace:
    fake: FakeSlack
    send: Any
    """A signed-request sender over HTTP or a Socket Mode one: the same `event` verb."""
    people: HeardPeople
    worker: OutboxWorker
    database: Database
    time: FakeTime

    def slack_says(self, user_id: str, *, email: str | None, deleted: bool) -> None:
        """Slack's `user_change` for this member, as in Slack's own example; waits until applied."""
        event = copy.deepcopy(RECORDED)
        event["user"] |= {"id": user_id, "deleted": deleted}
        event["user"]["profile"] |= {"email": email} if email else {}
        assert self.send.event(event).status_code == 200
        assert self.people.applied.acquire(timeout=WAIT_SECONDS), "the change never reached People"

    def lists_to(self, *emails: str) -> list[OutboundMessage]:
        """A to-do list to each, queued as `notify` queues them and sent by the outbox worker."""
        migration_id = queue_lists(self.database, list(emails), self.time.now)
        asyncio.run(self.worker.drain())
        return self.rows(OutboundMessage.migration_id == migration_id)

    def remind(self, listed: OutboundMessage, *, at: str | None = None) -> OutboundMessage:
        """A reminder of that list (`at` another address), queued as the watch queues one, and sent by
        the outbox worker."""
        recipient = at or listed.recipient
        with self.database.session() as session:
            reminder = enqueue(
                session,
                idempotency_key=f"{listed.idempotency_key}-reminder-{recipient}",
                recipient=recipient,
                kind=REMINDER_MESSAGE,
                payload=listed.payload | {"total": 1, "reminder_id": 1},
                now=self.time.now,
            )
            session.commit()
            key = reminder.idempotency_key
        asyncio.run(self.worker.drain())
        (sent,) = self.rows(OutboundMessage.idempotency_key == key)
        return sent

    def rows(self, where: Any) -> list[OutboundMessage]:
        with self.database.session() as session:
            query = select(OutboundMessage).where(where).order_by(OutboundMessage.id)  # type: ignore[arg-type]
            return list(session.exec(query).all())


@pytest.fixture(params=TRANSPORTS)
def workspace(
    request: pytest.FixtureRequest, fake_slack: FakeSlack, sqlite_database: Database
) -> Iterator[Workspace]:
    """The app and the outbox worker sharing one People, as `serve` runs them."""
    client = build_web_client(BOT_TOKEN, base_url=f"{fake_slack.url}/api/")
    people = HeardPeople(client)
    app = create_app(
        conversation=ScriptedConversation(), client=client, signing_secret=SIGNING_SECRET, people=people
    )
    posting = build_web_client(BOT_TOKEN, base_url=f"{fake_slack.url}/api/", retries=False)
    time = FakeTime()
    worker = OutboxWorker(sqlite_database, SlackSender(posting, people), clock=time, sleep=time.sleep)
    with ExitStack() as stack:
        send: Any
        if request.param == "socket":
            socket = stack.enter_context(FakeSocketMode())
            fake_slack.socket_links = socket.open_link
            stack.enter_context(SocketModeThread(app, client, socket))
            send = SocketModeSender(socket, fake_slack)
        else:
            server = stack.enter_context(
                ServerThread(create_asgi(app, health=lambda: True, signing_secret=SIGNING_SECRET))
            )
            send = SignedRequests(stack.enter_context(httpx.Client(base_url=server.url)), fake_slack)
        yield Workspace(fake_slack, send, people, worker, sqlite_database, time)


def test_someone_deactivated_during_the_wave_gets_nothing_more_and_is_not_in_chat_with_the_reason(
    workspace: Workspace,
) -> None:
    (listed,) = workspace.lists_to(COLLEAGUE_EMAIL)  # the directory is read for the wave
    assert listed.status == "sent"

    workspace.fake.deactivated.add(COLLEAGUE)  # an admin deactivates them in Slack, which tells the bot
    workspace.slack_says(COLLEAGUE, email=COLLEAGUE_EMAIL, deleted=True)
    reminder = workspace.remind(listed)

    assert (reminder.status, reminder.error_code) == ("failed", NOT_IN_CHAT)
    assert reminder.last_error == "their Slack account is deactivated"
    assert len(workspace.fake.posts_to(f"D{COLLEAGUE}")) == 1  # only the list, sent before
    assert len(workspace.fake.calls_of("users.list")) == 1  # told, not read again
    assert workspace.fake.calls_of("users.lookupByEmail") == []


def test_someone_reactivated_is_reached_again_when_what_failed_is_retried(workspace: Workspace) -> None:
    (listed,) = workspace.lists_to(COLLEAGUE_EMAIL)
    workspace.fake.deactivated.add(COLLEAGUE)
    # what Slack was seen to send for a deactivation: the profile elided (mashabow/slack-rota#61)
    workspace.slack_says(COLLEAGUE, email=None, deleted=True)
    unreached = workspace.remind(listed)
    assert unreached.last_error == "their Slack account is deactivated"

    workspace.fake.deactivated.discard(COLLEAGUE)  # an admin reactivates them
    workspace.slack_says(COLLEAGUE, email=COLLEAGUE_EMAIL, deleted=False)
    assert listed.migration_id is not None
    retry_failed(workspace.database, listed.migration_id, {REMINDER_MESSAGE}, now=workspace.time.now)
    asyncio.run(workspace.worker.drain())

    (reached,) = workspace.rows(OutboundMessage.id == unreached.id)
    assert reached.status == "sent"
    assert len(workspace.fake.posts_to(f"D{COLLEAGUE}")) == 2
    assert len(workspace.fake.calls_of("users.list")) == 1


def test_someone_whose_email_changed_is_reached_at_the_new_one_and_no_longer_at_the_old(
    workspace: Workspace,
) -> None:
    (listed,) = workspace.lists_to(COLLEAGUE_EMAIL)
    workspace.fake.users[COLLEAGUE] = ("cole@fabrikam.com", "Cole League")
    workspace.slack_says(COLLEAGUE, email="Cole@Fabrikam.com", deleted=False)

    at_old = workspace.remind(listed)
    at_new = workspace.remind(listed, at="cole@fabrikam.com")

    assert (at_old.status, at_old.last_error) == (
        "failed",
        f"no Slack account with the email {COLLEAGUE_EMAIL}",
    )
    assert at_new.status == "sent" and (at_new.delivered_ref or "").startswith(f"D{COLLEAGUE}/")
    assert len(workspace.fake.posts_to(f"D{COLLEAGUE}")) == 2
    # the new address came from the event; only the old one was asked about, and Slack no longer knows it
    assert [call.params["email"] for call in workspace.fake.calls_of("users.lookupByEmail")] == [
        COLLEAGUE_EMAIL
    ]


def test_a_change_told_while_the_directory_is_being_read_is_not_lost(fake_slack: FakeSlack) -> None:
    """A page read before the change shows the member as they were: the change is applied after it."""
    people = People(build_web_client(BOT_TOKEN, base_url=f"{fake_slack.url}/api/"))
    fake_slack.held_method, fake_slack.held = "users.list", threading.Event()
    deactivated = copy.deepcopy(RECORDED["user"]) | {"id": COLLEAGUE, "deleted": True}

    async def read_while_told() -> None:
        reading = asyncio.create_task(people.find(COLLEAGUE_EMAIL))
        await asyncio.to_thread(fake_slack.wait_for_calls, "users.list")  # the page is being answered
        fake_slack.deactivated.add(COLLEAGUE)
        people.changed(deactivated)
        assert fake_slack.held is not None
        fake_slack.held.set()
        assert await reading is None
        assert people.deactivated([COLLEAGUE_EMAIL])

    asyncio.run(read_while_told())
    assert fake_slack.calls_of("users.lookupByEmail") == []
