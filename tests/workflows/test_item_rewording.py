"""A stored item body reworded as the case moves on: what a done invitation's item says once the watch saw
its earlier history mapped elsewhere, and a mapping's warning on a list nobody follows any more."""

from __future__ import annotations

from workflows.item_rewording import accepted, on_a_closed_list

WARNED = (
    "⚠️ Azure DevOps shows your old identity, with your earlier work history, mapped to ann@fabrikam.com, not"
    " to kim@gmail.com"
)
INVITATION = (
    "Microsoft sent an invitation email from invites@microsoft.com to kim@gmail.com to join Fabrikam as a"
    f" guest. Accepting gets your access back. {WARNED}: the migration admins check it with you. If"
    " ann@fabrikam.com is not yours, do not sign in with it. No email? Check your spam folder, then press"
    " *I need help*."
)
"""A late invitee's *Accept the invitation* once the watch recorded her mapped to another's account."""


def test_an_invitation_seen_in_a_sign_in_keeps_the_warning_of_a_mapping_elsewhere() -> None:
    """Seen signing in, Kim's done item says she is in, and still that her history shows on Ann's account,
    not that nothing is left to map, which her sign-in item's warning would contradict (rev72 2)."""
    assert accepted(INVITATION, "fabrikam", seen=True) == (
        "You are in: I can see you signed in to https://dev.azure.com/fabrikam with a directory account."
        f" {WARNED}: the migration admins check it with you. If ann@fabrikam.com is not yours, do not sign in"
        " with it."
    )


def test_a_closed_list_sends_a_mapping_warning_to_whom_it_names() -> None:
    """Once the migration is completed nobody checks a mapping with her: the warning says to ask whom the
    list names above it (rev72 6)."""
    sign_in = (
        "Sign out of Azure DevOps everywhere and sign in as kim@gmail.com."
        f" {WARNED}: the migration admins check it with you. If ann@fabrikam.com is not yours, do not sign in"
        " with it."
    )
    assert on_a_closed_list(sign_in) == (
        "Sign out of Azure DevOps everywhere and sign in as kim@gmail.com."
        f" {WARNED}: ask whom this list names above to check it with you. If ann@fabrikam.com is not yours,"
        " do not sign in with it."
    )
