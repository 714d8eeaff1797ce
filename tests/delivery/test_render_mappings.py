"""Who the admins mapped by hand, in `progress`: counted in a channel's copy, named to whoever asked, those
mapped to another account than planned first, everyone as CSV past the chat list's length; `check-sign-ins`
counts in a channel too, and says whom it told."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation.messages import Attachment, Table, Text
from bot.conversation.sign_in_views import mappings_blocks, sign_ins_checked
from workflows.stages.mapped_identities import Mapped, MappingsSeen
from workflows.stages.verification import SignInCheck

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


def test_whoever_asked_reads_who_was_removed_from_the_organization_and_a_channel_only_counts() -> None:
    seen = replace(_seen(1), removed=("lou@outlook.com",))
    counted = Text(
        "Identities mapped by hand, as Azure DevOps shows them: 2 of 3 (1 to another account than planned)."
    )
    assert mappings_blocks(seen, ORG)[:2] == [
        counted,
        Text("Removed from the organization, so no longer watched for a mapping: lou@outlook.com."),
    ]
    assert mappings_blocks(seen, ORG, named=False) == [counted]


def _checked(*mapped: Mapped) -> SignInCheck:
    return SignInCheck(
        ORG, False, 40, ("kim.k@outlook.com", "bob@outlook.com"), ("bob@outlook.com",), mapped=mapped
    )


def test_check_sign_ins_in_a_channel_counts_who_signed_in_and_names_nobody() -> None:
    said = sign_ins_checked(_checked(), named=False)
    assert said.message.summary == (
        f"I read 40 users of {ORG}: 2 signed in since my last look, 1 with their work account and 1 with"
        " their guest account; I ticked it off their lists; my message telling them is on its way. `progress`"
        " has the details."
    )
    assert sign_ins_checked(_checked()).message.summary == (
        f"I read 40 users of {ORG}: 2 signed in since my last look, with their work account"
        " (kim.k@outlook.com) or their guest account (bob@outlook.com); I ticked it off their lists; my"
        " message telling them is on its way. `progress` has the details."
    )


def test_check_sign_ins_says_whom_it_told_of_a_mapping() -> None:
    """Carol heard she can sign in; Dan's sign-in had told him; Kim, mapped elsewhere, heard to ask first."""
    carol = Mapped("carol@outlook.com", "carol@fabrikam.com", "carol@fabrikam.com", False, told=True)
    dan = Mapped("dan@outlook.com", "dan@fabrikam.com", "dan@fabrikam.com", False, told=False)
    kim = Mapped("kim@outlook.com", "ann@fabrikam.com", "kim@fabrikam.com", True, told=True)
    said = sign_ins_checked(replace(_checked(carol, dan, kim), verified=(), guests=()), named=False)
    assert said.message.summary == (
        f"I read 40 users of {ORG}: no new sign-in with a work account since my last look. 3 people are now"
        " mapped by hand (1 to another account than planned). My message telling 1 of them they can sign in"
        " is on its way. Each admin hears privately of those mapped to another account, and my message"
        " telling them to ask you before signing in with it is on its way."
    )
