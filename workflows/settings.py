"""Tunable rules of the procedure; defaults follow Microsoft's guidance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class WorkflowSettings:
    approvers_required: int = 1
    """Distinct admins, other than the requester, who must approve before connecting."""
    approval_ttl: timedelta = timedelta(hours=24)
    invite_settings_delay: timedelta = timedelta(minutes=15)
    """Microsoft: changed invitation settings or a new Guest Inviter role take 15-60 minutes to apply."""
    step_lease: timedelta = timedelta(minutes=10)
    """A step silent for this long is taken as interrupted (the process died), so `resume` may re-run it."""
    admin_cache_ttl: timedelta = timedelta(minutes=5)
    stale_after_days: int = 90
    connection_watch_every: timedelta = timedelta(seconds=60)
    """How often the bot's watch looks whether the organization is connected (`AADBOT_POLL_SECONDS`);
    the portal steps tell the connector."""
    early_look_every: timedelta = timedelta(minutes=15)
    """How often it looks at a migration short of the portal step (planned, blocked...), in case someone
    connected it without the approval: such a migration may rest for weeks, each look a Microsoft read."""
    early_look_awaiting_approval_every: timedelta = timedelta(minutes=10)
    """Likewise while an approval waits: the click the bot has not asked for yet is likeliest then."""
    early_looks_budget: timedelta = timedelta(seconds=30)
    """How long one poll spends on those looks at most: the ones it did not reach wait for the next."""
    sign_in_check_every: timedelta = timedelta(minutes=15)
    """How often the sign-ins since the last check are read, once connected (a page or two each time)."""
    sign_in_sweep_every: timedelta = timedelta(hours=24)
    """How often every entitlement is read: Azure DevOps may update `lastAccessedDate` late."""
    progress_every: timedelta = timedelta(seconds=10)
    """How often at most a long step (`invite`, `remove-users`) reports how far it got, besides each tenth
    of the way (`workflows.step_progress.Paced`): the admin sees it move; chat gets a few updates a minute."""

    def __post_init__(self) -> None:
        if self.approvers_required < 1:
            raise ValueError("approvers_required must be at least 1")
