"""The admins' digest as it is delivered: of a big organization whose people have long display names, and
with the steps for whoever waits on the admins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.console.render import render
from bot.conversation.messages import Attachment, Message
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
    message = _delivered(payload)
    rows = [line for line in render(message).splitlines() if "@fabrikam.com" in line]
    assert len(rows) == 25 + 3 + 2
    # the step beside a name stays on its row: no row as wide as the name alone was
    assert max(map(len, rows)) < 130, max(rows, key=len)
    assert all("Maximiliana-Éléonore von Hohenzollern-S…" in line for line in rows)
    (csv,) = [block for block in message.blocks if isinstance(block, Attachment)]
    assert f"person29@fabrikam.com,{LONG} 29,1,3" in csv.content


GUS = "gus@fabrikam.com (was gus@fabrikam-old.com)"
"""Gus as `progress` names him: his disabled work account, and the Azure DevOps address listed."""


def _waiting(waiting: list[list[Any]]) -> str:
    payload = {"organization": "fabrikam-fiber", "migration_id": 1, "users": 11, "stragglers": []}
    return render(_delivered(payload | {"waiting": waiting}))


def test_the_step_names_the_address_decide_takes_and_the_row_names_him_as_progress_does() -> None:
    """rev34 #4: `decide fabrikam-fiber gus@fabrikam.com (was gus@fabrikam-old.com) no-access` cannot run."""
    step = "enable their account"
    shown = _waiting([[GUS, "Gus Grant", step, "enable-directory-account", "gus@fabrikam-old.com"]])
    (gus,) = [line for line in shown.splitlines() if "Gus Grant" in line]
    assert gus.lstrip().startswith(GUS), gus
    assert gus.endswith("`decide fabrikam-fiber gus@fabrikam-old.com no-access`"), gus
    hana = ["hana@contoso.com", "Hana Hart", "decide", "choose-work-account", "hana@contoso.com"]
    assert "`decide fabrikam-fiber hana@contoso.com ACCOUNT` (or `no-access`)" in _waiting([hana])


def test_a_digest_queued_before_the_address_was_kept_still_renders() -> None:
    old = _waiting([["hana@contoso.com", "Hana Hart", "decide", "choose-work-account"]])
    assert "`decide fabrikam-fiber hana@contoso.com ACCOUNT` (or `no-access`)" in old


def test_who_wait_past_the_table_are_in_a_file_of_their_own_with_where_each_list_stands() -> None:
    """fix111: 30 wait for a decision, the table shows 25 and says the others are in the attached CSV; the
    only file was of who have open items, which lists nobody who waits."""
    people = [f"person{n}@fabrikam.com" for n in range(30)]
    waiting = [
        [email, f"{LONG} {n}", "decide", "choose-work-account", email, False, "queued" if n else "failed"]
        for n, email in enumerate(people)
    ]
    payload = {
        "organization": "fabrikam",
        "migration_id": 1,
        "users": 40,
        "stragglers": [],
        "waiting": waiting,
    }
    message = _delivered(payload)
    assert "…and 5 more in the attached CSV." in [line.strip() for line in render(message).splitlines()]
    (attached,) = [block for block in message.blocks if isinstance(block, Attachment)]
    assert attached.filename == "waiting-for-you-fabrikam.csv"
    assert attached.content.splitlines() == [
        "user,name,your step,to-do list",
        *(
            f"{email},{LONG} {n},`decide fabrikam {email} ACCOUNT` (or `no-access`),{stands}"
            for n, (email, stands) in enumerate(zip(people, ["failed"] + ["queued"] * 29, strict=True))
        ),
    ]


def test_a_digest_queued_when_it_marked_only_who_waits_out_of_chat_still_renders() -> None:
    """Queued by fix108's digest, a wait's last cell said whether chat could not reach them, not where their
    list stands: out of chat reads as not in chat, the others as sent."""
    hana = ["hana@contoso.com", "Hana Hart", "decide", "choose-work-account", "hana@contoso.com", False, True]
    ivy = ["ivy@contoso.com", "Ivy Ives", "decide", "choose-work-account", "ivy@contoso.com", False, False]
    assert (
        "2 people wait for your decision: they can do nothing on their list until you act. 1 person heard so"
        " once and gets no reminders until then; 1 person is not in chat and has not heard: tell them another"
        " way."
    ) in " ".join(_waiting([hana, ivy]).split())


def _delivered(payload: dict[str, Any]) -> Message:
    row = OutboundMessage(
        idempotency_key="digest-1",
        recipient="#aad-migration",
        kind="straggler_digest",
        payload=payload,
        not_before=NOW,
        created_at=NOW,
    )
    return envelope_of(row).message
