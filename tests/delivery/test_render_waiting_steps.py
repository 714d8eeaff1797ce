"""The admins' digest's "your step" for someone who waits on them is a command that runs as shown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.console.render import render
from bot.delivery.render import envelope_of
from storage import OutboundMessage

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
GUS = "gus@fabrikam.com (was gus@fabrikam-old.com)"
"""Gus as `progress` names him: his disabled work account, and the Azure DevOps address listed."""


def _digest(waiting: list[list[Any]]) -> str:
    payload = {
        "organization": "fabrikam-fiber",
        "migration_id": 1,
        "users": 11,
        "stragglers": [],
        "waiting": waiting,
    }
    row = OutboundMessage(
        idempotency_key="digest-1",
        recipient="#aad-migration",
        kind="straggler_digest",
        payload=payload,
        not_before=NOW,
        created_at=NOW,
    )
    return render(envelope_of(row).message)


def test_the_step_names_the_address_decide_takes_and_the_row_names_him_as_progress_does() -> None:
    """rev34 #4: `decide fabrikam-fiber gus@fabrikam.com (was gus@fabrikam-old.com) no-access` cannot run."""
    step = "enable their account"
    shown = _digest([[GUS, "Gus Grant", step, "enable-directory-account", "gus@fabrikam-old.com"]])
    (gus,) = [line for line in shown.splitlines() if "Gus Grant" in line]
    assert gus.lstrip().startswith(GUS), gus
    assert gus.endswith("`decide fabrikam-fiber gus@fabrikam-old.com no-access`"), gus
    hana = ["hana@contoso.com", "Hana Hart", "decide", "choose-work-account", "hana@contoso.com"]
    assert "`decide fabrikam-fiber hana@contoso.com ACCOUNT` (or `no-access`)" in _digest([hana])


def test_a_digest_queued_before_the_address_was_kept_still_renders() -> None:
    old = _digest([["hana@contoso.com", "Hana Hart", "decide", "choose-work-account"]])
    assert "`decide fabrikam-fiber hana@contoso.com ACCOUNT` (or `no-access`)" in old
