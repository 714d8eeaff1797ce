"""How someone Connect did not carry over gets their old identity mapped to a directory account: said
once, here, for every message that tells an admin (the plan, a decision, the portal steps, progress).

Microsoft's tutorial: after connecting, Organization settings > Microsoft Entra ID shows a notice of the
disconnected users, and *Resolve* maps each of them to their directory account, which keeps their
history. Its FAQ: when that does not work, contact Support to map the identity and keep the work history.
Its prerequisites (ms.date 03/03/2026, shared/reference/microsoft-apis.md): an organization of more than 100
users has Support map the disconnected users.
"""

from __future__ import annotations

RESOLVE_PAGE = "Organization settings > Microsoft Entra ID"
SUPPORT = "https://azure.microsoft.com/support/devops/"


def map_by_hand(who: str = "them", account: str = "their directory account") -> str:
    """The way to map `who` to `account`, as a clause that follows "then" or a colon."""
    return (
        f"map {who} to {account} under {RESOLVE_PAGE}: on the notice of disconnected users select"
        " *Resolve*, which keeps their history; if Resolve fails, or the organization has more than 100"
        f" users, Microsoft Support maps them and keeps their work history ({SUPPORT})"
    )
