"""The outbox rows the sign-in watch queues, as every surface renders them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.conversation.messages import ADDRESS, Attachment, Channel, DirectMessage, Table, Text
from bot.delivery.render import envelope_of
from storage import OutboundMessage
from workflows.mapping import map_by_hand

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _row(kind: str, recipient: str, payload: dict[str, Any]) -> OutboundMessage:
    return OutboundMessage(
        idempotency_key=f"{kind}-1",
        recipient=recipient,
        kind=kind,
        payload=payload,
        not_before=NOW,
        created_at=NOW,
    )


def test_the_verified_sign_in_thanks_the_person_by_direct_message() -> None:
    envelope = envelope_of(
        _row(
            "sign_in_verified",
            "ann@fabrikam.com",
            {
                "organization": "fabrikam",
                "email": "ann@fabrikam.com",
                "display_name": "Ann",
                "title": "Sign in",
            },
        )
    )
    assert envelope.to == DirectMessage("ann@fabrikam.com")
    assert envelope.message.summary.startswith(
        "Hi Ann, I can see you signed in to fabrikam with your work account: thanks, that's done."
    )


def test_a_direct_message_greets_by_first_name_not_the_display_names_asides() -> None:
    def greeting(display_name: str) -> str:
        payload = {"organization": "fabrikam", "email": "ann@fabrikam.com", "title": "Sign in"}
        row = _row("sign_in_verified", "ann@fabrikam.com", {**payload, "display_name": display_name})
        return envelope_of(row).message.summary.partition(",")[0]

    assert greeting("Ann (MSA email = work email)") == "Hi Ann"
    assert greeting("Ann Archer [Contractor]") == "Hi Ann"
    assert greeting("Archer, Ann") == "Hi Ann"  # the directory's surname-first form
    titled = ("Ann Smith, PhD", "Dr. Ann Smith", "dr ann smith, md", "Smith, Dr. Ann", "Smith, Ann, Jr.")
    assert [greeting(name).casefold() for name in titled] == ["hi ann"] * len(titled)
    assert greeting("John Smith, Jr.") == "Hi John"
    job_titles = (  # walk30 greeted every list of 20,000 with "Hi Principal,"
        "Zoë O'Connor-Fitzgerald (user4), Principal Engineer — Platform & Reliability",
        "Zoë Smith, Head of IT",
        "Zoë Smith, Sales | EMEA",
        "Zoë Smith, Senior Developer",
    )
    assert [greeting(name) for name in job_titles] == ["Hi Zoë"] * len(job_titles)
    assert greeting("van der Berg, Jan Willem") == "Hi Jan" and greeting("Lee, Kim") == "Hi Kim"
    assert greeting("(no name)") == greeting("") == "Hi ann@fabrikam.com"


def test_a_guest_is_thanked_for_signing_in_with_their_guest_account() -> None:
    payload = {"organization": "fabrikam", "email": "erin@gmail.com", "title": "Sign in"}
    erin = envelope_of(_row("sign_in_verified", "erin@gmail.com", {**payload, "account": "guest account"}))
    assert "signed in to fabrikam with your guest account" in erin.message.summary
    earlier = envelope_of(_row("sign_in_verified", "erin@gmail.com", payload))  # queued before the case
    assert "signed in to fabrikam with your work account" in earlier.message.summary


_SIGN_INS_DIGEST = {
    "organization": "fabrikam",
    "users": 5,
    "unreachable": 0,
    "stragglers": [],
    "not_signed_in": [["lee@fabrikam.com", "Lee"]],
    "grace_working_days": 3,
    "still_personal": [["kim@old.com", "map", "map"], ["hana@contoso.com", "ambiguous", "decide"]],
}


def test_the_digest_to_the_starter_names_who_has_not_signed_in_and_who_needs_an_admin() -> None:
    """A migration started in a direct message: its digest goes there, which only its starter reads."""
    envelope = envelope_of(_row("straggler_digest", "dana@fabrikam.com", _SIGN_INS_DIGEST))
    assert envelope.to == DirectMessage("dana@fabrikam.com")
    texts = [block.markdown for block in envelope.message.blocks if isinstance(block, Text)]
    tables = [block for block in envelope.message.blocks if isinstance(block, Table)]
    said = "1 person has not signed in with their work or guest account 3 working days after"
    assert any(said in text for text in texts)
    assert tables[0].rows == (("lee@fabrikam.com", "Lee"),)
    assert [row[:2] for row in tables[1].rows] == [("kim@old.com", "map"), ("hana@contoso.com", "ambiguous")]
    assert [row[2] for row in tables[1].rows] == ["map by hand", "decide, then map"]  # short cells
    said = "\n".join(texts)  # and each step in full once, under the table
    assert said.count(f"• *map by hand*: {map_by_hand()}.") == 1
    assert said.count("• *decide, then map*: decide which directory account is theirs") == 1


def test_the_digest_in_the_channel_counts_who_has_not_signed_in_and_who_needs_an_admin() -> None:
    envelope = envelope_of(_row("straggler_digest", "channel:C1", _SIGN_INS_DIGEST))
    assert envelope.to == Channel("C1")
    assert not [block for block in envelope.message.blocks if isinstance(block, (Table, Attachment))]
    texts = [block.markdown for block in envelope.message.blocks if isinstance(block, Text)]
    said = "\n".join(texts)
    assert ADDRESS.findall(said) == [] and "Lee" not in said
    assert (
        "1 person has not signed in with their work or guest account 3 working days after the connection"
        " (Azure DevOps shows no sign-in)." in said
    )
    assert "2 people are still on their Microsoft account after the connection and need you" in said
    assert said.count(f"• *map by hand*: {map_by_hand()}.") == 1  # the steps, whoever they are for
    assert "📬 Who is who: *Progress* shows you each person's list" in said
    assert [(b.label, b.action, b.value) for b in envelope.message.buttons] == [
        ("Progress", "progress", "fabrikam"),
        ("Full list (CSV)", "progress", "fabrikam csv"),
    ]
