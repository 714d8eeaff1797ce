"""A notice survives the outbox: what the conversation said is what the worker renders, block for block."""

from __future__ import annotations

import json

import pytest

from bot.conversation.messages import (
    Actions,
    Attachment,
    Button,
    Facts,
    Heading,
    Message,
    Table,
    Text,
)
from bot.delivery.notices import ChatNotice


def test_every_kind_of_block_comes_back_from_the_outbox_payload_unchanged() -> None:
    message = Message(
        "Approval #1 needed",
        (
            Heading("Approve connecting *fabrikam*?"),
            Text("Lee asks; the plan's fingerprint is `ab12`."),
            Facts((("users", "2,000"), ("invited", "93"))),
            Table(("email", "outcome"), (("ann@fabrikam.com", "auto"), ("gus@fabrikam.com", "map"))),
            Actions(
                (
                    Button("Approve", "approve", "1", "primary"),
                    Button("Remove", "remove-users", "fabrikam 4", "danger", confirm="Remove 4 people?"),
                    Button("Status", "status"),
                )
            ),
            Attachment("plan.csv", "email,outcome\nann@fabrikam.com,auto\n", "The plan", "fabrikam"),
        ),
        private=True,
    )
    notice = ChatNotice(message, updates="approval-1")

    stored = json.loads(json.dumps(notice.to_payload()))  # as the JSON column keeps it

    assert ChatNotice.from_payload(stored) == notice


def test_an_unknown_block_in_a_payload_is_refused_with_its_type() -> None:
    payload = ChatNotice(Message("x", (Text("x"),))).to_payload()
    payload["blocks"].append({"type": "video"})
    with pytest.raises(ValueError, match="unknown block type 'video'"):
        ChatNotice.from_payload(payload)


def test_a_file_queued_before_files_named_their_migration_still_reads() -> None:
    payload = ChatNotice(Message("x", (Attachment("a.csv", "a\n", "A", "fabrikam"),))).to_payload()
    del payload["blocks"][0]["organization"]  # as an outbox row written by the previous release
    assert ChatNotice.from_payload(payload).message.blocks == (Attachment("a.csv", "a\n", "A", ""),)
