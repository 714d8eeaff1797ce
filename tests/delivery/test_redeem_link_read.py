"""A list's *Accept the invitation* link is read from the invitations once per list actually sent: never for
a message whose claim ran out before sending."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from bot.delivery import settling
from bot.delivery.outboxes import InlineOutbox
from storage import Database
from storage.outbox import enqueue
from tests.delivery.conftest import FakeTime
from tests.storage.rows import add_migration
from workflows.stages.list_messages import TODO_LIST_MESSAGE
from workflows.todo import ACCEPT_INVITATION


def _list_of(person: int, migration_id: int) -> dict[str, Any]:
    accept = {
        "id": person,
        "key": ACCEPT_INVITATION,
        "title": "Accept the invitation",
        "body": "",
        "link": "",
    }
    return {
        "organization": "fabrikam",
        "migration_id": migration_id,
        "affected_user_id": person,
        "email": f"person{person}@outlook.com",
        "items": [accept],
    }


def test_the_link_is_read_once_for_each_list_sent_and_not_for_a_claim_that_ran_out(
    database: Database, time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    migration_id = add_migration(database)
    with database.session() as session:
        queued = [
            enqueue(
                session,
                idempotency_key=f"list-{person}",
                recipient=f"person{person}@outlook.com",
                kind=TODO_LIST_MESSAGE,
                payload=_list_of(person, migration_id),
                now=time.now,
            )
            for person in (1, 2, 3)
        ]
        session.commit()
        lapsed = queued[0].id
    begin_send = settling.begin_send

    def lapsing_first(database: Database, message_id: int, **claim: Any) -> bool:
        return message_id != lapsed and begin_send(database, message_id, **claim)

    monkeypatch.setattr(settling, "begin_send", lapsing_first)
    reads: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM invitation" in statement:
            reads.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        shown = InlineOutbox(database, clock=time).flush()
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert [getattr(message.to, "email", None) for message in shown] == [
        "person2@outlook.com",
        "person3@outlook.com",
    ]
    assert len(reads) == 2
