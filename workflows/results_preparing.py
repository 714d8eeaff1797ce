"""What getting people ready before the connection returns: the advance notice (`announce`) and whom it
reached, an admin's decision for someone the plan cannot place (`decide`), and removing who left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from workflows.plan import PlannedUser
from workflows.results import MigrationStatus


@dataclass(frozen=True)
class AnnounceResult:
    status: MigrationStatus
    queued: int
    """People newly told; an announcement already sent with the same `when` is not sent again."""
    users: int
    """Everyone the notice is for (`to_tell`)."""
    when: str
    since: datetime
    """When the round of notices this announcement belongs to began: now, or when `when` first went out."""
    left_out: tuple[str, ...] = ()
    """The addresses of the people not told because they left (their only directory account is disabled)."""
    held_back: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Not told until an admin settles it: each directory account that several people would get, which only
    one can keep (`shared-directory-account`), with their addresses."""
    typed: str = ""
    """The date as the admin wrote it, when `when` is the day its words named (`tomorrow`, `13/12`)."""
    days_in: str = "UTC"
    """The time zone whose calendar `typed`'s days were counted on: the admin's (`Actor.zone`)."""


@dataclass(frozen=True)
class Unreached:
    """Someone the advance notice could not reach in chat (the delivery's final outcome)."""

    address: str
    group: str
    """Their group in the plan (`Plan.groups`)."""
    why: str
    decided: bool = False
    """An admin decided which account is theirs: placed by hand, they have yet to hear which."""

    @property
    def matters_most(self) -> bool:
        """Whether the notice asks them to act before the change, tells them they lose access, or would
        tell them the account an admin decided is theirs."""
        return self.decided or self.group not in ("auto", "map")


@dataclass(frozen=True)
class Told:
    """The advance notice as it went out: the last round's date, since when, and whom it reached so far."""

    when: str
    since: datetime
    people: int
    """Everyone in the plan now that the notice is for (`to_tell`)."""
    delivered: int
    waiting: int
    """Still being sent."""
    unreached: tuple[Unreached, ...]
    tried_again: tuple[str, ...] = ()
    """Of `waiting`, why each notice that was tried and put back waits (a rate limit, a member list still
    to be read): at 20,000 people a wave takes longer than an admin waits to ask how it goes."""

    @property
    def untold(self) -> int:
        """People the plan gained since the round: `announce` with the same date tells them."""
        return self.people - self.delivered - self.waiting - len(self.unreached)


@dataclass(frozen=True)
class AccountDecision:
    """An admin decided for someone the plan could not place (`decide`)."""

    person: PlannedUser
    """As the decision places them: mapped to the chosen account, or knowingly without access."""
    status: MigrationStatus
    voided_approval: int | None
    """The pending approval the changed plan voided."""
    list_changed: bool
    """Their to-do list was already out and now says to sign in with the chosen account."""
    out_of_chat: bool = False
    """With `list_changed`: chat could not reach them with the last message tried, so the one telling them
    of this decision (they lose access, or what their list now says) may never arrive either."""
    access_restored: bool = False
    """They had been decided out of access (after `notify`): they keep it after all, have their whole list
    again, and were told."""
    first_list: bool = False
    """With `access_restored`: no list had reached them before (decided out before `notify`), so the one
    they were just given is their first."""
    as_told: bool = False
    """With `list_changed`: their list is again the one that may have reached them (the decision in between
    never did), so they were not told anything."""
    told_early: Literal["", "lost", "stopped", "back"] = ""
    """Before `notify`, to someone the advance notice may have reached: told now that they lose access, or
    that it no longer holds (`workflows.stages.told_early`); `stopped` when the notice had not gone out, so
    it never will and they were told only the decision."""


@dataclass(frozen=True)
class RemovalResult:
    removed: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    """(principal name, reason) for each user Microsoft refused to remove."""
    status: MigrationStatus
    message: str = ""
    """Set when the step stopped early (a rival's change, an unexpected error, a scope the PAT lacks): what
    happened."""
