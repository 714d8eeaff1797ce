"""Who the admins mapped by hand, in `progress`: counted in a channel's copy, named to whoever asked, those
mapped to another account than planned first, everyone as CSV past the chat list's length."""

from __future__ import annotations

from bot.conversation.messages import Attachment, Table, Text
from bot.conversation.sign_in_views import mappings_blocks
from workflows.stages.mapped_identities import Mapped, MappingsSeen

ORG = "fabrikam"


def _seen(count: int) -> MappingsSeen:
    mapped = tuple(
        Mapped(f"u{n}@outlook.com", f"u{n}@fabrikam.com", f"u{n}@fabrikam.com", False) for n in range(count)
    )
    wrong = Mapped("kim@outlook.com", "ann@fabrikam.com", "kim@fabrikam.com", True)
    return MappingsSeen(count + 2, (*mapped, wrong))


def test_a_channel_reads_how_many_and_no_name() -> None:
    (said,) = mappings_blocks(_seen(2), ORG, named=False)
    assert said == Text(
        "Identities mapped by hand, as Azure DevOps shows them: 3 of 4 (1 to another account than planned)."
    )


def test_whoever_asked_reads_each_account_the_wrong_one_first_and_everyone_past_the_list_as_csv() -> None:
    blocks = mappings_blocks(_seen(30), ORG)
    (table,) = [block for block in blocks if isinstance(block, Table)]
    assert table.rows[0] == ("kim@outlook.com", "ann@fabrikam.com", "⚠️ planned kim@fabrikam.com")
    assert table.rows[1] == ("u0@outlook.com", "u0@fabrikam.com", "as planned")
    assert len(table.rows) == 25
    (csv,) = [block for block in blocks if isinstance(block, Attachment)]
    assert csv.filename == f"mapped-by-hand-{ORG}.csv" and csv.organization == ORG
    lines = csv.content.splitlines()
    assert lines[:2] == [
        "user,mapped to,account",
        "kim@outlook.com,ann@fabrikam.com,⚠️ planned kim@fabrikam.com",
    ]
    assert len(lines) == 32
