"""A list sent again as it is now (`workflows.stages.resending`), as every surface renders it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.conversation.messages import Actions, Text
from bot.delivery.render import envelope_of
from storage import OutboundMessage

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _item(number: int, title: str, **done: str) -> dict[str, object]:
    item = {
        "id": 40 + number,
        "number": number,
        "key": f"k{number}",
        "title": title,
        "body": "b",
        "link": "l",
    }
    return item | done


def test_an_item_done_before_the_list_went_again_is_ticked_and_has_no_buttons() -> None:
    payload = {
        "organization": "fabrikam",
        "tenant": "Fabrikam",
        "migration_id": 1,
        "affected_user_id": 7,
        "email": "hana@contoso.com",
        "display_name": "Hana",
        "notes": [],
        "items": [_item(1, "Sign in", done_at=NOW.isoformat()), _item(2, "Recreate your tokens")],
    }
    row = OutboundMessage(
        idempotency_key="todo-1",
        recipient="hana@contoso.com",
        kind="todo_list",
        payload=payload,
        not_before=NOW,
        created_at=NOW,
    )
    blocks = envelope_of(row).message.blocks
    said = [block.markdown.split("\n")[0] for block in blocks if isinstance(block, Text)]
    assert said[-2:] == ["✅ *Sign in*", "2. *Recreate your tokens*"]
    assert [button.value for block in blocks if isinstance(block, Actions) for button in block.buttons] == [
        "#42",
        "#42",
    ]
