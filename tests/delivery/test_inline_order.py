"""The console's outbox shows messages in the order they were queued, however the database answers: which
copy of a prompt is the first one, and which numbers people's reminders get, depend on it."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from bot.console.render import render
from bot.delivery import settling
from bot.delivery.outboxes import InlineOutbox
from storage import Database
from storage.outbox import enqueue
from tests.delivery.conftest import FakeTime


def test_the_console_delivers_messages_in_the_order_they_were_queued(
    database: Database, time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.session() as session:
        queued = [
            enqueue(
                session,
                idempotency_key=f"verified-{number}",
                recipient="ann@fabrikam.com",
                kind="sign_in_verified",
                payload={"organization": "fabrikam", "display_name": "Ann", "title": f"Step {number}"},
                now=time.now,
            )
            for number in (1, 2, 3)
        ]
        session.commit()
        first = queued[0].id
    later_began = threading.Event()
    begin_send = settling.begin_send

    def first_answered_last(database: Database, message_id: int, **claim: Any) -> bool:
        if message_id == first:  # the database is slow with the first message, unless nothing is waiting
            later_began.wait(timeout=0.2)
        else:
            later_began.set()
        return begin_send(database, message_id, **claim)

    monkeypatch.setattr(settling, "begin_send", first_answered_last)

    shown = InlineOutbox(database, clock=time).flush()
    steps = [re.findall(r"Step \d", render(message.message)) for message in shown]
    assert steps == [["Step 1"], ["Step 2"], ["Step 3"]]
