"""The admins' digest of a big organization whose people have long display names, as it is delivered."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.console.render import render
from bot.conversation.messages import Attachment
from bot.delivery.render import envelope_of
from storage import OutboundMessage

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LONG = "Maximiliana-Éléonore " + "von Hohenzollern-Sigmaringen " * 3 + "Fitzgerald-Ashworth"


def test_long_names_are_cut_in_the_digest_tables_and_kept_whole_in_its_csv() -> None:
    assert len(LONG) > 100
    people = [(f"person{n}@fabrikam.com", f"{LONG} {n}") for n in range(30)]
    payload = {
        "organization": "fabrikam",
        "migration_id": 1,
        "users": 40,
        "stragglers": [[email, name, 2, 3] for email, name in people],
        "not_signed_in": [[email, name] for email, name in people[:3]],
        "waiting": [[email, name, "decide", "choose-work-account"] for email, name in people[:2]],
    }
    row = OutboundMessage(
        idempotency_key="digest-1",
        recipient="#aad-migration",
        kind="straggler_digest",
        payload=payload,
        not_before=NOW,
        created_at=NOW,
    )
    message = envelope_of(row).message
    rows = [line for line in render(message).splitlines() if "@fabrikam.com" in line]
    assert len(rows) == 25 + 3 + 2
    # the step beside a name stays on its row: no row as wide as the name alone was
    assert max(map(len, rows)) < 130, max(rows, key=len)
    assert all("Maximiliana-Éléonore von Hohenzollern-S…" in line for line in rows)
    (csv,) = [block for block in message.blocks if isinstance(block, Attachment)]
    assert f"person29@fabrikam.com,{LONG} 29,1,3" in csv.content
