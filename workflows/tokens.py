"""Whether a person needs new personal access tokens after the move, and why: one rule for their notice, their
to-do list and the FAQ's answer to them, so no two of them disagree.

Microsoft's rule (the procedure's "Inform users of the completed change", and its page on changing the
directory): no new tokens when the sign-in stays the same (the emails match), new ones for whoever is mapped
by hand, and after a switch from another directory new ones for everyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from workflows.plan import Check


@dataclass(frozen=True)
class TokenAdvice:
    renew: bool
    """Whether tokens made before the move stop working, so the person makes new ones."""
    why: str
    """The reason, a clause starting in lower case ("your identity is mapped by hand to ...")."""

    @property
    def reason(self) -> str:
        """The reason as the start of a sentence."""
        return self.why[:1].upper() + self.why[1:]


def token_advice(
    outcome: str,
    *,
    guest: bool = False,
    invited_as: str | None = None,
    own_addresses: Iterable[str] = (),
    after_connecting: bool = False,
    case: str | None = "first",
) -> TokenAdvice | None:
    """The advice for one person, None while it cannot be known (nobody invited them yet, or an admin has
    still to decide on their account).

    `guest`: they are (or become) a guest of the directory, signing in with their own address. `invited_as`:
    the address a guest invitation went to, if one did; `own_addresses`: the addresses they have in Azure
    DevOps today (their sign-in and mail). `after_connecting`: their directory account or invitation came
    after the connection, so Connect did not carry their identity over. `case`: "switch" when the
    organization leaves another directory.
    """
    if case == "switch":
        return TokenAdvice(
            True,
            "tokens belong to the old directory's identity, and Microsoft says to make new ones after a"
            " directory switch",
        )
    if after_connecting and (outcome in ("auto", "map") or invited_as is not None):
        return TokenAdvice(
            True,
            "your directory account or invitation came after the organization was connected, so Connect did"
            " not carry your identity over: you sign in with a new one",
        )
    if outcome == "map":
        return TokenAdvice(True, "your identity is mapped by hand to your directory account")
    if outcome == "invite" and invited_as is not None:
        if same_address(invited_as, own_addresses):
            return TokenAdvice(
                False,
                f"you join as a guest with your own address {invited_as}, so your identity carries over",
            )
        return TokenAdvice(
            True, f"you sign in as {invited_as}, a new guest identity that is mapped to you by hand"
        )
    if outcome == "auto" and guest:
        return TokenAdvice(
            False, "you are a guest of the directory with your own address, so your identity carries over"
        )
    if outcome == "auto":
        return TokenAdvice(
            False,
            "your Microsoft account and your work account share one address, so your identity carries over",
        )
    return None


def same_address(address: str, own_addresses: Iterable[str]) -> bool:
    """Whether `address` is one this person already has in Azure DevOps: their emails match."""
    return address.strip().casefold() in {known.strip().casefold() for known in own_addresses if known}


def case_of(checks: Iterable[Check]) -> str | None:
    """A first connection from Microsoft accounts, or a switch from another directory; None before the
    connection check has run.

    An organization found already connected to the tenant ("warn") counts as a first connection: the bot
    never connects from another directory (that check blocks until it is disconnected), and the notices and
    to-do lists it sends there are a first connection's.
    """
    for check in checks:
        if check.code == "org-connection":
            return {"pass": "first", "warn": "first", "fail": "switch"}.get(check.status)
    return None
